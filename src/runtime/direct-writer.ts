import { writeEndedError } from './errors.ts';
import type { ChunkWriter } from './types.ts';

/** What `directWriter` needs: a connection's direct writes, its writable and its close. */
export interface DirectlyWritable {
  write(chunk: Uint8Array): Promise<void> | undefined;
  readonly writable: WritableStream<Uint8Array>;
  close(): void;
}

/**
 * A connection's `write()` as a ChunkWriter. FIN goes through the writable, which orders it
 * after every direct write (both runtimes' connections promise that), and is made only then.
 * As with a WritableStream, nothing is written once close was asked for.
 */
export function directWriter(conn: DirectlyWritable): ChunkWriter {
  let closing = false;
  return {
    write: (chunk) => (closing ? Promise.reject(writeEndedError()) : conn.write(chunk)),
    close: () => {
      closing = true;
      return conn.writable.close();
    },
    abort: () => {
      conn.close();
      return Promise.resolve();
    },
  };
}
