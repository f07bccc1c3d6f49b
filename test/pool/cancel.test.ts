import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { parseOrigin, UpstreamError, UpstreamPool } from '../../src/pool/index.ts';
import type { ConnectOptions, TcpConnection } from '../../src/runtime/index.ts';
import { RequestAbort } from '../../src/streams/index.ts';
import { cleanupUpstreamScripts, startUpstream, waitFor } from '../_harness/upstreams.ts';
import { send } from './helpers.ts';

after(cleanupUpstreamScripts);

const isCode = (code: string) => (err: unknown) =>
  err instanceof UpstreamError && err.code === code;

// The agent passes a RequestAbort (watched without an AbortSignal); any other caller may pass
// an AbortSignal. Both must cancel the same way.
const controllers = [
  [
    'signal',
    () => {
      const c = new AbortController();
      return { abort: () => c.abort(), options: { signal: c.signal } };
    },
  ],
  [
    'RequestAbort',
    () => {
      const abort = new RequestAbort();
      return { abort: () => abort.abort(), options: { abort } };
    },
  ],
] as const;

describe('pool - cancellation', () => {
  const trickle = { chunkBytes: 1024, intervalMs: 50, chunks: 400 } as const; // 20 s of body

  for (const [kind, make] of controllers) {
    test(`client abort (${kind}) mid-download closes the upstream socket within 1 s; not pooled`, {
      timeout: 10_000,
    }, async () => {
      const up = await startUpstream({ kind: 'raw', trickle });
      const pool = new UpstreamPool();
      try {
        const ac = make();
        const res = await pool.request(
          parseOrigin(up.origin),
          { method: 'GET', target: '/dl', headers: [['Host', 'x']], body: null },
          ac.options,
        );
        const reader = res.body.getReader();
        const first = await reader.read();
        assert.ok(!first.done && first.value.byteLength > 0);
        const abortedAt = Date.now();
        ac.abort();
        await assert.rejects(
          (async () => {
            for (;;) if ((await reader.read()).done) return;
          })(),
          isCode('aborted'),
        );
        await waitFor(
          async () => (await up.stats()).conns[0]?.closedAt != null,
          1000,
          'upstream to see the close',
        );
        const closedAt = (await up.stats()).conns[0]!.closedAt!;
        assert.ok(closedAt - abortedAt < 1000, `closed ${closedAt - abortedAt} ms after abort`);
        assert.deepEqual(
          { open: pool.stats().open, idle: pool.stats().idle },
          { open: 0, idle: 0 },
        );
      } finally {
        await pool.close();
        await up.stop();
      }
    });
  }

  test('cancelling the response body closes the upstream socket within 1 s; not pooled', {
    timeout: 10_000,
  }, async () => {
    const up = await startUpstream({ kind: 'raw', trickle });
    const pool = new UpstreamPool();
    try {
      const res = await pool.request(parseOrigin(up.origin), {
        method: 'GET',
        target: '/dl',
        headers: [['Host', 'x']],
        body: null,
      });
      const reader = res.body.getReader();
      await reader.read();
      const cancelledAt = Date.now();
      await reader.cancel();
      await waitFor(
        async () => (await up.stats()).conns[0]?.closedAt != null,
        1000,
        'upstream to see the close',
      );
      assert.ok((await up.stats()).conns[0]!.closedAt! - cancelledAt < 1000);
      assert.equal(pool.stats().open, 0);
    } finally {
      await pool.close();
      await up.stop();
    }
  });

  for (const [kind, make] of controllers) {
    test(`abort (${kind}) while waiting for the response head rejects with aborted and closes the socket`, {
      timeout: 10_000,
    }, async () => {
      const up = await startUpstream({ kind: 'raw', delayMs: 5000 });
      const pool = new UpstreamPool();
      try {
        const ac = make();
        const pending = send(pool, up.origin, 'GET', '/slow', ac.options);
        await waitFor(
          async () => (await up.stats()).methods.GET === 1,
          2000,
          'the request to arrive',
        );
        ac.abort();
        await assert.rejects(pending, isCode('aborted'));
        await waitFor(async () => (await up.stats()).open === 0, 1000, 'upstream to see the close');
        assert.equal(pool.stats().open, 0);
      } finally {
        await pool.close();
        await up.stop();
      }
    });
  }

  for (const [kind, make] of controllers) {
    test(`abort (${kind}) while waiting in the queue for a connection rejects with aborted and leaves the queue`, {
      timeout: 10_000,
    }, async () => {
      const up = await startUpstream({ kind: 'raw', delayMs: 300 });
      const pool = new UpstreamPool({ maxConnsPerOrigin: 1 });
      try {
        const busy = send(pool, up.origin, 'GET', '/');
        await waitFor(async () => (await up.stats()).methods.GET === 1, 2000, 'the first request');
        const ac = make();
        const queued = send(pool, up.origin, 'GET', '/', ac.options);
        ac.abort();
        await assert.rejects(queued, isCode('aborted'));
        assert.equal((await busy).text, 'ok');
        // The aborted waiter is gone: the next request gets the connection, which was reused.
        assert.equal((await send(pool, up.origin, 'GET', '/')).text, 'ok');
        assert.equal((await up.stats()).methods.GET, 2);
        assert.equal(pool.stats().created, 1);
      } finally {
        await pool.close();
        await up.stop();
      }
    });
  }

  test('connectTimeout bounds the connect only, never the request', {
    timeout: 10_000,
  }, async () => {
    const up = await startUpstream({ kind: 'raw', delayMs: 1000 });
    const hanging = (_: ConnectOptions) => new Promise<TcpConnection>(() => {});
    const pool = new UpstreamPool({ connectTimeout: 300 });
    const stuck = new UpstreamPool({ connectTimeout: 300 }, hanging);
    try {
      const r = await send(pool, up.origin, 'GET', '/'); // answers after 1 s > 300 ms
      assert.equal(r.text, 'ok');
      const start = Date.now();
      await assert.rejects(send(stuck, up.origin, 'GET', '/'), (err: unknown) => {
        assert.ok(isCode('connect-failed')(err));
        assert.match((err as Error).message, /timed out after 300 ms/);
        return true;
      });
      assert.ok(Date.now() - start < 1000);
      assert.equal(stuck.stats().open, 0);
    } finally {
      await Promise.all([pool.close(), stuck.close()]);
      await up.stop();
    }
  });

  test('a refused connect is connect-failed 502', { timeout: 10_000 }, async () => {
    const up = await startUpstream({ kind: 'raw' });
    const origin = up.origin;
    await up.stop(); // nothing listens there any more
    const pool = new UpstreamPool();
    await assert.rejects(
      send(pool, origin, 'GET', '/'),
      (err: unknown) => isCode('connect-failed')(err) && (err as UpstreamError).status === 502,
    );
    assert.equal(pool.stats().open, 0);
    await pool.close();
  });
});

describe('pool - limits', () => {
  test('200 concurrent requests with maxConnsPerOrigin 16: all succeed, never more than 16 sockets', {
    timeout: 20_000,
  }, async () => {
    const up = await startUpstream({ kind: 'raw', delayMs: 10 });
    const pool = new UpstreamPool({ maxConnsPerOrigin: 16 });
    try {
      let maxOpen = 0;
      const results = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const r = await send(pool, up.origin, i % 3 === 0 ? 'POST' : 'GET', '/', {
            id: `c${i}`,
            body: i % 3 === 0 ? new Uint8Array(100) : null,
          });
          maxOpen = Math.max(maxOpen, pool.stats().open);
          return r.text;
        }),
      );
      assert.deepEqual(results, Array(200).fill('ok'));
      const s = await up.stats();
      assert.ok(s.maxOpen <= 16, `upstream saw ${s.maxOpen} sockets`);
      assert.equal(s.connections, 16);
      assert.ok(maxOpen <= 16);
      assert.equal(Object.keys(s.executions).length, 200);
    } finally {
      await pool.close();
      await up.stop();
    }
  });

  test('beyond maxQueue waiting requests, a request fails with pool-full', {
    timeout: 10_000,
  }, async () => {
    const up = await startUpstream({ kind: 'raw', delayMs: 200 });
    const pool = new UpstreamPool({ maxConnsPerOrigin: 1, maxQueue: 3 });
    try {
      const all = await Promise.allSettled(
        Array.from({ length: 6 }, () => send(pool, up.origin, 'GET', '/')),
      );
      assert.equal(all.filter((r) => r.status === 'fulfilled').length, 4);
      for (const r of all.filter((r) => r.status === 'rejected'))
        assert.ok(isCode('pool-full')(r.reason));
    } finally {
      await pool.close();
      await up.stop();
    }
  });

  test('close(): idle connections close, new requests fail, busy ones finish', {
    timeout: 10_000,
  }, async () => {
    const up = await startUpstream({ kind: 'raw', delayMs: 300 });
    const pool = new UpstreamPool();
    try {
      await send(pool, up.origin, 'GET', '/');
      const busy = send(pool, up.origin, 'GET', '/', { headers: [['X-Delay-Ms', '300']] });
      const other = send(pool, up.origin, 'GET', '/', { headers: [['X-Delay-Ms', '0']] });
      await waitFor(async () => (await up.stats()).connections === 2, 2000, 'two connections');
      await pool.close();
      await assert.rejects(send(pool, up.origin, 'GET', '/'), isCode('pool-closed'));
      assert.equal((await busy).text, 'ok');
      assert.equal((await other).text, 'ok');
      await waitFor(() => pool.stats().open === 0, 2000, 'busy connections to close after use');
      await waitFor(async () => (await up.stats()).open === 0, 2000, 'upstream to see every close');
    } finally {
      await pool.close();
      await up.stop();
    }
  });
});

describe('pool - upgrade and 1xx', () => {
  test('1xx responses before the final one: 103 is handed to onInformational, 100 is not', {
    timeout: 10_000,
  }, async () => {
    const up = await startUpstream({ kind: 'raw', informational: true });
    const pool = new UpstreamPool();
    try {
      for (let i = 0; i < 2; i++) {
        const interim: string[] = [];
        const res = await pool.request(
          parseOrigin(up.origin),
          { method: 'GET', target: '/', headers: [['Host', 'x']], body: null },
          {
            onInformational: (head) => {
              interim.push(`${head.status} ${head.headers.map(([n, v]) => `${n}: ${v}`)}`);
            },
          },
        );
        assert.equal(res.head.status, 200);
        assert.equal(new TextDecoder().decode(await new Response(res.body).arrayBuffer()), 'ok');
        assert.deepEqual(interim, ['103 Link: </a.css>; rel=preload']);
      }
      assert.equal(pool.stats().reused, 1);
    } finally {
      await pool.close();
      await up.stop();
    }
  });

  test('101 returns the raw upgraded duplex and the connection leaves the pool', {
    timeout: 10_000,
  }, async () => {
    const up = await startUpstream({ kind: 'raw' });
    const pool = new UpstreamPool();
    try {
      const res = await pool.request(parseOrigin(up.origin), {
        method: 'GET',
        target: '/ws',
        headers: [
          ['Host', 'x'],
          ['Connection', 'Upgrade'],
          ['Upgrade', 'echo'],
        ],
        body: null,
      });
      assert.equal(res.head.status, 101);
      assert.ok(res.upgraded);
      assert.deepEqual(pool.stats().open, 0);
      const writer = res.upgraded.writable.getWriter();
      const reader = res.upgraded.readable.getReader();
      await writer.write(new TextEncoder().encode('ping'));
      let got = '';
      while (got.length < 4) {
        const { done, value } = await reader.read();
        if (done) break;
        got += new TextDecoder().decode(value);
      }
      assert.equal(got, 'ping');
      await writer.close();
      await reader.cancel();
      await waitFor(async () => (await up.stats()).open === 0, 2000, 'upstream to see the close');
    } finally {
      await pool.close();
      await up.stop();
    }
  });
});

test('pool - signal and abort together are refused, before anything is sent', async () => {
  const pool = new UpstreamPool();
  await assert.rejects(
    pool.request(
      parseOrigin('http://127.0.0.1:9'),
      { method: 'GET', target: '/', headers: [['Host', 'x']], body: null },
      { signal: new AbortController().signal, abort: new RequestAbort() },
    ),
    { name: 'TypeError', message: 'Cannot send request: give signal or abort, not both' },
  );
  assert.equal(pool.stats().created, 0);
  await pool.close();
});
