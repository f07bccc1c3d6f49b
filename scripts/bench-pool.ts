/**
 * Requests/s through tether's upstream pool versus the runtime's own `fetch`, to the same
 * local upstream (Node `http`, keep-alive on, 64-byte body, in its own process), at
 * concurrency 1 and 32, measured side by side in one run.
 *
 *   bun scripts/bench-pool.ts [seconds per cell, default 5]
 *   deno run -A scripts/bench-pool.ts [seconds]
 */
import { spawn } from 'node:child_process';
import { parseOrigin, UpstreamPool } from '../src/pool/index.ts';

const seconds = Number(process.argv[2] ?? 5);
const runtimeName = 'Bun' in globalThis ? 'bun' : 'Deno' in globalThis ? 'deno' : 'unknown';

const SERVER = `
const http = require('node:http');
const body = Buffer.alloc(64, 120);
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 64 }); res.end(body); });
});
server.keepAliveTimeout = 120000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

const child = spawn('node', ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<number>((resolve, reject) => {
  child.once('exit', (code) => reject(new Error(`Upstream exited (${code})`)));
  child.stdout?.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
});
const url = `http://127.0.0.1:${port}/bench`;
const origin = parseOrigin(`127.0.0.1:${port}`);
const pool = new UpstreamPool({ maxConnsPerOrigin: 64 });

async function viaPool(): Promise<void> {
  const res = await pool.request(origin, {
    method: 'GET',
    target: '/bench',
    headers: [['Host', `127.0.0.1:${port}`]],
    body: null,
  });
  const reader = res.body.getReader();
  let n = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) n += r.value.byteLength;
  if (res.head.status !== 200 || n !== 64) throw new Error(`Bad response ${res.head.status} ${n}`);
}

async function viaFetch(): Promise<void> {
  const res = await fetch(url);
  const n = (await res.arrayBuffer()).byteLength;
  if (res.status !== 200 || n !== 64) throw new Error(`Bad response ${res.status} ${n}`);
}

/** Runs `concurrency` request loops for `ms`; returns requests per second. */
async function measure(run: () => Promise<void>, concurrency: number, ms: number): Promise<number> {
  let count = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await run();
        count++;
      }
    }),
  );
  return count / ((performance.now() - start) / 1000);
}

const rows: string[][] = [];
try {
  for (const concurrency of [1, 32]) {
    const result: Record<string, number> = {};
    // Interleave the two clients, each warmed up first, so drift hits both alike.
    for (const [name, run] of [
      ['fetch', viaFetch],
      ['pool', viaPool],
    ] as const) {
      await measure(run, concurrency, 500);
      result[name] = await measure(run, concurrency, seconds * 1000);
    }
    const f = result.fetch ?? 0;
    const p = result.pool ?? 0;
    rows.push([String(concurrency), f.toFixed(0), p.toFixed(0), (p / f).toFixed(2)]);
  }
} finally {
  await pool.close();
  child.kill();
}

console.log(`\nbench-pool on ${runtimeName}: GET, 64-byte body, keep-alive, ${seconds} s per cell`);
console.log(`pool stats: ${JSON.stringify(pool.stats())}\n`);
const header = ['concurrency', 'fetch req/s', 'pool req/s', 'pool/fetch'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
console.log(line(header));
for (const r of rows) console.log(line(r));
