import { randomBytes } from 'node:crypto';
import { ByteReader, getHeader, responseFraming, serializeRequestHead } from '../http1/index.ts';
import { type Duplex, runtime } from '../runtime/index.ts';
import { acceptKey, webSocketBytes } from '../ws/index.ts';

export interface DialOptions {
  /** The server's proxy port, http(s)://host:port. */
  readonly url: string;
  readonly endpoint: string;
  readonly token: string | undefined;
  readonly ca: string | undefined;
  readonly signal?: AbortSignal;
}

/** The proxy refused the WebSocket; `status` and the server's own message are kept. */
export class DialError extends Error {
  override name = 'DialError';
  readonly status: number | undefined;
  constructor(message: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

/**
 * Opens a TCP-over-WebSocket connection to an endpoint through the proxy port
 * (`/_piko/v1/tcp/<endpoint>`) and returns it as a byte stream. Uses tether's own
 * WebSocket framing over a runtime TCP connection, so backpressure holds both ways and a
 * refusal reports the server's status and message.
 */
export async function dialEndpoint(options: DialOptions): Promise<Duplex> {
  const base = new URL(options.url);
  const tls = base.protocol === 'https:' || base.protocol === 'wss:';
  const port = Number(base.port) || (tls ? 443 : 80);
  const host = base.hostname.replace(/^\[|\]$/g, '');
  const conn = await runtime.connect({
    host,
    port,
    ...(tls
      ? { tls: options.ca ? { ca: options.ca, serverName: host } : { serverName: host } }
      : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    const key = randomBytes(16).toString('base64');
    const headers: [string, string][] = [
      ['Host', base.host],
      ['Upgrade', 'websocket'],
      ['Connection', 'Upgrade'],
      ['Sec-WebSocket-Key', key],
      ['Sec-WebSocket-Version', '13'],
    ];
    if (options.token) headers.push(['Authorization', `Bearer ${options.token}`]);
    const writer = conn.writable.getWriter();
    await writer.write(
      serializeRequestHead({
        method: 'GET',
        target: `/_piko/v1/tcp/${encodeURIComponent(options.endpoint)}`,
        minor: 1,
        headers,
      }),
    );
    writer.releaseLock();
    const reader = new ByteReader(conn.readable);
    const head = await reader.readResponseHead();
    if (head.status !== 101) {
      const text = await new Response(reader.body(responseFraming(head, 'GET')))
        .text()
        .catch(() => '');
      let message = text.trim();
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? message;
      } catch {
        // Not JSON: keep the text.
      }
      throw new DialError(
        `Cannot reach endpoint ${options.endpoint}: server answered ${head.status}: ${message}`,
        head.status,
      );
    }
    if (getHeader(head.headers, 'sec-websocket-accept') !== acceptKey(key)) {
      throw new DialError(
        `Cannot reach endpoint ${options.endpoint}: bad Sec-WebSocket-Accept from server`,
      );
    }
    return webSocketBytes(
      { readable: reader.release(), writable: conn.writable },
      { role: 'client' },
    );
  } catch (error) {
    conn.close();
    if (error instanceof DialError) throw error;
    throw new DialError(
      `Cannot reach endpoint ${options.endpoint}: ${(error as Error).message}`,
      undefined,
      { cause: error },
    );
  }
}
