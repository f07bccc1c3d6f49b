import { readFileSync } from 'node:fs';
import { defineCommand } from 'citty';
import { createAdminApp } from '../admin/index.ts';
import {
  type AgentHandle,
  FatalConnectError,
  type ListenerSpec,
  listenerSpec,
  listenersFromFile,
  startAgent,
} from '../agent/index.ts';
import { agentSettings, type Config, formatAddress } from '../config/index.ts';
import { createLogger, type Logger } from '../log/index.ts';
import { type HttpServer, runtime } from '../runtime/index.ts';
import { Notifier } from '../systemd/index.ts';
import { argsFor } from './args.ts';
import { CliError } from './errors.ts';
import { untilStopped } from './lifecycle.ts';
import { loadFromArgs } from './load.ts';

async function runAgent(
  config: Config<typeof agentSettings>,
  specs: ListenerSpec[],
): Promise<void> {
  const log = createLogger({ level: config['log.level'], format: config['log.format'] });
  const caPath = config['connect.tls.root-cas'];
  let ca: string | undefined;
  if (caPath) {
    try {
      ca = readFileSync(caPath, 'utf8');
    } catch (error) {
      throw new CliError(
        `Cannot read connect.tls.root-cas ${caPath}: ${(error as Error).message}`,
        2,
      );
    }
  }
  const agent: AgentHandle = startAgent(config, specs, log, ca);
  const grace = config['drain.grace-period'];
  const notifier = new Notifier();
  const drain = () => {
    if (agent.phase === 'serving') {
      notifier.stopping('draining: GoAway sent, finishing in-flight streams');
      log.info('drain started: GoAway on every session; finishing in-flight streams', {
        graceMs: grace,
      });
    }
    return agent.drain(grace);
  };
  // Listen for signals before anything else can take time.
  const stopped = untilStopped(log, drain, () => agent.close());
  const admin = await startAdmin(config, specs, agent, drain, log).catch(async (error) => {
    await agent.close();
    throw error;
  });
  log.info('tether agent started', {
    server: config['connect.url'],
    listeners: specs.map((s) => `${s.endpoint}→${s.target.protocol}`).join(','),
    ...(admin ? { admin: formatAddress({ host: admin.host, port: admin.port }) } : {}),
  });
  agent.ready.then(
    () => {
      notifier.ready(describe(agent));
      notifier.watchStatus(() => describe(agent));
    },
    () => {},
  );
  try {
    await Promise.race([agent.done, stopped]);
  } catch (error) {
    if (error instanceof FatalConnectError) throw new CliError(error.message, 1, { cause: error });
    throw error;
  } finally {
    notifier.stop();
    // Waits for a POST /drain answer to end (it ends once drained).
    await admin?.shutdown();
  }
  log.info('agent stopped');
}

/** The optional admin port (`--admin.bind-addr`): same endpoints and drain protocol as the server's. */
async function startAdmin(
  config: Config<typeof agentSettings>,
  specs: readonly ListenerSpec[],
  agent: AgentHandle,
  drain: () => Promise<void>,
  log: Logger,
): Promise<HttpServer | undefined> {
  const addr = config['admin.bind-addr'];
  if (!addr) return undefined;
  let connected = false;
  agent.ready.then(
    () => {
      connected = true;
    },
    () => {},
  );
  const app = createAdminApp({
    ready: () => connected && agent.phase === 'serving',
    draining: () => agent.phase !== 'serving',
    drain,
    progress: () => ({ ...agent.progress() }),
    status: () => ({
      role: 'agent',
      ready: connected && agent.phase === 'serving',
      draining: agent.phase !== 'serving',
      phase: agent.phase,
      inflight: agent.progress().inflight,
      listeners: agent.listeners.map((l, i) => ({
        endpoint: specs[i]?.endpoint,
        protocol: specs[i]?.target.protocol,
        connected: l.connected,
        sessions: l.sessions.size,
        inflightStreams: l.inflight,
      })),
    }),
  });
  return runtime.serve({ ...addr, fetch: app.fetch }).catch((error: Error) => {
    log.error('cannot open the admin port', { error });
    throw new CliError(`Cannot listen on admin.bind-addr: ${error.message}`, 1, { cause: error });
  });
}

/** The STATUS= line: what systemctl status shows. */
function describe(agent: AgentHandle): string {
  const connected = agent.listeners.filter((l) => l.connected).length;
  const { inflight } = agent.progress();
  const state = agent.phase === 'serving' ? 'serving' : agent.phase;
  return `${state}: ${connected}/${agent.listeners.length} listeners connected, ${inflight.streams} streams in flight`;
}

function listener(protocol: 'http' | 'tcp') {
  return defineCommand({
    meta: {
      name: protocol,
      description:
        protocol === 'http'
          ? 'Serve one endpoint by forwarding its HTTP requests to a local service'
          : 'Serve one endpoint by piping its TCP streams to a local service',
    },
    args: {
      endpoint: {
        type: 'positional',
        description: 'Endpoint id clients use to reach this service',
        required: true,
      },
      addr: {
        type: 'positional',
        description:
          protocol === 'http'
            ? 'Upstream: a port, host:port or URL (http:// or https://)'
            : 'Upstream: a port or host:port',
        required: true,
      },
      ...argsFor(agentSettings),
    },
    async run({ args, rawArgs }) {
      const { config } = loadFromArgs(agentSettings, args, rawArgs);
      await runAgent(config, [listenerSpec(String(args.endpoint), protocol, String(args.addr))]);
    },
  });
}

const start = defineCommand({
  meta: {
    name: 'start',
    description: 'Run every listener of a config file (http and tcp) in one process',
  },
  args: argsFor(agentSettings),
  async run({ args, rawArgs }) {
    const { config, extra } = loadFromArgs(agentSettings, args, rawArgs, ['listeners']);
    if (extra.listeners === undefined) {
      throw new CliError('tether agent start needs --config.path with a listeners: list', 2);
    }
    await runAgent(config, listenersFromFile(extra.listeners));
  },
});

export default defineCommand({
  meta: {
    name: 'agent',
    description: 'Connect out to a tether server and serve endpoints from local services',
  },
  subCommands: { http: listener('http'), tcp: listener('tcp'), start },
});
