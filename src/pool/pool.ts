import type { ConnectOptions, TcpConnection } from '../runtime/index.ts';
import { runtime } from '../runtime/index.ts';
import { type AbortWatch, type RequestAbort, signalWatch } from '../streams/index.ts';
import { type PoolConfig, resolvePoolConfig } from './config.ts';
import { UpstreamError } from './errors.ts';
import { EarlyFailure, exchange, type RequestOptions, type UpstreamResponse } from './exchange.ts';
import { type Origin, originKey } from './origin.ts';
import { abortedError, OriginPool, type PoolCounters } from './origin-pool.ts';
import { type OutgoingRequest, prepareRequest } from './request.ts';

export interface PoolStats {
  open: number;
  idle: number;
  busy: number;
  created: number;
  reused: number;
  retried: number;
}

/**
 * Keep-alive connections to upstream origins (DESIGN.md rule 3: reuse only what is
 * certainly alive). No request or response deadline of any kind lives here: only the
 * connect itself is bounded, by connectTimeout.
 */
export class UpstreamPool {
  readonly config: PoolConfig;
  readonly #connect: (o: ConnectOptions) => Promise<TcpConnection>;
  readonly #origins = new Map<string, OriginPool>();
  readonly #counters: PoolCounters = { created: 0, reused: 0 };
  #retried = 0;
  #closed = false;
  #lastOrigin: Origin | undefined;
  #lastPool: OriginPool | undefined;

  constructor(
    config?: Partial<PoolConfig>,
    connect?: (o: ConnectOptions) => Promise<TcpConnection>,
  ) {
    this.config = resolvePoolConfig(config);
    this.#connect = connect ?? ((o) => runtime.connect(o));
  }

  /**
   * Sends `req` to `origin`. When a reused connection fails before any response byte,
   * the request is retried once on a fresh connection if that is safe (Go's
   * shouldRetryRequest, made stricter by RFC 9110 §9.2.2): its body can be replayed, and
   * nothing was written or it is idempotent. A POST is never sent twice.
   */
  async request(
    origin: Origin,
    req: OutgoingRequest,
    options: RequestOptions = {},
  ): Promise<UpstreamResponse> {
    const abort = abortWatchOf(options);
    if (this.#closed)
      throw new UpstreamError('pool-closed', 'Cannot forward request: the pool is closed');
    if (abort?.aborted) throw abortedError(abort);
    // Only a streamed body that must be buffered for a replay makes this wait.
    const preparing = prepareRequest(req, this.config);
    const prepared = preparing instanceof Promise ? await preparing : preparing;
    const pool = this.#originPool(origin);
    const release = pool.release;
    let retried = false;
    for (;;) {
      const lease = await pool.acquire(abort, retried);
      try {
        return await exchange(lease.conn, prepared, this.config, options, abort, release);
      } catch (err) {
        if (!(err instanceof EarlyFailure)) throw err;
        if (!lease.reused || retried) {
          throw new UpstreamError(
            'upstream-closed',
            `Cannot forward ${prepared.method} request: the upstream closed the connection before responding`,
            { cause: err },
          );
        }
        const why = !prepared.replayable
          ? 'its body cannot be replayed'
          : err.written && !prepared.idempotent
            ? `${prepared.method} is not idempotent`
            : undefined;
        if (why !== undefined) {
          throw new UpstreamError(
            'reused-connection-closed',
            `Cannot forward ${prepared.method} request: the upstream closed a reused connection and the request was not retried because ${why}`,
            { cause: err },
          );
        }
        retried = true;
        this.#retried++;
      }
    }
  }

  /** Closes idle connections and fails new requests; busy connections finish, then close. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const pool of this.#origins.values()) pool.close();
  }

  stats(): PoolStats {
    let open = 0;
    let idle = 0;
    for (const pool of this.#origins.values()) {
      open += pool.open;
      idle += pool.idle.length;
    }
    return {
      open,
      idle,
      busy: open - idle,
      created: this.#counters.created,
      reused: this.#counters.reused,
      retried: this.#retried,
    };
  }

  #originPool(origin: Origin): OriginPool {
    // An agent forwards every request to one Origin object: no key string per request.
    if (origin === this.#lastOrigin && this.#lastPool !== undefined) return this.#lastPool;
    const pool = this.#poolFor(origin);
    this.#lastOrigin = origin;
    this.#lastPool = pool;
    return pool;
  }

  #poolFor(origin: Origin): OriginPool {
    const key = originKey(origin);
    let pool = this.#origins.get(key);
    if (!pool) {
      pool = new OriginPool(origin, this.config, this.#connect, this.#counters);
      this.#origins.set(key, pool);
    }
    return pool;
  }
}

/** The cancellation `options` carry, if any. */
function abortWatchOf(options: {
  readonly signal?: AbortSignal;
  readonly abort?: RequestAbort;
}): AbortWatch | undefined {
  if (options.abort !== undefined) {
    if (options.signal !== undefined) {
      throw new TypeError('Cannot send request: give signal or abort, not both');
    }
    return options.abort;
  }
  return options.signal === undefined ? undefined : signalWatch(options.signal);
}
