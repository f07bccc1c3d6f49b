// The upstream port's two transports (docs/transport.md): an agent that offers
// `tether-yamux/1` gets yamux straight over the connection, one that offers only WebSocket
// (Piko's agents) gets yamux over WebSocket, and an agent meeting a server that refuses the
// offer falls back to WebSocket by itself. In-process server, real sockets.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { AgentListener } from '../../src/agent/listener.ts';
import { loadConfig, serverSettings } from '../../src/config/index.ts';
import {
  getHeader,
  type IncomingRequest,
  listTokens,
  type OutgoingResponse,
  serveHttp1,
} from '../../src/http1/index.ts';
import { createLogger } from '../../src/log/index.ts';
import { parseOrigin, UpstreamPool } from '../../src/pool/index.ts';
import {
  encodeClientFrame,
  runtime,
  TETHER_YAMUX,
  type WebSocketConn,
} from '../../src/runtime/index.ts';
import { type ServerHandle, startServer } from '../../src/server/index.ts';
import { Session, type Stream } from '../../src/tunnel/index.ts';
import { acceptKey, ServerWebSocketConn } from '../../src/ws/index.ts';
import { waitFor } from '../_harness/tunnel-sessions.ts';

const quiet = { heartbeatInterval: 0, heartbeatTimeout: 0 };
const log = createLogger({ level: 'error', write: () => {} });
const text = new TextEncoder();

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

async function inProcessServer(): Promise<ServerHandle> {
  const { config } = loadConfig(serverSettings, {
    flags: {
      'proxy.bind-addr': '127.0.0.1:0',
      'upstream.bind-addr': '127.0.0.1:0',
      'admin.bind-addr': '127.0.0.1:0',
    },
    env: {},
  });
  const server = await startServer(config, log);
  cleanup.push(() => server.close());
  return server;
}

/** A hand-driven agent session on the upstream port, offering the byte stream or not. */
async function agentSession(
  server: ServerHandle,
  endpoint: string,
  offerByteStream: boolean,
): Promise<{ ws: WebSocketConn; session: Session }> {
  let session: Session | undefined;
  const ws = await runtime.connectWebSocket(
    `ws://127.0.0.1:${server.upstreamPort}/piko/v1/upstream/${endpoint}`,
    {
      offerByteStream,
      handlers: {
        message: (_ws, data) => session?.receive(data),
        close: () => session?.transportClosed(new Error('closed')),
      },
    },
  );
  session = Session.client(ws, quiet);
  cleanup.push(() => session?.close());
  return { ws, session };
}

/**
 * Answers every stream with a 200 whose body is the sha256 of the request body, read to its
 * Content-Length as an HTTP agent does (the request's side of the stream stays open).
 */
async function serveHashes(session: Session): Promise<void> {
  for (;;) {
    let stream: Stream;
    try {
      stream = await session.accept();
    } catch {
      return;
    }
    void (async () => {
      const reader = stream.readable.getReader();
      let got = new Uint8Array(0);
      let want = -1;
      while (want < 0 || got.length < want) {
        const { done, value } = await reader.read();
        if (done) break;
        const next = new Uint8Array(got.length + value.length);
        next.set(got);
        next.set(value, got.length);
        got = next;
        const end = headEnd(got);
        if (want < 0 && end > 0) {
          const head = new TextDecoder().decode(got.subarray(0, end));
          want = end + Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        }
      }
      const digest = createHash('sha256')
        .update(got.subarray(headEnd(got)))
        .digest('hex');
      await stream.end(
        text.encode(`HTTP/1.1 200 OK\r\nContent-Length: 64\r\nConnection: close\r\n\r\n${digest}`),
      );
    })();
  }
}

function headEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i + 4;
    }
  }
  return -1;
}

/** POSTs `body` to the endpoint through the proxy port, retrying while it is not routable. */
async function postThrough(server: ServerHandle, endpoint: string, body: Uint8Array<ArrayBuffer>) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${server.proxyPort}/upload`, {
      method: 'POST',
      headers: { 'x-piko-endpoint': endpoint },
      body,
    });
    if (res.status !== 502 || Date.now() > deadline) return res;
    await res.arrayBuffer();
  }
}

describe('upstream port transports', () => {
  for (const [offer, name] of [
    [true, 'an agent offering tether-yamux/1 gets yamux straight over the connection'],
    [false, 'an agent offering only WebSocket (as Piko agents do) gets yamux over WebSocket'],
  ] as const) {
    test(name, async () => {
      const server = await inProcessServer();
      const { ws, session } = await agentSession(server, 'hashes', offer);
      assert.equal(ws.upgrade, offer ? TETHER_YAMUX : undefined);
      void serveHashes(session);
      // 8 MiB each way crosses many reads: yamux frames split anywhere must reassemble.
      const body = new Uint8Array(randomBytes(8 * 1024 * 1024));
      const res = await postThrough(server, 'hashes', body);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), createHash('sha256').update(body).digest('hex'));
      assert.equal(server.registry.all().length, 1);
    });
  }

  test('the byte stream ends cleanly: the agent closing its session unregisters it', async () => {
    const server = await inProcessServer();
    const { session } = await agentSession(server, 'leaving', true);
    await waitFor(() => server.registry.all().length === 1, 5000, 'the agent registered');
    session.close();
    await waitFor(() => server.registry.all().length === 0, 5000, 'the agent unregistered');
  });

  /**
   * A hand-written WebSocket client on the upstream port: the handshake is sent, and
   * `readUntil` gathers what the server sends into `got()` (what follows the 101's head).
   */
  async function rawWebSocket(server: ServerHandle, endpoint: string) {
    const conn = await runtime.connect({ host: '127.0.0.1', port: server.upstreamPort });
    cleanup.push(() => conn.close());
    const key = randomBytes(16).toString('base64');
    const reader = conn.reader();
    await conn.write(
      text.encode(
        `GET /piko/v1/upstream/${endpoint} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    let got = new Uint8Array(0);
    const readUntil = async (done: (bytes: Uint8Array) => boolean) => {
      while (!done(got)) {
        const { done: ended, value } = await reader.read();
        if (ended) break;
        const next = new Uint8Array(got.length + value.length);
        next.set(got);
        next.set(value, got.length);
        got = next;
      }
    };
    await readUntil((b) => headEnd(b) > 0);
    const head = new TextDecoder().decode(got.subarray(0, headEnd(got)));
    got = got.subarray(headEnd(got));
    return {
      conn,
      head,
      key,
      readUntil,
      got: () => got,
      consume: (n: number) => {
        got = got.subarray(n);
      },
    };
  }

  /** Where the first frame with `first` byte starts, skipping short frames before it; -1. */
  function frameAt(bytes: Uint8Array, first: number, length: number): number {
    let at = 0;
    while (at + 2 <= bytes.length && bytes[at] !== first) at += 2 + bytes[at + 1]!;
    return at + length <= bytes.length ? at : -1;
  }

  test('the WebSocket transport answers pings and refuses unmasked frames with 1002', async () => {
    const server = await inProcessServer();
    const ws = await rawWebSocket(server, 'pinger');
    assert.match(ws.head, /^HTTP\/1\.1 101 /);
    assert.equal(/\r\nsec-websocket-accept: *([^\r]*)\r\n/i.exec(ws.head)?.[1], acceptKey(ws.key));

    // A ping (opcode 9, masked as a client must) comes back as a pong with its payload; the
    // session's own yamux frames may come first, in short binary frames.
    await ws.conn.write(encodeClientFrame(0x9, text.encode('hi')));
    await ws.readUntil((b) => frameAt(b, 0x8a, 4) >= 0);
    const at = frameAt(ws.got(), 0x8a, 4);
    assert.deepEqual([...ws.got().subarray(at, at + 4)], [0x8a, 2, 0x68, 0x69]);
    ws.consume(at + 4);

    // An unmasked binary frame violates RFC 6455 §5.1: Close 1002, then the end.
    await ws.conn.write(new Uint8Array([0x82, 1, 0]));
    await ws.readUntil(() => false);
    assert.equal(ws.got()[0], 0x88, 'a Close frame');
    assert.equal((ws.got()[2]! << 8) | ws.got()[3]!, 1002);
  });

  test('the WebSocket transport answers a Close with a code no endpoint may send with 1002', async () => {
    const server = await inProcessServer();
    const ws = await rawWebSocket(server, 'closer');
    // 1005 is "no status received": reserved, never sent (RFC 6455 §7.4.1).
    await ws.conn.write(encodeClientFrame(0x8, Uint8Array.of(0x03, 0xed)));
    await ws.readUntil(() => false);
    const at = frameAt(ws.got(), 0x88, 4);
    assert.ok(at >= 0, 'a Close frame');
    assert.equal((ws.got()[at + 2]! << 8) | ws.got()[at + 3]!, 1002);
  });

  for (const transport of ['auto', 'websocket'] as const) {
    test(`a real agent with --connect.transport ${transport} serves requests over ${transport === 'auto' ? TETHER_YAMUX : 'WebSocket'}`, async () => {
      const server = await inProcessServer();
      const upstream = createServer((req, res) => {
        const hash = createHash('sha256');
        req.on('data', (chunk: Buffer) => hash.update(chunk));
        req.on('end', () => res.end(hash.digest('hex')));
      });
      await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
      cleanup.push(() => new Promise((resolve) => upstream.close(resolve)));
      const port = (upstream.address() as AddressInfo).port;
      const pool = new UpstreamPool({});
      const agent = new AgentListener({
        endpoint: transport,
        target: { protocol: 'http', origin: parseOrigin(`127.0.0.1:${port}`) },
        connectUrl: `http://127.0.0.1:${server.upstreamPort}`,
        token: undefined,
        transport,
        ca: undefined,
        session: quiet,
        pool,
        dialTimeout: 1000,
        log,
      });
      void agent.run().catch(() => {});
      cleanup.push(() => agent.close());
      await waitFor(() => agent.connected, 5000, 'the agent connected');
      assert.equal(
        agent.transport,
        transport === 'auto' ? TETHER_YAMUX : 'websocket',
        'the transport the agent negotiated',
      );
      const body = new Uint8Array(randomBytes(4 * 1024 * 1024));
      const res = await postThrough(server, transport, body);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), createHash('sha256').update(body).digest('hex'));
    });
  }

  // 426: tether servers before the byte stream; 400: strict WebSocket servers (Node's ws).
  for (const refusal of [426, 400] as const) {
    test(`an agent whose server refuses the offer (${refusal}) falls back to WebSocket by itself`, async () => {
      // A server that knows only `Upgrade: websocket`.
      const offers: string[] = [];
      const handler = async (req: IncomingRequest): Promise<OutgoingResponse> => {
        const upgrade = listTokens(req.head.headers, 'upgrade');
        offers.push(upgrade.join(', '));
        if (upgrade.length !== 1 || upgrade[0] !== 'websocket') {
          const body = text.encode('{"error":"expected a WebSocket upgrade"}');
          return {
            head: {
              status: refusal,
              reason: refusal === 426 ? 'Upgrade Required' : 'Bad Request',
              minor: 1,
              headers: [
                ['content-type', 'application/json'],
                ['content-length', String(body.length)],
              ],
            },
            body,
          };
        }
        const key = getHeader(req.head.headers, 'sec-websocket-key') ?? '';
        return {
          head: {
            status: 101,
            reason: 'Switching Protocols',
            minor: 1,
            headers: [
              ['Upgrade', 'websocket'],
              ['Connection', 'Upgrade'],
              ['Sec-WebSocket-Accept', acceptKey(key)],
            ],
          },
          body: null,
          upgrade: (client) => {
            let session: Session | undefined;
            const ws = new ServerWebSocketConn(
              client,
              client.reader(),
              {
                open: (conn) => {
                  session = Session.server(conn, { ...quiet, acceptStreams: false });
                  cleanup.push(() => session?.close());
                },
                message: (_conn, data) => session?.receive(data),
                close: () => session?.transportClosed(),
              },
              req.remoteAddress,
              { maxPayload: 1 << 20 },
            );
            ws.start();
          },
        };
      };
      const old = await runtime.listen({ host: '127.0.0.1', port: 0 }, (conn) => {
        serveHttp1(conn, handler, { keepAlive: { mode: 'off' } }).catch(() => {});
      });
      cleanup.push(() => old.close());

      const pool = new UpstreamPool({});
      const agent = new AgentListener({
        endpoint: `fallback-${refusal}`,
        target: { protocol: 'tcp', host: '127.0.0.1', port: 9 },
        connectUrl: `http://127.0.0.1:${old.port}`,
        token: undefined,
        transport: 'auto',
        ca: undefined,
        session: quiet,
        pool,
        dialTimeout: 1000,
        log,
      });
      const running = agent.run().catch((error: unknown) => error);
      cleanup.push(() => agent.close());
      await waitFor(() => agent.connected, 5000, 'the agent connected over WebSocket');
      assert.equal(agent.transport, 'websocket');
      assert.deepEqual(offers, [`${TETHER_YAMUX}, websocket`, 'websocket']);
      const [session] = agent.sessions;
      assert.ok(session && !session.isClosed);
      agent.close();
      assert.equal(await running, undefined, 'the agent ended without a fatal error');
    });
  }
});
