/**
 * Bad input on every port: garbage and oversized heads on the proxy port, a WebSocket on
 * the upstream port that breaks the tunnel protocol, garbage on the admin port. Each gets
 * a clear answer (or a clear log line) and a closed connection, and the server keeps
 * serving everyone else: a normal request through the tunnel succeeds after each.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Session } from '../../src/tunnel/index.ts';
import { stopAll } from '../_harness/process.ts';
import { type ServerProc, startAgent, startServer } from '../_harness/tether.ts';
import { rawExchange, viaEndpoint } from './_support.ts';

function statusLine(data: Buffer): string {
  const text = data.toString('latin1');
  return text.slice(0, text.indexOf('\r\n'));
}

function bodyOf(data: Buffer): string {
  const text = data.toString('latin1');
  return text.slice(text.indexOf('\r\n\r\n') + 4);
}

describe('bad input on every port', () => {
  let server: ServerProc;
  const upstream = createServer((_req, res) => res.end('fine'));

  /** A normal request through the tunnel still works. */
  async function stillServes(): Promise<void> {
    const res = await viaEndpoint(server.proxyUrl('/'), 'good', { timeoutMs: 5_000 });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'fine');
  }

  /** A runtime WebSocket to the upstream port that sends `message` once open. */
  async function rogueAgent(endpoint: string, message: string | Uint8Array) {
    const ws = new WebSocket(`ws://127.0.0.1:${server.upstreamPort}/piko/v1/upstream/${endpoint}`);
    ws.binaryType = 'arraybuffer';
    const closed = new Promise<number>((resolve) =>
      ws.addEventListener('close', (e) => resolve(e.code), { once: true }),
    );
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error('rogue agent could not connect')), {
        once: true,
      });
    });
    ws.send(message);
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('the server kept the broken session open')), 5_000),
    );
    return Promise.race([closed, timeout]);
  }

  /** The real tunnel code as an agent's session over the runtime's WebSocket. */
  async function agentSession(endpoint: string): Promise<Session> {
    const ws = new WebSocket(`ws://127.0.0.1:${server.upstreamPort}/piko/v1/upstream/${endpoint}`);
    ws.binaryType = 'arraybuffer';
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error(`agent ${endpoint} could not connect`)));
    });
    const session = Session.client({
      send: (bytes) => {
        ws.send(bytes);
        return true;
      },
      drained: () => Promise.resolve(),
      close: (code, reason) => ws.close(code, reason),
    });
    ws.addEventListener('message', (e) => session.receive(new Uint8Array(e.data as ArrayBuffer)));
    ws.addEventListener('close', () => session.transportClosed(new Error('closed')));
    return session;
  }

  /**
   * A yamux agent (the real tunnel code over the runtime's WebSocket) that answers every
   * stream with `answer`, then closes the stream.
   */
  async function lyingAgent(endpoint: string, answer: Uint8Array): Promise<() => void> {
    const session = await agentSession(endpoint);
    void (async () => {
      for (;;) {
        const stream = await session.accept().catch(() => undefined);
        if (!stream) return;
        void stream.readable.cancel().catch(() => {});
        const writer = stream.writable.getWriter();
        writer
          .write(answer)
          .then(() => writer.close())
          .catch(() => {});
      }
    })();
    return () => session.close();
  }

  before(async () => {
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    server = await startServer();
    await startAgent(server, 'http', 'good', String((upstream.address() as AddressInfo).port));
  });
  after(async () => {
    await stopAll();
    upstream.close();
  });

  test('proxy port: garbage bytes get 400 and a closed connection', async () => {
    const garbage = await rawExchange(server.proxyPort, randomBytes(4096));
    assert.equal(garbage.closed, true);
    assert.match(statusLine(garbage.data), /^HTTP\/1\.1 400 /);
    const text = await rawExchange(server.proxyPort, 'HELLO THERE\r\n\r\n');
    assert.equal(text.closed, true);
    assert.match(statusLine(text.data), /^HTTP\/1\.1 400 /);
    await stillServes();
  });

  test('proxy port: CONNECT gets 501 and a closed connection; bytes after it are never read as a request', async () => {
    // RFC 9110 §9.3.6: a client may send tunnel bytes right after CONNECT. Forwarded as a
    // plain request it got a 200 with Content-Length: 0, and those bytes were parsed next.
    const res = await rawExchange(
      server.proxyPort,
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nx-piko-endpoint: good\r\n\r\n' +
        'GET / HTTP/1.1\r\nHost: h\r\nx-piko-endpoint: good\r\n\r\n',
    );
    assert.equal(res.closed, true);
    assert.match(statusLine(res.data), /^HTTP\/1\.1 501 /);
    assert.match(res.data.toString('latin1'), /tether-error: connect-unsupported/);
    assert.equal(res.data.toString('latin1').match(/HTTP\/1\.1 /g)?.length, 1, 'one response only');
    await stillServes();
  });

  test('proxy port: an oversized head gets 431 and a closed connection', async () => {
    const bigHeader = await rawExchange(
      server.proxyPort,
      `GET / HTTP/1.1\r\nHost: good.example.com\r\nX-Big: ${'a'.repeat(200_000)}\r\n\r\n`,
    );
    assert.equal(bigHeader.closed, true);
    assert.match(statusLine(bigHeader.data), /^HTTP\/1\.1 431 /);
    const manyHeaders = await rawExchange(
      server.proxyPort,
      `GET / HTTP/1.1\r\nHost: good.example.com\r\n${'X-H: 1\r\n'.repeat(5000)}\r\n`,
    );
    assert.equal(manyHeaders.closed, true);
    assert.match(statusLine(manyHeaders.data), /^HTTP\/1\.1 431 /);
    const longTarget = await rawExchange(
      server.proxyPort,
      `GET /${'x'.repeat(200_000)} HTTP/1.1\r\nHost: good.example.com\r\n\r\n`,
    );
    assert.equal(longTarget.closed, true);
    assert.match(statusLine(longTarget.data), /^HTTP\/1\.1 414 URI Too Long\r?$/);
    await stillServes();
  });

  test('proxy port: a bad TCP-over-WebSocket request is refused with a clear error', async () => {
    const res = await rawExchange(
      server.proxyPort,
      'GET /_piko/v1/tcp/good HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    assert.match(statusLine(res.data), /^HTTP\/1\.1 400 /);
    assert.match(bodyOf(res.data), /expected a WebSocket upgrade/);
    // A malformed percent-encoding in the endpoint is the client's error, not ours.
    const badEscape = await rawExchange(
      server.proxyPort,
      'GET /_piko/v1/tcp/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    assert.match(statusLine(badEscape.data), /^HTTP\/1\.1 400 /);
    assert.deepEqual(JSON.parse(bodyOf(badEscape.data)), { error: 'invalid endpoint id' });
    await stillServes();
  });

  test('upstream port: a text message ends that session with a clear log line', async () => {
    const code = await rogueAgent('rogue-text', 'hello, I am not yamux');
    assert.notEqual(code, 1000);
    await server.proc.waitFor(/agent disconnected endpoint=rogue-text .*text message/, 5_000);
    await stillServes();
  });

  test('upstream port: garbage binary frames end that session with a clear log line', async () => {
    // Version 0xff, an unknown type: not a yamux header.
    const code = await rogueAgent('rogue-bytes', randomBytes(64).fill(0xff, 0, 2));
    assert.notEqual(code, 1000);
    await server.proc.waitFor(/agent disconnected endpoint=rogue-bytes .*(version|type)/i, 5_000);
    await stillServes();
  });

  test('upstream port: a stream an agent opens is refused with RST and the session lives', async () => {
    // Only the server opens streams (DESIGN.md): one the agent opens must not park a stream
    // and its window on the server that nobody will accept.
    const session = await agentSession('opener');
    try {
      const outcomes = await Promise.all(
        [session.open(), session.open()].map((s) =>
          s.accepted.then(
            () => 'accepted',
            (e: Error) => e.name,
          ),
        ),
      );
      assert.deepEqual(outcomes, ['StreamRefusedError', 'StreamRefusedError']);
      await server.proc.waitFor(/Refused inbound stream 1: this side accepts no streams/, 5_000);
      assert.equal(session.isClosed, false);
    } finally {
      session.close();
    }
    await stillServes();
  });

  test('upstream port: plain HTTP and garbage get errors, not a session', async () => {
    const plain = await fetch(`${server.upstreamUrl()}/piko/v1/upstream/good`);
    assert.equal(plain.status, 426);
    assert.deepEqual(await plain.json(), { error: 'expected a WebSocket upgrade' });
    const garbage = await rawExchange(server.upstreamPort, randomBytes(4096));
    assert.equal(garbage.closed, true);
    assert.doesNotMatch(statusLine(garbage.data), /^HTTP\/1\.1 [23]/);
    await stillServes();
  });

  test('an agent answering garbage or an endless head: the client gets a clear 502', async () => {
    const closeGarbage = await lyingAgent('liar', randomBytes(2048).fill(0x41, 0, 8));
    const closeEndless = await lyingAgent(
      'endless',
      new TextEncoder().encode(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(300_000)}`),
    );
    try {
      for (const endpoint of ['liar', 'endless']) {
        const res = await viaEndpoint(server.proxyUrl('/'), endpoint, { timeoutMs: 5_000 });
        assert.equal(res.status, 502, endpoint);
        assert.deepEqual(JSON.parse(res.body.toString()), { error: 'upstream unreachable' });
      }
    } finally {
      closeGarbage();
      closeEndless();
    }
    await stillServes();
  });

  test('an upstream answering with a transfer coding nobody asked for: 502, not bytes the client cannot decode', async () => {
    // Raw TCP: the test decides every byte. `gzip` without chunked would be read to the close
    // (RFC 9112 §6.3 item 4) and reached the client without its coding.
    const raw = createNetServer((socket) => {
      socket.once('data', () =>
        socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nnot really gzip'),
      );
      socket.on('error', () => {});
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    try {
      await startAgent(server, 'http', 'te', String((raw.address() as AddressInfo).port));
      const res = await viaEndpoint(server.proxyUrl('/'), 'te', { timeoutMs: 5_000 });
      assert.equal(res.status, 502);
      assert.equal(res.headers['tether-error'], 'bad-response');
      assert.match(JSON.parse(res.body.toString()).error, /transfer coding: gzip/);
    } finally {
      raw.close();
    }
    await stillServes();
  });

  test('admin port: garbage gets an error and a closed connection; health stays 200', async () => {
    const garbage = await rawExchange(server.adminPort, randomBytes(4096));
    assert.equal(garbage.closed, true);
    assert.doesNotMatch(statusLine(garbage.data), /^HTTP\/1\.1 [23]/);
    const big = await rawExchange(
      server.adminPort,
      `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(200_000)}\r\n\r\n`,
    );
    assert.equal(big.closed, true);
    assert.match(statusLine(big.data), /^HTTP\/1\.1 4\d\d /);
    assert.equal((await fetch(server.adminUrl('/health'))).status, 200);
    await stillServes();
  });
});
