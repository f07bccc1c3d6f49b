/**
 * A tunnel connection that switched to a plain byte stream after its HTTP upgrade
 * (`tether-yamux/1`, docs/transport.md) instead of WebSocket, shaped as a `WebSocketConn`
 * so a session runs on it unchanged: `send()` writes the bytes as they are, and each chunk
 * read is handed on as one "message" (the yamux decoder takes any split). No framing, no
 * masking: that is the point of it.
 *
 * Closing is TCP's: `close()` sends FIN once every queued byte is out and keeps reading
 * until the peer's FIN (or a grace period); a FIN from the peer is answered with ours.
 *
 * @module
 */

import { readEach } from './read-each.ts';
import { SendQueue } from './send-queue.ts';
import type { ChunkReader, WebSocketConn, WebSocketHandlers } from './types.ts';
import { ABNORMAL_CLOSURE } from './websocket-conn.ts';

/** The Upgrade token (RFC 9110 §7.8) of yamux straight over the upgraded connection. */
export const TETHER_YAMUX = 'tether-yamux/1';
/** RFC 6455 §7.4.1's normal closure, reported for a clean FIN so callers need one vocabulary. */
const NORMAL_CLOSURE = 1000;
/** After our FIN, how long the peer has to end its side before the socket is dropped. */
const CLOSE_TIMEOUT_MS = 5000;

/**
 * Ends a socket whose transport is done: at once when `now`, else FIN after what is queued
 * and then the socket, within CLOSE_TIMEOUT_MS whatever the peer does (one that stopped
 * reading would hold the queue, and the socket, for as long as the kernel lets it).
 */
export function endSocket(socket: ByteSocket, now: boolean): void {
  if (now) {
    socket.close();
    return;
  }
  const timer = setTimeout(() => socket.close(), CLOSE_TIMEOUT_MS);
  const done = () => {
    clearTimeout(timer);
    socket.close();
  };
  socket.writable.close().then(done, done);
}

/** The parts of a connection the transport uses (a `TcpConnection`, an upgraded client). */
export interface ByteSocket {
  write(chunk: Uint8Array, borrowed?: boolean): Promise<void> | undefined;
  /** Only closed, for the FIN after every queued write. */
  readonly writable: WritableStream<Uint8Array>;
  close(): void;
}

export class ByteStreamConn implements WebSocketConn {
  readonly remoteAddress: string;
  readonly protocol = '';
  readonly upgrade = TETHER_YAMUX;
  // Written borrowed: the socket copies what it cannot take at once, so the caller may reuse
  // its buffer (no allocation per message).
  readonly sendCopies = true;
  readonly byteStream = true;
  readonly #socket: ByteSocket;
  readonly #reader: ChunkReader;
  readonly #handlers: WebSocketHandlers;
  readonly #queue = new SendQueue();
  #closing = false;
  #isClosed = false;
  #closeCode = NORMAL_CLOSURE;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;

  /** `reader` reads the socket's bytes after the handshake. */
  constructor(
    socket: ByteSocket,
    reader: ChunkReader,
    handlers: WebSocketHandlers,
    remoteAddress: string,
  ) {
    this.#socket = socket;
    this.#reader = reader;
    this.#handlers = handlers;
    this.remoteAddress = remoteAddress;
  }

  get bufferedAmount(): number {
    return this.#queue.amount;
  }

  /** Calls `open`, hands on `rest` (bytes that came with the handshake), then reads to the end. */
  start(rest?: Uint8Array): void {
    this.#handlers.open?.(this);
    if (rest !== undefined && rest.length > 0) this.#handlers.message(this, rest);
    readEach(this.#reader, {
      chunk: (value) => {
        if (this.#isClosed) return false;
        this.#handlers.message(this, value);
        return !this.#isClosed;
      },
      end: () => this.#finish(this.#closeCode, ''),
      error: this.#failed,
    });
  }

  send(data: Uint8Array | string): boolean {
    if (typeof data === 'string') throw new TypeError('Cannot send text: the tunnel is binary');
    if (this.#isClosed || this.#closing) return false;
    const writing = this.#socket.write(data, true);
    if (writing !== undefined) this.#queue.track(writing, data.byteLength, this.#failed);
    return this.#queue.open;
  }

  drained(): Promise<void> {
    return this.#isClosed ? Promise.resolve() : this.#queue.drained();
  }

  /** FIN after the queued bytes; `code` is what the close is reported with (no wire form). */
  close(code = NORMAL_CLOSURE): void {
    if (this.#isClosed || this.#closing) return;
    this.#closing = true;
    this.#closeCode = code;
    this.#socket.writable.close().catch(this.#failed);
    this.#closeTimer = setTimeout(() => this.#finish(ABNORMAL_CLOSURE, ''), CLOSE_TIMEOUT_MS);
  }

  /** Reports the close once and lets go of the socket (after our FIN, when not yet sent). */
  #finish(code: number, reason: string): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    clearTimeout(this.#closeTimer);
    this.#queue.release();
    // After our own FIN (close()) the socket can go: the peer ended too, or failed.
    endSocket(this.#socket, this.#closing || code === ABNORMAL_CLOSURE);
    this.#handlers.close(this, code, reason);
  }

  readonly #failed = (): void => this.#finish(ABNORMAL_CLOSURE, '');
}
