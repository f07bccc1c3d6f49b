import type { Logger } from '../log/index.ts';
import { type ConnectOptions, runtime } from '../runtime/index.ts';
import { pumpBoth } from '../streams/index.ts';
import type { Stream } from '../tunnel/index.ts';

/**
 * Serves one tunnel stream of a TCP listener: dials the upstream and pipes bytes both
 * ways; a half-close on either side is passed on; a failure on either side resets both.
 */
export async function forwardTcpStream(
  stream: Stream,
  target: { host: string; port: number },
  dialTimeout: number,
  log: Logger,
): Promise<void> {
  let conn: Awaited<ReturnType<typeof runtime.connect>>;
  try {
    const options: ConnectOptions = {
      ...target,
      ...(dialTimeout > 0 ? { signal: AbortSignal.timeout(dialTimeout) } : {}),
    };
    conn = await runtime.connect(options);
  } catch (error) {
    log.warn('cannot reach the TCP upstream', {
      upstream: `${target.host}:${target.port}`,
      error: error as Error,
    });
    stream.reset();
    return;
  }
  if ((await pumpBoth(stream, conn)) !== undefined) {
    stream.reset();
    conn.close();
  }
}
