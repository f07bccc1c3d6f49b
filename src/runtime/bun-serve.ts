/**
 * HTTP + WebSocket server for Bun on `Bun.serve`.
 *
 * @module
 */

import type { Server, ServerWebSocket } from 'bun';
import { listenError } from './errors.ts';
import type {
  HttpServeOptions,
  HttpServer,
  RequestInfo,
  UpgradeOptions,
  WebSocketConn,
  WebSocketHandlers,
} from './types.ts';
import { closeCode, SEND_HIGH_WATER, SEND_LOW_WATER } from './websocket-conn.ts';

const DEFAULT_MAX_MESSAGE = 16 * 1024 * 1024;
/**
 * Far above `SEND_HIGH_WATER`: Bun drops a message (`send()` → 0) past this limit, and
 * tether's senders stop at the high-water mark long before it.
 */
const BACKPRESSURE_LIMIT = 64 * 1024 * 1024;

const SHUTDOWN_POLL_MS = 10;

interface SocketData {
  handlers: WebSocketHandlers;
  protocol: string;
  conn?: BunServerWebSocket;
}

class BunServerWebSocket implements WebSocketConn {
  readonly protocol: string;
  readonly remoteAddress: string;
  readonly #ws: ServerWebSocket<SocketData>;
  #waiters: (() => void)[] = [];
  #isClosed = false;

  /** uWebSockets writes what it can and copies the rest into its own buffer. */
  readonly sendCopies = true;

  constructor(ws: ServerWebSocket<SocketData>) {
    this.#ws = ws;
    this.protocol = ws.data.protocol;
    this.remoteAddress = ws.remoteAddress;
  }

  get bufferedAmount(): number {
    return this.#isClosed ? 0 : this.#ws.getBufferedAmount();
  }

  send(data: Uint8Array | string): boolean {
    if (this.#isClosed) return false;
    const status = this.#ws.send(data as Uint8Array<ArrayBuffer> | string);
    if (status === 0 && this.#ws.readyState === WebSocket.OPEN) {
      // Bun dropped the message: the stream it belongs to is corrupt, so end the socket
      // rather than carry on with a hole in it. Only a sender ignoring `false` gets here.
      this.#ws.close(1011, 'Send buffer overflow');
      return false;
    }
    return this.#ws.getBufferedAmount() < SEND_HIGH_WATER;
  }

  drained(): Promise<void> {
    if (this.#isClosed || this.#ws.getBufferedAmount() < SEND_LOW_WATER) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  close(code?: number, reason?: string): void {
    if (!this.#isClosed) this.#ws.close(code, reason);
  }

  onDrain(): void {
    if (this.#ws.getBufferedAmount() < SEND_LOW_WATER) this.#release();
  }

  onClose(): void {
    this.#isClosed = true;
    this.#release();
  }

  #release(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}

export async function bunServe(options: HttpServeOptions): Promise<HttpServer> {
  const { host, port, tls } = options;
  // The Response a fetch handler returns after `upgrade()`; Bun wants `undefined` instead.
  const upgraded = new WeakSet<Response>();
  let server: Server<SocketData>;
  try {
    server = Bun.serve<SocketData>({
      hostname: host,
      port,
      // Bun closes a connection after 10 s without bytes by default (runtime.md §1), which
      // cuts slow or silent responses; tether enforces its own, explicit limits.
      idleTimeout: 0,
      ...(tls && { tls: { cert: tls.cert, key: tls.key } }),
      async fetch(request, srv) {
        // The per-request timer is separate from `idleTimeout`: switch it off too.
        srv.timeout(request, 0);
        const address = srv.requestIP(request);
        const info: RequestInfo = {
          remoteAddress: address?.address ?? '',
          remotePort: address?.port ?? 0,
          upgrade(handlers: WebSocketHandlers, upgradeOptions?: UpgradeOptions): Response {
            const protocol = upgradeOptions?.protocol ?? '';
            const headers = new Headers(upgradeOptions?.headers);
            if (protocol) headers.set('sec-websocket-protocol', protocol);
            if (!srv.upgrade(request, { data: { handlers, protocol }, headers })) {
              return new Response('Expected a WebSocket upgrade request', { status: 400 });
            }
            const response = new Response(null);
            upgraded.add(response);
            return response;
          },
        };
        const response = await options.fetch(request, info);
        return upgraded.has(response) ? undefined : response;
      },
      websocket: {
        maxPayloadLength: options.maxWebSocketMessage ?? DEFAULT_MAX_MESSAGE,
        backpressureLimit: BACKPRESSURE_LIMIT,
        closeOnBackpressureLimit: false,
        // No runtime-level idle kill or pings: tether's tunnel has its own heartbeat and
        // its own idle limits; a hidden 120 s default would cut quiet TCP-over-WebSocket
        // streams (SCENARIOS.md B).
        idleTimeout: 0,
        sendPings: false,
        open(ws) {
          ws.binaryType = 'uint8array';
          const conn = new BunServerWebSocket(ws);
          ws.data.conn = conn;
          ws.data.handlers.open?.(conn);
        },
        message(ws, message) {
          const conn = ws.data.conn;
          if (!conn) return;
          ws.data.handlers.message(
            conn,
            typeof message === 'string'
              ? message
              : new Uint8Array(message.buffer, message.byteOffset, message.byteLength),
          );
        },
        drain(ws) {
          ws.data.conn?.onDrain();
        },
        close(ws, code, reason) {
          const conn = ws.data.conn;
          if (!conn) return;
          conn.onClose();
          ws.data.handlers.close(conn, closeCode(code), reason);
        },
      },
    });
  } catch (error) {
    throw listenError(host, port, error);
  }
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // `stop()` stops accepting at once, but its promise also waits for every upgraded
      // WebSocket to close; wait only for the HTTP requests in flight.
      void server.stop();
      while (server.pendingRequests > 0) {
        await new Promise((resolve) => setTimeout(resolve, SHUTDOWN_POLL_MS));
      }
    })();
    return stopping;
  };
  return {
    host,
    port: server.port ?? port,
    close: async () => {
      void stop();
    },
    shutdown: stop,
  };
}
