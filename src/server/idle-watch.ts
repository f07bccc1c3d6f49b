/**
 * Calls `onIdle` once no `touch()` happened for `ms`. One timer per watch, re-armed
 * lazily when it fires, so touching on every chunk costs a clock read and nothing else.
 * `ms` 0 means no limit.
 */
export class IdleWatch {
  #last = Date.now();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ms: number,
    private readonly onIdle: () => void,
  ) {
    if (ms > 0) this.#arm(ms);
  }

  touch(): void {
    this.#last = Date.now();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(() => {
      const idle = Date.now() - this.#last;
      if (idle >= this.ms) {
        this.#timer = undefined;
        this.onIdle();
      } else this.#arm(this.ms - idle);
    }, delay);
  }
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
