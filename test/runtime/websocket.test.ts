import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  type HttpServer,
  runtime,
  type WebSocketConn,
  type WebSocketHandlers,
  WebSocketHandshakeError,
} from '../../src/runtime/index.ts';
import { decoder, deferred, encoder, readText, waitFor, within } from './helpers.ts';

const host = '127.0.0.1';

interface Closed {
  code: number;
  reason: string;
}

/** Handlers that queue messages and record the close, for the test to await. */
function recorder() {
  const messages: (Uint8Array | string)[] = [];
  const waiters: (() => void)[] = [];
  const closed = deferred<Closed>();
  const handlers: WebSocketHandlers = {
    message(_ws, data) {
      messages.push(data);
      waiters.shift()?.();
    },
    close(_ws, code, reason) {
      closed.resolve({ code, reason });
    },
  };
  return {
    handlers,
    closed: closed.promise,
    async next(): Promise<Uint8Array | string> {
      while (messages.length === 0) {
        await within(new Promise<void>((resolve) => waiters.push(resolve)), 5000, 'a message');
      }
      return messages.shift()!;
    },
  };
}

/** Sends `total` bytes in 256 KiB messages, honouring backpressure; returns what was sent. */
async function sendBulk(ws: WebSocketConn, total: number) {
  const hash = createHash('sha256');
  let messages = 0;
  let waits = 0;
  for (let sent = 0; sent < total; ) {
    const chunk = new Uint8Array(randomBytes(Math.min(256 * 1024, total - sent)));
    hash.update(chunk);
    sent += chunk.byteLength;
    messages++;
    if (!ws.send(chunk)) {
      waits++;
      await within(ws.drained(), 10_000, 'drained()');
    }
  }
  return { messages, sha256: hash.digest('hex'), waits };
}

/** A receiver that hashes what it gets and is slow: it blocks a little on every message. */
function slowReceiver(expectedMessages: number) {
  const hash = createHash('sha256');
  let messages = 0;
  const done = deferred<void>();
  const receive = (data: Uint8Array | string) => {
    assert.ok(data instanceof Uint8Array);
    hash.update(data);
    messages++;
    const until = performance.now() + 1;
    while (performance.now() < until) {
      // Busy on purpose: the sender must not outrun a receiver that cannot keep up.
    }
    if (messages === expectedMessages) done.resolve();
  };
  return {
    receive,
    async result() {
      await within(done.promise, 30_000, `${expectedMessages} messages`);
      return { messages, sha256: hash.digest('hex') };
    },
  };
}

describe(`websocket (${runtime.name})`, () => {
  let server: HttpServer;
  let base: string;
  const seenHeaders: string[] = [];
  const serverSide: {
    conn: WebSocketConn | undefined;
    handlers: WebSocketHandlers | undefined;
  } = { conn: undefined, handlers: undefined };

  before(async () => {
    server = await runtime.serve({
      host,
      port: 0,
      fetch(request, info) {
        const path = new URL(request.url).pathname;
        if (path === '/auth' && request.headers.get('authorization') !== 'Bearer good') {
          return Response.json({ error: 'invalid token' }, { status: 401 });
        }
        if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
          return new Response('WebSocket only', { status: 426 });
        }
        seenHeaders.push(request.headers.get('x-tether-test') ?? '');
        if (path === '/echo' || path === '/auth') {
          return info.upgrade(
            {
              message: (ws, data) => ws.send(data),
              close: (ws, code, reason) => {
                // Echo the close the client sent (RFC 6455 §5.5.1).
                ws.close(code === 1006 || code === 1005 ? 1000 : code, reason);
              },
            },
            { protocol: request.headers.get('sec-websocket-protocol')?.split(',')[0] ?? '' },
          );
        }
        // /custom: the test supplies the handlers.
        const handlers = serverSide.handlers!;
        return info.upgrade({
          ...handlers,
          open(ws) {
            serverSide.conn = ws;
            handlers.open?.(ws);
          },
        });
      },
    });
    base = `ws://${host}:${server.port}`;
  });
  after(async () => {
    await server.shutdown();
  });

  test('binary and text messages of 1, 7, 64 KiB and 1 MiB round-trip intact', async () => {
    const client = recorder();
    const ws = await runtime.connectWebSocket(`${base}/echo`, { handlers: client.handlers });
    for (const size of [1, 7, 65536, 1024 * 1024]) {
      const binary = new Uint8Array(randomBytes(size));
      ws.send(binary);
      assert.deepEqual(await client.next(), binary);
      const text = randomBytes(size).toString('base64').slice(0, size);
      ws.send(text);
      assert.equal(await client.next(), text);
    }
    ws.close(1000, 'done');
    assert.deepEqual(await within(client.closed, 3000, 'close'), { code: 1000, reason: 'done' });
  });

  test('small messages are not held back by Nagle: 20 request/reply rounds well under 40 ms each', async () => {
    // The tunnel's pattern: a small message (a stream ACK) the peer does not answer, then
    // another (the response) shortly after. With Nagle on, as in Deno's global WebSocket,
    // the second waits for the peer's delayed ACK: about 40 ms a round. With TCP_NODELAY,
    // a few ms for all 20.
    serverSide.handlers = {
      message: (ws, data) => {
        if (typeof data !== 'string' && data[1] === 2) ws.send(data);
      },
      close() {},
    };
    const client = recorder();
    const ws = await runtime.connectWebSocket(`${base}/custom`, { handlers: client.handlers });
    const started = performance.now();
    for (let round = 0; round < 20; round++) {
      ws.send(Uint8Array.of(round, 1));
      await new Promise((resolve) => setTimeout(resolve, 1));
      ws.send(Uint8Array.of(round, 2));
      assert.deepEqual(await client.next(), Uint8Array.of(round, 2));
    }
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 400, `20 rounds took ${elapsed.toFixed(0)} ms`);
    ws.close();
    await within(client.closed, 3000, 'close');
  });

  test('sendCopies - an array overwritten right after send() still arrives as it was sent', async () => {
    const count = 32;
    const size = 1024 * 1024;
    // Sends `count` messages from one reused array (message i is all i), overwriting it
    // right after each send(), as the tunnel's shared message buffer does.
    const sendReusing = async (ws: WebSocketConn) => {
      const buffer = new Uint8Array(size);
      for (let i = 0; i < count; i++) {
        buffer.fill(i);
        const more = ws.send(buffer);
        buffer.fill(0xff);
        if (!more) await ws.drained();
      }
    };
    const check = (data: Uint8Array | string, i: number) => {
      assert.ok(data instanceof Uint8Array && data.byteLength === size, `message ${i} size`);
      assert.ok(
        data.every((b) => b === i),
        `message ${i} arrived intact`,
      );
    };
    let atServer = 0;
    const serverDone = deferred<void>();
    const opened = deferred<WebSocketConn>();
    serverSide.handlers = {
      open: (ws) => opened.resolve(ws),
      message: (_ws, data) => {
        check(data, atServer++);
        if (atServer === count) serverDone.resolve();
      },
      close() {},
    };
    const client = recorder();
    const ws = await runtime.connectWebSocket(`${base}/custom`, { handlers: client.handlers });
    const server = await opened.promise;
    let checked = 0;
    if (ws.sendCopies === true) {
      await sendReusing(ws);
      await within(serverDone.promise, 20_000, 'messages at the server');
      checked++;
    }
    if (server.sendCopies === true) {
      await sendReusing(server);
      for (let i = 0; i < count; i++) check(await client.next(), i);
      checked++;
    }
    // Bun claims it on both sides, the Deno client on its side.
    assert.ok(checked >= 1, 'at least one side reuses arrays');
    ws.close();
    await within(client.closed, 3000, 'close');
  });

  test('custom headers reach the server and the subprotocol is agreed', async () => {
    const client = recorder();
    const ws = await runtime.connectWebSocket(`${base}/echo`, {
      headers: { 'x-tether-test': 'header-value-42' },
      protocols: ['tether.v1'],
      handlers: client.handlers,
    });
    assert.equal(seenHeaders.at(-1), 'header-value-42');
    assert.equal(ws.protocol, 'tether.v1');
    ws.close();
    await within(client.closed, 3000, 'close');
  });

  test('a 401 before the upgrade rejects with its status and JSON body', async () => {
    await assert.rejects(
      runtime.connectWebSocket(`${base}/auth`, {
        headers: { authorization: 'Bearer bad' },
        handlers: recorder().handlers,
      }),
      (error: unknown) => {
        assert.ok(error instanceof WebSocketHandshakeError);
        assert.equal(error.status, 401);
        assert.deepEqual(JSON.parse(error.body), { error: 'invalid token' });
        assert.match(error.message, /^Cannot open WebSocket to .*: server answered 401$/);
        return true;
      },
    );
    // The same endpoint with the right token opens.
    const client = recorder();
    const ws = await runtime.connectWebSocket(`${base}/auth`, {
      headers: { authorization: 'Bearer good' },
      handlers: client.handlers,
    });
    ws.close();
    await within(client.closed, 3000, 'close');
  });

  test('connection refused rejects with an undefined status', async () => {
    const probe = await runtime.listen({ host, port: 0 }, (conn) => conn.close());
    await probe.close();
    await assert.rejects(
      runtime.connectWebSocket(`ws://${host}:${probe.port}/`, { handlers: recorder().handlers }),
      (error: unknown) => {
        assert.ok(error instanceof WebSocketHandshakeError);
        assert.equal(error.status, undefined);
        assert.match(error.message, /connection refused/);
        return true;
      },
    );
  });

  test('an aborted signal rejects the connect', async () => {
    await assert.rejects(
      runtime.connectWebSocket(`${base}/echo`, {
        signal: AbortSignal.abort(),
        handlers: recorder().handlers,
      }),
      { name: 'AbortError' },
    );
  });

  test('close codes and reasons are delivered both ways', async () => {
    // Client closes.
    const serverClosed = deferred<Closed>();
    serverSide.handlers = {
      message() {},
      close: (_ws, code, reason) => serverClosed.resolve({ code, reason }),
    };
    const first = recorder();
    const ws1 = await runtime.connectWebSocket(`${base}/custom`, { handlers: first.handlers });
    ws1.close(4001, 'client says bye');
    assert.deepEqual(await within(serverClosed.promise, 3000, 'server close'), {
      code: 4001,
      reason: 'client says bye',
    });
    await within(first.closed, 3000, 'client close');
    // Server closes.
    const opened = deferred<WebSocketConn>();
    serverSide.handlers = { open: (ws) => opened.resolve(ws), message() {}, close() {} };
    const second = recorder();
    await runtime.connectWebSocket(`${base}/custom`, { handlers: second.handlers });
    (await opened.promise).close(4002, 'server says bye');
    assert.deepEqual(await within(second.closed, 3000, 'client close'), {
      code: 4002,
      reason: 'server says bye',
    });
  });

  test('a connection dropped without a close frame reports 1006 on both sides', async () => {
    // Client side: a fake server completes the handshake by hand, then drops the TCP
    // connection.
    const fake = await runtime.listen({ host, port: 0 }, async (conn) => {
      const reader = conn.readable.getReader();
      let head = '';
      while (!head.includes('\r\n\r\n')) {
        const { value, done } = await reader.read();
        if (done) return;
        head += decoder.decode(value);
      }
      const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? '';
      const accept = createHash('sha1')
        .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
        .digest('base64');
      const writer = conn.writable.getWriter();
      await writer.write(
        encoder.encode(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
        ),
      );
      conn.close();
    });
    const client = recorder();
    await runtime
      .connectWebSocket(`ws://${host}:${fake.port}/`, { handlers: client.handlers })
      .catch(() => {});
    assert.equal((await within(client.closed, 3000, 'client close')).code, 1006);
    await fake.close();

    // Server side: a raw client sends a handshake, then drops the connection.
    const serverClosed = deferred<Closed>();
    const opened = deferred<void>();
    serverSide.handlers = {
      open: () => opened.resolve(),
      message() {},
      close: (_ws, code, reason) => serverClosed.resolve({ code, reason }),
    };
    const raw = await runtime.connect({ host, port: server.port });
    const writer = raw.writable.getWriter();
    await writer.write(
      encoder.encode(
        `GET /custom HTTP/1.1\r\nHost: ${host}:${server.port}\r\nUpgrade: websocket\r\n` +
          'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
          'Sec-WebSocket-Version: 13\r\n\r\n',
      ),
    );
    await within(opened.promise, 3000, 'server open');
    raw.close();
    assert.equal((await within(serverClosed.promise, 3000, 'server close')).code, 1006);
    void readText(raw.readable).catch(() => {});
  });

  test('64 MiB to a slow server-side receiver: nothing dropped, send() waits', async () => {
    const total = 64 * 1024 * 1024;
    const receiver = slowReceiver(total / (256 * 1024));
    serverSide.handlers = { message: (_ws, data) => receiver.receive(data), close() {} };
    const client = recorder();
    const ws = await runtime.connectWebSocket(`${base}/custom`, { handlers: client.handlers });
    const sent = await sendBulk(ws, total);
    const got = await receiver.result();
    assert.equal(got.messages, sent.messages);
    assert.equal(got.sha256, sent.sha256);
    assert.ok(sent.waits > 0, 'send() returned false at least once');
    ws.close();
    await within(client.closed, 3000, 'close');
  });

  test('64 MiB from the server to a slow client: nothing dropped, send() waits', async () => {
    const total = 64 * 1024 * 1024;
    const receiver = slowReceiver(total / (256 * 1024));
    const opened = deferred<WebSocketConn>();
    serverSide.handlers = { open: (ws) => opened.resolve(ws), message() {}, close() {} };
    const ws = await runtime.connectWebSocket(`${base}/custom`, {
      handlers: { message: (_ws, data) => receiver.receive(data), close() {} },
    });
    const sent = await sendBulk(await opened.promise, total);
    const got = await receiver.result();
    assert.equal(got.messages, sent.messages);
    assert.equal(got.sha256, sent.sha256);
    assert.ok(sent.waits > 0, 'send() returned false at least once');
    ws.close();
    await waitFor(() => ws.bufferedAmount === 0, 'client queue empty');
  });

  test('a message over maxWebSocketMessage closes with 1009', async () => {
    const small = await runtime.serve({
      host,
      port: 0,
      maxWebSocketMessage: 1024,
      fetch: (_request, info) => info.upgrade({ message: (ws, data) => ws.send(data), close() {} }),
    });
    try {
      const client = recorder();
      const ws = await runtime.connectWebSocket(`ws://${host}:${small.port}/`, {
        handlers: client.handlers,
      });
      ws.send(new Uint8Array(1024));
      assert.equal(((await client.next()) as Uint8Array).byteLength, 1024);
      ws.send(new Uint8Array(1025));
      assert.equal((await within(client.closed, 3000, 'close')).code, 1009);
    } finally {
      await small.shutdown();
    }
  });
});
