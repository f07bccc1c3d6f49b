/**
 * The runtime seam: `runtime` is the Bun or the Deno adapter, picked once at load. Each
 * adapter is imported dynamically so the other runtime's code is never evaluated (and a
 * `bun build --compile` bundle carries no top-level reference to `Deno`).
 *
 * @module
 */

import type { Runtime } from './types.ts';

export {
  type ByteSocket,
  ByteStreamConn,
  endSocket,
  TETHER_YAMUX,
} from './byte-stream-conn.ts';
export { type DirectlyWritable, directWriter } from './direct-writer.ts';
export { type ReadEachHandlers, readEach } from './read-each.ts';
export { SendQueue } from './send-queue.ts';
export * from './types.ts';
// RFC 6455 client framing is runtime-neutral; src/ws masks its client frames with it too.
export { encodeClientFrame } from './websocket-frames.ts';

async function load(): Promise<Runtime> {
  if ('Bun' in globalThis) return (await import('./bun.ts')).bunRuntime;
  if ('Deno' in globalThis) return (await import('./deno.ts')).denoRuntime;
  throw new Error('Cannot start: tether runs on Bun or Deno, and this is neither');
}

export const runtime: Runtime = await load();
