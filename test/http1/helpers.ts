/** Test helpers for the HTTP/1.1 codec: byte streams from strings and back. */
import assert from 'node:assert/strict';
import { HttpError } from '../../src/http1/index.ts';

export function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

export function text(data: Uint8Array): string {
  let out = '';
  for (const b of data) out += String.fromCharCode(b);
  return out;
}

/** A stream yielding each part as one chunk, then ending. */
export function streamOf(...parts: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const queue = parts.map((p) => (typeof p === 'string' ? bytes(p) : p));
  return new ReadableStream({
    pull(controller) {
      const next = queue.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
  });
}

/** The input split into chunks at the given offsets. */
export function splitAt(input: string, ...offsets: number[]): string[] {
  const parts: string[] = [];
  let last = 0;
  for (const o of offsets) {
    parts.push(input.slice(last, o));
    last = o;
  }
  parts.push(input.slice(last));
  return parts;
}

export async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  let out = '';
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out;
    out += text(value);
  }
}

/** Asserts that `promise` rejects with an HttpError of this status and code. */
export async function rejectsHttp(
  promise: Promise<unknown>,
  status: number,
  code: string,
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof HttpError, `expected HttpError, got ${String(err)}`);
    assert.equal(err.code, code, `code (message: ${err.message})`);
    assert.equal(err.status, status, `status for ${err.code}`);
    return true;
  });
}
