/**
 * Copying one byte stream into another with a plain read/write loop. `pipeTo` does the same
 * through a pipe machinery of promise reactions per chunk that cost more than the copy:
 * replacing it (and a TransformStream that only touched an idle watch) on the WebSocket
 * echo path is measured in docs/performance.md.
 *
 * @module
 */

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
  from: ReadableStream<Uint8Array>,
  to: WritableStream<Uint8Array>,
  options: PumpOptions = {},
): Promise<void> {
  const { signal, onChunk } = options;
  const reader = from.getReader();
  const writer = to.getWriter();
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
      await writer.write(value);
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
  a: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> },
  b: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> },
  onChunk?: (bytes: number) => void,
): Promise<unknown> {
  const abort = new AbortController();
  const options = onChunk ? { signal: abort.signal, onChunk } : { signal: abort.signal };
  const one = (from: typeof a, to: typeof b) =>
    pump(from.readable, to.writable, options).catch((error: unknown) => {
      abort.abort(error);
    });
  await Promise.all([one(a, b), one(b, a)]);
  return abort.signal.aborted ? (abort.signal.reason ?? new Error('aborted')) : undefined;
}
