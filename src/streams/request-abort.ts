/**
 * Cancellation of one request that makes no AbortSignal until something needs one: the
 * server loop makes one per request it serves (the client went away) and the agent one per
 * tunnel stream (the server reset it), and most of them are never asked for a signal. On
 * Bun, an AbortController whose signal is taken (and then watched) cost the agent about
 * 1.5 µs of CPU per small request, 6 % at c=32 (interleaved pairs, 6 of 6), while the same
 * controller never asked for its signal cost nothing measurable: the signal's runtime
 * object is the expense, not the listener.
 *
 * @module
 */

/** What a consumer reads of a request's cancellation. */
export interface AbortWatch {
  readonly aborted: boolean;
  readonly reason: unknown;
  /** A real AbortSignal (made now if need be) for APIs that take one. */
  readonly signal: AbortSignal;
  /** Runs `fn` once when the request is aborted; the returned function stops watching. */
  watch(fn: () => void): () => void;
}

/** An AbortController for one request that makes its AbortSignal only when asked for it. */
export class RequestAbort implements AbortWatch {
  #aborted = false;
  #reason: unknown;
  #controller: AbortController | undefined;
  #hooks: (() => void)[] | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  /** An AbortSignal that follows this abort (aborted already if this is). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /**
   * Aborts (with `reason`, or an AbortError as AbortController does): the signal's listeners
   * run if it was made, then every watcher. Later calls do nothing. A watcher that throws
   * stops no other; its error is thrown once all have run.
   */
  abort(reason: unknown = new DOMException('This operation was aborted', 'AbortError')): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const hooks = this.#hooks;
    this.#hooks = undefined;
    this.#controller?.abort(reason);
    if (hooks !== undefined) runAll(hooks);
  }

  /** Like a listener added to an aborted signal, a watcher added after the abort never runs. */
  watch(fn: () => void): () => void {
    if (this.#aborted) return noop;
    if (this.#hooks === undefined) this.#hooks = [fn];
    else this.#hooks.push(fn);
    return () => {
      const hooks = this.#hooks;
      const i = hooks === undefined ? -1 : hooks.indexOf(fn);
      if (i >= 0) hooks!.splice(i, 1);
    };
  }
}

/** An AbortSignal seen as an AbortWatch (watched by an event listener). */
export function signalWatch(signal: AbortSignal): AbortWatch {
  return {
    get aborted() {
      return signal.aborted;
    },
    get reason() {
      return signal.reason;
    },
    signal,
    watch(fn) {
      if (signal.aborted) return noop;
      signal.addEventListener('abort', fn);
      return () => signal.removeEventListener('abort', fn);
    },
  };
}

function noop(): void {}

function runAll(hooks: readonly (() => void)[]): void {
  let failure: { error: unknown } | undefined;
  for (const hook of hooks) {
    try {
      hook();
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure !== undefined) throw failure.error;
}
