import type { ChunkReader, ChunkWriter, Duplex } from '../runtime/index.ts';
import type { ByteReader } from './byte-reader.ts';

/** Where the bytes sent on an upgraded connection go: a writable, or its own writer. */
export interface UpgradeSink {
  readonly writable: WritableStream<Uint8Array>;
  writer?(): ChunkWriter;
}

/** Both directions of an upgraded connection, for a relay. */
export interface UpgradedDuplex extends Duplex {
  reader(): ChunkReader;
  writer?(): ChunkWriter;
}

/**
 * What is left of `source` after a 101 and what goes to `sink`, as one duplex for a relay:
 * read through `reader()` (no ReadableStream per chunk) or `readable`, written through the
 * sink's own writer when it has one. Nothing is made before it is asked for, and `source`
 * is let go of once handed over.
 */
export function upgradedDuplex(source: ByteReader, sink: UpgradeSink): UpgradedDuplex {
  const bytes = source.handOver();
  const writer = sink.writer?.bind(sink);
  return {
    get readable() {
      return bytes.readable;
    },
    get writable() {
      return sink.writable;
    },
    reader: () => bytes.reader(),
    ...(writer && { writer }),
  };
}
