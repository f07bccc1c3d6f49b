/**
 * Requests/s and client CPU per request through tether's upstream pool versus the runtime's
 * own `fetch` and versus a minimal callback client on `node:net` (one connection per loop,
 * head written, response framed by its Content-Length: the floor any pool could reach), to
 * the same local upstream (Node `http`, keep-alive on, 64-byte body, in its own process), at
 * concurrency 1 and 32, measured side by side in one run.
 *
 *   bun scripts/bench-pool.ts [seconds per cell, default 5]
 *   deno run -A scripts/bench-pool.ts [seconds]
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
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

const rawHead = new TextEncoder().encode(`GET /bench HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
const rawSockets: Socket[] = [];

/** One request loop's own connection: write the head, call back once the body is in. */
function rawConnection(): Promise<() => Promise<void>> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    rawSockets.push(socket);
    socket.setNoDelay(true);
    let pending = '';
    let done: (() => void) | undefined;
    socket.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      const end = pending.indexOf('\r\n\r\n');
      if (end === -1) return;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(pending.slice(0, end))?.[1]);
      if (pending.length < end + 4 + length) return;
      pending = pending.slice(end + 4 + length);
      done?.();
    });
    socket.once('error', reject);
    socket.once('connect', () =>
      resolve(
        () =>
          new Promise<void>((r) => {
            done = r;
            socket.write(rawHead);
          }),
      ),
    );
  });
}

interface Cell {
  rps: number;
  /** Client CPU (user + system) per request, µs. */
  cpuUs: number;
}

/** Runs `concurrency` request loops for `ms`; returns requests per second and CPU per request. */
async function measure(
  run: (() => Promise<void>) | 'raw',
  concurrency: number,
  ms: number,
): Promise<Cell> {
  const loops = await Promise.all(
    Array.from({ length: concurrency }, () => (run === 'raw' ? rawConnection() : run)),
  );
  let count = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    loops.map(async (loop) => {
      while (performance.now() < end) {
        await loop();
        count++;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  for (const socket of rawSockets.splice(0)) socket.destroy();
  return {
    rps: count / ((performance.now() - start) / 1000),
    cpuUs: (used.user + used.system) / count,
  };
}

const rows: string[][] = [];
try {
  for (const concurrency of [1, 32]) {
    const result: Record<string, Cell> = {};
    // Interleave the clients, each warmed up first, so drift hits them alike.
    for (const [name, run] of [
      ['fetch', viaFetch],
      ['pool', viaPool],
      ['raw', 'raw'],
    ] as const) {
      await measure(run, concurrency, 500);
      result[name] = await measure(run, concurrency, seconds * 1000);
    }
    const none = { rps: 0, cpuUs: 0 };
    const { fetch: f = none, pool: p = none, raw: r = none } = result;
    rows.push([
      String(concurrency),
      `${f.rps.toFixed(0)} (${f.cpuUs.toFixed(1)})`,
      `${p.rps.toFixed(0)} (${p.cpuUs.toFixed(1)})`,
      `${r.rps.toFixed(0)} (${r.cpuUs.toFixed(1)})`,
      (p.rps / f.rps).toFixed(2),
      (p.cpuUs / r.cpuUs).toFixed(2),
    ]);
  }
} finally {
  await pool.close();
  child.kill();
}

console.log(`\nbench-pool on ${runtimeName}: GET, 64-byte body, keep-alive, ${seconds} s per cell`);
console.log(`pool stats: ${JSON.stringify(pool.stats())}\n`);
console.log('cells: req/s (client CPU µs per request)\n');
const header = ['concurrency', 'fetch', 'pool', 'raw node:net', 'pool/fetch req/s', 'pool/raw CPU'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
console.log(line(header));
for (const r of rows) console.log(line(r));
