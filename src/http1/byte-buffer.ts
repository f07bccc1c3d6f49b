/**
 * The buffer under ByteReader: bytes read from a source and not yet consumed, kept as one
 * contiguous window `store[start, end)`.
 *
 * Bytes handed out with `take()` are views into `store` (copies only when tiny), so nothing
 * below `end` is ever overwritten: appends go beyond `end` or into a fresh store. That keeps
 * handed-out views valid and makes appending amortised O(n) even when the peer sends one
 * byte per packet.
 *
 * @module
 */

import type { ChunkReader } from '../streams/index.ts';

const minCapacity = 4096;
/** Bytes up to which `take()` copies rather than making a view. */
const smallCopy = 1024;

export class ByteBuffer {
  store: Uint8Array = new Uint8Array(0);
  start = 0;
  end = 0;
  /** The source has ended (no more bytes will arrive). */
  eof = false;
  readonly #reader: ChunkReader;
  /** True when `store` is our own allocation (free space beyond `end` is ours to use). */
  #owned = false;
  #filling: Promise<boolean> | null = null;
  #failure: { error: unknown } | null = null;
  /** Set once the source was handed over by `detach()`. */
  detached = false;

  constructor(source: ReadableStream<Uint8Array> | ChunkReader) {
    this.#reader = source instanceof ReadableStream ? source.getReader() : source;
  }

  get length(): number {
    return this.end - this.start;
  }

  /** The source failed: the error it failed with, else undefined. */
  get failure(): { error: unknown } | null {
    return this.#failure;
  }

  /**
   * Reads one more chunk from the source into the buffer. Resolves true when bytes were
   * added, false at end of input; rejects with the source's error. Concurrent callers share
   * one read, so a watcher and a body consumer can both wait on the same socket.
   */
  fill(): Promise<boolean> {
    if (this.#failure) return Promise.reject(this.#failure.error);
    if (this.eof) return Promise.resolve(false);
    if (this.detached) return Promise.reject(new TypeError('Cannot read: reader was released'));
    // A plain promise chain, not an async function with `finally`: a read runs for every
    // message on both hops, and the async frames cost more than the read itself (Bun).
    this.#filling ??= this.#reader.read().then(this.#onRead, this.#onReadError);
    return this.#filling;
  }

  /** A read already in flight, if any (so `detach()` can wait for it). */
  get pending(): Promise<boolean> | null {
    return this.#filling;
  }

  readonly #onRead = (
    result: Awaited<ReturnType<ChunkReader['read']>>,
  ): Promise<boolean> | boolean => {
    if (result.done) {
      this.#filling = null;
      this.eof = true;
      return false;
    }
    // An empty chunk adds nothing: read on (the shared read stays in flight).
    if (result.value.length === 0) return this.#reader.read().then(this.#onRead, this.#onReadError);
    this.#filling = null;
    this.#append(result.value);
    return true;
  };

  readonly #onReadError = (error: unknown): never => {
    this.#filling = null;
    this.#failure = { error };
    throw error;
  };

  #append(chunk: Uint8Array): void {
    const have = this.end - this.start;
    if (have === 0) {
      // Adopt the chunk as the store: no copy for the common body case.
      this.store = chunk;
      this.start = 0;
      this.end = chunk.length;
      this.#owned = false;
      return;
    }
    if (this.#owned && this.end + chunk.length <= this.store.length) {
      this.store.set(chunk, this.end);
      this.end += chunk.length;
      return;
    }
    const size = Math.max(minCapacity, 2 * (have + chunk.length));
    const next = new Uint8Array(size);
    next.set(this.store.subarray(this.start, this.end), 0);
    next.set(chunk, have);
    this.store = next;
    this.start = 0;
    this.end = have + chunk.length;
    this.#owned = true;
  }

  /** Byte at `offset` from the start of the unconsumed window. */
  at(offset: number): number {
    return this.store[this.start + offset] ?? -1;
  }

  /**
   * Consumes and returns the next `n` bytes (`n` ≤ `length`): a view, no copy, except for a
   * few bytes, which are copied. JSC gives a fresh small array (as each socket read is) its
   * own buffer on its first view: 0.2 µs against 0.05 µs for copying 64 bytes (Bun).
   */
  take(n: number): Uint8Array {
    const from = this.start;
    this.start += n;
    return n <= smallCopy ? this.store.slice(from, from + n) : this.store.subarray(from, from + n);
  }

  consume(n: number): void {
    this.start += n;
  }

  /** Index (relative to `start`) of the first LF at or after relative `from`, or -1. */
  indexOfLf(from: number): number {
    // Search the store directly when the window ends at its end (the common case of an
    // adopted chunk); otherwise bound the search so free space is never scanned.
    if (this.end === this.store.length) {
      const i = this.store.indexOf(10, this.start + from);
      return i === -1 ? -1 : i - this.start;
    }
    const i = this.store.subarray(this.start + from, this.end).indexOf(10);
    return i === -1 ? -1 : i + from;
  }

  /** Stops using the source and returns its reader (for `release()`). */
  detach(): ChunkReader {
    this.detached = true;
    return this.#reader;
  }

  cancel(reason?: unknown): Promise<void> {
    return this.#reader.cancel(reason);
  }
}
