/**
 * Two bench runs side by side (`npm run bench:compare`). The machine's speed moves between
 * runs (docs/performance.md), so what compares is each run's tether/nginx and tether/direct,
 * measured within that run; tether's own figures and their change are shown beside them.
 */
import {
  caseLabel,
  median,
  metText,
  type PerWay,
  type Results,
  targetChecks,
  type WsResult,
} from './report.ts';
import type { HttpResult } from './wrk.ts';

interface Metric {
  label: string;
  /** Per way, the rounds' values; undefined when the run lacks the case. */
  of: (r: Results) => PerWay<number> | undefined;
  /** Larger is better (throughput) or smaller (latency). */
  higherIsBetter: boolean;
  digits: number;
}

/** Reads a results file's JSON, refusing anything that is not one. */
export function parseResults(text: string, name: string): Results {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new SyntaxError(`Cannot read ${name}: not JSON`, { cause });
  }
  const r = value as Partial<Results> | null;
  if (
    typeof r !== 'object' ||
    r === null ||
    typeof r.commit !== 'string' ||
    typeof r.http !== 'object' ||
    typeof r.download !== 'object' ||
    typeof r.ws !== 'object'
  ) {
    throw new TypeError(
      `Cannot read ${name}: not a bench-results file (no commit, http, download, ws)`,
    );
  }
  return r as Results;
}

/** A markdown report of `before` against `after`. */
export function compare(before: Results, after: Results): string {
  const lines = [
    `Before: commit ${before.commit}, ${before.date}, ${before.rounds} round(s) of ${before.seconds} s, agent on ${before.agentRuntime}.`,
    `After: commit ${after.commit}, ${after.date}, ${after.rounds} round(s) of ${after.seconds} s, agent on ${after.agentRuntime}.`,
    'Medians over rounds. The ratios are measured within each run, so they compare across runs; tether alone also moves with the machine.',
    '',
    '| case | tether before | tether after | change | /nginx before | /nginx after | /direct before | /direct after |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const m of metrics(before, after)) {
    const a = m.of(before);
    const b = m.of(after);
    if (a === undefined || b === undefined) continue;
    const ta = median(a.tether);
    const tb = median(b.tether);
    lines.push(
      `| ${m.label} | ${fmt(ta, m.digits)} | ${fmt(tb, m.digits)} | ${change(ta, tb, m.higherIsBetter)} | ${pct(ta, median(a.nginx))} | ${pct(tb, median(b.nginx))} | ${pct(ta, median(a.direct))} | ${pct(tb, median(b.direct))} |`,
    );
  }
  const targetsBefore = new Map(targetChecks(before).map((t) => [t.name, t]));
  lines.push('', '| target | before | after |', '|---|---|---|');
  for (const t of targetChecks(after)) {
    const old = targetsBefore.get(t.name);
    const was = old === undefined ? '–' : `${old.value} (${metText(old.met)})`;
    lines.push(`| ${t.name} | ${was} | ${t.value} (${metText(t.met)}) |`);
  }
  return lines.join('\n');
}

function metrics(before: Results, after: Results): Metric[] {
  const keys = Object.keys(after.http).filter((k) => k in before.http);
  const http = (key: string, f: (x: HttpResult) => number) => (r: Results) => {
    const per = r.http[key];
    return per && pick(per, f);
  };
  const out: Metric[] = [];
  for (const key of keys) {
    const label = caseLabel(key);
    out.push(
      { label: `${label}: req/s`, of: http(key, (x) => x.rps), higherIsBetter: true, digits: 0 },
      { label: `${label}: p50 ms`, of: http(key, (x) => x.p50), higherIsBetter: false, digits: 2 },
      { label: `${label}: p99 ms`, of: http(key, (x) => x.p99), higherIsBetter: false, digits: 2 },
    );
  }
  out.push(
    { label: '1 GiB download: MB/s', of: (r) => r.download, higherIsBetter: true, digits: 0 },
    {
      label: 'WebSocket echo: msg/s',
      of: (r) => pick(r.ws, (x: WsResult) => x.mps),
      higherIsBetter: true,
      digits: 0,
    },
  );
  return out;
}

function pick<T>(per: PerWay<T>, f: (t: T) => number): PerWay<number> {
  return { direct: per.direct.map(f), nginx: per.nginx.map(f), tether: per.tether.map(f) };
}

function fmt(n: number, digits: number): string {
  if (!Number.isFinite(n)) return '–';
  return n >= 1000 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits);
}

function pct(a: number, b: number): string {
  const r = a / b;
  return Number.isFinite(r) ? `${(r * 100).toFixed(0)} %` : '–';
}

/** Signed change, marked better or worse by the metric's direction. */
function change(before: number, after: number, higherIsBetter: boolean): string {
  const r = after / before - 1;
  if (!Number.isFinite(r)) return '–';
  const text = `${r >= 0 ? '+' : '−'}${Math.abs(r * 100).toFixed(0)} %`;
  if (Math.abs(r) < 0.005) return text;
  return `${text} ${r > 0 === higherIsBetter ? 'better' : 'worse'}`;
}
