import { readFileSync } from 'node:fs';
import { defineCommand } from 'citty';
import {
  type AgentHandle,
  FatalConnectError,
  type ListenerSpec,
  listenerSpec,
  listenersFromFile,
  startAgent,
} from '../agent/index.ts';
import { agentSettings, type Config } from '../config/index.ts';
import { createLogger } from '../log/index.ts';
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
  log.info('tether agent started', {
    server: config['connect.url'],
    listeners: specs.map((s) => `${s.endpoint}→${s.target.protocol}`).join(','),
  });
  const stopped = untilStopped(
    log,
    () => agent.drain(config['drain.grace-period']),
    () => agent.close(),
  );
  try {
    await Promise.race([agent.done, stopped]);
  } catch (error) {
    if (error instanceof FatalConnectError) throw new CliError(error.message, 1, { cause: error });
    throw error;
  }
  log.info('agent stopped');
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
