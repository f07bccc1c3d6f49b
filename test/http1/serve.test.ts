// serveHttp1 over real TCP (runtime.listen / runtime.connect), with raw clients, curl and
// fetch. Every server binds 127.0.0.1; every wait is bounded.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import {
  type IncomingRequest,
  type OutgoingResponse,
  type ServeHttp1Options,
  serveHttp1,
  type UpgradedClient,
} from '../../src/http1/index.ts';
import { type Listener, runtime } from '../../src/runtime/index.ts';
import { survivors } from '../_harness/gc.ts';
import { waitFor } from '../_harness/tunnel-sessions.ts';
import { bytes, readAll, text } from './helpers.ts';
import { header, RawClient } from './tcp-client.ts';

type Handler = (req: IncomingRequest) => Promise<OutgoingResponse>;

const listeners: Listener[] = [];
after(async () => {
  for (const l of listeners) await l.close();
});

async function serve(handler: Handler, options: ServeHttp1Options) {
  const errors: unknown[] = [];
  const done: Promise<void>[] = [];
  const listener = await runtime.listen({ host: '127.0.0.1', port: 0 }, (conn) => {
    done.push(serveHttp1(conn, handler, { onError: (e) => errors.push(e), ...options }));
  });
  listeners.push(listener);
  return { port: listener.port, errors, done };
}

const ok = (body: string | ReadableStream<Uint8Array> | null = 'ok'): OutgoingResponse => ({
  head: { status: 200, reason: 'OK', minor: 1, headers: [['Content-Type', 'text/plain']] },
  body: typeof body === 'string' ? bytes(body) : body,
});

function streamBody(...parts: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    pull(c) {
      const p = parts.shift();
      if (p === undefined) c.close();
      else c.enqueue(bytes(p));
    },
  });
}

const get = (path = '/', extra = '') => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

describe('http1 serveHttp1', () => {
  test('101 that cannot be delivered: the handler hears abandon, never upgrade', async () => {
    let upgraded = false;
    let abandoned!: (reason: unknown) => void;
    const abandonedNow = new Promise<unknown>((r) => {
      abandoned = r;
    });
    await serve(
      async () => ({
        head: { status: 101, reason: 'Switching Protocols', minor: 1, headers: [['Upgrade', 'x']] },
        body: null,
        upgrade: () => {
          upgraded = true;
        },
        abandon: (reason) => abandoned(reason),
      }),
      { keepAlive: { mode: 'forever' } },
    ).then(async ({ port }) => {
      // Half a request body, then the client leaves: the switch can never happen.
      const c = await RawClient.connect(port);
      await c.write(
        'GET / HTTP/1.1\r\nHost: t\r\nUpgrade: x\r\nConnection: upgrade\r\nContent-Length: 10\r\n\r\nabcde',
      );
      c.close();
    });
    const reason = await Promise.race([
      abandonedNow,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('abandon was not called')), 3000),
      ),
    ]);
    assert.ok(reason instanceof Error);
    assert.equal(upgraded, false);
  });

  test('headTimeout: a head that stalls half-way gets 408 and the connection closes; bodies are not timed', async () => {
    const { port } = await serve(
      async (req) => {
        await readAll(req.body);
        return ok('done');
      },
      { keepAlive: { mode: 'forever' }, headTimeout: 300 },
    );
    // Half a head, then nothing: a slow-head client.
    const slow = await RawClient.connect(port);
    const started = Date.now();
    await slow.write('GET / HTTP/1.1\r\nHost: t\r\n');
    const res = await slow.response(3000);
    assert.match(res.head, /^HTTP\/1\.1 408 /);
    assert.match(res.body, /Request head not complete within 300 ms/);
    const closedAfter = (await slow.untilEof(2000)) - started;
    assert.ok(closedAfter < 1500, `closed after ${closedAfter} ms`);
    slow.close();

    // An idle keep-alive connection is not a slow head, and a slow body is not timed.
    const c = await RawClient.connect(port);
    await c.write(get());
    assert.equal((await c.response()).body, 'done');
    await new Promise((r) => setTimeout(r, 600)); // idle between requests: the scenario
    await c.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nab');
    await new Promise((r) => setTimeout(r, 600)); // a body slower than headTimeout
    await c.write('cd');
    const posted = await c.response();
    assert.match(posted.head, /^HTTP\/1\.1 200 /);
    assert.equal(posted.body, 'done');
    c.close();
  });

  test('headTimeout: no timer for a head that arrived whole, one for a head still arriving', async () => {
    // Counts the timers armed for the head limit (a distinctive delay) while requests are
    // served: a timer per request cost time on every request before.
    const headMs = 4321;
    const realSetTimeout = globalThis.setTimeout;
    let headTimers = 0;
    globalThis.setTimeout = ((fn: () => void, ms?: number, ...args: unknown[]) => {
      if (ms === headMs) headTimers++;
      return realSetTimeout(fn, ms, ...args);
    }) as typeof setTimeout;
    try {
      const { port } = await serve(async () => ok('done'), {
        keepAlive: { mode: 'forever' },
        headTimeout: headMs,
      });
      const c = await RawClient.connect(port);
      for (let i = 0; i < 20; i++) {
        await c.write(get(`/${i}`));
        assert.equal((await c.response()).body, 'done');
      }
      assert.equal(headTimers, 0, 'timers armed for heads that arrived whole');
      // Half a head: the limit now applies, and the rest still completes the request.
      await c.write('GET /late HTTP/1.1\r\n');
      await waitFor(() => headTimers === 1, 2000, 'the head timer');
      await c.write('Host: t\r\n\r\n');
      assert.equal((await c.response()).body, 'done');
      c.close();
    } finally {
      globalThis.setTimeout = realSetTimeout;
    }
  });

  test('keep-alive off: Connection: close and EOF right after the response', async () => {
    const { port } = await serve(async () => ok(streamBody('a', 'b')), {
      keepAlive: { mode: 'off' },
    });
    const c = await RawClient.connect(port);
    await c.write(get());
    const res = await c.response();
    const at = Date.now();
    assert.equal(header(res.head, 'connection'), 'close');
    assert.equal(res.body, 'ab');
    assert.ok((await c.untilEof(1000)) - at < 200, 'EOF within 200 ms of the response');
    c.close();
  });

  test('keep-alive timeout: advertised, idle connection closed, activity keeps it open', async () => {
    const { port } = await serve(async () => ok(), { keepAlive: { mode: 'timeout', ms: 300 } });
    const c = await RawClient.connect(port);
    for (let i = 0; i < 5; i++) {
      await c.write(get(`/${i}`));
      const res = await c.response();
      assert.equal(header(res.head, 'keep-alive'), 'timeout=0');
      assert.equal(header(res.head, 'connection'), undefined);
      // 150 ms gaps: 750 ms in total, more than the 300 ms idle limit.
      await new Promise((r) => setTimeout(r, 150));
    }
    assert.equal(c.eof, false);
    const idleFrom = Date.now();
    const eofAt = await c.untilEof(2000);
    assert.ok(eofAt - idleFrom >= 100, 'not closed early');
    assert.ok(eofAt - idleFrom < 1000, `closed ${eofAt - idleFrom} ms after going idle`);
    c.close();
  });

  test('keep-alive timeout is advertised in whole seconds', async () => {
    const { port } = await serve(async () => ok(), {
      keepAlive: { mode: 'timeout', ms: 620_000 },
    });
    const c = await RawClient.connect(port);
    await c.write(get());
    assert.equal(header((await c.response()).head, 'keep-alive'), 'timeout=620');
    c.close();
  });

  test('keep-alive forever: an idle connection stays open', async () => {
    const { port } = await serve(async () => ok(), { keepAlive: { mode: 'forever' } });
    const c = await RawClient.connect(port);
    await c.write(get());
    await c.response();
    await new Promise((r) => setTimeout(r, 600));
    await c.write(get('/again'));
    assert.equal((await c.response()).body, 'ok');
    assert.equal(c.eof, false);
    c.close();
  });

  test('client Connection: close and HTTP/1.0 without keep-alive end the connection', async () => {
    const { port } = await serve(async () => ok(), { keepAlive: { mode: 'forever' } });
    const a = await RawClient.connect(port);
    await a.write(get('/', 'Connection: close\r\n'));
    assert.equal(header((await a.response()).head, 'connection'), 'close');
    await a.untilEof(1000);
    a.close();
    const b = await RawClient.connect(port);
    await b.write('GET / HTTP/1.0\r\n\r\n');
    assert.equal(header((await b.response()).head, 'connection'), 'close');
    await b.untilEof(1000);
    b.close();
    const k = await RawClient.connect(port);
    await k.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    assert.equal(header((await k.response()).head, 'connection'), 'keep-alive');
    await k.write('GET /2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    assert.equal((await k.response()).body, 'ok');
    k.close();
  });

  test('drain signal: busy connection answers with Connection: close, idle one closes', async () => {
    const drain = new AbortController();
    const { port } = await serve(
      async (req) => {
        if (req.head.target === '/drain') drain.abort();
        return ok();
      },
      { keepAlive: { mode: 'forever' }, drainSignal: drain.signal },
    );
    const idle = await RawClient.connect(port);
    await idle.write(get());
    assert.equal(header((await idle.response()).head, 'connection'), undefined);
    const busy = await RawClient.connect(port);
    await busy.write(get('/drain'));
    assert.equal(header((await busy.response()).head, 'connection'), 'close');
    await busy.untilEof(1000);
    await idle.untilEof(1000);
    idle.close();
    busy.close();
  });

  test('unknown length: chunked to HTTP/1.1, close-delimited with Connection: close to 1.0', async () => {
    const { port } = await serve(async () => ok(streamBody('hello ', 'world')), {
      keepAlive: { mode: 'forever' },
    });
    const a = await RawClient.connect(port);
    await a.write(get());
    const res = await a.response();
    assert.equal(header(res.head, 'transfer-encoding'), 'chunked');
    assert.equal(res.body, 'hello world');
    a.close();
    const b = await RawClient.connect(port);
    await b.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    await b.untilEof(1000);
    const [head, body] = b.received.split('\r\n\r\n');
    assert.equal(header(head!, 'connection'), 'close');
    assert.equal(header(head!, 'transfer-encoding'), undefined);
    assert.equal(header(head!, 'content-length'), undefined);
    assert.equal(body, 'hello world');
    b.close();
  });

  test('a declared Content-Length on a stream body is kept', async () => {
    const handler = async () => {
      const r = ok(streamBody('abc'));
      r.head.headers.push(['Content-Length', '3']);
      return r;
    };
    const { port } = await serve(handler, { keepAlive: { mode: 'forever' } });
    const c = await RawClient.connect(port);
    await c.write(get());
    const res = await c.response();
    assert.equal(header(res.head, 'content-length'), '3');
    assert.equal(header(res.head, 'transfer-encoding'), undefined);
    c.close();
  });

  test('HEAD gets the head only; the next response follows directly', async () => {
    const { port } = await serve(async () => ok('hello'), { keepAlive: { mode: 'forever' } });
    const c = await RawClient.connect(port);
    await c.write(`HEAD / HTTP/1.1\r\nHost: t\r\n\r\n${get('/next')}`);
    await c.until((r) => r.split('HTTP/1.1 200').length === 3 && r.endsWith('hello'));
    const [first, second] = c.received.split(/(?=HTTP\/1\.1 200)/);
    assert.match(first!, /\r\nContent-Length: 5\r\n/);
    assert.ok(first!.endsWith('\r\n\r\n'), 'no body after the HEAD response head');
    assert.ok(second!.endsWith('\r\n\r\nhello'));
    c.close();
  });

  test('pipelined requests are answered in order, one after the other', async () => {
    let running = 0;
    let overlap = false;
    const handler: Handler = async (req) => {
      running++;
      if (running > 1) overlap = true;
      await new Promise((r) => setTimeout(r, req.head.target === '/slow' ? 100 : 0));
      running--;
      return ok(req.head.target);
    };
    const { port } = await serve(handler, { keepAlive: { mode: 'forever' } });
    const c = await RawClient.connect(port);
    await c.write(get('/slow') + get('/fast') + get('/third'));
    assert.equal((await c.response()).body, '/slow');
    assert.equal((await c.response()).body, '/fast');
    assert.equal((await c.response()).body, '/third');
    assert.equal(overlap, false);
    c.close();
  });

  test('a bad head gets a 400 JSON response and the connection closes', async () => {
    const { port } = await serve(async () => ok(), { keepAlive: { mode: 'forever' } });
    const c = await RawClient.connect(port);
    await c.write('GET / HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n');
    const res = await c.response();
    assert.match(res.head, /^HTTP\/1\.1 400 Bad Request/);
    assert.equal(header(res.head, 'content-type'), 'application/json');
    assert.equal(header(res.head, 'connection'), 'close');
    assert.equal(header(res.head, 'tether-error'), 'invalid-header');
    assert.equal(typeof JSON.parse(res.body).error, 'string');
    await c.untilEof(1000);
    c.close();
  });

  test('framing errors get their status: TE+CL 400, unknown coding 501, too large 431', async () => {
    const { port } = await serve(async () => ok(), { keepAlive: { mode: 'forever' } });
    const cases: [string, number, string][] = [
      [get('/', 'Content-Length: 1\r\nTransfer-Encoding: chunked\r\n'), 400, 'te-and-cl'],
      [get('/', 'Transfer-Encoding: gzip, chunked\r\n'), 501, 'unsupported-te'],
      [get('/', 'X: 1\r\n'.repeat(200)), 431, 'too-many-headers'],
    ];
    for (const [raw, status, code] of cases) {
      const c = await RawClient.connect(port);
      await c.write(raw);
      const { head } = await c.response();
      assert.match(head, new RegExp(`^HTTP/1\\.1 ${status} `));
      assert.equal(header(head, 'tether-error'), code);
      await c.untilEof(1000);
      c.close();
    }
  });

  test('an unread small body is drained; its bytes are never parsed as a request', async () => {
    const seen: string[] = [];
    const { port } = await serve(
      async (req) => {
        seen.push(req.head.target);
        return ok();
      },
      { keepAlive: { mode: 'forever' } },
    );
    const c = await RawClient.connect(port);
    const smuggled = get('/smuggled');
    await c.write(
      `POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}${get('/b')}`,
    );
    await c.response();
    await c.response();
    assert.deepEqual(seen, ['/a', '/b']);
    c.close();
  });

  test('an unread large body closes the connection after the response', async () => {
    const seen: string[] = [];
    const { port } = await serve(
      async (req) => {
        seen.push(req.head.target);
        return ok();
      },
      { keepAlive: { mode: 'forever' } },
    );
    const c = await RawClient.connect(port);
    const size = 1024 * 1024;
    await c.write(`POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: ${size}\r\n\r\n`);
    const filler = get('/smuggled').padEnd(1024, 'x');
    const sending = (async () => {
      for (let i = 0; i < size / 1024; i++) await c.write(filler);
    })().catch(() => {});
    await c.response();
    await c.untilEof(3000);
    await sending;
    assert.deepEqual(seen, ['/big']);
    c.close();
  });

  test('Expect: 100-continue gets 100 Continue when the handler reads the body', async () => {
    const { port } = await serve(async (req) => ok(`got ${text(await readBytes(req.body))}`), {
      keepAlive: { mode: 'forever' },
    });
    const c = await RawClient.connect(port);
    await c.write(
      'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n',
    );
    const interim = await c.response();
    assert.match(interim.head, /^HTTP\/1\.1 100 Continue/);
    await c.write('data');
    assert.equal((await c.response()).body, 'got data');
    c.close();
  });

  test('Expect: 100-continue with Content-Length: 0 is a request without body: no 100, and an unread body does not end the connection', async () => {
    const { port } = await serve(async (req) => ok(req.head.target), {
      keepAlive: { mode: 'forever' },
    });
    const c = await RawClient.connect(port);
    await c.write(
      'POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n',
    );
    // The first thing back is the final response, not an interim 100.
    const first = await c.response();
    assert.match(first.head, /^HTTP\/1\.1 200 /);
    assert.equal(header(first.head, 'connection'), undefined);
    assert.equal(first.body, '/a');
    await c.write(get('/b'));
    const second = await c.response();
    assert.equal(second.body, '/b');
    c.close();
  });

  test('informational() sends an interim response ahead of the final one, never to HTTP/1.0 clients', async () => {
    const { port } = await serve(
      async (req) => {
        await req.informational({
          status: 103,
          reason: 'Early Hints',
          minor: 1,
          headers: [['Link', '</a.css>; rel=preload']],
        });
        return ok('final');
      },
      { keepAlive: { mode: 'forever' } },
    );
    const c = await RawClient.connect(port);
    await c.write(get('/'));
    const interim = await c.response();
    assert.match(interim.head, /^HTTP\/1\.1 103 Early Hints\r\nLink: <\/a\.css>; rel=preload$/);
    assert.equal((await c.response()).body, 'final');
    c.close();
    const old = await RawClient.connect(port);
    await old.write('GET / HTTP/1.0\r\nHost: t\r\n\r\n');
    const only = await old.response();
    assert.match(only.head, /^HTTP\/1\.1 200 /);
    assert.equal(only.body, 'final');
    old.close();
  });

  test('informational() refuses 100, 101 and final statuses', async () => {
    const refused: string[] = [];
    const { port } = await serve(
      async (req) => {
        for (const status of [100, 101, 200]) {
          await req
            .informational({ status, reason: '', minor: 1, headers: [] })
            .catch((error: Error) => refused.push(`${status} ${error.name}`));
        }
        return ok('final');
      },
      { keepAlive: { mode: 'forever' } },
    );
    const c = await RawClient.connect(port);
    await c.write(get('/'));
    const res = await c.response();
    assert.match(res.head, /^HTTP\/1\.1 200 /);
    assert.deepEqual(refused, ['100 RangeError', '101 RangeError', '200 RangeError']);
    c.close();
  });

  test('101 upgrade hands raw bytes both ways, including bytes sent with the head', async () => {
    const { port } = await serve(
      async () => ({
        head: {
          status: 101,
          reason: 'Switching Protocols',
          minor: 1,
          headers: [
            ['Connection', 'Upgrade'],
            ['Upgrade', 'echo'],
          ],
        },
        body: null,
        async upgrade(client) {
          // Echo, upper-cased, until the client ends.
          await client.readable
            .pipeThrough(
              new TransformStream<Uint8Array, Uint8Array>({
                transform: (chunk, c) => c.enqueue(bytes(text(chunk).toUpperCase())),
              }),
            )
            .pipeTo(client.writable);
        },
      }),
      { keepAlive: { mode: 'forever' } },
    );
    const c = await RawClient.connect(port);
    await c.write(`${get('/', 'Connection: Upgrade\r\nUpgrade: echo\r\n')}early `);
    await c.until((r) => r.includes('\r\n\r\nEARLY '));
    assert.match(c.received, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    await c.write('later');
    await c.until((r) => r.endsWith('EARLY LATER'));
    await c.end();
    await c.untilEof(1000);
    c.close();
  });

  test('an upgraded connection lets go of its request: the head and body are not kept for its life', async () => {
    const requests: WeakRef<object>[] = [];
    const clients: UpgradedClient[] = [];
    const { port } = await serve(
      async (req) => {
        requests.push(new WeakRef(req), new WeakRef(req.head), new WeakRef(req.body));
        return {
          head: {
            status: 101,
            reason: 'Switching Protocols',
            minor: 1,
            headers: [
              ['Connection', 'Upgrade'],
              ['Upgrade', 'echo'],
            ],
          },
          body: null,
          // The handler's response and this function go; the connection stays.
          upgrade: (client) => {
            clients.push(client);
          },
        };
      },
      { keepAlive: { mode: 'forever' } },
    );
    const c = await RawClient.connect(port);
    await c.write(get('/', 'Connection: Upgrade\r\nUpgrade: echo\r\n'));
    await c.until((r) => r.includes('\r\n\r\n'));
    await waitFor(() => clients.length === 1);
    assert.equal(await survivors(requests), 0, 'request, head and body collected');
    // The connection itself still works, read and written directly.
    const reader = clients[0]!.reader();
    await c.write('ping');
    const { value } = await reader.read();
    assert.equal(text(value!), 'ping');
    await clients[0]!.write(bytes('pong'));
    await c.until((r) => r.endsWith('pong'));
    c.close();
  });

  for (const [how, watch] of [
    ['signal', (req: IncomingRequest, fn: () => void) => req.signal.addEventListener('abort', fn)],
    ['watchAbort', (req: IncomingRequest, fn: () => void) => req.watchAbort(fn)],
  ] as const) {
    test(`client disconnect aborts IncomingRequest (${how}) within a second`, async () => {
      let aborted: () => void;
      const abortedP = new Promise<void>((r) => {
        aborted = r;
      });
      let started: () => void;
      const startedP = new Promise<void>((r) => {
        started = r;
      });
      const { port } = await serve(
        (req) =>
          new Promise((resolve) => {
            started();
            watch(req, () => {
              aborted();
              resolve(ok());
            });
          }),
        { keepAlive: { mode: 'forever' } },
      );
      const c = await RawClient.connect(port);
      await c.write(get());
      await startedP;
      const at = Date.now();
      c.close();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        abortedP,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('signal not aborted within 1 s')), 1000);
        }),
      ]);
      clearTimeout(timer);
      assert.ok(Date.now() - at < 1000);
    });
  }

  test('IncomingRequest.signal never aborts once its response is complete, nor runs a watchAbort', async () => {
    // The proxy leaves its watch on the request after the response: only safe with this.
    const signals: AbortSignal[] = [];
    const watched: string[] = [];
    const { port, done } = await serve(
      async (req) => {
        signals.push(req.signal);
        req.watchAbort(() => watched.push(req.head.target));
        return ok();
      },
      { keepAlive: { mode: 'forever' } },
    );
    const c = await RawClient.connect(port);
    await c.write(get('/a'));
    await c.until((r) => r.split('\r\n\r\nok').length === 2);
    await c.write(get('/b'));
    await c.until((r) => r.split('\r\n\r\nok').length === 3);
    c.close();
    await Promise.all(done); // the server saw the client go
    assert.equal(signals.length, 2);
    assert.deepEqual(
      signals.map((s) => s.aborted),
      [false, false],
    );
    assert.deepEqual(watched, []);
  });

  test('client disconnect mid-response cancels the response body', async () => {
    let cancelled: () => void;
    const cancelledP = new Promise<void>((r) => {
      cancelled = r;
    });
    const { port } = await serve(
      async () =>
        ok(
          new ReadableStream({
            start: (c) => c.enqueue(bytes('first chunk')),
            cancel: () => cancelled(),
          }),
        ),
      { keepAlive: { mode: 'forever' } },
    );
    const c = await RawClient.connect(port);
    await c.write(get());
    await c.until((r) => r.includes('first chunk'));
    c.close();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      cancelledP,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('body not cancelled within 1 s')), 1000);
      }),
    ]);
    clearTimeout(timer);
  });

  test('fetch: streaming request body echoed back over a reused connection', async () => {
    const { port } = await serve(async (req) => ok(new Response(req.body).body), {
      keepAlive: { mode: 'timeout', ms: 5000 },
    });
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/echo`, {
        method: 'POST',
        body: `payload ${i}`,
      });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), `payload ${i}`);
    }
  });

  const hasCurl = spawnSync('curl', ['--version']).status === 0;
  test('curl: keep-alive reuse, chunked download and a close-delimited HTTP/1.0 download', {
    skip: !hasCurl,
  }, () => {
    return (async () => {
      const { port } = await serve(async () => ok(streamBody('x'.repeat(100_000), 'end')), {
        keepAlive: { mode: 'timeout', ms: 5000 },
      });
      const url = `http://127.0.0.1:${port}/`;
      const run = (args: string[]) =>
        new Promise<{ out: string; err: string; status: number | null }>((resolve) => {
          execFile('curl', ['-sS', '-v', '--max-time', '5', ...args], (error, out, err) =>
            resolve({ out, err, status: error ? 1 : 0 }),
          );
        });
      const two = await run([url, url]);
      assert.equal(two.status, 0, two.err);
      assert.equal(two.out, `${'x'.repeat(100_000)}end`.repeat(2));
      assert.match(two.err, /Re-using existing connection|Reusing existing/i);
      const old = await run(['--http1.0', url]);
      assert.equal(old.status, 0, old.err);
      assert.equal(old.out.length, 100_003);
    })();
  });
});

async function readBytes(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return bytes(await readAll(stream));
}
