import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { stopAll } from '../_harness/process.ts';
import { type ServerProc, startAgent, startServer, tether } from '../_harness/tether.ts';
import {
  cleanupSupport,
  payloadChunks,
  payloadSha256,
  startWsUpstream,
  tcpConnect,
  type WsUpstream,
  writeAll,
} from './_support.ts';

const BIG_MIB = 100;

/** Messages of an open WebSocket, awaited one at a time. */
function messages(ws: WebSocket) {
  const queue: (string | ArrayBuffer)[] = [];
  let wake: (() => void) | undefined;
  ws.addEventListener('message', (e) => {
    queue.push(e.data as string | ArrayBuffer);
    wake?.();
  });
  return async (ms = 10_000): Promise<string | ArrayBuffer> => {
    const deadline = Date.now() + ms;
    while (queue.length === 0) {
      if (Date.now() > deadline) throw new Error(`No WebSocket message within ${ms} ms`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
    return queue.shift()!;
  };
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('close', (e) => reject(new Error(`closed before open: ${e.code}`)), {
      once: true,
    });
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    ws.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason }), {
      once: true,
    }),
  );
}

describe('WebSocket and TCP through the tunnel', () => {
  let server: ServerProc;
  let wsUpstream: WsUpstream;
  let forwardPort: number;
  // TCP echo upstream: echoes every byte and half-closes when the client does.
  const echo: Server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });

  before(async () => {
    wsUpstream = await startWsUpstream();
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const echoPort = (echo.address() as { port: number }).port;
    server = await startServer();
    await Promise.all([
      startAgent(server, 'http', 'ws-echo', String(wsUpstream.port)),
      startAgent(server, 'tcp', 'tcp-echo', String(echoPort)),
    ]);
    const forward = tether([
      'forward',
      'tcp',
      '127.0.0.1:0',
      'tcp-echo',
      '--connect.url',
      server.proxyUrl(''),
    ]);
    forwardPort = Number((await forward.waitFor(/forwarding local=[^\s]*:(\d+)/))[1]);
  });
  after(async () => {
    await stopAll();
    await wsUpstream?.stop();
    echo.close();
    cleanupSupport();
  });

  test('echo with the runtime WebSocket: subprotocol, text, binary up to 16 MiB, close code and reason', {
    timeout: 30_000,
  }, async () => {
    const url = `ws://127.0.0.1:${server.proxyPort}/chat`;
    const ws = new WebSocket(url, {
      protocols: ['nope', 'echo.v2'],
      headers: { 'x-piko-endpoint': 'ws-echo' },
    } as unknown as string[]);
    ws.binaryType = 'arraybuffer';
    const next = messages(ws);
    const done = closed(ws);
    await opened(ws);
    assert.equal(ws.protocol, 'echo.v2', "the upstream's choice of subprotocol reaches the client");

    ws.send('hello tether');
    assert.equal(await next(), 'hello tether');
    const unicode = 'héllo ✓ 🚀'.repeat(1000);
    ws.send(unicode);
    assert.equal(await next(), unicode);

    const small = new Uint8Array([0, 1, 2, 255, 254]);
    ws.send(small);
    assert.deepEqual(new Uint8Array((await next()) as ArrayBuffer), small);

    const big = new Uint8Array(16 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) % 251;
    ws.send(big);
    const back = new Uint8Array((await next(20_000)) as ArrayBuffer);
    assert.equal(back.length, big.length);
    assert.equal(
      createHash('sha256').update(back).digest('hex'),
      createHash('sha256').update(big).digest('hex'),
    );

    // The upstream closes with the code and reason we ask for.
    ws.send('close:4321:upstream says bye');
    assert.deepEqual(await done, { code: 4321, reason: 'upstream says bye' });
  });

  test('a close from the client reaches the upstream with its code and reason', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.proxyPort}/`, {
      headers: { 'x-piko-endpoint': 'ws-echo' },
    } as unknown as string[]);
    await opened(ws);
    const before = wsUpstream.closes.length;
    ws.close(4000, 'client leaves');
    await closed(ws);
    const deadline = Date.now() + 5_000;
    while (wsUpstream.closes.length === before && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(wsUpstream.closes.at(-1), { code: 4000, reason: 'client leaves' });
  });

  test(`TCP echo through tether forward: ${BIG_MIB} MiB both ways, sha256 compared`, {
    timeout: 60_000,
  }, async () => {
    const socket = await tcpConnect(forwardPort);
    const hash = createHash('sha256');
    let bytes = 0;
    const received = new Promise<void>((resolve, reject) => {
      socket.on('data', (d: Buffer) => {
        hash.update(d);
        bytes += d.length;
      });
      socket.on('end', () => resolve());
      socket.on('error', reject);
    });
    // Half-close after sending: the upstream echo ends its side once it has echoed all.
    await writeAll(socket, payloadChunks(BIG_MIB));
    await received;
    socket.destroy();
    assert.equal(bytes, BIG_MIB * 1024 * 1024);
    assert.equal(hash.digest('hex'), payloadSha256(BIG_MIB));
  });
});
