#!/usr/bin/env bun
/**
 * Side-by-side benchmark (issue #6): the same upstream measured directly, through nginx and
 * through tether (compiled server + agent, default settings), interleaved, in one run.
 *
 *   npm run bench                      (bun scripts/bench.ts)
 *   BENCH_SECONDS=5 BENCH_ROUNDS=1     seconds per wrk case, interleaved rounds
 *   BENCH_WARMUP=3                     seconds of unrecorded load per way before round 1
 *   BENCH_ONLY=http,download,ws,slow,idle,startup   run a subset
 *   BENCH_AGENT=deno                   run the agent from source on Deno instead of dist/tether
 *   BENCH_AGENT_ARGS='--flag=value …'  extra agent flags (experiments; default: none)
 *   BENCH_MANY=10000                   idle agents and concurrent slow requests
 *   BENCH_NO_BUILD=1                   reuse dist/tether
 *
 * Installs wrk/nginx with apt-get when missing (root), binds 127.0.0.1 only, bounds every
 * run in time, and stops only the processes it started. Writes bench-results/<time>.json,
 * bench-results/<time>.md and .svg (and, after a full default run, the table and chart in
 * docs/); prints the markdown table.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ENDPOINT,
  routed,
  serverBindArgs,
  startUpstream,
  writeDownloadFile,
} from './bench/fixtures.ts';
import {
  type Proc,
  rssKiB,
  run,
  sleep,
  start,
  stopAll,
  until,
  waitForPort,
} from './bench/procs.ts';
import {
  markdown,
  type PerWay,
  type Results,
  svgChart,
  WAYS,
  type Way,
  type WsResult,
} from './bench/report.ts';
import { ensureTools, machine, nginxPath, writeNginxConf } from './bench/setup.ts';
import { type HttpResult, wrk, wrkScript } from './bench/wrk.ts';

const root = resolve(import.meta.dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
/**
 * Every way gets this much unrecorded load first: Bun's JIT compiles tether's hot paths (and
 * the upstream's) during the first seconds, which otherwise landed in round 1's c=1 case
 * (measured: JIT and GC threads took a fifth of the server's CPU in its first 4 s).
 */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'http,download,ws,slow,idle,startup').split(','));
const AGENT_RUNTIME = process.env.BENCH_AGENT === 'deno' ? 'deno' : 'bun';
/** Extra agent flags for experiments; the reported run uses none (default settings). */
const AGENT_ARGS = (process.env.BENCH_AGENT_ARGS ?? '').split(' ').filter((a) => a !== '');
const CONCURRENCY = [1, 8, 32, 128, 512];
const SIZES = [4096, 65536, 1 << 20];
const MANY = Number(process.env.BENCH_MANY ?? 10_000);
const SLOW_MS = 2000;
const bun = process.execPath;
const deno = join(root, 'node_modules', '.bin', 'deno');
const tether = join(root, 'dist', 'tether');
const dir = mkdtempSync(join(tmpdir(), 'tether-bench-'));
const downloadFile = `/dev/shm/tether-bench-${process.pid}.bin`;
// Fixed ports below the kernel's ephemeral range: a port there may be held by a client
// socket in TIME_WAIT from an earlier run (wrk, nginx, the pool), and nothing can listen on
// it until that ends (seen as "address in use" when runs followed each other).
const base = 20_000 + (process.pid % Math.floor((ephemeralLow() - 20_010) / 10)) * 10;
const port = {
  upstream: base,
  nginx: base + 1,
  proxy: base + 2,
  tunnel: base + 3,
  admin: base + 4,
  proxy2: base + 5,
  tunnel2: base + 6,
  admin2: base + 7,
};

/** The first port of `net.ipv4.ip_local_port_range` (32768 unless changed). */
function ephemeralLow(): number {
  try {
    const low = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0],
    );
    return low > 21_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function log(message: string) {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

function startServer(name: string, proxy: number, tunnel: number, admin: number): Proc {
  return start(
    name,
    tether,
    ['server', ...serverBindArgs({ proxy, tunnel, admin })],
    join(dir, `${name}.log`),
  );
}

function startAgent(name: string, tunnel: number): Proc {
  const args = [
    'agent',
    'http',
    'bench',
    `127.0.0.1:${port.upstream}`,
    `--connect.url=http://127.0.0.1:${tunnel}`,
    ...AGENT_ARGS,
  ];
  return AGENT_RUNTIME === 'deno'
    ? start(
        name,
        deno,
        ['run', '-A', '--no-check', join(root, 'src', 'main.ts'), ...args],
        join(dir, `${name}.log`),
      )
    : start(name, tether, args, join(dir, `${name}.log`));
}

function urlFor(way: Way): string {
  const p = way === 'direct' ? port.upstream : way === 'nginx' ? port.nginx : port.proxy;
  return `http://127.0.0.1:${p}`;
}

const headersFor = (way: Way) => (way === 'tether' ? ENDPOINT : {});

/** WebSocket echo with 64 connections for `seconds` (scripts/bench/ws-echo.ts). */
async function wsEcho(way: Way, seconds: number): Promise<WsResult> {
  const h = way === 'tether' ? ['x-piko-endpoint:bench'] : [];
  const out = await run(
    bun,
    [
      join(root, 'scripts', 'bench', 'ws-echo.ts'),
      `${urlFor(way).replace('http', 'ws')}/ws`,
      '64',
      String(seconds),
      ...h,
    ],
    (seconds + 30) * 1000,
  );
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as WsResult;
}

/** Each round starts with the next way, so no way always runs first or last. */
const order = (round: number) => WAYS.map((_, i) => WAYS[(i + round) % WAYS.length]!);
const empty = <T>(): PerWay<T> => ({ direct: [], nginx: [], tether: [] });

async function main() {
  ensureTools();
  if (!process.env.BENCH_NO_BUILD) {
    log('building dist/tether');
    const b = spawnSync(bun, [join(root, 'scripts', 'build.ts')], { stdio: 'inherit', cwd: root });
    if (b.status !== 0) throw new Error('Cannot build dist/tether');
  }
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: root,
    encoding: 'utf8',
  }).stdout.trim();
  const dirty = spawnSync('git', ['status', '--porcelain', 'src'], {
    cwd: root,
    encoding: 'utf8',
  }).stdout.trim();
  const results: Results = {
    date: new Date().toISOString(),
    commit: commit + (dirty ? '+dirty' : ''),
    machine: machine(deno),
    agentRuntime: [AGENT_RUNTIME, ...AGENT_ARGS].join(' '),
    seconds: SECONDS,
    rounds: ROUNDS,
    warmup: WARMUP,
    concurrency: CONCURRENCY,
    http: {},
    download: empty(),
    ws: empty(),
  };

  if (ONLY.has('startup')) {
    spawnSync(tether, ['--help']);
    let total = 0;
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      spawnSync(tether, ['--help'], { stdio: 'ignore' });
      total += performance.now() - t;
    }
    results.startupMs = total / 20;
    log(`--help: ${results.startupMs.toFixed(1)} ms`);
  }

  if (ONLY.has('download')) {
    log('writing the 1 GiB download file');
    await writeDownloadFile(downloadFile);
  }
  startUpstream(bun, root, port.upstream, downloadFile, dir);
  start(
    'nginx',
    nginxPath(),
    ['-p', dir, '-c', writeNginxConf(dir, port.nginx, port.upstream), '-g', 'daemon off;'],
    join(dir, 'nginx.log'),
  );
  const server = startServer('tether-server', port.proxy, port.tunnel, port.admin);
  await Promise.all([waitForPort(port.upstream), waitForPort(port.nginx), waitForPort(port.proxy)]);
  const agent = startAgent('tether-agent', port.tunnel);
  if (!(await until(() => routed(port.proxy), 20_000)))
    throw new Error('The tether agent never connected');
  log(`ready (logs in ${dir})`);

  const script = wrkScript(dir);
  if (WARMUP > 0 && (ONLY.has('http') || ONLY.has('download') || ONLY.has('ws'))) {
    for (const way of WAYS) {
      await wrk(script, urlFor(way), 32, WARMUP, headersFor(way));
      if (ONLY.has('ws')) await wsEcho(way, WARMUP);
    }
    log(`warmed up (${WARMUP} s of GET${ONLY.has('ws') ? ' and WebSocket echo' : ''} per way)`);
  }
  // Memory across the run: RSS after warm-up and after every case, so a server or agent
  // that keeps something per request shows it (one once kept every stream of the last 75 s).
  const serverWarmKiB = rssKiB(server.pid);
  const agentWarmKiB = rssKiB(agent.pid);
  let serverSmallPeakKiB = serverWarmKiB;
  let agentSmallPeakKiB = agentWarmKiB;
  let smallRequests = 0;
  const httpCases: { key: string; path: string; c: number }[] = [
    ...CONCURRENCY.map((c) => ({ key: `get64-c${c}`, path: '/', c })),
    ...SIZES.map((s) => ({ key: `size${s}-c32`, path: `/size/${s}`, c: 32 })),
  ];
  for (let round = 0; round < ROUNDS; round++) {
    if (ONLY.has('http')) {
      for (const k of httpCases) {
        results.http[k.key] ??= empty<HttpResult>();
        for (const way of order(round)) {
          const r = await wrk(script, urlFor(way) + k.path, k.c, SECONDS, headersFor(way));
          results.http[k.key]![way].push(r);
          if (way === 'tether' && k.path === '/') {
            smallRequests += r.requests;
            serverSmallPeakKiB = Math.max(serverSmallPeakKiB, rssKiB(server.pid));
            agentSmallPeakKiB = Math.max(agentSmallPeakKiB, rssKiB(agent.pid));
          }
          log(
            `${k.key} ${way}: ${r.rps.toFixed(0)} req/s p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)} ms, ${r.errors} errors`,
          );
        }
      }
    }
    if (ONLY.has('download')) {
      for (const way of order(round)) {
        const h = Object.entries(headersFor(way)).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
        let mbps = 0;
        try {
          const w = '%{speed_download} %{size_download}';
          const url = `${urlFor(way)}/download`;
          const out = await run('curl', ['-sS', '-o', '/dev/null', '-w', w, ...h, url], 60_000);
          const [speed = '0', size = '0'] = out.trim().split(' ');
          if (Number(size) !== 2 ** 30) throw new Error(`got ${size} bytes`);
          mbps = Number(speed) / 1e6;
        } catch (error) {
          log(`download ${way} failed (counted as 0 MB/s): ${(error as Error).message}`);
        }
        results.download[way].push(mbps);
        log(`download ${way}: ${mbps.toFixed(0)} MB/s`);
      }
    }
    if (ONLY.has('ws')) {
      for (const way of order(round)) {
        const r = await wsEcho(way, SECONDS);
        results.ws[way].push(r);
        log(`ws ${way}: ${r.mps.toFixed(0)} msg/s p99 ${r.p99.toFixed(2)} ms, ${r.errors} errors`);
      }
    }
  }
  const tetherRequests = Object.values(results.http).reduce(
    (sum, perWay) => sum + perWay.tether.reduce((n, r) => n + r.requests, 0),
    0,
  );
  results.memory = {
    smallRequests,
    requests: tetherRequests + results.download.tether.length,
    wsMessages: results.ws.tether.reduce((n, r) => n + r.messages, 0),
    serverWarmKiB,
    serverSmallPeakKiB,
    serverEndKiB: rssKiB(server.pid),
    agentWarmKiB,
    agentSmallPeakKiB,
    agentEndKiB: rssKiB(agent.pid),
  };
  rmSync(downloadFile, { force: true });
  await agent.stop();
  await server.stop();

  if (ONLY.has('slow')) results.slow = await slowRequests();
  if (ONLY.has('idle')) results.idleAgents = await idleAgents();
  await stopAll();

  const md = markdown(results);
  console.log(`\n${md}\n`);
  const stamp = results.date.replace(/[:.]/g, '-');
  const out = join(root, 'bench-results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(out, `${stamp}.md`), `${md}\n`);
  const chart = ONLY.has('http') ? svgChart(results) : undefined;
  if (chart) writeFileSync(join(out, `${stamp}.svg`), chart);
  log(`wrote bench-results/${stamp}.json, .md${chart ? ' and .svg' : ''}`);
  // Only a full run with default settings (compiled agent, no extra flags) replaces the
  // table and the chart in docs/performance.md: partial or Deno-agent runs would make the
  // two disagree.
  if (process.env.BENCH_ONLY === undefined && AGENT_ARGS.length === 0 && AGENT_RUNTIME !== 'deno') {
    updateDoc(md);
    if (chart) writeFileSync(join(root, 'docs', 'performance-latency.svg'), chart);
  }
}

/** Replaces the text between the bench markers of docs/performance.md with `md`. */
function updateDoc(md: string): void {
  const path = join(root, 'docs', 'performance.md');
  let doc: string;
  try {
    doc = readFileSync(path, 'utf8');
  } catch {
    return;
  }
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) return;
  writeFileSync(path, `${doc.slice(0, a + start.length)}\n${md}\n${doc.slice(b)}`);
  log('updated the table in docs/performance.md');
}

/** 10 000 requests to a 2 s upstream at once through a fresh server and one agent. */
async function slowRequests(): Promise<NonNullable<Results['slow']>> {
  const server = startServer('slow-server', port.proxy2, port.tunnel2, port.admin2);
  await waitForPort(port.proxy2);
  const agent = startAgent('slow-agent', port.tunnel2);
  if (!(await until(() => routed(port.proxy2), 20_000)))
    throw new Error('The slow-case agent never connected');
  log(`slow: ${MANY} requests of ${SLOW_MS} ms`);
  let peakServer = 0;
  let peakAgent = 0;
  let peakTotal = 0;
  const sampler = setInterval(() => {
    const s = rssKiB(server.pid);
    const a = rssKiB(agent.pid);
    peakServer = Math.max(peakServer, s);
    peakAgent = Math.max(peakAgent, a);
    peakTotal = Math.max(peakTotal, s + a);
  }, 100);
  const out = await run(
    bun,
    [
      join(root, 'scripts', 'bench', 'slow-requests.ts'),
      String(port.proxy2),
      String(MANY),
      `/slow/${SLOW_MS}`,
      'bench',
    ],
    180_000,
  );
  clearInterval(sampler);
  const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as {
    ok: number;
    failed: number;
    seconds: number;
    firstError: string;
  };
  log(
    `slow: ${r.ok} ok, ${r.failed} failed in ${r.seconds.toFixed(1)} s; peak RSS ${(peakTotal / 1024).toFixed(0)} MiB`,
  );
  await agent.stop();
  await server.stop();
  return {
    count: MANY,
    ...r,
    peakServerKiB: peakServer,
    peakAgentKiB: peakAgent,
    peakTotalKiB: peakTotal,
  };
}

/** 10 000 agent sessions (one load process speaking yamux) against a fresh server. */
async function idleAgents(): Promise<NonNullable<Results['idleAgents']>> {
  const server = startServer('idle-server', port.proxy2, port.tunnel2, port.admin2);
  await waitForPort(port.tunnel2);
  await sleep(1000);
  const baseline = rssKiB(server.pid);
  log(`idle: server baseline ${(baseline / 1024).toFixed(1)} MiB; connecting ${MANY} agents`);
  const load = start(
    'idle-agents',
    bun,
    [
      join(root, 'scripts', 'bench', 'idle-agents.ts'),
      `ws://127.0.0.1:${port.tunnel2}`,
      String(MANY),
    ],
    join(dir, 'idle-agents.log'),
    { readStdout: true },
  );
  let line = '';
  const done = until(() => line !== '', 120_000);
  load.child.stdout?.on('data', (d: Buffer) => {
    const l = d
      .toString()
      .split('\n')
      .find((x) => x.startsWith('{'));
    if (l) line = l;
  });
  if (!(await done)) throw new Error('The idle agents never finished connecting');
  const r = JSON.parse(line) as { connected: number; failed: number; seconds: number };
  // Let the server settle (GC, buffers) before reading its RSS.
  await sleep(3000);
  const loaded = rssKiB(server.pid);
  const perAgent = (loaded - baseline) / Math.max(1, r.connected);
  log(
    `idle: ${r.connected} connected in ${r.seconds.toFixed(1)} s; ${perAgent.toFixed(1)} KiB/agent`,
  );
  await load.stop();
  await server.stop();
  return { count: MANY, ...r, baselineKiB: baseline, loadedKiB: loaded, perAgentKiB: perAgent };
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await stopAll();
  rmSync(downloadFile, { force: true });
}
