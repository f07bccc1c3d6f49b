import { defineCommand } from 'citty';
import { adminPath, adminUrl, DEFAULT_ADMIN_URL, timeoutMs, unreachable } from './admin-url.ts';
import { CliError } from './errors.ts';

interface AgentJson {
  readonly id?: number;
  readonly address?: string;
  readonly connectedSince?: string;
  readonly rttMs?: number | null;
  readonly inflightStreams?: number;
  readonly draining?: boolean;
}

interface ListenerJson {
  readonly endpoint?: string;
  readonly protocol?: string;
  readonly connected?: boolean;
  readonly sessions?: number;
  readonly inflightStreams?: number;
}

interface StatusJson {
  readonly role?: string;
  readonly ready?: boolean;
  readonly draining?: boolean;
  readonly phase?: string;
  readonly agents?: number;
  readonly inflight?: Readonly<Record<string, number>>;
  readonly endpoints?: Readonly<Record<string, readonly AgentJson[]>>;
  readonly listeners?: readonly ListenerJson[];
}

/** `tether status`: GET /status from a server's or an agent's admin port, for people or as JSON. */
export default defineCommand({
  meta: {
    name: 'status',
    description: 'Show what a running server (endpoints, agents) or agent (listeners) is doing',
  },
  args: {
    'admin-url': {
      type: 'string',
      description: `Admin address of the server or agent (default ${DEFAULT_ADMIN_URL})`,
    },
    json: { type: 'boolean', description: 'Print the raw JSON' },
    timeout: { type: 'string', description: 'Give up after this long (default 10s)' },
  },
  async run({ args }) {
    const base = adminUrl(args['admin-url']);
    const signal = AbortSignal.timeout(timeoutMs(args.timeout, '10s'));
    let response: Response;
    let body: StatusJson;
    try {
      response = await fetch(adminPath(base, '/status'), { signal });
      if (!response.ok) {
        throw new CliError(`${base.origin} answered GET /status with ${response.status}`, 1);
      }
      body = (await response.json()) as StatusJson;
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw unreachable(base, error);
    }
    console.log(args.json ? JSON.stringify(body, null, 2) : formatStatus(base.origin, body));
  },
});

/** The readable form of /status. */
export function formatStatus(origin: string, s: StatusJson): string {
  const state = s.draining ? `draining (${s.phase ?? '?'})` : s.ready ? 'ready' : 'not ready';
  const inflight = Object.entries(s.inflight ?? {})
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const out = [`${s.role ?? 'tether'} at ${origin}: ${state}`];
  if (inflight) out.push(`in flight: ${inflight}`);
  if (s.role === 'agent') {
    for (const l of s.listeners ?? []) {
      out.push(
        `listener ${l.endpoint} (${l.protocol}): ${l.connected ? 'connected' : 'not connected'}, ${l.sessions ?? 0} sessions, ${l.inflightStreams ?? 0} streams in flight`,
      );
    }
    return out.join('\n');
  }
  const endpoints = Object.entries(s.endpoints ?? {});
  out.push(`agents connected: ${s.agents ?? 0} on ${endpoints.length} endpoints`);
  for (const [id, agents] of endpoints.sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`endpoint ${id}: ${agents.length} agent${agents.length === 1 ? '' : 's'}`);
    for (const a of agents) {
      const rtt = a.rttMs === null || a.rttMs === undefined ? '' : `, rtt ${a.rttMs} ms`;
      out.push(
        `  ${a.address} since ${a.connectedSince}${rtt}, ${a.inflightStreams ?? 0} streams${a.draining ? ', draining' : ''}`,
      );
    }
  }
  return out.join('\n');
}
