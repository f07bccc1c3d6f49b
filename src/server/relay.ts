import { type PumpSide, pumpBoth } from '../streams/index.ts';
import type { IdleWatch } from './idle-watch.ts';

export interface RelayHooks {
  chunk(bytes: number): void;
  end(): void;
  error(reason: unknown): void;
}

/**
 * Re-exposes a body stream, reporting each chunk, the end, and any error or cancel —
 * exactly once for end/error. Pull-based, so backpressure passes straight through.
 */
export function relay(
  source: ReadableStream<Uint8Array>,
  hooks: RelayHooks,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let settled = false;
  const settle = (fn: () => void) => {
    if (settled) return;
    settled = true;
    fn();
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            controller.close();
            settle(hooks.end);
          } else {
            hooks.chunk(value.length);
            controller.enqueue(value);
          }
        } catch (error) {
          controller.error(error);
          settle(() => hooks.error(error));
        }
      },
      cancel(reason) {
        reader.cancel(reason).catch(() => {});
        settle(() => hooks.error(reason ?? new Error('body cancelled')));
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Pipes two duplexes into each other until both directions end; a half-close on one side
 * is passed on as a half-close, an error on either side tears both down. Every chunk
 * touches the idle watch.
 */
export async function pipeBoth(a: PumpSide, b: PumpSide, watch: IdleWatch): Promise<void> {
  await pumpBoth(a, b, () => watch.touch());
}
