/**
 * HTTP + WebSocket server for Deno on `Deno.serve` and `Deno.upgradeWebSocket`. Deno has
 * no HTTP idle timeout to switch off (runtime.md §1).
 *
 * @module
 */

import { type DenoHttpServer, deno } from './deno-api.ts';
import { listenError } from './errors.ts';
import type {
  HttpServeOptions,
  HttpServer,
  RequestInfo,
  UpgradeOptions,
  WebSocketHandlers,
} from './types.ts';
import { StandardWebSocketConn } from './websocket-conn.ts';

const DEFAULT_MAX_MESSAGE = 16 * 1024 * 1024;
/** RFC 6455 §7.4.1: message too big to process. */
const MESSAGE_TOO_BIG = 1009;

/**
 * Deno has no setting for the largest message (it takes up to its own ~64 MiB frame limit,
 * runtime.md §2), so the limit is applied on delivery, closing like Bun does.
 */
function limited(handlers: WebSocketHandlers, maxMessage: number): WebSocketHandlers {
  return {
    ...handlers,
    message(conn, data) {
      const size = typeof data === 'string' ? data.length : data.byteLength;
      if (size > maxMessage) conn.close(MESSAGE_TOO_BIG, 'Message too big');
      else handlers.message(conn, data);
    },
  };
}

export async function denoServe(options: HttpServeOptions): Promise<HttpServer> {
  const { host, port, tls } = options;
  const maxMessage = options.maxWebSocketMessage ?? DEFAULT_MAX_MESSAGE;
  // Deno's `shutdown()` also closes every upgraded WebSocket, which tether must leave
  // alone. While sockets are open, draining answers new requests 503 itself, waits for the
  // requests in flight, and shuts the server down only once the last socket has closed.
  let draining = false;
  let inFlight = 0;
  let sockets = 0;
  let idle: (() => void) | undefined;
  let stopping: Promise<void> | undefined;
  const requestDone = () => {
    if (--inFlight === 0) idle?.();
  };
  const socketClosed = () => {
    if (--sockets === 0 && draining) void stop();
  };
  let server: DenoHttpServer;
  try {
    server = deno.serve(
      {
        hostname: host,
        port,
        ...(tls && { cert: tls.cert, key: tls.key }),
        // Without it Deno prints "Listening on …" to stdout.
        onListen() {},
      },
      (request, handlerInfo) => {
        if (draining) {
          return new Response('Server is shutting down', {
            status: 503,
            headers: { connection: 'close' },
          });
        }
        inFlight++;
        let counted = true;
        const done = () => {
          if (counted) {
            counted = false;
            requestDone();
          }
        };
        handlerInfo.completed.then(done, done);
        const remoteAddress = handlerInfo.remoteAddr.hostname;
        const info: RequestInfo = {
          remoteAddress,
          remotePort: handlerInfo.remoteAddr.port,
          upgrade(handlers: WebSocketHandlers, upgradeOptions?: UpgradeOptions): Response {
            const protocol = upgradeOptions?.protocol;
            const { socket, response } = deno.upgradeWebSocket(request, {
              ...(protocol && { protocol }),
              // Deno pings every 15 s and closes after 30 s without a pong by default.
              // tether's tunnel has its own heartbeat and idle limits, so turn it off.
              idleTimeout: 0,
            });
            // An upgraded request is no longer an HTTP request in flight.
            done();
            sockets++;
            const limitedHandlers = limited(handlers, maxMessage);
            new StandardWebSocketConn(
              socket,
              {
                ...limitedHandlers,
                close(conn, code, reason) {
                  socketClosed();
                  limitedHandlers.close(conn, code, reason);
                },
              },
              remoteAddress,
            );
            for (const [name, value] of new Headers(upgradeOptions?.headers)) {
              response.headers.set(name, value);
            }
            return response;
          },
        };
        return options.fetch(request, info);
      },
    );
  } catch (error) {
    throw listenError(host, port, error);
  }
  const stop = () => {
    stopping ??= server.shutdown();
    return stopping;
  };
  const shutdown = async () => {
    draining = true;
    if (sockets === 0) return stop();
    if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
  };
  return {
    host,
    port: server.addr.port,
    close: async () => {
      void shutdown();
    },
    shutdown,
  };
}
