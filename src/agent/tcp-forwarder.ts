import type { Logger } from '../log/index.ts';
import { type ConnectOptions, runtime } from '../runtime/index.ts';
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
  const abort = new AbortController();
  const pipe = (from: ReadableStream<Uint8Array>, to: WritableStream<Uint8Array>) =>
    from.pipeTo(to, { signal: abort.signal }).catch((error) => abort.abort(error));
  await Promise.all([pipe(stream.readable, conn.writable), pipe(conn.readable, stream.writable)]);
  if (abort.signal.aborted) {
    stream.reset();
    conn.close();
  }
}
