import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { UpstreamError, UpstreamPool } from '../../src/pool/index.ts';
import { type ConnectOptions, runtime, type TcpConnection } from '../../src/runtime/index.ts';
import { cleanupUpstreamScripts, startUpstream } from '../_harness/upstreams.ts';
import { send, sleep } from './helpers.ts';

after(cleanupUpstreamScripts);

const enc = new TextEncoder();

function isCode(err: unknown, code: string): boolean {
  return err instanceof UpstreamError && err.code === code && err.status === 502;
}

describe('pool - keep-alive race (scenario E)', () => {
  test('upstream closes idle connections after exactly 1 s without hint, requests every ~1 s: 0 failed GETs, no POST twice', {
    timeout: 40_000,
  }, async () => {
    const up = await startUpstream({ kind: 'raw', idleCloseMs: 1000 });
    const pool = new UpstreamPool(); // default 4 s no-hint idle: only FIN detection and retry help
    try {
      // The upstream's timer starts as it writes a response; sweep the gap around it so
      // requests land just before, at and just after its close.
      const offsets = [-6, -3, -2, -1, 0, 0, 1, 1, 2, 2, 3, 4, 6, 10];
      const getFailures: unknown[] = [];
      const postErrors: unknown[] = [];
      const posts: string[] = [];
      for (const [i, offset] of offsets.entries()) {
        const method = i % 2 === 0 ? 'GET' : 'POST';
        const id = `${method}-${i}`;
        try {
          await send(pool, up.origin, method, '/', {
            id,
            body: method === 'POST' ? enc.encode(`payload ${i}`) : null,
          });
        } catch (err) {
          (method === 'GET' ? getFailures : postErrors).push(err);
        }
        if (method === 'POST') posts.push(id);
        await sleep(1000 + offset);
      }
      assert.deepEqual(getFailures, []);
      for (const err of postErrors) assert.ok(isCode(err, 'reused-connection-closed'), String(err));
      const s = await up.stats();
      for (const id of posts)
        assert.ok((s.executions[id] ?? 0) <= 1, `${id} executed ${s.executions[id]} times`);
      // The race conditions were there: the upstream closed connections the pool held.
      assert.ok(s.idleCloses > 0);
    } finally {
      await pool.close();
      await up.stop();
    }
  });

  test('upstream closes idle connections after exactly 5 s, requests every 5 s: eviction at 4 s prevents the race', {
    timeout: 40_000,
  }, async () => {
    const up = await startUpstream({ kind: 'raw', idleCloseMs: 5000 });
    const pool = new UpstreamPool();
    try {
      const methods = ['GET', 'POST', 'GET'];
      for (const [i, method] of methods.entries()) {
        if (i > 0) await sleep(5000);
        const r = await send(pool, up.origin, method, '/', {
          id: `${method}-${i}`,
          body: method === 'POST' ? enc.encode('x'.repeat(1024)) : null,
        });
        assert.equal(r.text, 'ok');
      }
      const s = await up.stats();
      assert.deepEqual(s.executions, { 'GET-0': 1, 'POST-1': 1, 'GET-2': 1 });
      assert.equal(s.idleCloses, 0, 'the pool must close first');
      assert.deepEqual(
        {
          reused: pool.stats().reused,
          retried: pool.stats().retried,
          created: pool.stats().created,
        },
        { reused: 0, retried: 0, created: 3 },
      );
    } finally {
      await pool.close();
      await up.stop();
    }
  });
});

describe('pool - retry on a reused connection that is reset', () => {
  test('GET is retried once on a fresh connection and succeeds', { timeout: 10_000 }, async () => {
    const up = await startUpstream({ kind: 'raw', resetOnReuse: true });
    const pool = new UpstreamPool();
    try {
      for (let i = 0; i < 5; i++) {
        const r = await send(pool, up.origin, 'GET', '/', { id: `g${i}` });
        assert.equal(r.text, 'ok');
        assert.equal(pool.stats().retried, i);
      }
      const s = await up.stats();
      assert.equal(s.resets, 4);
      for (let i = 0; i < 5; i++) assert.equal(s.executions[`g${i}`], 1);
    } finally {
      await pool.close();
      await up.stop();
    }
  });

  test('POST whose bytes were written gets 502 reused-connection-closed and is never executed twice', {
    timeout: 20_000,
  }, async () => {
    const up = await startUpstream({ kind: 'raw', resetOnReuse: true });
    const pool = new UpstreamPool();
    try {
      for (let i = 0; i < 10; i++) {
        await send(pool, up.origin, 'GET', '/warm'); // leaves one idle connection
        await assert.rejects(
          send(pool, up.origin, 'POST', '/', { id: `p${i}`, body: enc.encode('{"charge":1}') }),
          (err: unknown) => {
            assert.ok(isCode(err, 'reused-connection-closed'), String(err));
            assert.match(
              (err as Error).message,
              /upstream closed a reused connection and the request was not retried because POST is not idempotent/,
            );
            return true;
          },
        );
      }
      const s = await up.stats();
      for (let i = 0; i < 10; i++) assert.ok((s.executions[`p${i}`] ?? 0) <= 1);
      assert.equal(pool.stats().retried, 0);
    } finally {
      await pool.close();
      await up.stop();
    }
  });

  test('POST with Idempotency-Key and a buffered streamed body is retried', {
    timeout: 10_000,
  }, async () => {
    const up = await startUpstream({ kind: 'raw', resetOnReuse: true });
    const pool = new UpstreamPool();
    try {
      await send(pool, up.origin, 'GET', '/warm');
      const payload = enc.encode('retry me');
      const r = await send(pool, up.origin, 'POST', '/', {
        id: 'k1',
        headers: [['Idempotency-Key', 'abc']],
        body: new Blob([payload]).stream(),
        bodyLength: payload.byteLength,
      });
      assert.equal(r.text, 'ok');
      assert.equal(pool.stats().retried, 1);
      assert.equal((await up.stats()).executions.k1, 1);
    } finally {
      await pool.close();
      await up.stop();
    }
  });

  test('PUT with a streamed body of unknown length is not retried: its body cannot be replayed', {
    timeout: 10_000,
  }, async () => {
    const up = await startUpstream({ kind: 'raw', resetOnReuse: true });
    const pool = new UpstreamPool();
    try {
      await send(pool, up.origin, 'GET', '/warm');
      await assert.rejects(
        send(pool, up.origin, 'PUT', '/', { id: 'u1', body: new Blob(['streamed']).stream() }),
        (err: unknown) =>
          isCode(err, 'reused-connection-closed') && /cannot be replayed/.test(String(err)),
      );
      assert.equal(pool.stats().retried, 0);
    } finally {
      await pool.close();
      await up.stop();
    }
  });

  test('a failure on a fresh connection is never retried, and a retry is never retried', {
    timeout: 10_000,
  }, async () => {
    const fresh = await startUpstream({ kind: 'raw', resetFromRequest: 0 });
    const twice = await startUpstream({ kind: 'raw', resetFromRequest: 1 });
    const pool = new UpstreamPool();
    try {
      await assert.rejects(send(pool, fresh.origin, 'GET', '/'), (err: unknown) =>
        isCode(err, 'upstream-closed'),
      );
      assert.equal(pool.stats().retried, 0);
      assert.equal((await fresh.stats()).connections, 1);

      await send(pool, twice.origin, 'GET', '/'); // served; later requests are all reset
      await assert.rejects(send(pool, twice.origin, 'GET', '/'), (err: unknown) =>
        isCode(err, 'upstream-closed'),
      );
      assert.equal(pool.stats().retried, 1);
      const s = await twice.stats();
      assert.deepEqual(
        { connections: s.connections, resets: s.resets },
        { connections: 2, resets: 2 },
      );
    } finally {
      await pool.close();
      await Promise.all([fresh.stop(), twice.stop()]);
    }
  });
});

describe('pool - retry when nothing was written', () => {
  test('a POST on a reused connection whose write side already failed is retried on a fresh one', {
    timeout: 10_000,
  }, async () => {
    const up = await startUpstream({ kind: 'raw' });
    // Wraps real connections so a test can fail one's write side while its read side stays
    // open (the idle watch sees nothing; only the pre-write check can tell).
    const breakers: (() => void)[] = [];
    const connect = async (o: ConnectOptions): Promise<TcpConnection> => {
      const conn = await runtime.connect(o);
      const writer = conn.writable.getWriter();
      let controller: WritableStreamDefaultController | undefined;
      const writable = new WritableStream<Uint8Array>({
        start: (c) => {
          controller = c;
        },
        write: (chunk) => writer.write(chunk),
        close: () => writer.close(),
        abort: (reason) => writer.abort(reason),
      });
      breakers.push(() => controller?.error(new Error('write side failed')));
      return {
        ...conn,
        readable: conn.readable,
        reader: () => conn.reader(),
        // The pool checks the writable's state before it writes, then writes directly.
        write: (chunk) => conn.write(chunk),
        writable,
        close: () => conn.close(),
        closed: conn.closed,
      };
    };
    const pool = new UpstreamPool({}, connect);
    try {
      await send(pool, up.origin, 'GET', '/warm');
      breakers[0]?.();
      const r = await send(pool, up.origin, 'POST', '/', {
        id: 'once',
        body: enc.encode('{"charge":1}'),
      });
      assert.equal(r.text, 'ok');
      assert.deepEqual(
        { retried: pool.stats().retried, created: pool.stats().created },
        { retried: 1, created: 2 },
      );
      assert.equal((await up.stats()).executions.once, 1);
    } finally {
      await pool.close();
      await up.stop();
    }
  });
});

describe('pool - bad responses', () => {
  test('a malformed response is bad-response 502, not retried, connection closed', {
    timeout: 10_000,
  }, async () => {
    const up = await startUpstream({
      kind: 'raw',
      rawResponse: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok',
    });
    const pool = new UpstreamPool();
    try {
      await assert.rejects(send(pool, up.origin, 'GET', '/'), (err: unknown) =>
        isCode(err, 'bad-response'),
      );
      assert.deepEqual(
        { open: pool.stats().open, retried: pool.stats().retried },
        { open: 0, retried: 0 },
      );
      assert.equal((await up.stats()).connections, 1);
    } finally {
      await pool.close();
      await up.stop();
    }
  });
});
