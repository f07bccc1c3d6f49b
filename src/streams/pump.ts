/**
 * Copying one byte stream into another with a plain read/write loop. `pipeTo` does the same
 * through a pipe machinery of promise reactions per chunk that cost more than the copy:
 * replacing it (and a TransformStream that only touched an idle watch) on the WebSocket
 * echo path is measured in docs/performance.md.
 *
 * @module
 */

import type { ChunkReader, ChunkWriter } from '../runtime/index.ts';

/** A source with its own reader (a connection, an upgraded client, a tunnel stream). */
interface Readable {
  reader(): ChunkReader;
}

/** A destination with its own writer (a connection, an upgraded client, a tunnel stream). */
interface Writable {
  writer(): ChunkWriter;
}

/**
 * One side of `pumpBoth`: read through `reader()` when it has one, else `readable`; written
 * through `writer()` when it has one, else `writable`.
 */
export interface PumpSide {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  reader?(): ChunkReader;
  writer?(): ChunkWriter;
}

export interface PumpOptions {
  /** Aborting cancels the source and aborts the destination; the pump then rejects. */
  readonly signal?: AbortSignal;
  /** Called with each chunk's size before it is written (idle watches, byte counts). */
  readonly onChunk?: (bytes: number) => void;
}

/**
 * Writes every chunk of `from` to `to`, one at a time (each write awaited: backpressure
 * passes straight through), then closes `to`: a half-close is passed on. Rejects with the
 * first error of either side, after cancelling the source and aborting the destination.
 */
export async function pump(
  from: ReadableStream<Uint8Array> | Readable,
  to: WritableStream<Uint8Array> | Writable,
  options: PumpOptions = {},
): Promise<void> {
  const { signal, onChunk } = options;
  // A side's own reader and writer move the same bytes without web streams in between.
  const reader: ChunkReader = from instanceof ReadableStream ? from.getReader() : from.reader();
  const writer: ChunkWriter = to instanceof WritableStream ? to.getWriter() : to.writer();
  const stop = (reason: unknown) => {
    reader.cancel(reason).catch(() => {});
    writer.abort(reason).catch(() => {});
  };
  const onAbort = () => stop(signal?.reason);
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      onChunk?.(value.length);
      const writing = writer.write(value);
      if (writing !== undefined) await writing;
    }
    await writer.close();
  } catch (error) {
    stop(error);
    throw signal?.aborted ? signal.reason : error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Pumps both ways between two duplexes until both directions end. A half-close on one
 * side is passed on as a half-close; an error in either direction tears both down and
 * the promise resolves with that error (it never rejects), `undefined` when all ended well.
 */
export async function pumpBoth(
  a: PumpSide,
  b: PumpSide,
  onChunk?: (bytes: number) => void,
): Promise<unknown> {
  const abort = new AbortController();
  const options = onChunk ? { signal: abort.signal, onChunk } : { signal: abort.signal };
  const one = (from: PumpSide, to: PumpSide) =>
    pump(
      from.reader ? (from as Readable) : from.readable,
      to.writer ? (to as Writable) : to.writable,
      options,
    ).catch((error: unknown) => {
      abort.abort(error);
    });
  await Promise.all([one(a, b), one(b, a)]);
  return abort.signal.aborted ? (abort.signal.reason ?? new Error('aborted')) : undefined;
}
