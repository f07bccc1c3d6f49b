import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '..', '..');
export const binary = resolve(root, 'dist', 'tether');

export interface Proc {
  readonly child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the first output match, or rejects after `ms` or when the process exits. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (signal → 128 + n). */
  readonly exited: Promise<number>;
  kill(signal?: NodeJS.Signals): void;
}

const running = new Set<Proc>();

/** Starts a process the test owns; `stopAll()` ends whatever is left. */
export function start(
  command: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Proc {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number>((res) => {
    child.on('exit', (code, signal) => {
      res(code ?? 128 + (signal ? signalNumber(signal) : 0));
      for (const w of waiters) w();
    });
  });
  let done = false;
  exited.then(() => {
    done = true;
  });
  const proc: Proc = {
    child,
    output: () => out,
    exited,
    // process.kill, not child.kill: under Deno, child.kill makes the exit event report the
    // signal even for a clean exit, and after a SIGSTOP ignores every later kill.
    kill: (signal = 'SIGTERM') => {
      if (done || child.pid === undefined) return;
      try {
        process.kill(child.pid, signal);
      } catch {
        // Already gone.
      }
    },
    waitFor(pattern, ms = 15_000) {
      return new Promise((res, rej) => {
        const check = () => {
          const m = out.match(pattern);
          if (m) {
            cleanup();
            res(m);
          } else if (done) {
            cleanup();
            rej(new Error(`Process exited before printing ${pattern}; output:\n${out}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          rej(new Error(`Timed out after ${ms} ms waiting for ${pattern}; output:\n${out}`));
        }, ms);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
  running.add(proc);
  exited.then(() => running.delete(proc));
  return proc;
}

/** Runs a command to completion and returns its exit code and output. */
export async function run(
  command: string,
  args: readonly string[],
  env: Record<string, string> = {},
) {
  const p = start(command, args, env);
  const code = await p.exited;
  return { code, output: p.output() };
}

/** Kills every process started through this harness that is still running. */
export async function stopAll(): Promise<void> {
  const left = [...running];
  for (const p of left) p.kill('SIGKILL');
  await Promise.all(left.map((p) => p.exited));
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 0;
}

/** Calls `handler` with each newline-delimited JSON message a child writes to `stream`. */
export function onJsonLines<T>(
  stream: NodeJS.ReadableStream | null | undefined,
  handler: (msg: T) => void,
): void {
  let out = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (d: string) => {
    out += d;
    for (let i = out.indexOf('\n'); i >= 0; i = out.indexOf('\n')) {
      const line = out.slice(0, i);
      out = out.slice(i + 1);
      handler(JSON.parse(line) as T);
    }
  });
}
