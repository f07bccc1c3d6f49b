import { resolve } from 'node:path';
import { binary, type Proc, root, start } from './process.ts';

/**
 * How a test runs tether: the compiled binary when the suite runs on Bun (that is what
 * ships), `deno run src/main.ts` when it runs on Deno — so whole-process tests cover both
 * runtimes.
 */
export function tetherCommand(): { command: string; prefix: string[] } {
  if ('Deno' in globalThis) {
    return {
      command: resolve(root, 'node_modules', '.bin', 'deno'),
      prefix: ['run', '-A', resolve(root, 'src', 'main.ts')],
    };
  }
  return { command: binary, prefix: [] };
}

/** Starts `tether <args>`; the process is stopped by `stopAll()` if the test does not. */
export function tether(args: readonly string[], env: Record<string, string> = {}): Proc {
  const { command, prefix } = tetherCommand();
  return start(command, [...prefix, ...args], env);
}

export interface ServerProc {
  readonly proc: Proc;
  readonly proxyPort: number;
  readonly upstreamPort: number;
  readonly adminPort: number;
  /** `http://127.0.0.1:<proxy port><path>` */
  proxyUrl(path?: string): string;
  upstreamUrl(): string;
  adminUrl(path?: string): string;
}

/** Starts a server on free loopback ports (unless flags say otherwise) and waits until ready. */
export async function startServer(
  flags: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<ServerProc> {
  const has = (key: string) => flags.some((f) => f === key || f.startsWith(`${key}=`));
  const args = ['server'];
  for (const key of ['--proxy.bind-addr', '--upstream.bind-addr', '--admin.bind-addr']) {
    if (!has(key)) args.push(key, '127.0.0.1:0');
  }
  const proc = tether([...args, ...flags], env);
  const m = await proc.waitFor(
    /tether server ready proxy=[^\s]*:(\d+) upstream=[^\s]*:(\d+) admin=[^\s]*:(\d+)/,
    20_000,
  );
  const [proxyPort, upstreamPort, adminPort] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return {
    proc,
    proxyPort,
    upstreamPort,
    adminPort,
    proxyUrl: (path = '/') => `http://127.0.0.1:${proxyPort}${path}`,
    upstreamUrl: () => `http://127.0.0.1:${upstreamPort}`,
    adminUrl: (path = '/') => `http://127.0.0.1:${adminPort}${path}`,
  };
}

/**
 * Starts `tether agent http|tcp <endpoint> <addr>` against a server and waits until it is
 * connected. Extra flags follow (e.g. heartbeat settings).
 */
export async function startAgent(
  server: { upstreamUrl(): string },
  protocol: 'http' | 'tcp',
  endpoint: string,
  addr: string,
  flags: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<Proc> {
  const proc = tether(
    ['agent', protocol, endpoint, addr, '--connect.url', server.upstreamUrl(), ...flags],
    env,
  );
  await proc.waitFor(/connected to server/, 20_000);
  return proc;
}

/** Polls `check` until it returns true, failing after `ms`. For conditions with no event to await. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  ms = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Agents per endpoint, from the admin /status. */
export async function agentCount(server: ServerProc, endpoint: string): Promise<number> {
  const status = (await (await fetch(server.adminUrl('/status'))).json()) as {
    endpoints: Record<string, unknown[]>;
  };
  return status.endpoints[endpoint]?.length ?? 0;
}
