/** Pool settings; every duration is in milliseconds. */
export interface PoolConfig {
  /** Connections per origin; further requests wait in a FIFO queue. */
  maxConnsPerOrigin: number;
  /** Waiting requests per origin; beyond this a request fails with `pool-full`. */
  maxQueue: number;
  /** Idle connections kept; one coming back beyond this closes the oldest idle one. */
  maxIdlePerOrigin: number;
  /** Idle eviction when the upstream advertised no `Keep-Alive: timeout` (undici's 4 s). */
  idleTimeoutNoHint: number;
  /** Evict at `timeout − hintMargin` when advertised; never reuse when that is ≤ 0. */
  hintMargin: number;
  maxIdleTimeout: number;
  /** For the TCP/TLS connect only; never applies to the request itself. */
  connectTimeout: number;
  /** Request bodies of known length up to this size are buffered so they can be replayed. */
  replayBufferBytes: number;
}

export const defaultPoolConfig: Readonly<PoolConfig> = Object.freeze({
  // A tunnel agent must hold as many slow requests open as clients send it (10 000 held
  // requests are a benchmark case); the queue matches a session's stream limit.
  maxConnsPerOrigin: 16_384,
  maxQueue: 65_536,
  // Above the concurrency a busy upstream sees, else every request beyond the cap needs a new
  // connection: at 64, 128 then 512 concurrent GETs for 4 s each left 4 385 sockets in
  // TIME_WAIT and cost the agent 65 and 109 µs per request instead of 47 and 55. Idle ones
  // still close after idleTimeoutNoHint (or the upstream's hint), so a burst's leftovers go.
  maxIdlePerOrigin: 1024,
  idleTimeoutNoHint: 4000,
  hintMargin: 2000,
  maxIdleTimeout: 600_000,
  connectTimeout: 10_000,
  replayBufferBytes: 65_536,
});

/** Fills in defaults and rejects values that would make the pool misbehave. */
export function resolvePoolConfig(config: Partial<PoolConfig> = {}): PoolConfig {
  const merged: PoolConfig = { ...defaultPoolConfig };
  for (const [key, value] of Object.entries(config) as [keyof PoolConfig, number | undefined][]) {
    if (value === undefined) continue;
    if (!(key in defaultPoolConfig)) throw new TypeError(`Unknown pool setting "${key}"`);
    merged[key] = value;
  }
  for (const [key, value] of Object.entries(merged)) {
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
      throw new RangeError(`Invalid pool setting ${key}: ${value} (expected a number ≥ 0)`);
    }
  }
  if (merged.maxConnsPerOrigin < 1) {
    throw new RangeError(
      `Invalid pool setting maxConnsPerOrigin: ${merged.maxConnsPerOrigin} (expected ≥ 1)`,
    );
  }
  return merged;
}
