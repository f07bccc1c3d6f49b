import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { UpstreamPool } from '../../src/pool/index.ts';
import {
  cleanupUpstreamScripts,
  hasCommand,
  startUpstream,
  waitFor,
} from '../_harness/upstreams.ts';
import { header, pattern, send } from './helpers.ts';

after(cleanupUpstreamScripts);

describe('pool - reuse', () => {
  test('idle connections are reused most-recently-used first', { timeout: 10_000 }, async () => {
    const up = await startUpstream({ kind: 'raw' });
    const pool = new UpstreamPool();
    try {
      // Three at once: three connections, released 30, 60 and 90 ms later.
      const first = await Promise.all(
        [30, 60, 90].map((d) =>
          send(pool, up.origin, 'GET', `/d${d}`, { headers: [['X-Delay-Ms', String(d)]] }),
        ),
      );
      const lastReleased = header(first[2]!, 'x-upstream-conn');
      assert.equal(new Set(first.map((r) => header(r, 'x-upstream-conn'))).size, 3);
      assert.equal(pool.stats().idle, 3);
      for (let i = 0; i < 3; i++) {
        const r = await send(pool, up.origin, 'GET', '/next');
        assert.equal(header(r, 'x-upstream-conn'), lastReleased);
      }
      assert.deepEqual(
        { created: pool.stats().created, reused: pool.stats().reused },
        { created: 3, reused: 3 },
      );
    } finally {
      await pool.close();
      await up.stop();
    }
  });

  test('maxIdlePerOrigin bounds idle connections, closing the oldest', {
    timeout: 10_000,
  }, async () => {
    const up = await startUpstream({ kind: 'raw' });
    const pool = new UpstreamPool({ maxIdlePerOrigin: 2 });
    try {
      await Promise.all(
        [1, 2, 3, 4].map((i) =>
          send(pool, up.origin, 'GET', '/', { headers: [['X-Delay-Ms', String(i * 20)]] }),
        ),
      );
      assert.equal(pool.stats().idle, 2);
      await waitFor(async () => (await up.stats()).open === 2, 2000, 'upstream to see 2 closes');
    } finally {
      await pool.close();
      await up.stop();
    }
  });

  test("default settings: waves of 200 concurrent requests reuse the first wave's connections", {
    timeout: 30_000,
  }, async () => {
    // A pool that closes what comes back above a small idle cap (64 was the default) opens a
    // new connection for most requests of every later wave: churn and TIME_WAIT under load.
    const up = await startUpstream({ kind: 'raw' });
    const pool = new UpstreamPool();
    const wave = async (n: number) => {
      const sent = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          send(pool, up.origin, 'GET', `/w${n}/${i}`, { headers: [['X-Delay-Ms', '200']] }),
        ),
      );
      assert.equal(sent.filter((r) => r.text === 'ok').length, 200);
    };
    try {
      await wave(0);
      const first = pool.stats().created;
      assert.ok(first > 150, `the first wave ran concurrently (${first} connections)`);
      for (let n = 1; n <= 3; n++) await wave(n);
      const s = pool.stats();
      assert.deepEqual(
        { created: s.created, reused: s.reused },
        { created: first, reused: 800 - first },
      );
      assert.equal((await up.stats()).connections, first);
    } finally {
      await pool.close();
      await up.stop();
    }
  });

  test('Connection: close on every response: 1000 requests, 1000 connections, none reused', {
    timeout: 60_000,
  }, async () => {
    const up = await startUpstream({
      kind: 'raw',
      connectionHeader: 'close',
      closeAfterResponse: true,
    });
    const pool = new UpstreamPool();
    try {
      let failures = 0;
      for (let i = 0; i < 1000; i++) {
        const r = await send(pool, up.origin, 'GET', `/${i}`).catch(() => null);
        if (r?.text !== 'ok') failures++;
      }
      assert.equal(failures, 0);
      const s = pool.stats();
      assert.deepEqual(
        { created: s.created, reused: s.reused, open: s.open },
        { created: 1000, reused: 0, open: 0 },
      );
      assert.equal((await up.stats()).connections, 1000);
    } finally {
      await pool.close();
      await up.stop();
    }
  });

  test('Python http.server (HTTP/1.0, close-delimited): complete bodies, nothing pooled', {
    timeout: 20_000,
  }, async () => {
    assert.ok(hasCommand('python3'), 'python3 is needed for this test');
    const up = await startUpstream({ kind: 'python-http10', bodyBytes: 200_000 });
    const pool = new UpstreamPool();
    try {
      for (let i = 0; i < 5; i++) {
        const r = await send(pool, up.origin, 'GET', '/file');
        assert.equal(r.status, 200);
        assert.deepEqual(r.body, pattern(200_000));
        assert.equal(pool.stats().open, 0);
      }
      assert.deepEqual(
        { created: pool.stats().created, reused: pool.stats().reused },
        { created: 5, reused: 0 },
      );
    } finally {
      await pool.close();
      await up.stop();
    }
  });

  test('HTTP/1.1 200 with neither length nor chunking, ended by close: complete, not pooled', {
    timeout: 10_000,
  }, async () => {
    const up = await startUpstream({ kind: 'raw', framing: 'close', bodyBytes: 1 << 20 });
    const pool = new UpstreamPool();
    try {
      for (let i = 0; i < 3; i++) {
        const r = await send(pool, up.origin, 'GET', '/big');
        assert.deepEqual(r.body, pattern(1 << 20));
        assert.equal(pool.stats().open, 0);
      }
      assert.equal(pool.stats().reused, 0);
    } finally {
      await pool.close();
      await up.stop();
    }
  });

  test('HTTP/1.0 without keep-alive is not pooled; with Connection: keep-alive it is', {
    timeout: 10_000,
  }, async () => {
    const plain = await startUpstream({ kind: 'raw', httpVersion: '1.0' });
    const ka = await startUpstream({
      kind: 'raw',
      httpVersion: '1.0',
      connectionHeader: 'keep-alive',
    });
    const pool = new UpstreamPool();
    try {
      await send(pool, plain.origin, 'GET', '/');
      await send(pool, plain.origin, 'GET', '/');
      assert.deepEqual(
        { created: pool.stats().created, reused: pool.stats().reused },
        { created: 2, reused: 0 },
      );
      await send(pool, ka.origin, 'GET', '/');
      await send(pool, ka.origin, 'GET', '/');
      assert.deepEqual(
        { created: pool.stats().created, reused: pool.stats().reused },
        { created: 3, reused: 1 },
      );
    } finally {
      await pool.close();
      await Promise.all([plain.stop(), ka.stop()]);
    }
  });

  test('a request with Connection: close is not pooled', { timeout: 10_000 }, async () => {
    const up = await startUpstream({ kind: 'raw' });
    const pool = new UpstreamPool();
    try {
      await send(pool, up.origin, 'GET', '/', { headers: [['Connection', 'close']] });
      assert.equal(pool.stats().open, 0);
    } finally {
      await pool.close();
      await up.stop();
    }
  });
});

describe('pool - eviction', () => {
  for (const hint of ['timeout=1', 'timeout=2', 'timeout=0']) {
    test(`Keep-Alive: ${hint} is never reused`, { timeout: 10_000 }, async () => {
      const up = await startUpstream({ kind: 'raw', keepAliveHeader: hint });
      const pool = new UpstreamPool();
      try {
        for (let i = 0; i < 3; i++) await send(pool, up.origin, 'GET', '/');
        const s = pool.stats();
        assert.deepEqual(
          { created: s.created, reused: s.reused, open: s.open },
          { created: 3, reused: 0, open: 0 },
        );
      } finally {
        await pool.close();
        await up.stop();
      }
    });
  }

  /** Time from the end of a response until the pool drops its idle connection. */
  async function idleLifetime(pool: UpstreamPool, origin: string): Promise<number> {
    await send(pool, origin, 'GET', '/');
    const start = Date.now();
    assert.equal(pool.stats().idle, 1);
    await waitFor(() => pool.stats().idle === 0, 10_000, 'idle eviction');
    return Date.now() - start;
  }

  for (const hint of ['timeout=abc', 'timeout=-5']) {
    test(`Keep-Alive: ${hint} is treated as no hint`, { timeout: 10_000 }, async () => {
      const up = await startUpstream({ kind: 'raw', keepAliveHeader: hint });
      // No-hint timeout scaled down to 300 ms; a valid timeout=3 would give 1000 ms.
      const pool = new UpstreamPool({ idleTimeoutNoHint: 300 });
      try {
        await send(pool, up.origin, 'GET', '/');
        await send(pool, up.origin, 'GET', '/');
        assert.equal(pool.stats().reused, 1);
        const ms = await idleLifetime(pool, up.origin);
        assert.ok(ms >= 280 && ms < 900, `evicted after ${ms} ms`);
      } finally {
        await pool.close();
        await up.stop();
      }
    });
  }

  test('no hint: evicted after the default 4 s', { timeout: 15_000 }, async () => {
    const up = await startUpstream({ kind: 'raw' });
    const pool = new UpstreamPool();
    try {
      const ms = await idleLifetime(pool, up.origin);
      assert.ok(ms >= 3980 && ms < 4800, `evicted after ${ms} ms`);
      await waitFor(async () => (await up.stats()).open === 0, 2000, 'upstream to see the close');
    } finally {
      await pool.close();
      await up.stop();
    }
  });

  test('Keep-Alive: timeout=3 is evicted at timeout − 2 s', { timeout: 10_000 }, async () => {
    const up = await startUpstream({ kind: 'raw', keepAliveHeader: 'timeout=3, max=100' });
    const pool = new UpstreamPool({ idleTimeoutNoHint: 300 });
    try {
      const ms = await idleLifetime(pool, up.origin);
      assert.ok(ms >= 980 && ms < 1700, `evicted after ${ms} ms`);
    } finally {
      await pool.close();
      await up.stop();
    }
  });

  test('an idle connection that receives FIN is dropped at once', { timeout: 10_000 }, async () => {
    const up = await startUpstream({ kind: 'raw', idleCloseMs: 200 });
    const pool = new UpstreamPool();
    try {
      await send(pool, up.origin, 'GET', '/');
      await waitFor(() => pool.stats().open === 0, 3000, 'the pool to drop the closed connection');
      const closedAt = (await up.stats()).conns[0]?.closedAt;
      assert.ok(closedAt !== null && closedAt !== undefined && Date.now() - closedAt < 1000);
    } finally {
      await pool.close();
      await up.stop();
    }
  });

  test('an idle connection that receives RST is dropped at once', { timeout: 10_000 }, async () => {
    const up = await startUpstream({ kind: 'raw', idleCloseMs: 200, idleCloseMode: 'rst' });
    const pool = new UpstreamPool();
    try {
      await send(pool, up.origin, 'GET', '/');
      await waitFor(() => pool.stats().open === 0, 3000, 'the pool to drop the reset connection');
      assert.equal((await up.stats()).resets, 1);
    } finally {
      await pool.close();
      await up.stop();
    }
  });

  test('an idle connection that receives unsolicited bytes is dropped at once', {
    timeout: 10_000,
  }, async () => {
    const up = await startUpstream({ kind: 'raw', unsolicitedAfterMs: 100 });
    const pool = new UpstreamPool();
    try {
      await send(pool, up.origin, 'GET', '/');
      await waitFor(() => pool.stats().open === 0, 3000, 'the pool to drop the connection');
      await waitFor(async () => (await up.stats()).open === 0, 2000, 'upstream to see the close');
      const r = await send(pool, up.origin, 'GET', '/');
      assert.equal(r.text, 'ok');
      assert.equal(pool.stats().created, 2);
    } finally {
      await pool.close();
      await up.stop();
    }
  });
});
