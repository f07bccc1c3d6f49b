import type { Address } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import { type Listener, runtime } from '../runtime/index.ts';
import { pumpBoth } from '../streams/index.ts';
import { dialEndpoint } from './dial.ts';

export interface ForwardOptions {
  readonly local: Address;
  readonly endpoint: string;
  readonly url: string;
  readonly token: string | undefined;
  readonly ca: string | undefined;
  readonly log: Logger;
}

/**
 * `tether forward tcp`: every connection to the local port becomes a TCP stream to the
 * endpoint, through the server's proxy port. Half-closes pass through; errors reset both.
 */
export async function startForward(options: ForwardOptions): Promise<Listener> {
  const { log } = options;
  return runtime.listen(options.local, (conn) => {
    const client = `${conn.remoteAddress}:${conn.remotePort}`;
    dialEndpoint(options).then(
      async (remote) => {
        log.info('connection forwarded', { client, endpoint: options.endpoint });
        if ((await pumpBoth(conn, remote)) !== undefined) conn.close();
        log.info('connection closed', { client, endpoint: options.endpoint });
      },
      (error: Error) => {
        log.warn('cannot forward connection', { client, error });
        conn.close();
      },
    );
  });
}
