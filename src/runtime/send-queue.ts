import { SEND_HIGH_WATER, SEND_LOW_WATER } from './websocket-conn.ts';

/**
 * The bytes a message transport handed to a socket that did not take them at once, for
 * `bufferedAmount`, `send()`'s answer and `drained()` (the `WebSocketConn` contract) over
 * a connection's direct writes.
 */
export class SendQueue {
  #buffered = 0;
  #waiters: (() => void)[] = [];

  get amount(): number {
    return this.#buffered;
  }

  /** False once the caller should wait for `drained()`. */
  get open(): boolean {
    return this.#buffered < SEND_HIGH_WATER;
  }

  /** Counts `n` bytes until `writing` settles; `onFailure` runs if it rejects. */
  track(writing: Promise<void>, n: number, onFailure: () => void): void {
    this.#buffered += n;
    writing.then(() => {
      this.#buffered -= n;
      if (this.#buffered < SEND_LOW_WATER) this.release();
    }, onFailure);
  }

  drained(): Promise<void> {
    if (this.#buffered < SEND_LOW_WATER) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Resolves every waiter (below the low-water mark, or the connection is gone). */
  release(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}
