/**
 * The least a Bun relay can do, for `scripts/bench-relay-floor.ts`: every connection accepted
 * on 127.0.0.1:<listen-port> is joined to a new connection to 127.0.0.1:<target-port>, and
 * bytes are written on inside the data callbacks (no streams, no promises, no backpressure:
 * enough for an echo of small messages, nothing more). Not part of tether.
 *
 *   bun scripts/bench/bare-relay.ts <listen-port> <target-port>
 */
import type { Socket } from 'bun';

const [listenPort = 0, targetPort = 0] = process.argv.slice(2).map(Number);

interface Data {
  peer?: Socket<Data>;
  /** What the client sent before its upstream connection was open. */
  early: Uint8Array[];
}

Bun.listen<Data>({
  hostname: '127.0.0.1',
  port: listenPort,
  socket: {
    open(client) {
      client.data = { early: [] };
      Bun.connect<Data>({
        hostname: '127.0.0.1',
        port: targetPort,
        data: { early: [] },
        socket: {
          open(upstream) {
            upstream.data.peer = client;
            client.data.peer = upstream;
            for (const chunk of client.data.early) upstream.write(chunk);
            client.data.early = [];
          },
          data(upstream, chunk) {
            upstream.data.peer?.write(chunk);
          },
          close(upstream) {
            upstream.data.peer?.end();
          },
        },
      }).catch(() => client.end());
    },
    data(client, chunk) {
      const peer = client.data.peer;
      if (peer) peer.write(chunk);
      else client.data.early.push(new Uint8Array(chunk));
    },
    close(client) {
      client.data.peer?.end();
    },
  },
});
console.log(`bare relay 127.0.0.1:${listenPort} -> 127.0.0.1:${targetPort}`);
