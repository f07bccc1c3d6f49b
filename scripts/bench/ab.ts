/**
 * The pure parts of `npm run bench:ab` (scripts/bench-ab.ts): its arguments, reading a
 * process's CPU time from /proc, and the summary of interleaved pairs.
 *
 * Why pairs: this machine's speed moves ±10–20 % between minutes, so two builds measured
 * one after the other differ by more than most changes are worth. Run alternately (A, B,
 * A, B, …), each pair shares the machine's state, and "B used less CPU per request in 5 of
 * 5 pairs" says more than two medians.
 */
import { median } from './report.ts';

export const CASES = ['get', 'download', 'ws', 'tcp-up', 'tcp-down'] as const;
export type Case = (typeof CASES)[number];

export interface AbOptions {
  readonly case: Case;
  /** wrk connections, for `get`. */
  readonly connections: number;
  readonly rounds: number;
  readonly seconds: number;
  /** tether's log level; the default `info` writes the access log, as `npm run bench` does. */
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Git refs or checkout directories, A first. */
  readonly trees: readonly [string, string];
}

export const USAGE = `Usage: npm run bench:ab -- [options] A B

A and B are git refs (HEAD~1, a commit, a branch) or directories holding a tether checkout
("." is the working tree). Both run from source on Bun, alternately, with the same upstream.

  --case CASE              get: small GETs with wrk (default); download: the 1 GiB download;
                           ws: WebSocket echo; tcp-up, tcp-down: 1 GiB each way through
                           \`tether forward tcp\` and an agent's TCP listener
  -c, --connections N      wrk connections for get (default 32; 1 measures latency)
  --rounds N               interleaved pairs, 1–20 (default 5)
  --seconds N              seconds per measurement for get and ws, 1–30 (default 4)
  --log-level LEVEL        tether's log level (default info: the access log is on)`;

/** Parses the arguments after `--`; throws RangeError with the usage on anything wrong. */
export function parseAbArgs(argv: readonly string[]): AbOptions {
  let kase: Case = 'get';
  let connections = 32;
  let rounds = 5;
  let seconds = 4;
  let logLevel: AbOptions['logLevel'] = 'info';
  const trees: string[] = [];
  const fail = (why: string): never => {
    throw new RangeError(`${why}\n\n${USAGE}`);
  };
  const int = (flag: string, raw: string | undefined, min: number, max: number): number => {
    const n = Number(raw);
    if (raw === undefined || !Number.isInteger(n) || n < min || n > max) {
      fail(`${flag} wants a whole number from ${min} to ${max}, got ${raw ?? 'nothing'}`);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('-') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => (arg.startsWith('-') && eq > 0 ? arg.slice(eq + 1) : argv[++i]);
    switch (flag) {
      case '--case': {
        const v = value();
        if (!(CASES as readonly string[]).includes(v ?? '')) {
          fail(`--case wants one of ${CASES.join(', ')}, got ${v ?? 'nothing'}`);
        }
        kase = v as Case;
        break;
      }
      case '-c':
      case '--connections':
        connections = int(flag, value(), 1, 1024);
        break;
      case '--rounds':
        rounds = int(flag, value(), 1, 20);
        break;
      case '--seconds':
        seconds = int(flag, value(), 1, 30);
        break;
      case '--log-level': {
        const v = value();
        if (v !== 'debug' && v !== 'info' && v !== 'warn' && v !== 'error') {
          fail(`--log-level wants debug, info, warn or error, got ${v ?? 'nothing'}`);
        }
        logLevel = v as AbOptions['logLevel'];
        break;
      }
      default:
        if (arg.startsWith('-')) fail(`Unknown option ${arg}`);
        trees.push(arg);
    }
  }
  if (trees.length !== 2) fail(`Two builds to compare are needed, got ${trees.length}`);
  return {
    case: kase,
    connections,
    rounds,
    seconds,
    logLevel,
    trees: [trees[0]!, trees[1]!],
  };
}

/**
 * User plus system CPU time of a process in clock ticks, from the text of /proc/<pid>/stat
 * (proc(5): fields 14 and 15). The command name (field 2) may hold spaces and parentheses,
 * so fields are counted from the last ')'.
 */
export function cpuTicks(stat: string): number {
  const close = stat.lastIndexOf(')');
  if (close < 0) throw new TypeError('Cannot read /proc/<pid>/stat: no command name');
  // After ") ": field 3 (state) is index 0, so fields 14 and 15 are indexes 11 and 12.
  const fields = stat.slice(close + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new TypeError('Cannot read /proc/<pid>/stat: no CPU times');
  }
  return utime + stime;
}

/** One build's measurement in one round. */
export interface Sample {
  /** Requests/s, MB/s or messages/s. */
  readonly rate: number;
  /** Median latency in ms (get and ws); NaN when not measured. */
  readonly p50: number;
  /** CPU per unit of work: µs per request or message, ms per GiB for the download. */
  readonly server: number;
  readonly agent: number;
  /** The `tether forward` client's CPU, for the TCP cases. */
  readonly forward?: number;
}

interface Row {
  readonly label: string;
  readonly of: (s: Sample) => number;
  readonly higherIsBetter: boolean;
  readonly digits: number;
}

export function rowsFor(kase: Case): Row[] {
  const bulk = kase === 'download' || kase === 'tcp-up' || kase === 'tcp-down';
  const rate = kase === 'get' ? 'req/s' : kase === 'ws' ? 'msg/s' : 'MB/s';
  const cpu = bulk ? 'CPU ms per GiB' : `CPU µs per ${kase === 'ws' ? 'msg' : 'req'}`;
  const rows: Row[] = [{ label: rate, of: (s) => s.rate, higherIsBetter: true, digits: 0 }];
  if (!bulk) rows.push({ label: 'p50 ms', of: (s) => s.p50, higherIsBetter: false, digits: 3 });
  rows.push(
    { label: `server ${cpu}`, of: (s) => s.server, higherIsBetter: false, digits: 1 },
    { label: `agent ${cpu}`, of: (s) => s.agent, higherIsBetter: false, digits: 1 },
  );
  if (kase === 'tcp-up' || kase === 'tcp-down') {
    rows.push({
      label: `forward ${cpu}`,
      of: (s) => s.forward ?? Number.NaN,
      higherIsBetter: false,
      digits: 1,
    });
  }
  return rows;
}

/**
 * A markdown table: each figure's median (min–max) for A and B, B/A of the medians, and in
 * how many pairs B was better. Pairs are rounds in which both builds were measured.
 */
export function summarize(
  kase: Case,
  names: readonly [string, string],
  a: readonly Sample[],
  b: readonly Sample[],
): string {
  const pairs = Math.min(a.length, b.length);
  const cell = (xs: number[], digits: number) =>
    xs.length === 0 || xs.some((x) => !Number.isFinite(x))
      ? '–'
      : `${fix(median(xs), digits)} (${fix(Math.min(...xs), digits)}–${fix(Math.max(...xs), digits)})`;
  const lines = [
    `| ${kase} | A: ${names[0]} | B: ${names[1]} | B/A | B better in |`,
    '|---|---|---|---|---|',
  ];
  for (const row of rowsFor(kase)) {
    const xa = a.map(row.of);
    const xb = b.map(row.of);
    const ratio = median(xb) / median(xa);
    let better = 0;
    for (let i = 0; i < pairs; i++) {
      const d = row.of(b[i]!) - row.of(a[i]!);
      if (row.higherIsBetter ? d > 0 : d < 0) better++;
    }
    const comparable = Number.isFinite(ratio) && pairs > 0;
    lines.push(
      `| ${row.label} | ${cell(xa, row.digits)} | ${cell(xb, row.digits)} | ${
        comparable ? ratio.toFixed(3) : '–'
      } | ${comparable ? `${better} of ${pairs}` : '–'} |`,
    );
  }
  return lines.join('\n');
}

function fix(n: number, digits: number): string {
  return digits === 0 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits);
}
