/**
 * The wait between requests on a kept-alive connection: for the first byte of the next
 * request, for the keep-alive time to pass with no byte at all, or for drain. One timer
 * and one drain listener per connection, not per request (a timer, a listener and their
 * removal per request were about 6 % of the proxy's time): the timer is re-armed lazily —
 * when it fires it finds the connection busy, or the deadline moved, and re-arms for what
 * is left.
 *
 * @module
 */
import type { ByteReader } from './byte-reader.ts';
import type { KeepAlive } from './serve-types.ts';

export class KeepAliveWait {
  readonly #keepAlive: KeepAlive;
  readonly #drain: AbortSignal | undefined;
  #deadline = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #resolve: ((why: 'idle') => void) | undefined;

  constructor(keepAlive: KeepAlive, drain: AbortSignal | undefined) {
    this.#keepAlive = keepAlive;
    this.#drain = drain;
    drain?.addEventListener('abort', this.#fire, { once: true });
  }

  /** 'data' once a byte is there; 'idle' when the keep-alive time passed or drain began. */
  next(reader: ByteReader): Promise<'data' | 'eof' | 'error' | 'idle'> {
    if (reader.bufferedBytes > 0) return Promise.resolve('data');
    if (this.#drain?.aborted) return Promise.resolve('idle');
    if (this.#keepAlive.mode === 'timeout') {
      this.#deadline = Date.now() + this.#keepAlive.ms;
      if (this.#timer === undefined) this.#arm(this.#keepAlive.ms);
    }
    // One promise settled by whichever comes first, not an async function over a race of
    // two: this runs between every two requests on a connection.
    return new Promise((resolve) => {
      this.#resolve = resolve;
      reader.waitReadable().then((state) => {
        if (this.#resolve === resolve) this.#resolve = undefined;
        resolve(state);
      });
    });
  }

  /** The connection is done: no timer or listener outlives it. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#drain?.removeEventListener('abort', this.#fire);
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#tick, ms);
  }

  readonly #tick = (): void => {
    this.#timer = undefined;
    if (this.#resolve === undefined) return; // busy: next() arms again
    const left = this.#deadline - Date.now();
    if (left <= 0) this.#fire();
    else this.#arm(left);
  };

  readonly #fire = (): void => {
    const resolve = this.#resolve;
    this.#resolve = undefined;
    resolve?.('idle');
  };
}
