import { defineCommand } from 'citty';
import { agentSettings } from '../config/index.ts';
import { argsFor } from './args.ts';
import { notBuilt } from './errors.ts';
import { loadFromArgs } from './load.ts';

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
    run({ args, rawArgs }) {
      loadFromArgs(agentSettings, args, rawArgs);
      notBuilt(`agent ${protocol}`, 'it arrives with the server and agent work');
    },
  });
}

const start = defineCommand({
  meta: {
    name: 'start',
    description: 'Run every listener of a config file (http and tcp) in one process',
  },
  args: argsFor(agentSettings),
  run({ args, rawArgs }) {
    loadFromArgs(agentSettings, args, rawArgs, ['listeners']);
    notBuilt('agent start', 'it arrives with the server and agent work');
  },
});

export default defineCommand({
  meta: {
    name: 'agent',
    description: 'Connect out to a tether server and serve endpoints from local services',
  },
  subCommands: { http: listener('http'), tcp: listener('tcp'), start },
});
