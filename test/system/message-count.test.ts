// What one small proxied request costs on the wire between server and agent: the server
// sends the bodiless request with its FIN in one frame, and the agent answers a small
// response with head, body and FIN in one frame. Each extra message is a wake-up of the
// other process (measured: c=1 throughput +34 % once both held). In-process server, real
// WebSocket, a hand-driven agent session, and for the agent side the real forwarder.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { forwardHttpStream } from '../../src/agent/http-forwarder.ts';
import { loadConfig, serverSettings } from '../../src/config/index.ts';
import { serveHttp1, tunnelHopLimits } from '../../src/http1/index.ts';
import { createLogger } from '../../src/log/index.ts';
import { UpstreamPool } from '../../src/pool/index.ts';
import { type Listener, runtime } from '../../src/runtime/index.ts';
import { type ServerHandle, startServer } from '../../src/server/index.ts';
import { Flag, FrameType, Session, type Stream } from '../../src/tunnel/index.ts';
import { frames, readAll, sessionPair, waitFor } from '../_harness/tunnel-sessions.ts';

const quiet = { heartbeatInterval: 0, heartbeatTimeout: 0 };
const log = createLogger({ level: 'error', write: () => {} });
const text = new TextEncoder();

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

describe('wire economy of a small request', () => {
  test('the server sends a bodiless request and its FIN in one frame', async () => {
    const { config } = loadConfig(serverSettings, {
      flags: {
        'proxy.bind-addr': '127.0.0.1:0',
        'upstream.bind-addr': '127.0.0.1:0',
        'admin.bind-addr': '127.0.0.1:0',
      },
      env: {},
    });
    const server: ServerHandle = await startServer(config, log);
    cleanup.push(() => server.close());

    // A hand-driven agent: every message from the server is recorded before the session
    // decodes it.
    const received: Uint8Array[] = [];
    let session: Session | undefined;
    const ws = await runtime.connectWebSocket(
      `ws://127.0.0.1:${server.upstreamPort}/piko/v1/upstream/frames`,
      {
        headers: {},
        handlers: {
          message(_ws, data) {
            const bytes = typeof data === 'string' ? text.encode(data) : data;
            received.push(bytes.slice());
            session?.receive(bytes);
          },
          close() {
            session?.transportClosed(new Error('closed'));
          },
        },
      },
    );
    session = Session.client(ws, quiet);
    cleanup.push(() => session?.close());
    const serving = (async () => {
      const stream: Stream = await session.accept();
      const request = new TextDecoder().decode(await readAll(stream.readable));
      await stream.end(
        text.encode('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'),
      );
      return request;
    })();

    const deadline = Date.now() + 5000;
    let response: Response | undefined;
    while (response === undefined || response.status === 502) {
      assert.ok(Date.now() < deadline, 'endpoint never became routable');
      response = await fetch(`http://127.0.0.1:${server.proxyPort}/x`, {
        headers: { 'x-piko-endpoint': 'frames' },
      });
      if (response.status === 502) await response.arrayBuffer();
    }
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'ok');
    const request = await serving;
    assert.match(request, /^GET \/x HTTP\/1\.1\r\n/);

    const carrying = received.map(frames).filter((f) => f.some((x) => x.type === FrameType.Data));
    assert.equal(carrying.length, 1, 'the request head arrived in one message');
    const data = carrying[0]!.filter((f) => f.type === FrameType.Data);
    assert.equal(data.length, 1, 'in one Data frame');
    assert.equal(data[0]!.flags & Flag.FIN, Flag.FIN, 'that frame carries FIN');

    // A POST with Content-Length: 0 is as whole as its head: the same one frame with FIN,
    // not a head that waits for the ACK and an end that comes only with the response.
    received.length = 0;
    const posting = fetch(`http://127.0.0.1:${server.proxyPort}/y`, {
      method: 'POST',
      headers: { 'x-piko-endpoint': 'frames', 'content-length': '0' },
      body: '',
    });
    const post = await session.accept();
    const dataOf = () => received.flatMap(frames).filter((f) => f.type === FrameType.Data);
    await waitFor(() => dataOf().length > 0, 5000, 'the POST head');
    assert.equal(dataOf().length, 1, 'one Data frame');
    assert.equal(dataOf()[0]!.flags & Flag.FIN, Flag.FIN, 'that frame carries FIN');
    assert.match(
      new TextDecoder().decode(await readAll(post.readable)),
      /^POST \/y HTTP\/1\.1\r\n[\s\S]*\r\nContent-Length: 0\r\n/i,
    );
    await post.end(
      text.encode('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'),
    );
    const posted = await posting;
    assert.equal(posted.status, 200);
    assert.equal(await posted.text(), 'ok');
  });

  test('the agent answers a small response with head, body and FIN in one frame', async () => {
    const upstream: Listener = await runtime.listen({ host: '127.0.0.1', port: 0 }, (conn) => {
      void serveHttp1(
        conn,
        async () => ({
          head: { status: 200, reason: 'OK', minor: 1, headers: [['Content-Type', 'text/plain']] },
          body: text.encode('x'.repeat(64)),
        }),
        { keepAlive: { mode: 'timeout', ms: 5000 } },
      );
    });
    cleanup.push(() => upstream.close());
    const pool = new UpstreamPool();
    cleanup.push(() => pool.close());

    // The real forwarder on the agent's session; what the agent sends is recorded on the
    // way to the server's session.
    const pair = sessionPair(quiet, quiet);
    cleanup.push(() => pair.close());
    const fromAgent: Uint8Array[] = [];
    const deliver = pair.serverEnd.onMessage;
    pair.serverEnd.onMessage = (message) => {
      if (typeof message !== 'string') fromAgent.push(message.slice());
      deliver(message);
    };
    const agentSession = pair.client;
    const serverSession = pair.server;

    const forwarding = agentSession
      .accept()
      .then((stream) =>
        forwardHttpStream(
          stream,
          { protocol: 'http:', host: '127.0.0.1', port: upstream.port },
          pool,
          log,
        ),
      );
    const stream = serverSession.open();
    await stream.end(text.encode('GET / HTTP/1.1\r\nHost: upstream\r\n\r\n'));
    const reply = new TextDecoder().decode(await readAll(stream.readable));
    await forwarding;
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(reply.endsWith(`\r\n\r\n${'x'.repeat(64)}`));
    // The upstream's Content-Length is replaced by the agent's, not sent twice.
    assert.equal(reply.match(/^content-length:/gim)?.length, 1, reply);

    const data = fromAgent.flatMap(frames).filter((f) => f.type === FrameType.Data);
    assert.equal(data.length, 1, 'the response left the agent as one Data frame');
    assert.equal(data[0]!.flags & Flag.FIN, Flag.FIN, 'carrying FIN');
    assert.equal(data[0]!.length, reply.length);
  });
});

// Not about wire economy, but about the same forwarder on the same hand-driven session.
describe('agent forwarder errors', () => {
  test('a request head the agent cannot read is answered with its own status, phrase and code', async () => {
    const pool = new UpstreamPool();
    cleanup.push(() => pool.close());
    const pair = sessionPair(quiet, quiet);
    cleanup.push(() => pair.close());
    const forwarding = pair.client
      .accept()
      .then((stream) =>
        forwardHttpStream(stream, { protocol: 'http:', host: '127.0.0.1', port: 9 }, pool, log),
      );
    const stream = pair.server.open();
    // One more field than the tunnel hop allows (the client-facing limit plus room for what
    // the server adds).
    const fields = 'X: 1\r\n'.repeat(tunnelHopLimits.maxHeaders + 1);
    await stream.end(text.encode(`GET / HTTP/1.1\r\nHost: upstream\r\n${fields}\r\n`));
    const reply = new TextDecoder().decode(await readAll(stream.readable));
    await forwarding;
    assert.match(reply, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    assert.match(reply, /\r\ntether-error: too-many-headers\r\n/);
  });
});
