import type { ResponseHead } from '../http1/index.ts';
import { getHeader, parseKeepAlive } from '../http1/index.ts';
import type { PoolConfig } from './config.ts';

/**
 * How long a connection may stay idle after this response, or null when it must not be
 * reused at all. undici's rule: `min(hint − margin, max)`, never reuse when that is ≤ 0;
 * no (or malformed) hint ⇒ the no-hint timeout. Framing and `Connection` are checked by
 * the caller.
 */
export function idleTimeoutAfter(head: ResponseHead, config: PoolConfig): number | null {
  const { timeout } = parseKeepAlive(getHeader(head.headers, 'keep-alive'));
  if (timeout === undefined) {
    const ms = Math.min(config.idleTimeoutNoHint, config.maxIdleTimeout);
    return ms > 0 ? ms : null;
  }
  const ms = timeout * 1000 - config.hintMargin;
  return ms > 0 ? Math.min(ms, config.maxIdleTimeout) : null;
}
