import type { ChunkReader } from './types.ts';

export interface ReadEachHandlers {
  /** One chunk; return false to stop reading. */
  chunk(value: Uint8Array): boolean;
  /** The end of input (the peer's FIN). */
  end(): void;
  /** The read failed. */
  error(error: unknown): void;
}

/**
 * Reads `reader` to its end, a chunk at a time, with one read in flight. Each read is
 * started from the last one's callback, never returned from it: a returned promise would
 * make every read wait on the next, a chain as long as the connection's life.
 */
export function readEach(reader: ChunkReader, handlers: ReadEachHandlers): void {
  const onRead = (result: Awaited<ReturnType<ChunkReader['read']>>): void => {
    if (result.done) handlers.end();
    else if (handlers.chunk(result.value)) reader.read().then(onRead, handlers.error);
  };
  reader.read().then(onRead, handlers.error);
}
