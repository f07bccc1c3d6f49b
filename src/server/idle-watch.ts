/**
 * Calls `onIdle` once no `touch()` happened for `ms`; `ms` 0 means no limit. Touching costs a
 * clock read. Every watch of the process is checked by one shared timer that runs every
 * eighth of the shortest active limit, instead of a timer per watch: a proxied request made
 * and cleared one, which showed in profiles of small requests. A watch therefore fires
 * between `ms` and `ms` + `ms`/8 (at least 5 ms) after the last touch.
 */
export class IdleWatch {
  #last = Date.now();
  readonly #ms: number;
  readonly #onIdle: () => void;

  constructor(ms: number, onIdle: () => void) {
    this.#ms = ms;
    this.#onIdle = onIdle;
    if (ms > 0) watch(this, ms);
  }

  touch(): void {
    this.#last = Date.now();
  }

  stop(): void {
    unwatch(this);
  }

  /** For the sweeper: fires and returns true when idle for the limit at `now`. */
  expired(now: number): boolean {
    if (now - this.#last < this.#ms) return false;
    this.#onIdle();
    return true;
  }

  get ms(): number {
    return this.#ms;
  }
}

const watches = new Set<IdleWatch>();
let timer: ReturnType<typeof setTimeout> | undefined;
let period = Number.POSITIVE_INFINITY;

function periodFor(ms: number): number {
  return Math.max(5, Math.floor(ms / 8));
}

function watch(w: IdleWatch, ms: number): void {
  watches.add(w);
  const p = periodFor(ms);
  if (timer !== undefined && p >= period) return;
  clearTimeout(timer);
  period = p;
  timer = setTimeout(sweep, p);
}

function unwatch(w: IdleWatch): void {
  if (!watches.delete(w) || watches.size > 0) return;
  // Nothing left to watch: no timer outlives the last watch.
  clearTimeout(timer);
  timer = undefined;
  period = Number.POSITIVE_INFINITY;
}

function sweep(): void {
  timer = undefined;
  period = Number.POSITIVE_INFINITY;
  const now = Date.now();
  let shortest = Number.POSITIVE_INFINITY;
  let failure: { error: unknown } | undefined;
  for (const w of watches) {
    try {
      if (w.expired(now)) watches.delete(w);
      else if (w.ms < shortest) shortest = w.ms;
    } catch (error) {
      // One failing callback must not stop the others being watched.
      watches.delete(w);
      failure ??= { error };
    }
  }
  if (watches.size > 0 && timer === undefined) {
    period = periodFor(shortest);
    timer = setTimeout(sweep, period);
  }
  if (failure) throw failure.error;
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
