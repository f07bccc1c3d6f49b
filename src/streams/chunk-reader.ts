/**
 * The part of a `ReadableStreamDefaultReader` that byte readers use. A ReadableStream's
 * reader is one; so is a tunnel stream's `reader()`, which reads the same bytes without
 * building a ReadableStream.
 */
export interface ChunkReader {
  read(): Promise<{ done: false; value: Uint8Array } | { done: true; value?: undefined }>;
  cancel(reason?: unknown): Promise<void>;
  releaseLock(): void;
}
