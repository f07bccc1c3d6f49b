import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { stopAll } from '../_harness/process.ts';
import { agentCount, type ServerProc, startAgent, startServer } from '../_harness/tether.ts';
import { payloadChunks, payloadSha256, viaEndpoint, writeAll } from './_support.ts';

const BIG_MIB = 100;

function listen(server: Server): Promise<number> {
  return new Promise((r) =>
    server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)),
  );
}

function hashBody(req: IncomingMessage): Promise<{ sha: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (d: Buffer) => {
      hash.update(d);
      bytes += d.length;
    });
    req.on('end', () => resolve({ sha: hash.digest('hex'), bytes }));
    req.on('error', reject);
  });
}

describe('HTTP through the tunnel', () => {
  let server: ServerProc;
  // Events the client has received, by number; the SSE upstream waits on these.
  const seen = new Map<number, () => void>();
  const seenPromise = (n: number) => new Promise<void>((r) => seen.set(n, r));
  const sent: number[] = [];
  const hits = { a: 0, b: 0 };
  const endlessAborted = Promise.withResolvers<number>();

  const main = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/download') {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(BIG_MIB * 1024 * 1024),
      });
      await writeAll(res, payloadChunks(BIG_MIB));
      return;
    }
    if (url.pathname === '/endless') {
      // Writes until the client goes away; records when the upstream saw that.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.on('close', () => {
        if (!res.writableFinished) endlessAborted.resolve(Date.now());
      });
      for (const chunk of payloadChunks(1024)) {
        if (res.destroyed) return;
        if (!res.write(chunk)) {
          await new Promise<void>((r) => {
            res.once('drain', r);
            res.once('close', r);
          });
        }
      }
      res.end();
      return;
    }
    if (url.pathname === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (let n = 1; n <= 5; n++) {
        const received = seenPromise(n);
        sent.push(n);
        res.write(`id: ${n}\ndata: event ${n}\n\n`);
        // Event n+1 is written only once the client holds event n: a proxy that buffers
        // the stream stalls here and the client's per-event deadline fails the test.
        await received;
      }
      res.end();
      return;
    }
    const hashed = await hashBody(req).catch(() => undefined);
    if (!hashed) return; // the client went away: nothing to answer
    const { sha, bytes } = hashed;
    const body = JSON.stringify({ method: req.method, path: req.url, bytes, sha });
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'x-method': req.method ?? '',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  // Counts requests in progress at once, to show the 1 000 really overlapped.
  const concurrency = { now: 0, max: 0 };
  const letter = (name: 'a' | 'b') =>
    createServer((_req, res) => {
      hits[name]++;
      concurrency.max = Math.max(concurrency.max, ++concurrency.now);
      // Answer on the next turn, so requests that arrive together overlap here too.
      setTimeout(() => {
        concurrency.now--;
        res.end(name);
      }, 20);
    });
  const upstreamA = letter('a');
  const upstreamB = letter('b');

  before(async () => {
    const [mainPort, aPort, bPort] = await Promise.all([
      listen(main),
      listen(upstreamA),
      listen(upstreamB),
    ]);
    server = await startServer();
    await Promise.all([
      startAgent(server, 'http', 'main', String(mainPort)),
      startAgent(server, 'http', 'pair', String(aPort)),
      startAgent(server, 'http', 'pair', String(bPort)),
    ]);
  });
  after(async () => {
    await stopAll();
    for (const s of [main, upstreamA, upstreamB]) s.closeAllConnections();
    await Promise.all([main, upstreamA, upstreamB].map((s) => new Promise((r) => s.close(r))));
  });

  test('every method reaches the upstream with its body; HEAD gets headers only', async () => {
    const payload = 'tether method body';
    const sha = createHash('sha256').update(payload).digest('hex');
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      const withBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
      const res = await viaEndpoint(server.proxyUrl(`/m/${method}?q=1`), 'main', {
        method,
        ...(withBody ? { body: payload } : {}),
      });
      assert.equal(res.status, 200, method);
      const echoed = JSON.parse(res.body.toString()) as Record<string, unknown>;
      assert.deepEqual(
        echoed,
        {
          method,
          path: `/m/${method}?q=1`,
          bytes: withBody ? payload.length : 0,
          sha: withBody ? sha : createHash('sha256').digest('hex'),
        },
        method,
      );
    }
    const head = await viaEndpoint(server.proxyUrl('/m/HEAD'), 'main', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['x-method'], 'HEAD');
    assert.ok(Number(head.headers['content-length']) > 0, 'HEAD keeps the Content-Length');
    assert.equal(head.body.length, 0);
  });

  test(`a ${BIG_MIB} MiB request body arrives intact (sha256)`, { timeout: 60_000 }, async () => {
    const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        server.proxyUrl('/upload'),
        { method: 'POST', headers: { 'x-piko-endpoint': 'main' }, agent: false },
        (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      // Streamed (chunked): at most a few MiB of it exist at any time.
      writeAll(req, payloadChunks(BIG_MIB)).catch(reject);
    });
    assert.equal(result.status, 200);
    const echoed = JSON.parse(result.body) as { bytes: number; sha: string };
    assert.equal(echoed.bytes, BIG_MIB * 1024 * 1024);
    assert.equal(echoed.sha, payloadSha256(BIG_MIB));
  });

  test(`a ${BIG_MIB} MiB response body arrives intact (sha256)`, { timeout: 60_000 }, async () => {
    const result = await new Promise<{ status: number; bytes: number; sha: string }>(
      (resolve, reject) => {
        const req = request(
          server.proxyUrl('/download'),
          { headers: { 'x-piko-endpoint': 'main' }, agent: false },
          (res) => {
            const hash = createHash('sha256');
            let bytes = 0;
            res.on('data', (d: Buffer) => {
              hash.update(d);
              bytes += d.length;
            });
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, bytes, sha: hash.digest('hex') }),
            );
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
    assert.equal(result.status, 200);
    assert.equal(result.bytes, BIG_MIB * 1024 * 1024);
    assert.equal(result.sha, payloadSha256(BIG_MIB));
  });

  test('server-sent events arrive as they are sent, not buffered', async () => {
    const received: number[] = [];
    await new Promise<void>((resolve, reject) => {
      let deadline: ReturnType<typeof setTimeout> | undefined;
      const arm = () => {
        clearTimeout(deadline);
        deadline = setTimeout(
          () => reject(new Error(`Event ${received.length + 1} did not arrive within 5 s`)),
          5_000,
        );
      };
      const req = request(
        server.proxyUrl('/events'),
        { headers: { 'x-piko-endpoint': 'main', accept: 'text/event-stream' }, agent: false },
        (res) => {
          assert.equal(res.statusCode, 200);
          assert.equal(res.headers['content-type'], 'text/event-stream');
          let buffer = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            buffer += d;
            for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
              const event = buffer.slice(0, i);
              buffer = buffer.slice(i + 2);
              const n = Number(/^id: (\d+)$/m.exec(event)?.[1]);
              received.push(n);
              // The upstream has not written the next event yet: it waits for this one.
              assert.deepEqual(sent, received);
              seen.get(n)?.();
              arm();
            }
          });
          res.on('end', () => {
            clearTimeout(deadline);
            resolve();
          });
        },
      );
      req.on('error', reject);
      req.end();
      arm();
    });
    assert.deepEqual(received, [1, 2, 3, 4, 5]);
  });

  test('a client leaving mid-download cancels the upstream response within a second', async () => {
    const left = await new Promise<number>((resolve, reject) => {
      const req = request(
        server.proxyUrl('/endless'),
        { headers: { 'x-piko-endpoint': 'main' }, agent: false },
        (res) => {
          let bytes = 0;
          res.on('data', (d: Buffer) => {
            bytes += d.length;
            if (bytes >= 4 * 1024 * 1024) {
              req.destroy();
              resolve(Date.now());
            }
          });
        },
      );
      req.on('error', (error) => {
        if (!req.destroyed) reject(error);
      });
      req.end();
    });
    const aborted = await Promise.race([
      endlessAborted.promise,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('the upstream was never told')), 5_000),
      ),
    ]);
    assert.ok(aborted - left < 1_000, `the upstream saw the abort after ${aborted - left} ms`);
  });

  test('1 000 concurrent requests across 2 agents on one endpoint: 0 failures, both used', {
    timeout: 60_000,
  }, async () => {
    assert.equal(await agentCount(server, 'pair'), 2);
    hits.a = 0;
    hits.b = 0;
    const results = await Promise.allSettled(
      // One connection each (node:http, no agent): all 1 000 are in flight at once rather
      // than queued behind a client's per-host connection limit.
      Array.from({ length: 1000 }, async (_, i) => {
        const res = await viaEndpoint(server.proxyUrl(`/c/${i}`), 'pair', { timeoutMs: 30_000 });
        const body = res.body.toString();
        if (res.status !== 200 || (body !== 'a' && body !== 'b')) {
          throw new Error(`request ${i}: ${res.status} ${body}`);
        }
        return body;
      }),
    );
    const failures = results.filter((r) => r.status === 'rejected');
    assert.deepEqual(
      failures.slice(0, 3).map((f) => String((f as PromiseRejectedResult).reason)),
      [],
      `${failures.length} of 1000 failed`,
    );
    assert.equal(hits.a + hits.b, 1000);
    assert.ok(hits.a > 0 && hits.b > 0, `both agents used: a=${hits.a} b=${hits.b}`);
    assert.ok(concurrency.max >= 100, `at most ${concurrency.max} requests overlapped`);
  });
});
