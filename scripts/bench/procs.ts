/** Child processes of the benchmark: started, watched, measured and stopped by pid. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, createWriteStream, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpuTicks } from './ab.ts';

/** Raised for every child: 10 000 agents or slow requests need more than the usual 1024. */
export const NOFILE = 65_536;

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  stop(): Promise<void>;
}

const started = new Set<Proc>();

/**
 * Starts `cmd args` with a raised open-file limit, its output appended to `logFile` by the
 * child itself, as nginx writes its logs: through a pipe, this process would have to wake
 * for every batch of tether's access log and compete for the cores it measures (5 % of
 * tether's requests per second at c=32). `readStdout` pipes stdout here instead (and on to
 * the file) for a helper whose output the benchmark reads.
 */
export function start(
  name: string,
  cmd: string,
  args: string[],
  logFile: string,
  options: { readStdout?: boolean } = {},
): Proc {
  const quoted = [cmd, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      'sh',
      ['-c', `ulimit -n ${NOFILE} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec ${quoted}`],
      {
        stdio: ['ignore', options.readStdout ? 'pipe' : fd, fd],
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
  } finally {
    closeSync(fd);
  }
  child.stdout?.pipe(createWriteStream(logFile, { flags: 'a' }));
  if (child.pid === undefined) throw new Error(`Cannot start ${name}`);
  const proc: Proc = {
    name,
    child,
    pid: child.pid,
    async stop() {
      started.delete(proc);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
  started.add(proc);
  return proc;
}

/** Stops every child this process started (the exec'd shell's pid is the child's pid). */
export async function stopAll(): Promise<void> {
  await Promise.all([...started].map((p) => p.stop()));
}

const clockTicks = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  return r.status === 0 && n > 0 ? n : 100;
})();

/** CPU seconds `pid` has used so far. */
export function cpuSeconds(pid: number): number {
  return cpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) / clockTicks;
}

/** Resident set size of `pid` in KiB (VmRSS), 0 when gone. */
export function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port, or throws after `ms`. */
export async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`Nothing listens on 127.0.0.1:${port} after ${ms} ms`);
}

/** Polls `check` until it is true or `ms` passes; returns whether it became true. */
export async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(50);
  }
  return false;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs a command to completion with a hard time limit; resolves with its stdout. */
export function run(cmd: string, args: string[], limitMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'sh',
      [
        '-c',
        `ulimit -n ${NOFILE} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`,
        cmd,
        ...args,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} failed (${code ?? signal}): ${err.trim().slice(-500)}`));
    });
  });
}
