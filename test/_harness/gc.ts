/**
 * A full garbage collection, for tests that check what a long-lived object lets go of:
 * `Bun.gc(true)` on Bun, V8's `gc()` on Deno (scripts/test.mjs runs Deno with
 * `--v8-flags=--expose-gc`).
 */
export function collectGarbage(): void {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  if (bun !== undefined) {
    bun.gc(true);
    return;
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined)
    throw new Error('Cannot collect garbage: run Deno with --v8-flags=--expose-gc');
  gc();
}

/**
 * How many of `refs` are still alive after collecting until all are gone or `rounds` full
 * collections have run. A WeakRef's target survives the job that created or read it, so each
 * round waits for a new macrotask first.
 */
export async function survivors(refs: readonly WeakRef<object>[], rounds = 5): Promise<number> {
  let alive = refs.length;
  for (let i = 0; i < rounds && alive > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    collectGarbage();
    alive = refs.filter((ref) => ref.deref() !== undefined).length;
  }
  return alive;
}
