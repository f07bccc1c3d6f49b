export type WorkKind = 'http' | 'upgraded' | 'tcp';

/**
 * Counts accepted work by kind so drain can wait for it, and so /status and sd_notify can
 * report it. `done()` is idempotent per handle.
 */
export class Inflight {
  readonly #counts: Record<WorkKind, number> = { http: 0, upgraded: 0, tcp: 0 };
  readonly #aborters = new Set<(reason: Error) => void>();
  #waiters: (() => void)[] = [];

  /** Registers work; `abort` is called if drain's grace period runs out. */
  begin(
    kind: WorkKind,
    abort: (reason: Error) => void,
  ): { done(): void; change(kind: WorkKind): void } {
    let current: WorkKind | undefined = kind;
    this.#counts[kind]++;
    this.#aborters.add(abort);
    return {
      change: (next) => {
        if (current === undefined) return;
        this.#counts[current]--;
        this.#counts[next]++;
        current = next;
      },
      done: () => {
        if (current === undefined) return;
        this.#counts[current]--;
        current = undefined;
        this.#aborters.delete(abort);
        if (this.total === 0) {
          const waiters = this.#waiters;
          this.#waiters = [];
          for (const w of waiters) w();
        }
      },
    };
  }

  get total(): number {
    return this.#counts.http + this.#counts.upgraded + this.#counts.tcp;
  }

  counts(): Readonly<Record<WorkKind, number>> {
    return { ...this.#counts };
  }

  /** Resolves once nothing is in flight. */
  idle(): Promise<void> {
    if (this.total === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Cuts everything still running (grace period over). */
  abortAll(reason: Error): void {
    for (const abort of [...this.#aborters]) abort(reason);
  }
}
