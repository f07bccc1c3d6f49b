export type WorkKind = 'http' | 'upgraded' | 'tcp';

/** One unit of accepted work, from `Inflight.begin()`; `done()` is idempotent. */
export class Work {
  /** Position in the in-flight list (-1 once done): removal swaps in the last one. */
  index = -1;
  #kind: WorkKind | null;

  constructor(
    private readonly inflight: Inflight,
    kind: WorkKind,
    /** Called if drain's grace period runs out. */
    readonly abort: (reason: Error) => void,
  ) {
    this.#kind = kind;
  }

  change(next: WorkKind): void {
    if (this.#kind === null) return;
    this.inflight.moved(this.#kind, next);
    this.#kind = next;
  }

  done(): void {
    if (this.#kind === null) return;
    const kind = this.#kind;
    this.#kind = null;
    this.inflight.ended(this, kind);
  }
}

/**
 * Counts accepted work by kind so drain can wait for it, and so /status and sd_notify can
 * report it. The work itself is kept in an array, not a Set: with a Set here and another in
 * IdleWatch, the server spent about 4 µs more CPU per small request (docs/performance.md).
 */
export class Inflight {
  readonly #counts: Record<WorkKind, number> = { http: 0, upgraded: 0, tcp: 0 };
  readonly #works: Work[] = [];
  #waiters: (() => void)[] = [];

  /** Registers work; `abort` is called if drain's grace period runs out. */
  begin(kind: WorkKind, abort: (reason: Error) => void): Work {
    this.#counts[kind]++;
    const work = new Work(this, kind, abort);
    work.index = this.#works.length;
    this.#works.push(work);
    return work;
  }

  /** For Work: one unit changed kind. */
  moved(from: WorkKind, to: WorkKind): void {
    this.#counts[from]--;
    this.#counts[to]++;
  }

  /** For Work: one unit ended. */
  ended(work: Work, kind: WorkKind): void {
    this.#counts[kind]--;
    const i = work.index;
    const last = this.#works.pop()!;
    if (last !== work) {
      this.#works[i] = last;
      last.index = i;
    }
    work.index = -1;
    if (this.total === 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
    }
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
    for (const work of [...this.#works]) work.abort(reason);
  }
}
