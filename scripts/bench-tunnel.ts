/**
 * Tunnel throughput next to the raw WebSocket it runs on, in one process over loopback:
 *
 *   npx bun scripts/bench-tunnel.ts          npx deno run -A scripts/bench-tunnel.ts
 *
 * Cases (each ~3 s, data flows agent -> server like a response body):
 *   raw WS       64 KiB binary messages as fast as backpressure allows
 *   1 stream     one tunnel stream, 64 KiB writes
 *   64 streams   64 concurrent tunnel streams
 *   open/close   stream open + FIN both ways + accept, 256 in flight
 * Prints MB/s and the ratio to raw WS. Not a test: numbers depend on the machine.
 */
import { runtime, type WebSocketConn } from '../src/runtime/index.ts';
import { Session, type Stream } from '../src/tunnel/index.ts';

const DURATION = Number(process.env.BENCH_MS ?? 3000);
const CHUNK = 64 * 1024;
const payload = new Uint8Array(CHUNK).map((_, i) => (i * 31) & 0xff);

interface Link {
  /** The dialling side (the agent). */
  client: WebSocketConn;
  close(): Promise<void>;
}

/** A fresh WebSocket connection whose server side hands each message to `onServerMessage`. */
async function connectPair(
  onServerOpen: (ws: WebSocketConn) => void,
  onServerMessage: (ws: WebSocketConn, data: Uint8Array | string) => void,
  onClientMessage: (data: Uint8Array | string) => void = () => {},
  onClientOpen: (ws: WebSocketConn) => void = () => {},
): Promise<Link> {
  const server = await runtime.serve({
    host: '127.0.0.1',
    port: 0,
    fetch: (_req, info) =>
      info.upgrade({ open: onServerOpen, message: onServerMessage, close() {} }),
  });
  const client = await runtime.connectWebSocket(`ws://127.0.0.1:${server.port}/`, {
    handlers: { open: onClientOpen, message: (_ws, data) => onClientMessage(data), close() {} },
  });
  return {
    client,
    async close() {
      client.close(1000);
      await server.close();
    },
  };
}

async function rawWebSocket(): Promise<number> {
  let received = 0;
  const link = await connectPair(
    () => {},
    (_ws, data) => {
      received += typeof data === 'string' ? data.length : data.byteLength;
    },
  );
  const started = performance.now();
  const deadline = started + DURATION;
  while (performance.now() < deadline) {
    // A fresh array per message, as the tunnel builds one per message too.
    if (!link.client.send(payload.slice())) await link.client.drained();
  }
  const bytes = received;
  const elapsed = performance.now() - started;
  await link.close();
  return bytes / elapsed / 1000;
}

/** Server and agent sessions over one fresh WebSocket. */
async function tunnel(): Promise<{ server: Session; agent: Session; close(): Promise<void> }> {
  let server!: Session;
  let agent!: Session;
  const config = { heartbeatInterval: 20_000 };
  const link = await connectPair(
    (ws) => {
      server = Session.server(ws, config);
    },
    (_ws, data) => server.receive(data),
    (data) => agent.receive(data),
    (ws) => {
      agent = Session.client(ws, config);
    },
  );
  while (server === undefined) await new Promise((resolve) => setTimeout(resolve, 1));
  return {
    server,
    agent,
    async close() {
      server.close();
      agent.close();
      await link.close();
    },
  };
}

async function streams(count: number): Promise<number> {
  const t = await tunnel();
  await t.server.ping(); // let the RTT be known, as it is after the first heartbeat
  let received = 0;
  let stop = false;
  const readers: Promise<void>[] = [];
  const writers: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const stream = t.server.open();
    readers.push(
      (async () => {
        const reader = stream.readable.getReader();
        for (let r = await reader.read(); !r.done; r = await reader.read())
          received += r.value.length;
      })(),
    );
    stream.writable.getWriter().write(new Uint8Array(1)); // the agent learns of the stream
  }
  for (let i = 0; i < count; i++) {
    const stream = await t.agent.accept();
    const reader = stream.readable.getReader();
    void reader.read();
    writers.push(
      (async () => {
        const writer = stream.writable.getWriter();
        while (!stop) await writer.write(payload);
        await writer.close();
      })(),
    );
  }
  const startBytes = received;
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, DURATION));
  const bytes = received - startBytes;
  const elapsed = performance.now() - started;
  stop = true;
  await Promise.all(writers);
  await t.close();
  await Promise.allSettled(readers);
  return bytes / elapsed / 1000;
}

async function openClose(): Promise<number> {
  const t = await tunnel();
  let done = 0;
  let stop = false;
  const drain = (stream: Stream) =>
    stream.readable
      .getReader()
      .read()
      .catch(() => {});
  const accepting = (async () => {
    for (;;) {
      const stream: Stream | undefined = await t.agent.accept().catch(() => undefined);
      if (stream === undefined) return;
      void stream.writable.close();
      void drain(stream);
    }
  })();
  const loop = async () => {
    while (!stop) {
      const stream = t.server.open();
      void stream.writable.close();
      await drain(stream);
      await stream.closed;
      done++;
    }
  };
  const started = performance.now();
  const loops = Array.from({ length: 256 }, loop);
  await new Promise((resolve) => setTimeout(resolve, DURATION));
  const count = done;
  const elapsed = performance.now() - started;
  stop = true;
  await Promise.all(loops);
  await t.close();
  await accepting;
  return (count / elapsed) * 1000;
}

const fmt = (n: number) => n.toFixed(0).padStart(7);
console.log(
  `tunnel bench on ${runtime.name} ${runtime.version}, ${DURATION} ms per case, loopback WebSocket`,
);
const raw = await rawWebSocket();
console.log(`raw WS       ${fmt(raw)} MB/s`);
const one = await streams(1);
console.log(
  `1 stream     ${fmt(one)} MB/s  ${((one / raw) * 100).toFixed(0)} % of raw WS (target >= 70 %)`,
);
const many = await streams(64);
console.log(
  `64 streams   ${fmt(many)} MB/s  ${((many / raw) * 100).toFixed(0)} % of raw WS (target >= 80 %)`,
);
const opens = await openClose();
console.log(`open/close   ${fmt(opens)} streams/s (target >= 20000)`);
