/**
 * Cancellation the pool hears without an event listener. Its signal is an ordinary
 * AbortSignal for everything else; the pool watches it through a hook kept in JavaScript,
 * because on Bun adding and removing an `abort` listener for every request cost the agent
 * 1.3–1.8 µs of CPU per small request (5–7 % at c=32, interleaved pairs), far more than the
 * calls alone: a signal with listeners is more work for the runtime and its collector.
 *
 * @module
 */

const hooked = new WeakMap<AbortSignal, RequestAbortController>();

/** An AbortController for one request: pass its signal as `RequestOptions.signal`. */
export class RequestAbortController extends AbortController {
  #hooks: (() => void)[] | undefined;

  constructor() {
    super();
    hooked.set(this.signal, this);
  }

  /**
   * Aborts the signal (its listeners run), then every hook; later calls do nothing. A hook
   * that throws stops no other; its error is thrown once all have run.
   */
  override abort(reason?: unknown): void {
    if (this.signal.aborted) return;
    const hooks = this.#hooks;
    this.#hooks = undefined;
    super.abort(reason);
    if (hooks !== undefined) runAll(hooks);
  }

  /**
   * Runs `fn` when the signal aborts; the returned function takes it back. Like a listener
   * added to an aborted signal, a hook added after the abort never runs.
   */
  hook(fn: () => void): () => void {
    if (this.signal.aborted) return () => {};
    (this.#hooks ??= []).push(fn);
    return () => {
      const hooks = this.#hooks;
      const i = hooks === undefined ? -1 : hooks.indexOf(fn);
      if (i >= 0) hooks!.splice(i, 1);
    };
  }
}

/**
 * Runs `fn` once when `signal` aborts, by a hook for a RequestAbortController's signal and by
 * an event listener for any other. The returned function stops watching.
 */
export function watchAbort(signal: AbortSignal, fn: () => void): () => void {
  const controller = hooked.get(signal);
  if (controller !== undefined) return controller.hook(fn);
  signal.addEventListener('abort', fn);
  return () => signal.removeEventListener('abort', fn);
}

/** Every hook runs even when one throws; the first error is thrown afterwards. */
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
