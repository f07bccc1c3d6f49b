import { defineCommand } from 'citty';
import { forwardSettings } from '../config/index.ts';
import { argsFor } from './args.ts';
import { notBuilt } from './errors.ts';
import { loadFromArgs } from './load.ts';

const tcp = defineCommand({
  meta: {
    name: 'tcp',
    description: 'Listen on a local TCP port and carry each connection to an endpoint',
  },
  args: {
    'local-addr': {
      type: 'positional',
      description: 'Local address to listen on, e.g. 127.0.0.1:6000',
      required: true,
    },
    endpoint: { type: 'positional', description: 'Endpoint to reach', required: true },
    ...argsFor(forwardSettings),
  },
  run({ args, rawArgs }) {
    loadFromArgs(forwardSettings, args, rawArgs);
    notBuilt('forward tcp', 'it arrives with the server and agent work');
  },
});

export default defineCommand({
  meta: {
    name: 'forward',
    description: 'Reach a TCP endpoint through the proxy port from a local port',
  },
  subCommands: { tcp },
});
