/**
 * `WebSocketConn` over a standard `WebSocket` object: the client side in both runtimes and
 * the server side in Deno. Standard sockets have no drain event, so `drained()` polls
 * `bufferedAmount`, and only while someone waits.
 *
 * @module
 */

import type { WebSocketConn, WebSocketHandlers } from './types.ts';

/** `send()` asks the caller to wait once this many bytes are queued. */
export const SEND_HIGH_WATER = 1024 * 1024;
/** `drained()` resolves once the queue is back under this. */
export const SEND_LOW_WATER = 256 * 1024;
/** RFC 6455 §7.1.5: closed without a close frame. */
export const ABNORMAL_CLOSURE = 1006;
const DRAIN_POLL_MS = 2;

/** Deno reports an abnormal closure as code 0; tether reports 1006 on every runtime. */
export function closeCode(code: number): number {
  return code === 0 ? ABNORMAL_CLOSURE : code;
}

/** Binary messages as Uint8Array over the same memory; strings as they are. */
export function messageData(data: unknown): Uint8Array | string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`Cannot read WebSocket message: unexpected ${typeof data}`);
}

export class StandardWebSocketConn implements WebSocketConn {
  readonly remoteAddress: string;
  readonly sendCopies: boolean;
  /** Settles when the socket opens; rejects with the close event if it closes first. */
  readonly opened: Promise<void>;
  readonly #ws: WebSocket;
  #waiters: (() => void)[] = [];
  #poll: ReturnType<typeof setInterval> | undefined;
  #isClosed = false;
  #errorMessage = '';

  constructor(
    ws: WebSocket,
    handlers: WebSocketHandlers,
    remoteAddress: string,
    sendCopies = false,
  ) {
    this.#ws = ws;
    this.remoteAddress = remoteAddress;
    this.sendCopies = sendCopies;
    ws.binaryType = 'arraybuffer';
    let isOpen = false;
    this.opened = new Promise((resolve, reject) => {
      ws.onopen = () => {
        isOpen = true;
        resolve();
        handlers.open?.(this);
      };
      ws.onerror = (event) => {
        const message = (event as ErrorEvent).message;
        if (typeof message === 'string') this.#errorMessage ||= message;
      };
      ws.onclose = (event) => {
        this.#closed();
        if (isOpen) handlers.close(this, closeCode(event.code), event.reason);
        else reject(new HandshakeClose(closeCode(event.code), event.reason, this.#errorMessage));
      };
    });
    // A failed handshake is reported through `opened`; nobody may be listening yet.
    this.opened.catch(() => {});
    ws.onmessage = (event) => handlers.message(this, messageData(event.data));
  }

  get protocol(): string {
    return this.#ws.protocol;
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  send(data: Uint8Array | string): boolean {
    if (this.#isClosed || this.#ws.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(data as Uint8Array<ArrayBuffer> | string);
    return this.#ws.bufferedAmount < SEND_HIGH_WATER;
  }

  drained(): Promise<void> {
    if (this.#isClosed || this.#ws.bufferedAmount < SEND_LOW_WATER) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      this.#poll ??= setInterval(() => {
        if (this.#ws.bufferedAmount < SEND_LOW_WATER) this.#release();
      }, DRAIN_POLL_MS);
    });
  }

  close(code?: number, reason?: string): void {
    if (this.#isClosed) return;
    try {
      this.#ws.close(code, reason);
    } catch (error) {
      // An invalid code or reason must not leave the socket open.
      this.#ws.close();
      throw error;
    }
  }

  #closed(): void {
    this.#isClosed = true;
    this.#release();
  }

  #release(): void {
    clearInterval(this.#poll);
    this.#poll = undefined;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** The socket closed before it opened. */
export class HandshakeClose extends Error {
  readonly code: number;
  readonly reason: string;
  constructor(code: number, reason: string, detail: string) {
    super(detail || reason || `WebSocket closed with code ${code}`);
    this.name = 'HandshakeClose';
    this.code = code;
    this.reason = reason;
  }
}
