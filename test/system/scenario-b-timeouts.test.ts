/**
 * SCENARIOS.md B on a single node: the HTTP proxy timeout (`--proxy.timeout`, 300 ms here)
 * cuts a plain request that is slower than it, and never touches upgraded streams: a
 * WebSocket and a TCP stream through `tether forward`, each idle for 10× the timeout,
 * survive and still echo.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { stopAll } from '../_harness/process.ts';
import { type ServerProc, startAgent, startServer, tether } from '../_harness/tether.ts';
import { cleanupUpstreamScripts, startUpstream, type Upstream } from '../_harness/upstreams.ts';
import {
  cleanupSupport,
  startWsUpstream,
  tcpConnect,
  viaEndpoint,
  type WsUpstream,
} from './_support.ts';

const TIMEOUT_MS = 300;
const IDLE_MS = 10 * TIMEOUT_MS;

const idle = () => new Promise((r) => setTimeout(r, IDLE_MS)); // the scenario itself

describe('scenario B: HTTP timeouts never apply to upgraded streams', () => {
  let server: ServerProc;
  let wsUpstream: WsUpstream;
  let http: Upstream;
  let forwardPort: number;
  const echo: Server = createServer((socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });

  before(async () => {
    [wsUpstream, http] = await Promise.all([startWsUpstream(), startUpstream({ kind: 'raw' })]);
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    server = await startServer(['--proxy.timeout', `${TIMEOUT_MS}ms`]);
    await Promise.all([
      startAgent(server, 'http', 'ws', String(wsUpstream.port)),
      startAgent(server, 'http', 'web', String(http.port)),
      startAgent(server, 'tcp', 'tcp', String((echo.address() as { port: number }).port)),
    ]);
    const forward = tether(['forward', 'tcp', '0', 'tcp', '--connect.url', server.proxyUrl('')]);
    forwardPort = Number((await forward.waitFor(/forwarding local=[^\s]*:(\d+)/))[1]);
  });
  after(async () => {
    await stopAll();
    await Promise.all([wsUpstream?.stop(), http?.stop()]);
    echo.close();
    cleanupSupport();
    cleanupUpstreamScripts();
  });

  test(`WebSocket and TCP idle ${IDLE_MS} ms survive; plain HTTP slower than ${TIMEOUT_MS} ms gets 504`, {
    timeout: 30_000,
  }, async () => {
    const webSocket = async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.proxyPort}/`, {
        headers: { 'x-piko-endpoint': 'ws' },
      } as unknown as string[]);
      const inbox: string[] = [];
      let closedWith: number | undefined;
      ws.addEventListener('message', (e) => inbox.push(String(e.data)));
      ws.addEventListener('close', (e) => {
        closedWith = e.code;
      });
      await new Promise<void>((resolve, reject) => {
        ws.addEventListener('open', () => resolve(), { once: true });
        ws.addEventListener('error', () => reject(new Error('WebSocket failed to open')), {
          once: true,
        });
      });
      const echoOf = async (text: string) => {
        ws.send(text);
        const deadline = Date.now() + 5_000;
        while (!inbox.includes(text)) {
          if (closedWith !== undefined) throw new Error(`WebSocket closed (${closedWith})`);
          if (Date.now() > deadline) throw new Error(`No echo of ${text}`);
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      await echoOf('before');
      await idle();
      assert.equal(closedWith, undefined, 'the WebSocket is still open after the idle time');
      await echoOf('after');
      ws.close(1000);
    };

    const tcp = async () => {
      const socket = await tcpConnect(forwardPort);
      let received = '';
      let ended = false;
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => {
        received += d;
      });
      socket.on('close', () => {
        ended = true;
      });
      const echoOf = async (text: string) => {
        socket.write(text);
        const deadline = Date.now() + 5_000;
        while (!received.includes(text)) {
          if (ended) throw new Error('TCP stream closed');
          if (Date.now() > deadline) throw new Error(`No echo of ${text}`);
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      await echoOf('before;');
      await idle();
      assert.equal(ended, false, 'the TCP stream is still open after the idle time');
      await echoOf('after;');
      socket.destroy();
    };

    const plain = async () => {
      const slow = await viaEndpoint(server.proxyUrl('/slow'), 'web', {
        headers: { 'x-delay-ms': String(4 * TIMEOUT_MS) },
      });
      assert.equal(slow.status, 504);
      assert.deepEqual(JSON.parse(slow.body.toString()), { error: 'upstream timeout' });
      assert.equal(slow.headers['tether-error'], 'upstream-timeout');
      assert.ok(slow.ms < 4 * TIMEOUT_MS, `the 504 came after ${slow.ms} ms`);
      const fast = await viaEndpoint(server.proxyUrl('/fast'), 'web');
      assert.equal(fast.status, 200);
      assert.equal(fast.body.toString(), 'ok');
    };

    await Promise.all([webSocket(), tcp(), plain()]);
  });

  test(`an upload slower than --proxy.timeout is not cut: the timer starts once the request is sent`, {
    timeout: 15_000,
  }, async () => {
    const chunks = 10;
    const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        server.proxyUrl('/upload'),
        {
          method: 'POST',
          headers: { 'x-piko-endpoint': 'web', 'content-length': String(chunks * 100) },
        },
        (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      // A slow client: the whole upload takes about 3× the proxy timeout.
      let sent = 0;
      const tick = () => {
        req.write('x'.repeat(100));
        if (++sent < chunks) setTimeout(tick, TIMEOUT_MS / 3);
        else req.end();
      };
      tick();
    });
    assert.equal(result.status, 200, result.body);
  });
});
