// Shared helpers for the runtime tests (not a test file itself).
import { createHash, randomBytes } from 'node:crypto';
import { concatBytes } from '../../src/http1/index.ts';

export const encoder = new TextEncoder();
export const decoder = new TextDecoder();

/** Iterates a stream's chunks (the DOM typings lack ReadableStream's async iterator). */
export async function* chunks<T>(readable: ReadableStream<T>): AsyncGenerator<T> {
  const reader = readable.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Reads a stream to its end and returns everything as one array. */
export async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks(readable)) parts.push(chunk);
  return concatBytes(parts);
}

export async function readText(readable: ReadableStream<Uint8Array>): Promise<string> {
  return decoder.decode(await readAll(readable));
}

/** Hashes a stream to its end: `{ bytes, sha256 }`. */
export async function hashStream(
  readable: ReadableStream<Uint8Array>,
): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of chunks(readable)) {
    hash.update(chunk);
    bytes += chunk.byteLength;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Writes `total` random bytes in `chunkSize` pieces and closes; returns what was sent. */
export async function sendRandom(
  writable: WritableStream<Uint8Array>,
  total: number,
  chunkSize = 64 * 1024,
  progress?: (sent: number) => void,
): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  const writer = writable.getWriter();
  let sent = 0;
  while (sent < total) {
    const chunk = new Uint8Array(randomBytes(Math.min(chunkSize, total - sent)));
    hash.update(chunk);
    await writer.write(chunk);
    sent += chunk.byteLength;
    progress?.(sent);
  }
  await writer.close();
  return { bytes: sent, sha256: hash.digest('hex') };
}

/** Polls `condition` every few milliseconds until it holds; fails after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Rejects if `promise` has not settled within `timeoutMs`. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A promise with its resolver, for handing values out of callbacks. */
export function deferred<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
