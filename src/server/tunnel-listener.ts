import {
  connectionTokens,
  getHeader,
  type IncomingRequest,
  listTokens,
  type OutgoingResponse,
  type UpgradedClient,
} from '../http1/index.ts';
import type { Logger } from '../log/index.ts';
import { ByteStreamConn, TETHER_YAMUX, type WebSocketHandlers } from '../runtime/index.ts';
import { closedMessage, Session, type SessionConfig } from '../tunnel/index.ts';
import { acceptKey, isValidKey, ServerWebSocketConn } from '../ws/index.ts';
import { AgentUpstream } from './agent-upstream.ts';
import { bearerToken, tokenMatches } from './auth.ts';
import { isValidEndpointId } from './endpoint.ts';
import { jsonError } from './errors.ts';
import type { Registry } from './registry.ts';

export interface TunnelListenerOptions {
  readonly registry: Registry;
  readonly log: Logger;
  readonly token: string | undefined;
  readonly session: Partial<SessionConfig>;
  /** True once the server drains: new agents are refused with 503 so they go elsewhere. */
  readonly draining: () => boolean;
}

// Piko's path (notes/piko.md).
const PREFIX = '/piko/v1/upstream/';
/** Largest WebSocket frame payload taken from an agent (what Bun.serve allowed before). */
const MAX_FRAME = 16 * 1024 * 1024;

type Handler = (req: IncomingRequest) => Promise<OutgoingResponse>;

/**
 * The upstream port's handler, on tether's own HTTP/1.1 engine: agents connect at
 * `/piko/v1/upstream/<endpoint>` (Piko's path) and the upgraded connection becomes a yamux
 * session in which only the server opens streams. An agent that offers `tether-yamux/1`
 * gets yamux straight over the connection; one that offers only WebSocket (Piko's agents)
 * gets yamux over WebSocket, as before (docs/transport.md). Errors before the upgrade are
 * JSON `{"error": …}` with Piko's statuses, so agents know which are fatal (401) and which
 * to retry (503).
 */
export function createTunnelHandler(options: TunnelListenerOptions): Handler {
  return async (req) => {
    const { head } = req;
    const query = head.target.search(/[?#]/);
    const path = query < 0 ? head.target : head.target.slice(0, query);
    if (!path.startsWith(PREFIX)) {
      return jsonError(404, 'not found: agents connect at /piko/v1/upstream/<endpoint>');
    }
    if (head.method !== 'GET') {
      return jsonError(405, 'method not allowed: agents connect with GET', undefined, [
        ['allow', 'GET'],
      ]);
    }
    const endpoint = decodeSegment(path.slice(PREFIX.length));
    if (endpoint === undefined || !isValidEndpointId(endpoint)) {
      return jsonError(400, 'invalid endpoint id');
    }
    if (options.token !== undefined) {
      const token = bearerToken(head.headers);
      if (token === undefined) return jsonError(401, 'missing authorization');
      if (!tokenMatches(token, options.token)) return jsonError(401, 'invalid token');
    }
    if (options.draining()) return jsonError(503, 'server is draining');

    // RFC 9110 §7.8: Upgrade is hop-by-hop (named in Connection) and ignored in HTTP/1.0.
    const offered =
      head.minor === 1 && connectionTokens(head.headers).has('upgrade')
        ? listTokens(head.headers, 'upgrade')
        : [];
    // Plain strings for the closures below, which live as long as the agent: not `req`.
    const address = req.remoteAddress;
    const remote = `${address}:${req.remotePort}`;
    if (offered.includes(TETHER_YAMUX)) {
      return switched([['Upgrade', TETHER_YAMUX]], (client) => {
        const handlers = sessionHandlers(options, endpoint, remote, TETHER_YAMUX);
        new ByteStreamConn(client, client.reader(), handlers, address).start();
      });
    }
    if (!offered.includes('websocket')) {
      // §15.5.22: a 426 names the protocols that would do.
      return jsonError(426, 'expected a WebSocket upgrade', undefined, [
        ['upgrade', `${TETHER_YAMUX}, websocket`],
      ]);
    }
    const key = getHeader(head.headers, 'sec-websocket-key');
    if (getHeader(head.headers, 'sec-websocket-version') !== '13') {
      // RFC 6455 §4.4: name the version we speak.
      return jsonError(426, 'expected WebSocket version 13', undefined, [
        ['sec-websocket-version', '13'],
        ['upgrade', 'websocket'],
      ]);
    }
    if (!isValidKey(key)) return jsonError(400, 'invalid Sec-WebSocket-Key');
    return switched(
      [
        ['Upgrade', 'websocket'],
        ['Sec-WebSocket-Accept', acceptKey(key)],
      ],
      (client) => {
        const handlers = sessionHandlers(options, endpoint, remote, 'websocket');
        const conn = new ServerWebSocketConn(client, client.reader(), handlers, address, {
          maxPayload: MAX_FRAME,
        });
        conn.start();
      },
    );
  };
}

function switched(
  headers: [string, string][],
  upgrade: (client: UpgradedClient) => void,
): OutgoingResponse {
  return {
    head: {
      status: 101,
      reason: 'Switching Protocols',
      minor: 1,
      headers: [...headers, ['Connection', 'Upgrade']],
    },
    body: null,
    upgrade,
  };
}

/** One agent's session, registered while it lives, on whichever transport it chose. */
function sessionHandlers(
  options: TunnelListenerOptions,
  endpoint: string,
  remote: string,
  transport: string,
): WebSocketHandlers {
  const { registry, log } = options;
  let session: Session | undefined;
  return {
    open(conn) {
      const opened = Session.server(conn, {
        ...options.session,
        acceptStreams: false,
        onLog: (level, message) => log[level](message, { endpoint, agent: remote }),
      });
      session = opened;
      const upstream = new AgentUpstream(endpoint, opened, remote);
      registry.add(upstream);
      log.info('agent connected', { endpoint, agent: remote, transport });
      opened.remoteGoAway.then(() =>
        log.info('agent draining (GoAway)', { endpoint, agent: remote }),
      );
      opened.closed.then((reason) => {
        registry.remove(upstream);
        log.info('agent disconnected', {
          endpoint,
          agent: remote,
          reason: reason?.message ?? 'closed',
        });
      });
    },
    message(_conn, data) {
      session?.receive(data);
    },
    close(_conn, code, reason) {
      session?.transportClosed(new Error(closedMessage(transport, code, reason)));
    },
  };
}

/** The decoded segment; undefined when its percent-encoding is malformed. */
function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
