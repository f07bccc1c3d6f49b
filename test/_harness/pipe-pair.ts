import { setImmediate } from 'node:timers';
import type { FrameTransport } from '../../src/tunnel/index.ts';

/** One end of an in-memory message pipe; satisfies the tunnel's FrameTransport. */
export interface PipeEnd extends FrameTransport {
  /** Receives each message the other end sent (set by the test). */
  onMessage: (message: Uint8Array | string) => void;
  /** Called once when either end closes. */
  onClose: (code: number, reason: string) => void;
  /** While true, messages sent TO this end are held, not delivered (a silent peer). */
  hold: boolean;
  /** Bytes sent by this end and not yet delivered to the other. */
  readonly bufferedAmount: number;
  /** Messages this end has sent, and their total size. */
  readonly sentMessages: number;
  readonly sentBytes: number;
  /** Sends a text message (protocol violation tests). */
  sendText(text: string): void;
  readonly isClosed: boolean;
}

export interface PipeOptions {
  /** `send()` returns false once this many bytes wait for delivery (default 1 MiB). */
  highWaterMark?: number;
}

/**
 * Two connected in-memory transports. Delivery happens on a macrotask (setImmediate), like a
 * socket's, so timers are never starved, and `send()` reports backpressure like a WebSocket.
 */
export function pipePair(options: PipeOptions = {}): [PipeEnd, PipeEnd] {
  const highWaterMark = options.highWaterMark ?? 1024 * 1024;
  const a = new End(highWaterMark);
  const b = new End(highWaterMark);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

class End implements PipeEnd {
  onMessage: (message: Uint8Array | string) => void = () => {};
  onClose: (code: number, reason: string) => void = () => {};
  peer!: End;
  sentMessages = 0;
  sentBytes = 0;
  isClosed = false;
  /** Messages waiting to be delivered to THIS end. */
  readonly inbox: (Uint8Array | string)[] = [];
  inboxBytes = 0;
  #hold = false;
  #scheduled = false;
  #drainWaiters: (() => void)[] = [];
  readonly #highWaterMark: number;

  constructor(highWaterMark: number) {
    this.#highWaterMark = highWaterMark;
  }

  get hold(): boolean {
    return this.#hold;
  }
  set hold(value: boolean) {
    this.#hold = value;
    if (!value) this.schedule();
  }

  get bufferedAmount(): number {
    return this.peer.inboxBytes;
  }

  send(bytes: Uint8Array): boolean {
    if (this.isClosed) return false;
    this.sentMessages++;
    this.sentBytes += bytes.length;
    this.peer.inbox.push(bytes);
    this.peer.inboxBytes += bytes.length;
    this.peer.schedule();
    return this.peer.inboxBytes < this.#highWaterMark;
  }

  sendText(text: string): void {
    this.peer.inbox.push(text);
    this.peer.schedule();
  }

  drained(): Promise<void> {
    if (this.isClosed || this.peer.inboxBytes < this.#highWaterMark) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  close(code = 1000, reason = ''): void {
    if (this.isClosed) return;
    for (const end of [this, this.peer]) {
      end.isClosed = true;
      end.inbox.length = 0;
      end.inboxBytes = 0;
      for (const resolve of end.#drainWaiters.splice(0)) resolve();
    }
    setImmediate(() => {
      this.onClose(code, reason);
      this.peer.onClose(code, reason);
    });
  }

  schedule(): void {
    if (this.#scheduled || this.#hold) return;
    this.#scheduled = true;
    setImmediate(this.#deliver);
  }

  readonly #deliver = (): void => {
    this.#scheduled = false;
    if (this.#hold || this.isClosed) return;
    const batch = this.inbox.splice(0);
    this.inboxBytes = 0;
    const sender = this.peer;
    if (sender.#drainWaiters.length > 0) {
      for (const resolve of sender.#drainWaiters.splice(0)) resolve();
    }
    for (const message of batch) {
      if (this.isClosed) return;
      this.onMessage(message);
    }
  };
}
