import { ByteReader } from '../http1/index.ts';
import type { TcpConnection } from '../runtime/index.ts';

/**
 * One upstream socket with its reader and writer, as the pool sees it. While idle it is
 * watched (Pingora's idle_poll): FIN, RST or any unsolicited byte evicts it at once, and
 * a timer evicts it before the upstream's own keep-alive would.
 */
export class PooledConnection {
  readonly reader: ByteReader;
  readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  /** Requests started on this connection. */
  requests = 0;
  /** Idle timeout earned by the last response (null: never reuse). */
  idleMs: number | null = null;
  #closed = false;
  #detached = false;
  /** Pooled and not taken: input or the timer closes it. */
  #idle = false;
  /** A read is in flight with `#onInput` waiting on it. */
  #watching = false;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the armed timer fires, and when the current idle period ends. */
  #timerAt = 0;
  #idleDeadline = 0;
  readonly #onClose: (conn: PooledConnection) => void;

  constructor(
    readonly socket: TcpConnection,
    onClose: (conn: PooledConnection) => void,
  ) {
    // Read without a ReadableStream, as request heads are written with `socket.write()`
    // (exchange.ts): the writer is kept for streamed bodies, which go out in order after
    // them, and for its state (a failed write side is seen before anything is written).
    this.reader = new ByteReader(socket.reader());
    this.writer = socket.writable.getWriter();
    this.#onClose = onClose;
    // A failed write is reported to whoever wrote; this keeps the closed promise quiet.
    this.writer.closed.catch(() => {});
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Idle and watched until `stopIdle()`: FIN, RST or any byte that arrives (or is already
   * buffered) closes it, and so does the timer after `ms`.
   *
   * One read in flight and callbacks bound once per connection, not a watch per idle
   * period: per-period closures and promise chains cost the agent about 1.5 µs per request
   * (docs/performance.md). Whatever that read brings while the connection is taken is the
   * response, which the exchange reads from the same buffer.
   */
  watchIdle(ms: number): void {
    this.#idle = true;
    this.#idleDeadline = Date.now() + ms;
    // One timer per connection, re-armed lazily: a connection reused every few
    // milliseconds does not make and clear a timer per request.
    if (this.#idleTimer === undefined || this.#idleDeadline < this.#timerAt) {
      clearTimeout(this.#idleTimer);
      this.#arm(ms);
    }
    if (this.#watching) return;
    this.#watching = true;
    // Unsolicited bytes already buffered: closed in a microtask, once the caller is done.
    if (this.reader.bufferedBytes > 0) queueMicrotask(this.#onInput);
    else this.reader.readMore().then(this.#onInput);
  }

  /** Taken for a request: the idle watch and timer no longer apply. */
  stopIdle(): void {
    this.#idle = false;
  }

  readonly #onInput = (): void => {
    this.#watching = false;
    if (this.#idle) this.close();
  };

  #arm(ms: number): void {
    this.#timerAt = Date.now() + ms;
    this.#idleTimer = setTimeout(this.#tick, ms);
  }

  readonly #tick = (): void => {
    this.#idleTimer = undefined;
    if (!this.#idle) return; // in use: the next watchIdle arms again
    const left = this.#idleDeadline - Date.now();
    if (left > 0) this.#arm(left);
    else this.close();
  };

  /** Closes the socket (never pooled again). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stopIdle();
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    if (!this.#detached) {
      this.socket.close();
      this.reader.cancel().catch(() => {});
    }
    this.#onClose(this);
  }

  /** Hands the socket to someone else (101 upgrade): the pool forgets it without closing. */
  detach(): void {
    this.#detached = true;
    this.close();
  }
}
