import { defineCommand } from 'citty';
import { serverSettings } from '../config/index.ts';
import { createLogger } from '../log/index.ts';
import { startServer } from '../server/index.ts';
import { argsFor } from './args.ts';
import { CliError } from './errors.ts';
import { untilStopped } from './lifecycle.ts';
import { loadFromArgs } from './load.ts';

export default defineCommand({
  meta: {
    name: 'server',
    description: 'Run the tether server: proxy (:8000), agents (:8001), admin (:8002)',
  },
  args: argsFor(serverSettings),
  async run({ args, rawArgs }) {
    const { config } = loadFromArgs(serverSettings, args, rawArgs);
    const log = createLogger({ level: config['log.level'], format: config['log.format'] });
    const server = await startServer(config, log).catch((error: Error) => {
      throw new CliError(`Cannot start server: ${error.message}`, 1, { cause: error });
    });
    await Promise.race([
      untilStopped(
        log,
        () => server.drain(),
        () => server.close(),
      ),
      server.stopped,
    ]);
    log.info('server stopped');
  },
});
