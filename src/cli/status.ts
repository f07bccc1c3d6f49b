import { defineCommand } from 'citty';
import { notBuilt } from './errors.ts';

export default defineCommand({
  meta: { name: 'status', description: 'Show the endpoints and agents a running server knows' },
  run() {
    notBuilt('status', 'it arrives with the server and agent work');
  },
});
