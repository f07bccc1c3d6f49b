/**
 * Writing bodies: the chunked encoder (RFC 9112 §7.1) and `writeBody`, which frames a
 * whole body as asked and checks it matches the framing.
 *
 * @module
 */
import type { BodyFraming } from './types.ts';

const encoder = new TextEncoder();
const lastChunk = encoder.encode('0\r\n\r\n');
const crlf = encoder.encode('\r\n');
/** Chunks up to this size are copied into one buffer with their framing: one write each. */
const coalesceLimit = 16384;

/** Frames one chunk; empty input gives an empty array (an empty chunk would end the body). */
export function encodeChunk(data: Uint8Array): Uint8Array[] {
  if (data.length === 0) return [];
  const head = encoder.encode(`${data.length.toString(16)}\r\n`);
  if (data.length > coalesceLimit) return [head, data, crlf];
  const out = new Uint8Array(head.length + data.length + 2);
  out.set(head, 0);
  out.set(data, head.length);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  return [out];
}

/** Encodes chunks and ends with the last chunk and no trailers (`0\r\n\r\n`). */
export function chunkedEncoder(): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(chunk, controller) {
      for (const part of encodeChunk(chunk)) controller.enqueue(part);
    },
    flush(controller) {
      controller.enqueue(lastChunk.slice());
    },
  });
}

/** What `writeBody` writes to: a stream's writer, or the server loop's connection. */
export interface BodyWriter {
  /** Undefined when the bytes were taken at once (a connection's or a stream's own writer). */
  write(chunk: Uint8Array): Promise<void> | undefined;
}

/**
 * Writes a whole body framed as asked and resolves with the number of body bytes (before
 * chunk framing). 'none' writes nothing and cancels a stream body. A body longer or
 * shorter than a 'length' framing rejects with RangeError (the connection must then be
 * closed: the peer's view of the message is broken). `signal` aborts: the body is cancelled
 * and the promise rejects with the signal's reason. The writer stays open and locked.
 */
export async function writeBody(
  writer: BodyWriter,
  body: ReadableStream<Uint8Array> | Uint8Array | null,
  framing: BodyFraming,
  signal?: AbortSignal,
): Promise<number> {
  signal?.throwIfAborted();
  if (framing.kind === 'none') {
    if (body instanceof ReadableStream) await body.cancel().catch(() => {});
    return 0;
  }
  if (body === null || body instanceof Uint8Array) {
    const data = body ?? new Uint8Array(0);
    if (framing.kind === 'length' && data.length !== framing.length) {
      throw new RangeError(
        `Cannot write body: ${data.length} bytes for Content-Length ${framing.length}`,
      );
    }
    if (framing.kind === 'chunked') {
      for (const part of encodeChunk(data)) await writer.write(part);
      await writer.write(lastChunk.slice());
    } else if (data.length > 0) {
      await writer.write(data);
    }
    return data.length;
  }
  const reader = body.getReader();
  const onAbort = () => {
    reader.cancel(signal?.reason).catch(() => {});
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  let written = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      signal?.throwIfAborted();
      if (done) break;
      if (framing.kind === 'length' && written + value.length > framing.length) {
        throw new RangeError(`Cannot write body: more bytes than Content-Length ${framing.length}`);
      }
      written += value.length;
      if (framing.kind === 'chunked') {
        for (const part of encodeChunk(value)) await writer.write(part);
      } else if (value.length > 0) {
        await writer.write(value);
      }
    }
    if (framing.kind === 'length' && written !== framing.length) {
      throw new RangeError(
        `Cannot write body: ${written} bytes for Content-Length ${framing.length}`,
      );
    }
    if (framing.kind === 'chunked') await writer.write(lastChunk.slice());
    return written;
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    reader.releaseLock();
  }
}
