/**
 * Body readers over a ByteBuffer: exactly the bytes of one message body, de-chunked.
 * Each is a pull stream with no read-ahead (highWaterMark 0), so bytes after the body
 * stay in the buffer for the next message.
 *
 * @module
 */
import type { ByteBuffer } from './byte-buffer.ts';
import { concatBytes } from './concat.ts';
import { type HttpError, protocolError, type Side } from './http-error.ts';
import { parseFields } from './parse-head.ts';
import { incompleteBody, readHead } from './read-head.ts';
import type { BodyFraming, HeaderList, Http1Limits } from './types.ts';

export interface BodyEvents {
  /** The body ended exactly at its framed end (trailers included). */
  onEnd(trailers: HeaderList): void;
  /** The body stopped early (error or cancel): the message boundary is lost. */
  onAbort(): void;
}

export function bodyStream(
  buf: ByteBuffer,
  framing: BodyFraming,
  limits: Http1Limits,
  side: Side,
  events: BodyEvents,
): ReadableStream<Uint8Array> {
  if (framing.kind === 'none' || (framing.kind === 'length' && framing.length === 0)) {
    events.onEnd([]);
    return new ReadableStream({ start: (c) => c.close() });
  }
  const next = nextChunkFn(buf, framing, limits, side);
  let finished = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const chunk = await next();
          if (chunk instanceof Uint8Array) {
            controller.enqueue(chunk);
          } else {
            finished = true;
            events.onEnd(chunk.trailers);
            controller.close();
          }
        } catch (error) {
          finished = true;
          events.onAbort();
          throw error;
        }
      },
      cancel() {
        if (!finished) {
          finished = true;
          events.onAbort();
        }
      },
    },
    { highWaterMark: 0 },
  );
}

type Next = () => Promise<Uint8Array | { trailers: HeaderList }>;

function nextChunkFn(buf: ByteBuffer, framing: BodyFraming, limits: Http1Limits, side: Side): Next {
  if (framing.kind === 'length') {
    let remaining = framing.length;
    return async () => {
      if (remaining === 0) return { trailers: [] };
      if (buf.length === 0 && !(await buf.fill())) throw incompleteBody(side);
      const chunk = buf.take(Math.min(remaining, buf.length));
      remaining -= chunk.length;
      return chunk;
    };
  }
  if (framing.kind === 'close') {
    return async () => {
      if (buf.length === 0 && !(await buf.fill())) return { trailers: [] };
      return buf.take(buf.length);
    };
  }
  return chunkedReader(buf, limits, side);
}

/** Small chunks already buffered are merged into one read of up to this many bytes. */
const coalesceBytes = 65536;
/** Only chunks smaller than this are merged (larger ones are handed on without a copy). */
const smallChunk = 8192;

/** RFC 9112 §7.1: chunk-size [ chunk-ext ] CRLF chunk-data CRLF … last-chunk trailers CRLF. */
function chunkedReader(buf: ByteBuffer, limits: Http1Limits, side: Side): Next {
  let remaining = 0;
  let state: 'size' | 'data' | 'crlf' | 'last' = 'size';
  const need = async (n: number) => {
    while (buf.length < n) if (!(await buf.fill())) throw incompleteBody(side);
  };
  const takeData = () => {
    const chunk = buf.take(Math.min(remaining, buf.length));
    remaining -= chunk.length;
    if (remaining === 0) state = 'crlf';
    return chunk;
  };
  /** Consumes CRLF + size line if both are buffered; false when more input is needed. */
  const nextSizeSync = (): boolean => {
    if (buf.length < 2) return false;
    if (buf.at(0) !== 13 || buf.at(1) !== 10) throw badChunk(side, 'no CRLF after chunk data');
    buf.consume(2);
    state = 'size';
    const lf = buf.indexOfLf(0);
    if (lf === -1) return false;
    const size = parseSizeLine(buf, lf, limits, side);
    if (size === 0) {
      state = 'last';
      return false;
    }
    remaining = size;
    state = 'data';
    return true;
  };
  return async () => {
    for (;;) {
      if (state === 'data') {
        await need(1);
        const first = takeData();
        if (first.length >= smallChunk) return first;
        // Merge the small chunks that are already here: one stream read instead of many.
        const parts = [first];
        let total = first.length;
        while (total < coalesceBytes && remaining === 0 && nextSizeSync() && buf.length > 0) {
          if (remaining >= smallChunk) break;
          const piece = takeData();
          parts.push(piece);
          total += piece.length;
        }
        return parts.length === 1 ? first : concatBytes(parts);
      }
      if (state === 'crlf') {
        await need(2);
        if (buf.at(0) !== 13 || buf.at(1) !== 10) throw badChunk(side, 'no CRLF after chunk data');
        buf.consume(2);
        state = 'size';
      }
      if (state === 'size') {
        const size = await readChunkSize(buf, limits, side);
        if (size > 0) {
          remaining = size;
          state = 'data';
          continue;
        }
      }
      const raw = await readHead(buf, limits, side, true);
      return { trailers: raw && raw.lines.length > 0 ? parseFields(raw, 0, side) : [] };
    }
  };
}

async function readChunkSize(buf: ByteBuffer, limits: Http1Limits, side: Side): Promise<number> {
  let scanned = 0;
  let lf = buf.indexOfLf(0);
  while (lf === -1) {
    scanned = buf.length;
    if (scanned > limits.maxChunkLineBytes + 1) throw chunkLineTooLong(side);
    if (!(await buf.fill())) throw incompleteBody(side);
    lf = buf.indexOfLf(scanned);
  }
  return parseSizeLine(buf, lf, limits, side);
}

/** Parses and consumes the chunk-size line ending with the LF at `lf`. */
function parseSizeLine(buf: ByteBuffer, lf: number, limits: Http1Limits, side: Side): number {
  if (lf === 0 || buf.at(lf - 1) !== 13) throw badChunk(side, 'bare LF');
  const end = lf - 1;
  if (end > limits.maxChunkLineBytes) throw chunkLineTooLong(side);
  let i = 0;
  let size = 0;
  for (; i < end; i++) {
    const h = hexValue(buf.at(i));
    if (h === -1) break;
    size = size * 16 + h;
    if (size > Number.MAX_SAFE_INTEGER) throw badChunk(side, 'chunk size too large');
  }
  if (i === 0) throw badChunk(side, 'bad chunk size');
  if (i < end) {
    // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ): only checked for
    // size and forbidden bytes, never interpreted.
    let j = i;
    while (j < end && (buf.at(j) === 32 || buf.at(j) === 9)) j++;
    if (j === end || buf.at(j) !== 59) throw badChunk(side, 'bad chunk size');
    if (end - i > limits.maxChunkExtBytes) {
      throw protocolError(
        side,
        400,
        'chunk-ext-too-large',
        'Invalid chunked body: chunk extension too large',
      );
    }
    for (; j < end; j++) {
      const c = buf.at(j);
      if ((c < 32 && c !== 9) || c === 127) {
        throw badChunk(side, 'control character in chunk extension');
      }
    }
  }
  buf.consume(lf + 1);
  return size;
}

function chunkLineTooLong(side: Side): HttpError {
  return protocolError(
    side,
    400,
    'chunk-line-too-long',
    'Invalid chunked body: chunk-size line too long',
  );
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

function badChunk(side: Side, detail: string): HttpError {
  return protocolError(side, 400, 'bad-chunk', `Invalid chunked body: ${detail}`);
}
