import { Hono } from 'hono';
import type { Logger } from '../log/index.ts';
import type { RequestInfo } from '../runtime/index.ts';
import { Session, type SessionConfig } from '../tunnel/index.ts';
import { AgentUpstream } from './agent-upstream.ts';
import { bearerToken, tokenMatches } from './auth.ts';
import { isValidEndpointId } from './endpoint.ts';
import type { Registry } from './registry.ts';

export interface TunnelListenerOptions {
  readonly registry: Registry;
  readonly log: Logger;
  readonly token: string | undefined;
  readonly session: Partial<SessionConfig>;
  /** True once the server drains: new agents are refused with 503 so they go elsewhere. */
  readonly draining: () => boolean;
}

/**
 * The upstream port's app: agents connect at `/piko/v1/upstream/<endpoint>` (Piko's
 * path) and the WebSocket becomes a yamux session in which only the server opens streams.
 * Errors before the upgrade are JSON `{"error": …}` with Piko's statuses, so agents know
 * which are fatal (401) and which to retry (503).
 */
export function createTunnelApp(options: TunnelListenerOptions) {
  const { registry, log } = options;
  const app = new Hono<{ Bindings: RequestInfo }>();

  app.get('/piko/v1/upstream/:endpoint', (c) => {
    const endpoint = c.req.param('endpoint');
    if (!isValidEndpointId(endpoint)) return c.json({ error: 'invalid endpoint id' }, 400);
    if (options.token !== undefined) {
      const token = bearerToken(c.req.raw.headers);
      if (token === undefined) return c.json({ error: 'missing authorization' }, 401);
      if (!tokenMatches(token, options.token)) return c.json({ error: 'invalid token' }, 401);
    }
    if (options.draining()) return c.json({ error: 'server is draining' }, 503);
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      return c.json({ error: 'expected a WebSocket upgrade' }, 426);
    }
    const info = c.env;
    let session: Session | undefined;
    let upstream: AgentUpstream | undefined;
    return info.upgrade({
      open(ws) {
        session = Session.server(ws, {
          ...options.session,
          acceptStreams: false,
          onLog: (level, message) => log[level](message, { endpoint, agent: info.remoteAddress }),
        });
        upstream = new AgentUpstream(endpoint, session, `${info.remoteAddress}:${info.remotePort}`);
        registry.add(upstream);
        log.info('agent connected', { endpoint, agent: upstream.remoteAddress });
        const connected = upstream;
        session.remoteGoAway.then(() =>
          log.info('agent draining (GoAway)', { endpoint, agent: connected.remoteAddress }),
        );
        session.closed.then((reason) => {
          registry.remove(connected);
          log.info('agent disconnected', {
            endpoint,
            agent: connected.remoteAddress,
            reason: reason?.message ?? 'closed',
          });
        });
      },
      message(_ws, data) {
        session?.receive(data);
      },
      close(_ws, code, reason) {
        session?.transportClosed(
          new Error(`WebSocket closed (${code}${reason ? ` ${reason}` : ''})`),
        );
      },
    });
  });

  app.notFound((c) =>
    c.json({ error: 'not found: agents connect at /piko/v1/upstream/<endpoint>' }, 404),
  );
  app.onError((error, c) => {
    log.error('upstream port error', { error });
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}
