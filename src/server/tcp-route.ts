import { getHeader, type IncomingRequest, type OutgoingResponse } from '../http1/index.ts';
import type { Stream } from '../tunnel/index.ts';
import { acceptKey, isValidKey, webSocketBytes } from '../ws/index.ts';
import type { AgentUpstream } from './agent-upstream.ts';
import { isValidEndpointId } from './endpoint.ts';
import { jsonError, proxyError } from './errors.ts';
import { IdleWatch } from './idle-watch.ts';
import type { ProxyOptions } from './proxy.ts';
import { pipeBoth } from './relay.ts';

// Piko's path for TCP over WebSocket on the proxy port (`piko forward` dials it).
const TCP_PREFIX = '/_piko/v1/tcp/';

export function isTcpRoute(target: string): boolean {
  return target.startsWith(TCP_PREFIX);
}

/**
 * Terminates a client's WebSocket and pipes its binary payloads, as a byte stream, to a
 * tunnel stream opened to an agent of the endpoint. The stream is opened and accepted
 * before the 101 goes out, so an agent that refuses it is skipped without the client
 * noticing. HTTP timeouts never apply here; only the upgraded-stream idle limit does.
 */
export async function handleTcpRoute(
  req: IncomingRequest,
  options: ProxyOptions,
): Promise<OutgoingResponse> {
  const endpoint = decodePathSegment(req.head.target.slice(TCP_PREFIX.length).split(/[?#]/)[0]);
  if (endpoint === undefined) return proxyError('invalid-endpoint');
  if (!endpoint) return proxyError('missing-endpoint');
  if (!isValidEndpointId(endpoint)) return proxyError('invalid-endpoint');
  const key = getHeader(req.head.headers, 'sec-websocket-key');
  if (
    req.head.method !== 'GET' ||
    getHeader(req.head.headers, 'upgrade')?.toLowerCase() !== 'websocket' ||
    getHeader(req.head.headers, 'sec-websocket-version') !== '13' ||
    !isValidKey(key)
  ) {
    return jsonError(
      400,
      'expected a WebSocket upgrade (version 13) for TCP forwarding',
      'bad-request',
    );
  }

  const tried = new Set<AgentUpstream>();
  let stream: Stream | undefined;
  let agent: AgentUpstream | undefined;
  while (!stream) {
    agent = options.registry.select(endpoint, tried);
    if (!agent) return proxyError(tried.size > 0 ? 'upstream-unreachable' : 'no-upstream');
    tried.add(agent);
    try {
      const candidate = agent.open();
      await candidate.accepted;
      stream = candidate;
    } catch {
      // Refused, gone away or closed before the agent saw anything: next agent.
    }
  }
  const opened = stream;
  const work = options.inflight.begin('tcp', () => opened.reset());
  const started = performance.now();
  options.log.info('tcp stream opened', {
    endpoint,
    agent: agent?.remoteAddress,
    client: req.remoteAddress,
  });
  return {
    head: {
      status: 101,
      reason: 'Switching Protocols',
      minor: 1,
      headers: [
        ['Upgrade', 'websocket'],
        ['Connection', 'Upgrade'],
        ['Sec-WebSocket-Accept', acceptKey(key)],
      ],
    },
    body: null,
    abandon: () => {
      opened.reset();
      work.done();
    },
    upgrade: async (client) => {
      const watch = new IdleWatch(options.upgradeIdleTimeout, () => opened.reset());
      const ws = webSocketBytes(client, { role: 'server' });
      await pipeBoth(ws, opened, watch);
      watch.stop();
      work.done();
      options.log.info('tcp stream closed', {
        endpoint,
        durationMs: Math.round(performance.now() - started),
      });
    },
  };
}

/** The decoded segment; undefined when its percent-encoding is malformed (a client error). */
function decodePathSegment(segment = ''): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
