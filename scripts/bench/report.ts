/** Benchmark results: their shape, the markdown tables, the targets and the SVG chart. */
import type { Machine } from './setup.ts';
import type { HttpResult } from './wrk.ts';

export const WAYS = ['direct', 'nginx', 'tether'] as const;
export type Way = (typeof WAYS)[number];
export type PerWay<T> = Record<Way, T[]>;

export interface WsResult {
  mps: number;
  p50: number;
  p99: number;
  errors: number;
  messages: number;
}

export interface Results {
  date: string;
  commit: string;
  machine: Machine;
  agentRuntime: string;
  seconds: number;
  rounds: number;
  /** Seconds of unrecorded load per way before round 1 (absent in older files). */
  warmup?: number;
  concurrency: number[];
  /** Keyed `get64-c<N>` and `size<bytes>-c32`. */
  http: Record<string, PerWay<HttpResult>>;
  download: PerWay<number>;
  ws: PerWay<WsResult>;
  idleAgents?: {
    count: number;
    connected: number;
    failed: number;
    seconds: number;
    baselineKiB: number;
    loadedKiB: number;
    perAgentKiB: number;
  };
  slow?: {
    count: number;
    ok: number;
    failed: number;
    seconds: number;
    firstError: string;
    peakServerKiB: number;
    peakAgentKiB: number;
    peakTotalKiB: number;
  };
  startupMs?: number;
  /** RSS of the main server and agent: after warm-up, highest after a small GET, at the end (absent in older files). */
  memory?: {
    /** Small GETs through tether, all rounds. */
    smallRequests: number;
    requests: number;
    wsMessages: number;
    serverWarmKiB: number;
    /** Highest RSS read after a small-GET case: what a server keeps per request shows here. */
    serverSmallPeakKiB: number;
    serverEndKiB: number;
    agentWarmKiB: number;
    agentSmallPeakKiB: number;
    agentEndKiB: number;
  };
}

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function fmt(n: number, digits = 2): string {
  if (!Number.isFinite(n)) return '–';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 100) return n.toFixed(0);
  return n.toFixed(digits);
}

/** Median, with the range when there was more than one round. */
function cell(xs: number[], digits = 2): string {
  if (xs.length <= 1) return fmt(xs[0] ?? Number.NaN, digits);
  const s = [...xs].sort((a, b) => a - b);
  return `${fmt(median(s), digits)} (${fmt(s[0]!, digits)}–${fmt(s[s.length - 1]!, digits)})`;
}

function ratio(a: number[], b: number[]): string {
  const r = median(a) / median(b);
  return Number.isFinite(r) ? `${(r * 100).toFixed(0)} %` : '–';
}

function pick<T>(per: PerWay<T>, f: (t: T) => number): PerWay<number> {
  return { direct: per.direct.map(f), nginx: per.nginx.map(f), tether: per.tether.map(f) };
}

function row(label: string, v: PerWay<number>, digits = 2): string {
  return `| ${label} | ${cell(v.direct, digits)} | ${cell(v.nginx, digits)} | ${cell(v.tether, digits)} | ${ratio(v.tether, v.direct)} | ${ratio(v.tether, v.nginx)} |`;
}

export function caseLabel(key: string): string {
  const m = /^get64-c(\d+)$/.exec(key);
  if (m) return `GET 64 B, c=${m[1]}`;
  const s = /^size(\d+)-c(\d+)$/.exec(key);
  if (s) {
    const n = Number(s[1]);
    const size = n >= 2 ** 20 ? `${n / 2 ** 20} MiB` : `${n / 1024} KiB`;
    return `GET ${size}, c=${s[2]}`;
  }
  return key;
}

export function markdown(r: Results): string {
  const lines: string[] = [];
  const m = r.machine;
  lines.push(
    `Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Linux ${m.kernel}; Bun ${m.bun}, Deno ${m.deno}, nginx ${m.nginx}, ${m.wrk}.`,
    `Run ${r.date}, commit ${r.commit}, ${r.rounds} round(s) of ${r.seconds} s per case, interleaved${r.warmup ? ` after ${r.warmup} s of warm-up per way` : ''}; tether agent on ${r.agentRuntime}. Cells: median (min–max over rounds).`,
    '',
    '| case | direct | nginx | tether | tether/direct | tether/nginx |',
    '|---|---|---|---|---|---|',
  );
  for (const [key, per] of Object.entries(r.http)) {
    const label = caseLabel(key);
    lines.push(
      row(
        `${label}: req/s`,
        pick(per, (x) => x.rps),
        0,
      ),
    );
    lines.push(
      row(
        `${label}: p50 ms`,
        pick(per, (x) => x.p50),
      ),
    );
    lines.push(
      row(
        `${label}: p99 ms`,
        pick(per, (x) => x.p99),
      ),
    );
    lines.push(
      row(
        `${label}: p99.9 ms`,
        pick(per, (x) => x.p999),
      ),
    );
    const errs = pick(per, (x) => x.errors);
    if ([...errs.direct, ...errs.nginx, ...errs.tether].some((e) => e > 0)) {
      lines.push(row(`${label}: errors`, errs, 0));
    }
  }
  lines.push(row('1 GiB download: MB/s', r.download, 0));
  lines.push(
    row(
      'WebSocket echo, 64 conns: msg/s',
      pick(r.ws, (x) => x.mps),
      0,
    ),
  );
  lines.push(
    row(
      'WebSocket echo, 64 conns: p99 ms',
      pick(r.ws, (x) => x.p99),
    ),
  );
  const wsErr = pick(r.ws, (x) => x.errors);
  if ([...wsErr.direct, ...wsErr.nginx, ...wsErr.tether].some((e) => e > 0)) {
    lines.push(row('WebSocket echo: errors', wsErr, 0));
  }
  lines.push('');
  if (r.idleAgents) {
    const a = r.idleAgents;
    lines.push(
      `Idle agents: ${a.connected}/${a.count} connected in ${a.seconds.toFixed(1)} s (${a.failed} failed); server RSS ${fmt(a.baselineKiB / 1024, 1)} MiB idle → ${fmt(a.loadedKiB / 1024, 1)} MiB, **${a.perAgentKiB.toFixed(1)} KiB per agent**.`,
    );
  }
  if (r.slow) {
    const s = r.slow;
    lines.push(
      `Slow requests: ${s.count} held open through one agent: ${s.ok} ok, ${s.failed} failed${s.firstError ? ` (first: ${s.firstError})` : ''} in ${s.seconds.toFixed(1)} s; peak RSS server ${fmt(s.peakServerKiB / 1024, 0)} MiB + agent ${fmt(s.peakAgentKiB / 1024, 0)} MiB = **${fmt(s.peakTotalKiB / 1024, 0)} MiB**.`,
    );
  }
  if (r.memory) {
    const m = r.memory;
    const mib = (kib: number) => fmt(kib / 1024, 0);
    const n = (x: number) => x.toLocaleString('en-US');
    lines.push(
      `Memory across the run: server RSS ${mib(m.serverWarmKiB)} MiB after warm-up, at most ${mib(m.serverSmallPeakKiB)} MiB after any of the small-GET cases (${n(m.smallRequests)} requests), ${mib(m.serverEndKiB)} MiB at the end (${n(m.requests)} requests and ${n(m.wsMessages)} WebSocket messages in all); agent ${mib(m.agentWarmKiB)}, ${mib(m.agentSmallPeakKiB)}, ${mib(m.agentEndKiB)} MiB.`,
    );
  }
  if (r.startupMs !== undefined) {
    lines.push(`Compiled \`tether --help\`: **${r.startupMs.toFixed(1)} ms** (mean of 20).`);
  }
  lines.push('', ...targets(r));
  return lines.join('\n');
}

function targets(r: Results): string[] {
  const out = ['| target | measured | met |', '|---|---|---|'];
  for (const t of targetChecks(r)) out.push(`| ${t.name} | ${t.value} | ${metText(t.met)} |`);
  return out;
}

export function metText(met: boolean): string {
  return met ? 'yes' : '**no**';
}

export interface TargetCheck {
  name: string;
  value: string;
  met: boolean;
}

/** The issue's targets, as measured in `r` (those its cases cover). */
export function targetChecks(r: Results): TargetCheck[] {
  const out: TargetCheck[] = [];
  const add = (name: string, value: string, met: boolean) => out.push({ name, value, met });
  const c32 = r.http['get64-c32'];
  if (c32) {
    const rr = median(c32.tether.map((x) => x.rps)) / median(c32.nginx.map((x) => x.rps));
    const errors = c32.tether.reduce((n, x) => n + x.errors, 0);
    add(
      'GET c=32: tether ≥ 40 % of nginx req/s, 0 errors',
      `${(rr * 100).toFixed(0)} %, ${errors} errors`,
      rr >= 0.4 && errors === 0,
    );
  }
  const c1 = r.http['get64-c1'];
  if (c1) {
    const d = median(c1.tether.map((x) => x.p50)) - median(c1.direct.map((x) => x.p50));
    add('c=1: tether p50 ≤ direct p50 + 0.25 ms', `+${d.toFixed(3)} ms`, d <= 0.25);
  }
  if (r.download.tether.length) {
    const rr = median(r.download.tether) / median(r.download.nginx);
    add('1 GiB download ≥ 1.0 × nginx MB/s', `${rr.toFixed(2)} ×`, rr >= 1);
  }
  if (r.ws.tether.length) {
    const rr = median(r.ws.tether.map((x) => x.mps)) / median(r.ws.direct.map((x) => x.mps));
    add('WS echo 64 conns ≥ 50 % of direct msg/s', `${(rr * 100).toFixed(0)} %`, rr >= 0.5);
  }
  if (r.idleAgents) {
    const a = r.idleAgents;
    add(
      '10 000 idle agents: ≤ 40 KiB/agent',
      `${a.perAgentKiB.toFixed(1)} KiB`,
      a.perAgentKiB <= 40 && a.connected === a.count,
    );
    add(
      '10 000 idle agents: all connected ≤ 30 s',
      `${a.connected} in ${a.seconds.toFixed(1)} s`,
      a.connected === a.count && a.seconds <= 30,
    );
  }
  if (r.slow) {
    const s = r.slow;
    add(
      `${s.count} slow requests: server + agent RSS ≤ 1.5 GiB, none fail`,
      `${fmt(s.peakTotalKiB / 1024, 0)} MiB, ${s.failed} failed`,
      s.peakTotalKiB <= 1.5 * 2 ** 20 && s.failed === 0 && s.ok === s.count,
    );
  }
  if (r.startupMs !== undefined)
    add('compiled --help ≤ 50 ms', `${r.startupMs.toFixed(1)} ms`, r.startupMs <= 50);
  return out;
}

const COLORS: Record<Way, string> = { direct: '#2b8a3e', nginx: '#1c7ed6', tether: '#e8590c' };

/** Latency (p50 solid, p99 dashed) against concurrency, log-log, one colour per way. */
export function svgChart(r: Results): string {
  const W = 640;
  const H = 400;
  const L = 60;
  const R = 120;
  const T = 30;
  const B = 50;
  const cs = r.concurrency;
  const series: { way: Way; pct: 'p50' | 'p99'; pts: [number, number][] }[] = [];
  for (const way of WAYS) {
    for (const pct of ['p50', 'p99'] as const) {
      const pts: [number, number][] = [];
      for (const c of cs) {
        const per = r.http[`get64-c${c}`];
        if (per) pts.push([c, median(per[way].map((x) => x[pct]))]);
      }
      series.push({ way, pct, pts });
    }
  }
  const ys = series
    .flatMap((s) => s.pts.map((p) => p[1]))
    .filter((y) => y > 0 && Number.isFinite(y));
  const yMin = 10 ** Math.floor(Math.log10(Math.min(...ys, 1)));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...ys, 1)));
  const xMin = Math.min(...cs);
  const xMax = Math.max(...cs);
  const x = (c: number) =>
    L + ((Math.log(c) - Math.log(xMin)) / (Math.log(xMax) - Math.log(xMin))) * (W - L - R);
  const y = (v: number) =>
    T +
    (1 - (Math.log(Math.max(v, yMin)) - Math.log(yMin)) / (Math.log(yMax) - Math.log(yMin))) *
      (H - T - B);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="18" font-size="14">Latency of GET 64 B against concurrency (log-log; solid p50, dashed p99)</text>`,
  ];
  for (let d = yMin; d <= yMax * 1.0001; d *= 10) {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${y(d)}" y2="${y(d)}" stroke="#ddd"/>`);
    out.push(
      `<text x="${L - 6}" y="${y(d) + 4}" text-anchor="end">${d >= 1 ? d : d.toPrecision(1)} ms</text>`,
    );
  }
  for (const c of cs) {
    out.push(`<line x1="${x(c)}" x2="${x(c)}" y1="${T}" y2="${H - B}" stroke="#eee"/>`);
    out.push(`<text x="${x(c)}" y="${H - B + 16}" text-anchor="middle">${c}</text>`);
  }
  out.push(
    `<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">concurrent connections</text>`,
  );
  for (const s of series) {
    const d = s.pts
      .map((p, i) => `${i ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`)
      .join(' ');
    const dash = s.pct === 'p99' ? ' stroke-dasharray="6 4"' : '';
    out.push(`<path d="${d}" fill="none" stroke="${COLORS[s.way]}" stroke-width="2"${dash}/>`);
    for (const p of s.pts)
      out.push(
        `<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="2.5" fill="${COLORS[s.way]}"/>`,
      );
  }
  WAYS.forEach((way, i) => {
    const ly = T + 20 + i * 20;
    out.push(
      `<line x1="${W - R + 15}" x2="${W - R + 40}" y1="${ly}" y2="${ly}" stroke="${COLORS[way]}" stroke-width="2"/>`,
    );
    out.push(`<text x="${W - R + 46}" y="${ly + 4}">${way}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
