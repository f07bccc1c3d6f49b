import { defineCommand } from 'citty';
import { notBuilt } from './errors.ts';

export default defineCommand({
  meta: { name: 'systemd', description: 'Print a systemd unit for tether server or agent' },
  run() {
    notBuilt('systemd', 'it arrives with the drain and systemd work');
  },
});
