/**
 * Buffered reader for HTTP/1.1 messages over one byte stream. It keeps bytes beyond the
 * current message (keep-alive, pipelining) and hands the rest over raw for upgrades.
 *
 * @module
 */

import type { ChunkReader } from '../streams/index.ts';
import { bodyStream } from './body-stream.ts';
import { ByteBuffer } from './byte-buffer.ts';
import type { Side } from './http-error.ts';
import { parseRequestHead, parseResponseHead } from './parse-head.ts';
import { MORE, newHeadScan, type RawHead, readHead, scanHead } from './read-head.ts';
import {
  type BodyFraming,
  defaultLimits,
  type HeaderList,
  type Http1Limits,
  type RequestHead,
  type ResponseHead,
} from './types.ts';

const dataNow = Promise.resolve('data' as const);
const requestOrNull = (raw: RawHead | null) => (raw === null ? null : parseRequestHead(raw));
// readHead returns null only for requests.
const responseOf = (raw: RawHead | null) => parseResponseHead(raw!);
const stateOf = (more: boolean) => (more ? ('data' as const) : ('eof' as const));
const failed = () => 'error' as const;

export class ByteReader {
  readonly #buf: ByteBuffer;
  #side: Side = 'request';
  #trailers: HeaderList = [];
  /** A body stream is open and has not reached its end. */
  #inBody = false;
  /** A body stopped before its end: the next byte is not the start of a message. */
  #desynced = false;

  constructor(source: ReadableStream<Uint8Array> | ChunkReader) {
    this.#buf = new ByteBuffer(source);
  }

  /**
   * Reads the next request head. Resolves null on a clean end of input before any byte
   * of a new message; rejects with HttpError (400/431/501/505) on bad input.
   */
  readRequestHead(limits: Http1Limits = defaultLimits): Promise<RequestHead | null> {
    return this.#readHead(limits, 'request', requestOrNull);
  }

  /** Reads the next response head (1xx included: the caller loops); HttpError 502 on bad input. */
  readResponseHead(limits: Http1Limits = defaultLimits): Promise<ResponseHead> {
    return this.#readHead(limits, 'response', responseOf);
  }

  /**
   * Not async: a head already buffered (the usual case) is parsed without async frames,
   * which cost more than the parse on Bun. Errors still arrive as rejections.
   */
  #readHead<T>(limits: Http1Limits, side: Side, parse: (raw: RawHead | null) => T): Promise<T> {
    try {
      this.#checkBetweenMessages();
      this.#side = side;
      const scan = newHeadScan();
      const raw = scanHead(this.#buf, limits, side, false, scan);
      if (raw !== MORE) return Promise.resolve(parse(raw));
      return readHead(this.#buf, limits, side, false, scan).then(parse);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The body of the message whose head was read last, de-chunked. Ends at the framed
   * end (trailers then in `lastTrailers`); errors with HttpError on bad chunking or a
   * premature end of input for 'length' and 'chunked'. Cancelling it before its end makes
   * the reader unusable for further messages.
   */
  body(framing: BodyFraming, limits: Http1Limits = defaultLimits): ReadableStream<Uint8Array> {
    this.#checkBetweenMessages();
    this.#trailers = [];
    this.#inBody = true;
    return bodyStream(this.#buf, framing, limits, this.#side, {
      onEnd: (trailers) => {
        this.#inBody = false;
        this.#trailers = trailers;
      },
      onAbort: () => {
        this.#inBody = false;
        this.#desynced = true;
      },
    });
  }

  /**
   * The whole body of the message whose head was read last, when it is empty or framed by
   * length and already buffered: consumed and returned (a view, copied only when tiny).
   * Otherwise null, and nothing is consumed (read it with `body()`).
   */
  takeBufferedBody(framing: BodyFraming): Uint8Array | null {
    this.#checkBetweenMessages();
    if (framing.kind !== 'none' && framing.kind !== 'length') return null;
    if (framing.kind === 'length' && this.#buf.length < framing.length) return null;
    this.#trailers = [];
    return framing.kind === 'none' ? new Uint8Array(0) : this.#buf.take(framing.length);
  }

  /** Trailer fields of the last chunked body that ended. */
  get lastTrailers(): HeaderList {
    return this.#trailers;
  }

  /**
   * True when a whole head is already buffered: some line ends in CRLF CRLF after a
   * non-empty line, and the buffer does not start with an empty line (leading empty lines
   * make the parser read on). Reading a head then never waits for input.
   */
  get headBuffered(): boolean {
    const buf = this.#buf;
    if (buf.length < 4 || buf.at(0) === 13 || buf.at(0) === 10) return false;
    for (let lf = buf.indexOfLf(3); lf !== -1; lf = buf.indexOfLf(lf + 1)) {
      if (buf.at(lf - 1) === 13 && buf.at(lf - 2) === 10 && buf.at(lf - 3) === 13) return true;
    }
    return false;
  }

  /** Bytes read from the source and not consumed yet. */
  get bufferedBytes(): number {
    return this.#buf.length;
  }

  /** True while a body stream is open and has not reached its end. */
  get inBody(): boolean {
    return this.#inBody;
  }

  /** True once the source has ended (buffered bytes may remain). */
  get ended(): boolean {
    return this.#buf.eof;
  }

  /**
   * 'data' when bytes are buffered or arrive, 'eof' when the source ends, 'error' when it
   * fails. Never consumes anything.
   */
  waitReadable(): Promise<'data' | 'eof' | 'error'> {
    if (this.#buf.length > 0) return dataNow;
    return this.readMore();
  }

  /**
   * Reads one more chunk from the source into the buffer even if bytes are buffered
   * already (to notice a peer's close while a message is in progress). Shares the read
   * with a body consumer.
   */
  readMore(): Promise<'data' | 'eof' | 'error'> {
    // Not an async function: this runs two or three times per request on each side (the
    // keep-alive wait, the client watch, the pool's idle watch), and the async frames cost
    // more than the read (about 1.5 µs per request in the pool, Bun).
    return this.#buf.fill().then(stateOf, failed);
  }

  /**
   * Hands over everything left — buffered bytes first, then the source — as one raw
   * stream (after a 101 or a CONNECT). The reader is unusable afterwards.
   */
  release(): ReadableStream<Uint8Array> {
    const chunks = this.releaseChunks();
    return new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          const { done, value } = await chunks.read();
          if (done) controller.close();
          else controller.enqueue(value);
        },
        cancel: (reason) => chunks.cancel(reason),
      },
      { highWaterMark: 0 },
    );
  }

  /**
   * `release()` without a ReadableStream: the same bytes from a plain reader, for a
   * protocol that reads every chunk (a tunnel after its upgrade).
   */
  releaseChunks(): ChunkReader {
    const buf = this.#buf;
    let pending = buf.pending;
    const source = buf.detach();
    const read = (): ReturnType<ChunkReader['read']> => {
      if (buf.length > 0) return Promise.resolve({ done: false, value: buf.take(buf.length) });
      if (pending) {
        // A read started before the release: its bytes come first.
        const before = pending;
        pending = null;
        return before.then(read, read);
      }
      if (buf.failure) return Promise.reject(buf.failure.error);
      if (buf.eof) return Promise.resolve({ done: true });
      return source.read();
    };
    return { read, cancel: (reason) => buf.cancel(reason), releaseLock: () => {} };
  }

  /** Cancels the source. */
  cancel(reason?: unknown): Promise<void> {
    return this.#buf.cancel(reason);
  }

  /** `release()` or `releaseChunks()`, whichever the new owner asks for first. */
  handOver(): HandedOver {
    return new HandedOver(this);
  }

  #checkBetweenMessages(): void {
    if (this.#inBody)
      throw new TypeError('Cannot read the next message: a body is still being read');
    if (this.#desynced) {
      throw new TypeError(
        'Cannot read the next message: the previous body was not read to its end',
      );
    }
    if (this.#buf.detached) throw new TypeError('Cannot read: reader was released');
  }
}

/**
 * What is left of a connection after a 101, for an owner that has not decided yet how to
 * read it: as a stream (`readable`) or chunk by chunk (`reader()`, no ReadableStream per
 * chunk). The first one asked for releases the ByteReader, which is not kept after that.
 */
export class HandedOver {
  #source: ByteReader | undefined;
  #chunks: ChunkReader | undefined;
  #readable: ReadableStream<Uint8Array> | undefined;

  constructor(source: ByteReader) {
    this.#source = source;
  }

  get readable(): ReadableStream<Uint8Array> {
    this.#readable ??= this.#take().release();
    return this.#readable;
  }

  reader(): ChunkReader {
    this.#chunks ??= this.#take().releaseChunks();
    return this.#chunks;
  }

  #take(): ByteReader {
    const source = this.#source;
    if (source === undefined)
      throw new TypeError('Cannot read: the bytes were handed over already');
    this.#source = undefined;
    return source;
  }
}
