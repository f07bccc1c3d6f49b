import type { ConnectOptions, TcpConnection } from '../runtime/index.ts';
import type { AbortWatch } from '../streams/index.ts';
import type { PoolConfig } from './config.ts';
import { PooledConnection } from './connection.ts';
import { UpstreamError } from './errors.ts';
import type { Origin } from './origin.ts';

/** A connection handed to one request. */
export interface Lease {
  readonly conn: PooledConnection;
  /** It served a request before: a failure may be the keep-alive race, retry may apply. */
  readonly reused: boolean;
}

type Grant = { kind: 'conn'; conn: PooledConnection } | { kind: 'slot' };

interface Waiter {
  readonly fresh: boolean;
  grant(g: Grant): void;
  fail(err: unknown): void;
}

export interface PoolCounters {
  created: number;
  reused: number;
}

/**
 * Connections to one origin: a LIFO stack of idle ones (the most recently used is the
 * least likely to have been closed), a count of open ones bounded by maxConnsPerOrigin,
 * and a bounded FIFO of requests waiting for one.
 */
export class OriginPool {
  /** Connecting, busy and idle connections together. */
  open = 0;
  readonly idle: PooledConnection[] = [];
  readonly #waiters: Waiter[] = [];
  #closed = false;
  #waking = false;

  constructor(
    readonly origin: Origin,
    private readonly config: PoolConfig,
    private readonly connectFn: (o: ConnectOptions) => Promise<TcpConnection>,
    private readonly counters: PoolCounters,
  ) {}

  /**
   * A connection for one request: an idle one (after one turn of the event loop, so a FIN
   * polled together with whatever started this request is seen — undici's idle-socket
   * validation), else a new one, else a place in the queue. `fresh` skips idle connections
   * (used for the retry).
   */
  async acquire(abort: AbortWatch | undefined, fresh: boolean): Promise<Lease> {
    for (;;) {
      const grant = this.#tryGrant(fresh) ?? (await this.#enqueue(abort, fresh));
      if (grant.kind === 'slot') return { conn: await this.#connect(abort), reused: false };
      const conn = grant.conn;
      await yieldToEventLoop();
      if (conn.closed) continue; // the idle watch saw FIN/RST/data during the yield
      conn.stopIdle();
      if (abort?.aborted) {
        conn.close(); // re-pooling would restart its idle clock
        throw abortedError(abort);
      }
      this.counters.reused++;
      return { conn, reused: true };
    }
  }

  /** Back from a request: pooled when `conn.idleMs` allows, closed otherwise. */
  readonly release = (conn: PooledConnection): void => {
    if (conn.closed) return;
    const idleMs = conn.idleMs;
    if (this.#closed || idleMs === null) {
      conn.close();
      return;
    }
    conn.watchIdle(idleMs);
    this.idle.push(conn);
    this.#wake();
    if (this.idle.length > this.config.maxIdlePerOrigin) this.idle[0]?.close();
  };

  /** Closes idle connections and fails waiters; busy connections close when released. */
  close(): void {
    this.#closed = true;
    for (const conn of [...this.idle]) conn.close();
    for (const w of this.#waiters.splice(0)) {
      w.fail(new UpstreamError('pool-closed', 'Cannot forward request: the pool is closed'));
    }
  }

  #tryGrant(fresh: boolean): Grant | null {
    if (this.#closed)
      throw new UpstreamError('pool-closed', 'Cannot forward request: the pool is closed');
    if (this.#waiters.length > 0) return null; // FIFO: nobody jumps the queue
    if (!fresh) {
      const conn = this.idle.pop();
      if (conn) return { kind: 'conn', conn };
    }
    if (this.open < this.config.maxConnsPerOrigin) {
      this.open++;
      return { kind: 'slot' };
    }
    if (fresh && this.idle.length > 0) {
      this.idle[0]?.close(); // frees a slot for the fresh connection
      if (this.open < this.config.maxConnsPerOrigin) {
        this.open++;
        return { kind: 'slot' };
      }
    }
    return null;
  }

  #enqueue(abort: AbortWatch | undefined, fresh: boolean): Promise<Grant> {
    if (this.#waiters.length >= this.config.maxQueue) {
      return Promise.reject(
        new UpstreamError(
          'pool-full',
          `Cannot forward request: ${this.#waiters.length} requests already wait for a connection to ${this.origin.host}:${this.origin.port}`,
        ),
      );
    }
    return new Promise<Grant>((resolve, reject) => {
      if (abort?.aborted) return reject(abortedError(abort));
      const unwatch = abort?.watch(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(abortedError(abort));
      });
      const waiter: Waiter = {
        fresh,
        grant: (g) => {
          unwatch?.();
          resolve(g);
        },
        fail: (err) => {
          unwatch?.();
          reject(err);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /** A slot was freed or an idle connection appeared: serve the head of the queue. */
  #wake(): void {
    if (this.#waking) return; // closing a victim below re-enters through #onClose
    this.#waking = true;
    try {
      while (this.#waiters.length > 0) {
        const waiter = this.#waiters[0]!;
        if (!waiter.fresh && this.idle.length > 0) {
          this.#waiters.shift();
          waiter.grant({ kind: 'conn', conn: this.idle.pop()! });
        } else if (this.open < this.config.maxConnsPerOrigin) {
          this.#waiters.shift();
          this.open++;
          waiter.grant({ kind: 'slot' });
        } else if (waiter.fresh && this.idle.length > 0) {
          this.idle[0]?.close(); // a retry needs a fresh connection: make room for it
        } else return;
      }
    } finally {
      this.#waking = false;
    }
  }

  #onClose = (conn: PooledConnection): void => {
    this.open--;
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    this.#wake();
  };

  /** Connects within connectTimeout; the slot was already counted in `open`. */
  async #connect(abort: AbortWatch | undefined): Promise<PooledConnection> {
    const { host, port } = this.origin;
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new DOMException('Connect timed out', 'TimeoutError')),
      this.config.connectTimeout,
    );
    const both = abort ? AbortSignal.any([abort.signal, timeout.signal]) : timeout.signal;
    let socket: TcpConnection;
    try {
      const options: ConnectOptions = { host, port, signal: both };
      const tls = this.origin.protocol === 'https:' ? (this.origin.tls ?? {}) : undefined;
      socket = await raceAbort(this.connectFn(tls ? { ...options, tls } : options), both);
    } catch (cause) {
      this.open--;
      this.#wake();
      if (abort?.aborted) throw abortedError(abort);
      // The runtime's message already reads "Cannot connect to host:port: why".
      const message = timeout.signal.aborted
        ? `Cannot connect to upstream ${host}:${port}: timed out after ${this.config.connectTimeout} ms`
        : String((cause as Error)?.message ?? cause);
      throw new UpstreamError('connect-failed', message, { cause });
    } finally {
      clearTimeout(timer);
    }
    this.counters.created++;
    const conn = new PooledConnection(socket, this.#onClose);
    if (this.#closed) {
      conn.close();
      throw new UpstreamError('pool-closed', 'Cannot forward request: the pool is closed');
    }
    return conn;
  }
}

/** Rejects as soon as `signal` aborts, closing the connection if it arrives later. */
function raceAbort(p: Promise<TcpConnection>, signal: AbortSignal): Promise<TcpConnection> {
  if (signal.aborted) {
    p.then(
      (s) => s.close(),
      () => {},
    );
    return Promise.reject(signal.reason);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      p.then(
        (s) => s.close(),
        () => {},
      );
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (s) => {
        signal.removeEventListener('abort', onAbort);
        resolve(s);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export function abortedError(abort: { readonly reason: unknown } | undefined): UpstreamError {
  return new UpstreamError('aborted', 'Cannot forward request: the request was aborted', {
    cause: abort?.reason,
  });
}

/**
 * One macrotask turn: socket events (FIN, RST, data) the event loop polled in the same batch
 * as the one being handled are delivered first. Measured on Bun and Deno: a FIN still in the
 * kernel is not seen after it (only after the next poll, which `setTimeout(0)` waits for at a
 * cost of 1–2 ms); the retry in pool.ts covers that narrower race.
 */
function yieldToEventLoop(): Promise<void> {
  // Requests that start in the same turn (at c=32 a tunnel message often starts several)
  // share one setImmediate: each still waits for the turn to end.
  nextTurn ??= new Promise((resolve) =>
    setImmediate(() => {
      nextTurn = undefined;
      resolve();
    }),
  );
  return nextTurn;
}

let nextTurn: Promise<void> | undefined;
