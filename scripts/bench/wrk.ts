/** wrk runs with a Lua `done` hook that prints one JSON line (percentiles and error counts). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './procs.ts';

export interface HttpResult {
  rps: number;
  /** Latency percentiles in ms. */
  p50: number;
  p99: number;
  p999: number;
  /** Socket errors, timeouts and non-2xx/3xx responses. */
  errors: number;
  requests: number;
  /** Transfer, MB/s (response bytes as wrk counts them). */
  mbps: number;
}

const LUA = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"p50":%f,"p99":%f,"p999":%f,"errors":%d}\\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    e.connect + e.read + e.write + e.status + e.timeout))
end
`;

export function wrkScript(dir: string): string {
  const path = join(dir, 'report.lua');
  writeFileSync(path, LUA);
  return path;
}

export async function wrk(
  script: string,
  url: string,
  connections: number,
  seconds: number,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const threads = Math.min(2, connections);
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`];
  args.push('--timeout', '10s', '--latency', '-s', script);
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  args.push(url);
  const out = await run('wrk', args, (seconds + 30) * 1000);
  const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
  if (!line) throw new Error(`Cannot read wrk output:\n${out}`);
  const r = JSON.parse(line) as {
    requests: number;
    duration_us: number;
    bytes: number;
    p50: number;
    p99: number;
    p999: number;
    errors: number;
  };
  const secs = r.duration_us / 1e6;
  return {
    rps: r.requests / secs,
    p50: r.p50 / 1000,
    p99: r.p99 / 1000,
    p999: r.p999 / 1000,
    errors: r.errors,
    requests: r.requests,
    mbps: r.bytes / secs / 1e6,
  };
}
