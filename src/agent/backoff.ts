/**
 * Reconnect delays: 100 ms doubling to 15 s with 0–10 % jitter (Piko's schedule, so a
 * fleet of agents does not reconnect in lockstep after a server restart).
 */
export class Backoff {
  #attempt = 0;

  constructor(
    private readonly initial = 100,
    private readonly max = 15_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt, in ms. */
  next(): number {
    const base = Math.min(this.max, this.initial * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    return Math.round(base * (1 + 0.1 * this.random()));
  }

  reset(): void {
    this.#attempt = 0;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
