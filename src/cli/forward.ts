import { readFileSync } from 'node:fs';
import { defineCommand } from 'citty';
import { forwardSettings, parseAddress } from '../config/index.ts';
import { startForward } from '../forward/index.ts';
import { createLogger } from '../log/index.ts';
import { argsFor } from './args.ts';
import { CliError } from './errors.ts';
import { untilStopped } from './lifecycle.ts';
import { loadFromArgs } from './load.ts';

const tcp = defineCommand({
  meta: {
    name: 'tcp',
    description: 'Listen on a local TCP port and carry each connection to an endpoint',
  },
  args: {
    'local-addr': {
      type: 'positional',
      description: 'Local address to listen on, e.g. 6000 or 127.0.0.1:6000',
      required: true,
    },
    endpoint: { type: 'positional', description: 'Endpoint to reach', required: true },
    ...argsFor(forwardSettings),
  },
  async run({ args, rawArgs }) {
    const { config } = loadFromArgs(forwardSettings, args, rawArgs);
    const local = parseAddress(String(args['local-addr']), '127.0.0.1');
    if (!local)
      throw new CliError(
        `Invalid local address ${JSON.stringify(args['local-addr'])}: expected a port or host:port`,
        2,
      );
    const log = createLogger({ level: config['log.level'], format: config['log.format'] });
    const caPath = config['connect.tls.root-cas'];
    const listener = await startForward({
      local,
      endpoint: String(args.endpoint),
      url: config['connect.url'],
      token: config['connect.token'],
      ca: caPath ? readFileSync(caPath, 'utf8') : undefined,
      log,
    }).catch((error: Error) => {
      throw new CliError(`Cannot listen on ${args['local-addr']}: ${error.message}`, 1, {
        cause: error,
      });
    });
    log.info('forwarding', {
      local: `${local.host}:${listener.port}`,
      endpoint: String(args.endpoint),
      via: config['connect.url'],
    });
    await untilStopped(
      log,
      () => listener.close(),
      () => listener.close(),
    );
  },
});

export default defineCommand({
  meta: {
    name: 'forward',
    description: 'Reach a TCP endpoint through the proxy port from a local port',
  },
  subCommands: { tcp },
});
