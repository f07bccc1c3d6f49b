import { defineCommand } from 'citty';
import { notBuilt } from './errors.ts';

export default defineCommand({
  meta: {
    name: 'drain',
    description: 'Drain a running server or agent: stop taking new work, finish what is in flight',
  },
  run() {
    notBuilt('drain', 'it arrives with the drain and systemd work');
  },
});
