import { type HttpServer, runtime, type WebSocketConn } from '../../src/runtime/index.ts';
import { Session, type SessionConfig } from '../../src/tunnel/index.ts';

export interface WsTunnel {
  /** The tether server's session (opens even ids), on the accepting side of the WebSocket. */
  server: Session;
  /** The agent's session (odd ids), on the dialling side. */
  client: Session;
  httpServer: HttpServer;
  /** Closes both sessions and the HTTP server. */
  close(): Promise<void>;
}

/** A server and a client session over a real loopback WebSocket from src/runtime. */
export async function wsTunnel(
  serverConfig: Partial<SessionConfig> = {},
  clientConfig: Partial<SessionConfig> = {},
): Promise<WsTunnel> {
  const sessions = new Map<WebSocketConn, Session>();
  let resolveServer!: (session: Session) => void;
  const serverReady = new Promise<Session>((resolve) => {
    resolveServer = resolve;
  });
  const httpServer = await runtime.serve({
    host: '127.0.0.1',
    port: 0,
    fetch: (_request, info) =>
      info.upgrade({
        open(ws) {
          const session = Session.server(ws, serverConfig);
          sessions.set(ws, session);
          resolveServer(session);
        },
        message: (ws, data) => sessions.get(ws)?.receive(data),
        close: (ws, code) =>
          sessions
            .get(ws)
            ?.transportClosed(
              code === 1000 ? undefined : new Error(`WebSocket closed with ${code}`),
            ),
      }),
  });
  let client: Session | undefined;
  await runtime.connectWebSocket(`ws://127.0.0.1:${httpServer.port}/tunnel`, {
    handlers: {
      open(ws) {
        client = Session.client(ws, clientConfig);
      },
      message: (_ws, data) => client?.receive(data),
      close: (_ws, code) =>
        client?.transportClosed(
          code === 1000 ? undefined : new Error(`WebSocket closed with ${code}`),
        ),
    },
  });
  if (client === undefined) throw new Error('Cannot build tunnel: client open handler did not run');
  const server = await serverReady;
  const clientSession = client;
  return {
    server,
    client: clientSession,
    httpServer,
    async close() {
      clientSession.close();
      server.close();
      await httpServer.close();
    },
  };
}
