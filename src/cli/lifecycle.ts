import type { Logger } from '../log/index.ts';
import { runtime } from '../runtime/index.ts';

/**
 * Waits for SIGTERM or SIGINT, then runs `graceful`; a second SIGINT (or SIGTERM) while
 * that runs calls `force`, and says so. Resolves once stopping is done.
 */
export function untilStopped(
  log: Logger,
  graceful: () => Promise<void>,
  force: () => Promise<void> | void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let stopping = false;
    const disposers: (() => void)[] = [];
    const onSignal = (name: string) => () => {
      if (!stopping) {
        stopping = true;
        log.info(
          `${name} received: draining (send ${name === 'SIGINT' ? 'Ctrl-C' : name} again to stop at once)`,
        );
        graceful().then(done, reject);
        return;
      }
      log.warn(`${name} received again: stopping at once, in-flight work is cut`);
      Promise.resolve(force()).then(done, reject);
    };
    const done = () => {
      for (const d of disposers) d();
      resolve();
    };
    disposers.push(
      runtime.onSignal('SIGTERM', onSignal('SIGTERM')),
      runtime.onSignal('SIGINT', onSignal('SIGINT')),
    );
  });
}
