/**
 * Calls `onIdle` once no `touch()` happened for `ms`; `ms` 0 means no limit. Touching costs a
 * clock read. Every watch of the process is checked by one shared timer that runs every
 * eighth of the shortest active limit, instead of a timer per watch: a proxied request made
 * and cleared one, which showed in profiles of small requests. A watch therefore fires
 * between `ms` and `ms` + `ms`/8 (at least 5 ms) after the last touch.
 */
export class IdleWatch {
  /**
   * Every active watch, in an array (each knows its place, removal swaps in the last one):
   * with a Set here and another in Inflight, the server spent about 4 µs more CPU per small
   * request at c=32 (docs/performance.md), although either Set alone cost nothing measurable.
   */
  static #watches: IdleWatch[] = [];
  static #timer: ReturnType<typeof setTimeout> | undefined;
  static #period = Number.POSITIVE_INFINITY;

  #index = -1;
  #last = Date.now();
  readonly #ms: number;
  readonly #onIdle: () => void;

  constructor(ms: number, onIdle: () => void) {
    this.#ms = ms;
    this.#onIdle = onIdle;
    if (ms > 0) IdleWatch.#watch(this);
  }

  touch(): void {
    this.#last = Date.now();
  }

  stop(): void {
    if (!IdleWatch.#remove(this) || IdleWatch.#watches.length > 0) return;
    // Nothing left to watch: no timer outlives the last watch.
    clearTimeout(IdleWatch.#timer);
    IdleWatch.#timer = undefined;
    IdleWatch.#period = Number.POSITIVE_INFINITY;
  }

  get ms(): number {
    return this.#ms;
  }

  /** Fires and returns true when idle for the limit at `now`. */
  #expired(now: number): boolean {
    if (now - this.#last < this.#ms) return false;
    this.#onIdle();
    return true;
  }

  static #watch(w: IdleWatch): void {
    w.#index = IdleWatch.#watches.length;
    IdleWatch.#watches.push(w);
    const p = periodFor(w.#ms);
    if (IdleWatch.#timer !== undefined && p >= IdleWatch.#period) return;
    clearTimeout(IdleWatch.#timer);
    IdleWatch.#period = p;
    IdleWatch.#timer = setTimeout(IdleWatch.#sweep, p);
  }

  /** False when `w` was not watched. */
  static #remove(w: IdleWatch): boolean {
    const i = w.#index;
    if (i < 0) return false;
    const watches = IdleWatch.#watches;
    const last = watches.pop()!;
    if (last !== w) {
      watches[i] = last;
      last.#index = i;
    }
    w.#index = -1;
    return true;
  }

  static #sweep = (): void => {
    IdleWatch.#timer = undefined;
    IdleWatch.#period = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let shortest = Number.POSITIVE_INFINITY;
    let failure: { error: unknown } | undefined;
    // A copy: a callback may stop other watches (or its own) while this runs.
    for (const w of [...IdleWatch.#watches]) {
      if (w.#index < 0) continue;
      try {
        if (w.#expired(now)) IdleWatch.#remove(w);
        else if (w.#ms < shortest) shortest = w.#ms;
      } catch (error) {
        // One failing callback must not stop the others being watched.
        IdleWatch.#remove(w);
        failure ??= { error };
      }
    }
    if (IdleWatch.#watches.length > 0 && IdleWatch.#timer === undefined) {
      IdleWatch.#period = periodFor(shortest);
      IdleWatch.#timer = setTimeout(IdleWatch.#sweep, IdleWatch.#period);
    }
    if (failure) throw failure.error;
  };
}

function periodFor(ms: number): number {
  return Math.max(5, Math.floor(ms / 8));
}

/** A pass-through stream that touches the watch and counts bytes. */
export function watched(
  watch: IdleWatch,
  count: (n: number) => void,
): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(chunk, controller) {
      watch.touch();
      count(chunk.length);
      controller.enqueue(chunk);
    },
  });
}
