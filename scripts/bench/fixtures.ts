/** What `npm run bench` and `npm run bench:ab` both set up: the upstream and its download file. */
import { join } from 'node:path';
import { type Proc, run, start } from './procs.ts';

/** The endpoint every benchmark agent serves, as the header that routes to it. */
export const ENDPOINT = { 'x-piko-endpoint': 'bench' };

/** The ports a benchmark's tether server listens on, all on 127.0.0.1. */
export interface ServerPorts {
  readonly proxy: number;
  readonly tunnel: number;
  readonly admin: number;
}

/** `tether server`'s bind flags for `ports`. */
export function serverBindArgs(ports: ServerPorts): string[] {
  return [
    `--proxy.bind-addr=127.0.0.1:${ports.proxy}`,
    `--upstream.bind-addr=127.0.0.1:${ports.tunnel}`,
    `--admin.bind-addr=127.0.0.1:${ports.admin}`,
  ];
}

/** True once a GET through tether's proxy port on `port` reaches the upstream. */
export async function routed(port: number): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/`, { headers: ENDPOINT });
    await r.arrayBuffer();
    return r.status === 200;
  } catch {
    return false;
  }
}

/** Writes the 1 GiB file the upstream serves at /download (put it in /dev/shm: no disk I/O). */
export async function writeDownloadFile(path: string): Promise<void> {
  await run('dd', ['if=/dev/zero', `of=${path}`, 'bs=1M', 'count=1024', 'status=none'], 60_000);
}

/** Starts scripts/bench/upstream.ts on 127.0.0.1:`port` under `bun`, logging into `dir`. */
export function startUpstream(
  bun: string,
  root: string,
  port: number,
  downloadFile: string,
  dir: string,
): Proc {
  return start(
    'upstream',
    bun,
    [join(root, 'scripts', 'bench', 'upstream.ts'), String(port), downloadFile],
    join(dir, 'upstream.log'),
  );
}
