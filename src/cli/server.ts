import { defineCommand } from 'citty';
import { serverSettings } from '../config/index.ts';
import { createLogger } from '../log/index.ts';
import { type ServerHandle, startServer } from '../server/index.ts';
import { Notifier } from '../systemd/index.ts';
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
    const notifier = new Notifier();
    let server: ServerHandle | undefined;
    const starting = startServer(config, log, (phase) => {
      // Step 1 of the drain: systemd shows the unit as stopping while it drains.
      if (phase === 'quiet') notifier.stopping('draining: quiet period, still serving');
      else if (server) notifier.status(describe(server));
    }).catch((error: Error) => {
      throw new CliError(`Cannot start server: ${error.message}`, 1, { cause: error });
    });
    // Listen for signals before the ports open: a signal in between must drain, not kill.
    const signalled = untilStopped(
      log,
      () => starting.then((s) => s.drain()),
      () => starting.then((s) => s.close()),
    );
    server = await starting;
    const running = server;
    notifier.ready(describe(running));
    log.info(
      `next: serve a local service through it with \`tether agent http my-app 3000 --connect.url http://localhost:${running.upstreamPort}\`, ` +
        `then \`curl -H 'x-piko-endpoint: my-app' http://localhost:${running.proxyPort}/\``,
    );
    notifier.watchStatus(() => describe(running));
    try {
      await Promise.race([signalled, running.stopped]);
    } finally {
      notifier.stop();
    }
    log.info('server stopped');
  },
});

/** The STATUS= line: what systemctl status shows. */
function describe(server: ServerHandle): string {
  const { http, upgraded, tcp } = server.inflight.counts();
  const phase = server.drainState.phase;
  const state = phase === 'serving' ? 'serving' : `draining (${phase})`;
  return `${state}: ${server.registry.agentCount} agents connected, in flight: ${http} http, ${upgraded} upgraded, ${tcp} tcp`;
}
