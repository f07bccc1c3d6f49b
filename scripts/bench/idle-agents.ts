/**
 * Simulated idle agents: `bun scripts/bench/idle-agents.ts <upstream-url> <count>`.
 * Opens <count> agent connections (endpoint `idle-<i>`) in one process and runs a real yamux
 * client session on each (src/tunnel), as `tether agent` would: offering tether-yamux/1, or
 * WebSocket alone with BENCH_IDLE_TRANSPORT=websocket (Piko's agents). Prints one JSON line
 * once all are connected (or failed), then holds them open until killed.
 */
import { runtime } from '../../src/runtime/index.ts';
import { Session } from '../../src/tunnel/index.ts';

const [base = '', countArg = '10000'] = process.argv.slice(2);
const count = Number(countArg);
const IN_FLIGHT = 128;
const offerByteStream = process.env.BENCH_IDLE_TRANSPORT !== 'websocket';
const sessions: Session[] = [];
let failed = 0;
let firstError = '';

async function connectOne(i: number): Promise<void> {
  let session: Session | undefined;
  try {
    const ws = await runtime.connectWebSocket(`${base}/piko/v1/upstream/idle-${i}`, {
      offerByteStream,
      handlers: {
        message(_ws, data) {
          session?.receive(data);
        },
        close() {
          session?.transportClosed(new Error('transport closed'));
        },
      },
    });
    session = Session.client(ws, {});
    sessions.push(session);
  } catch (error) {
    failed++;
    firstError ||= (error as Error).message;
  }
}

const started = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: IN_FLIGHT }, async () => {
    while (next < count) await connectOne(next++);
  }),
);
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ connected: sessions.length, failed, seconds, firstError }));
setInterval(() => {}, 60_000);
