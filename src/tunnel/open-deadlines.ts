import type { TunnelStream } from './stream.ts';

/**
 * Open timeouts for every stream of a session on ONE timer: all opens share the same
 * timeout, so their deadlines are in FIFO order. Acknowledged streams are skipped lazily and
 * compacted away, so 20 000 opens a second cost no timer each and no unbounded queue.
 *
 * Every slot the head passes is cleared at once: the queue must never be what keeps a
 * finished stream alive. (It once was: skipped slots kept their streams until the timer
 * found the queue empty, so a server under load held every stream of the last 75 s, about
 * 2 KiB each, over 1 GiB at 10 000 requests a second.)
 */
export class OpenDeadlines {
  readonly #timeout: number;
  readonly #onExpired: (stream: TunnelStream) => void;
  #queue: TunnelStream[] = [];
  #head = 0;
  #compactAt = 1024;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(timeout: number, onExpired: (stream: TunnelStream) => void) {
    this.#timeout = timeout;
    this.#onExpired = onExpired;
  }

  get hasTimer(): boolean {
    return this.#timer !== undefined;
  }

  track(stream: TunnelStream): void {
    stream.openDeadline = performance.now() + this.#timeout;
    const queue = this.#queue;
    while (this.#head < queue.length && !pending(queue[this.#head]!)) {
      queue[this.#head++] = undefined as unknown as TunnelStream;
    }
    const live = queue.length - this.#head;
    if (live === 0) {
      this.#queue = [];
      this.#head = 0;
    } else if (live >= this.#compactAt || this.#head >= Math.max(1024, live)) {
      // Streams acknowledged behind a pending one, or a run of cleared slots longer than
      // what is left: copy the pending ones out, amortised O(1) per open.
      this.#queue = queue.slice(this.#head).filter(pending);
      this.#head = 0;
      this.#compactAt = Math.max(1024, this.#queue.length * 2);
    }
    this.#queue.push(stream);
    this.#timer ??= setTimeout(this.#check, this.#timeout);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
    this.#head = 0;
  }

  readonly #check = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const stream = queue[this.#head]!;
      if (pending(stream) && stream.openDeadline > now) break;
      queue[this.#head++] = undefined as unknown as TunnelStream;
      if (pending(stream)) this.#onExpired(stream);
    }
    if (this.#head === queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else {
      const wait = Math.max(1, queue[this.#head]!.openDeadline - now);
      this.#timer = setTimeout(this.#check, wait);
    }
  };
}

function pending(stream: TunnelStream): boolean {
  return stream.openDeadline !== 0 && !stream.isDone;
}
