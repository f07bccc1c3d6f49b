#!/usr/bin/env bun
/**
 * What two relay processes on Bun can reach on WebSocket echo at all, next to tether: the
 * same upstream and client (scripts/bench/ws-echo.ts, 64 connections) measured directly,
 * through one and two bare relays (scripts/bench/bare-relay.ts: bytes written on in the
 * socket callbacks, one upstream connection per client) and through tether's server and
 * agent from this checkout (default settings), interleaved round by round. Not a test; the
 * measurement behind the WebSocket echo target in docs/performance.md.
 *
 *   npm run bench:floor                 # 4 rounds of 4 s
 *   npm run bench:floor -- 6 5          # rounds, seconds per measurement
 *
 * Every process listens on 127.0.0.1 and is stopped at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { routed, serverBindArgs, startUpstream } from './bench/fixtures.ts';
import { cpuSeconds, type Proc, run, start, stopAll, until, waitForPort } from './bench/procs.ts';
import { median } from './bench/report.ts';

const root = resolve(import.meta.dirname, '..');
const bun = process.execPath;
const dir = mkdtempSync(join(tmpdir(), 'tether-floor-'));
const [rounds = 4, seconds = 4] = process.argv.slice(2).map(Number);
const base = 22_000 + (process.pid % 900) * 8;
const port = {
  upstream: base,
  relay2: base + 1,
  relay1: base + 2,
  proxy: base + 3,
  tunnel: base + 4,
  admin: base + 5,
};

function log(message: string) {
  console.error(`[bench:floor ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

async function echo(wsPort: number, secs: number): Promise<{ mps: number; messages: number }> {
  const out = await run(
    bun,
    [
      join(root, 'scripts', 'bench', 'ws-echo.ts'),
      `ws://127.0.0.1:${wsPort}/ws`,
      '64',
      String(secs),
      'x-piko-endpoint:bench',
    ],
    (secs + 30) * 1000,
  );
  const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as {
    mps: number;
    errors: number;
    messages: number;
  };
  if (r.errors > 0) throw new Error(`WebSocket echo on port ${wsPort} counted ${r.errors} errors`);
  return r;
}

async function main(): Promise<void> {
  if (!(rounds >= 1 && rounds <= 20 && seconds >= 1 && seconds <= 30)) {
    throw new RangeError('Usage: bench-relay-floor.ts [rounds 1–20] [seconds 1–30]');
  }
  startUpstream(bun, root, port.upstream, '/dev/null', dir);
  await waitForPort(port.upstream);
  const bare = (name: string, listen: number, target: number) =>
    start(
      name,
      bun,
      [join(root, 'scripts', 'bench', 'bare-relay.ts'), String(listen), String(target)],
      join(dir, `${name}.log`),
    );
  // Two bare relays in a chain: client → relay1 → relay2 → upstream.
  const relays = [
    bare('relay2', port.relay2, port.upstream),
    bare('relay1', port.relay1, port.relay2),
  ];
  const main = join(root, 'src', 'main.ts');
  const server = start(
    'server',
    bun,
    [main, 'server', ...serverBindArgs(port)],
    join(dir, 'server.log'),
  );
  await waitForPort(port.proxy);
  const agent = start(
    'agent',
    bun,
    [
      main,
      'agent',
      'http',
      'bench',
      `127.0.0.1:${port.upstream}`,
      `--connect.url=http://127.0.0.1:${port.tunnel}`,
    ],
    join(dir, 'agent.log'),
  );
  await Promise.all([waitForPort(port.relay1), waitForPort(port.relay2)]);
  if (!(await until(() => routed(port.proxy), 20_000)))
    throw new Error(`No route through tether after 20 s (logs in ${dir})`);
  const ways: { name: string; port: number; relays: Proc[] }[] = [
    { name: 'direct', port: port.upstream, relays: [] },
    { name: 'one bare Bun relay', port: port.relay2, relays: [relays[0]!] },
    { name: 'two bare Bun relays', port: port.relay1, relays },
    { name: 'tether (server + agent)', port: port.proxy, relays: [server, agent] },
  ];
  log('warm-up: 3 s each way');
  for (const way of ways) await echo(way.port, 3);
  const rates = ways.map(() => [] as number[]);
  const cpu = ways.map(() => [] as number[]);
  for (let round = 1; round <= rounds; round++) {
    for (const [i, way] of ways.entries()) {
      const before = way.relays.map((p) => cpuSeconds(p.pid));
      const r = await echo(way.port, seconds);
      const used = way.relays.reduce((sum, p, k) => sum + cpuSeconds(p.pid) - before[k]!, 0);
      rates[i]!.push(r.mps);
      cpu[i]!.push((used * 1e6) / r.messages);
      log(`round ${round} ${way.name}: ${Math.round(r.mps).toLocaleString('en-US')} msg/s`);
    }
  }
  const direct = median(rates[0]!);
  console.log('| WebSocket echo, 64 conns | msg/s | of direct | relay CPU µs per msg |');
  console.log('|---|---|---|---|');
  for (const [i, way] of ways.entries()) {
    const r = rates[i]!;
    const range = `${Math.round(Math.min(...r)).toLocaleString('en-US')}–${Math.round(Math.max(...r)).toLocaleString('en-US')}`;
    const relayCpu = way.relays.length ? median(cpu[i]!).toFixed(1) : '–';
    console.log(
      `| ${way.name} | ${Math.round(median(r)).toLocaleString('en-US')} (${range}) | ${Math.round((median(r) / direct) * 100)} % | ${relayCpu} |`,
    );
  }
}

try {
  await main();
} catch (error) {
  console.error(error instanceof RangeError ? error.message : error);
  process.exitCode = 1;
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
