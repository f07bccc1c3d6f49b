import { defineCommand } from 'citty';
import { serverSettings } from '../config/index.ts';
import { argsFor } from './args.ts';
import { notBuilt } from './errors.ts';
import { loadFromArgs } from './load.ts';

export default defineCommand({
  meta: {
    name: 'server',
    description: 'Run the tether server: proxy (:8000), agents (:8001), admin (:8002)',
  },
  args: argsFor(serverSettings),
  run({ args, rawArgs }) {
    loadFromArgs(serverSettings, args, rawArgs);
    notBuilt('server', 'it arrives with the server and agent work');
  },
});
