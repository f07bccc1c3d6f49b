#!/usr/bin/env bun
/**
 * Two builds of tether, measured alternately from source against the same upstream, with
 * the CPU each of server and agent spent per unit of work (from /proc). Not a test; the
 * tool behind the log of docs/performance.md.
 *
 *   npm run bench:ab -- HEAD~1 HEAD
 *   npm run bench:ab -- --case download --rounds 3 main .
 *   npm run bench:ab -- -c 1 HEAD /path/to/other/checkout
 *   npm run bench:ab -- --case tcp-up HEAD~1 HEAD
 *
 * A git ref is checked out into a temporary worktree (removed at the end) that shares this
 * checkout's node_modules. Every process listens on 127.0.0.1 and is stopped at the end;
 * each measurement is bounded in time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type AbOptions, parseAbArgs, type Sample, summarize, USAGE } from './bench/ab.ts';
import {
  ENDPOINT,
  routed,
  serverBindArgs,
  startUpstream,
  writeDownloadFile,
} from './bench/fixtures.ts';
import { cpuSeconds, type Proc, run, start, stopAll, until, waitForPort } from './bench/procs.ts';
import { ensureTools } from './bench/setup.ts';
import { wrk, wrkScript } from './bench/wrk.ts';

const root = resolve(import.meta.dirname, '..');
const bun = process.execPath;
const dir = mkdtempSync(join(tmpdir(), 'tether-ab-'));
const downloadFile = `/dev/shm/tether-ab-${process.pid}.bin`;
const GiB = 2 ** 30;
const worktrees: string[] = [];
// Below the ephemeral range, as in bench.ts (a port there may be held by a client socket in
// TIME_WAIT); ten ports per run, chosen by pid so that runs side by side rarely collide.
const base = 21_000 + (process.pid % 900) * 10;
const upstreamPort = base;
const tcpPeerPort = base + 7;
const ports = (i: number) => ({
  proxy: base + 1 + 3 * i,
  tunnel: base + 2 + 3 * i,
  admin: base + 3 + 3 * i,
  forward: base + 8 + i,
});
const isTcp = (o: AbOptions) => o.case === 'tcp-up' || o.case === 'tcp-down';

function log(message: string) {
  console.error(`[bench:ab ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

interface Tree {
  readonly name: string;
  readonly path: string;
}

/** A checkout directory as it is, or a git ref checked out into a temporary worktree. */
function resolveTree(spec: string, i: number): Tree {
  const path = resolve(spec);
  if (existsSync(join(path, 'src', 'main.ts'))) return { name: spec, path };
  const rev = spawnSync(
    'git',
    ['-C', root, 'rev-parse', '--verify', '--quiet', `${spec}^{commit}`],
    {
      encoding: 'utf8',
    },
  );
  const sha = rev.stdout.trim();
  if (rev.status !== 0 || sha === '') {
    throw new Error(`Cannot use ${spec}: neither a tether checkout nor a git commit`);
  }
  const at = join(dir, `tree-${i}`);
  const add = spawnSync('git', ['-C', root, 'worktree', 'add', '--detach', at, sha], {
    encoding: 'utf8',
  });
  if (add.status !== 0) throw new Error(`Cannot check out ${spec}: ${add.stderr.trim()}`);
  worktrees.push(at);
  symlinkSync(join(root, 'node_modules'), join(at, 'node_modules'));
  return { name: `${spec} (${sha.slice(0, 7)})`, path: at };
}

/** Server and agent of one build, started, routed and warmed up (Bun's JIT). */
async function startPair(tree: Tree, i: number, o: AbOptions, script: string) {
  const p = ports(i);
  const main = join(tree.path, 'src', 'main.ts');
  const level = `--log.level=${o.logLevel}`;
  const server = start(
    `server-${i}`,
    bun,
    [
      main,
      'server',
      ...serverBindArgs(p),
      // Stopping after each round must not wait out the drain's quiet period.
      '--drain.quiet-period=0s',
      level,
    ],
    join(dir, `server-${i}.log`),
  );
  await waitForPort(p.proxy);
  const agent = start(
    `agent-${i}`,
    bun,
    [
      main,
      'agent',
      isTcp(o) ? 'tcp' : 'http',
      'bench',
      `127.0.0.1:${isTcp(o) ? tcpPeerPort : upstreamPort}`,
      `--connect.url=http://127.0.0.1:${p.tunnel}`,
      level,
    ],
    join(dir, `agent-${i}.log`),
  );
  if (isTcp(o)) {
    const forward = start(
      `forward-${i}`,
      bun,
      [
        main,
        'forward',
        'tcp',
        `127.0.0.1:${p.forward}`,
        'bench',
        `--connect.url=http://127.0.0.1:${p.proxy}`,
        level,
      ],
      join(dir, `forward-${i}.log`),
    );
    const ok = await until(async () => {
      try {
        await tcpTransfer('down', p.forward, 1024);
        return true;
      } catch {
        return false;
      }
    }, 20_000);
    if (!ok)
      throw new Error(`${tree.name}: no TCP route through tether after 20 s (logs in ${dir})`);
    // Warm-up: Bun's JIT compiles the forwarding path.
    await tcpTransfer(o.case === 'tcp-up' ? 'up' : 'down', p.forward, 64 * 2 ** 20);
    return { server, agent, forward, proxy: p.proxy, forwardPort: p.forward };
  }
  if (!(await until(() => routed(p.proxy), 20_000))) {
    throw new Error(`${tree.name}: no route through tether after 20 s (logs in ${dir})`);
  }
  await wrk(script, `http://127.0.0.1:${p.proxy}/`, 32, 2, ENDPOINT);
  if (o.case === 'download') await download(p.proxy);
  return { server, agent, forward: undefined, proxy: p.proxy, forwardPort: p.forward };
}

/** One transfer through `tether forward tcp` (scripts/bench/tcp-peer.ts); MB/s. */
async function tcpTransfer(direction: 'up' | 'down', port: number, bytes: number): Promise<number> {
  const out = await run(
    bun,
    [join(root, 'scripts', 'bench', 'tcp-peer.ts'), direction, String(port), String(bytes)],
    120_000,
  );
  return (JSON.parse(out.trim().split('\n').pop() ?? '{}') as { mbps: number }).mbps;
}

async function download(port: number): Promise<{ mbps: number; bytes: number }> {
  const out = await run(
    'curl',
    [
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{speed_download} %{size_download}',
      '-H',
      'x-piko-endpoint: bench',
      `http://127.0.0.1:${port}/download`,
    ],
    60_000,
  );
  const [speed = '0', size = '0'] = out.trim().split(' ');
  if (Number(size) !== GiB) throw new Error(`Download through tether got ${size} bytes`);
  return { mbps: Number(speed) / 1e6, bytes: Number(size) };
}

async function measure(
  pair: {
    server: Proc;
    agent: Proc;
    forward: Proc | undefined;
    proxy: number;
    forwardPort: number;
  },
  o: AbOptions,
  script: string,
): Promise<Sample> {
  const s0 = cpuSeconds(pair.server.pid);
  const a0 = cpuSeconds(pair.agent.pid);
  const f0 = pair.forward ? cpuSeconds(pair.forward.pid) : 0;
  let rate: number;
  let p50 = Number.NaN;
  let units: number;
  let perUnit: number; // CPU seconds → the unit of the table
  if (o.case === 'get') {
    const r = await wrk(
      script,
      `http://127.0.0.1:${pair.proxy}/`,
      o.connections,
      o.seconds,
      ENDPOINT,
    );
    if (r.errors > 0) throw new Error(`wrk counted ${r.errors} errors`);
    rate = r.rps;
    p50 = r.p50;
    units = r.requests;
    perUnit = 1e6;
  } else if (o.case === 'download') {
    const runs = [await download(pair.proxy), await download(pair.proxy)];
    rate = (runs[0]!.mbps + runs[1]!.mbps) / 2;
    units = (runs[0]!.bytes + runs[1]!.bytes) / GiB;
    perUnit = 1e3;
  } else if (isTcp(o)) {
    rate = await tcpTransfer(o.case === 'tcp-up' ? 'up' : 'down', pair.forwardPort, GiB);
    units = 1;
    perUnit = 1e3;
  } else {
    const out = await run(
      bun,
      [
        join(root, 'scripts', 'bench', 'ws-echo.ts'),
        `ws://127.0.0.1:${pair.proxy}/ws`,
        '64',
        String(o.seconds),
        'x-piko-endpoint:bench',
      ],
      (o.seconds + 30) * 1000,
    );
    const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as {
      mps: number;
      p50: number;
      errors: number;
      messages: number;
    };
    if (r.errors > 0) throw new Error(`WebSocket echo counted ${r.errors} errors`);
    rate = r.mps;
    p50 = r.p50;
    units = r.messages;
    perUnit = 1e6;
  }
  const server = ((cpuSeconds(pair.server.pid) - s0) * perUnit) / units;
  const agent = ((cpuSeconds(pair.agent.pid) - a0) * perUnit) / units;
  if (!pair.forward) return { rate, p50, server, agent };
  const forward = ((cpuSeconds(pair.forward.pid) - f0) * perUnit) / units;
  return { rate, p50, server, agent, forward };
}

function describe(s: Sample, o: AbOptions): string {
  const unit = o.case === 'get' ? 'req/s' : o.case === 'ws' ? 'msg/s' : 'MB/s';
  const cpu = o.case === 'get' || o.case === 'ws' ? 'µs' : 'ms/GiB';
  const p50 = Number.isFinite(s.p50) ? ` p50 ${s.p50.toFixed(3)} ms,` : '';
  return `${Math.round(s.rate).toLocaleString('en-US')} ${unit},${p50} server ${s.server.toFixed(1)} ${cpu}, agent ${s.agent.toFixed(1)} ${cpu}${
    s.forward === undefined ? '' : `, forward ${s.forward.toFixed(1)} ${cpu}`
  }`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const o = parseAbArgs(argv);
  ensureTools();
  const trees = o.trees.map(resolveTree) as [Tree, Tree];
  const script = wrkScript(dir);
  if (o.case === 'download') {
    log('writing the 1 GiB download file');
    await writeDownloadFile(downloadFile);
  }
  startUpstream(bun, root, upstreamPort, downloadFile, dir);
  await waitForPort(upstreamPort);
  if (isTcp(o)) {
    start(
      'tcp-peer',
      bun,
      [join(root, 'scripts', 'bench', 'tcp-peer.ts'), 'serve', String(tcpPeerPort)],
      join(dir, 'tcp-peer.log'),
    );
    await waitForPort(tcpPeerPort);
  }
  const what = {
    get: `GET 64 B at c=${o.connections}`,
    download: '1 GiB download ×2',
    ws: 'WebSocket echo, 64 connections',
    'tcp-up': '1 GiB up through tether forward tcp',
    'tcp-down': '1 GiB down through tether forward tcp',
  }[o.case];
  log(`${what}, ${o.rounds} rounds; A = ${trees[0].name}, B = ${trees[1].name}`);
  const samples: [Sample[], Sample[]] = [[], []];
  for (let round = 1; round <= o.rounds; round++) {
    for (const i of [0, 1] as const) {
      const pair = await startPair(trees[i], i, o, script);
      try {
        const s = await measure(pair, o, script);
        samples[i].push(s);
        log(`round ${round} ${i === 0 ? 'A' : 'B'}: ${describe(s, o)}`);
      } finally {
        await pair.forward?.stop();
        await pair.agent.stop();
        await pair.server.stop();
      }
    }
  }
  console.log(summarize(o.case, [trees[0].name, trees[1].name], samples[0], samples[1]));
}

try {
  await main();
} catch (error) {
  console.error(error instanceof RangeError ? error.message : error);
  process.exitCode = 1;
} finally {
  await stopAll();
  rmSync(downloadFile, { force: true });
  for (const at of worktrees) spawnSync('git', ['-C', root, 'worktree', 'remove', '--force', at]);
  rmSync(dir, { recursive: true, force: true });
}
