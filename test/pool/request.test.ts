import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { UpstreamPool } from '../../src/pool/index.ts';
import { cleanupUpstreamScripts, startUpstream } from '../_harness/upstreams.ts';
import { header, pattern, send } from './helpers.ts';

after(cleanupUpstreamScripts);

function streamOf(bytes: Uint8Array, chunk = 16_384): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.byteLength) return c.close();
      c.enqueue(bytes.subarray(at, at + chunk));
      at += chunk;
    },
  });
}

describe('pool - request framing', () => {
  test('bodies of every kind arrive whole, on one reused connection', {
    timeout: 10_000,
  }, async () => {
    const up = await startUpstream({ kind: 'raw' });
    const pool = new UpstreamPool();
    try {
      const big = pattern(300_000);
      const cases: [string, Parameters<typeof send>[4], number][] = [
        ['bytes', { body: pattern(1000) }, 1000],
        ['stream, unknown length (chunked)', { body: streamOf(big) }, big.byteLength],
        [
          'stream, known length above the replay buffer',
          { body: streamOf(big), bodyLength: big.byteLength },
          big.byteLength,
        ],
        [
          'stream, known length, buffered',
          { body: streamOf(pattern(5000)), bodyLength: 5000 },
          5000,
        ],
        ['no body', {}, 0],
      ];
      for (const [name, options, bytes] of cases) {
        const r = await send(pool, up.origin, 'POST', '/', options);
        assert.equal(r.text, 'ok', name);
        assert.equal(header(r, 'x-request-body-bytes'), String(bytes), name);
      }
      assert.deepEqual(
        { created: pool.stats().created, reused: pool.stats().reused },
        { created: 1, reused: 4 },
      );
    } finally {
      await pool.close();
      await up.stop();
    }
  });

  test('chunked responses and HEAD responses keep the connection reusable', {
    timeout: 10_000,
  }, async () => {
    const up = await startUpstream({ kind: 'raw', framing: 'chunked', bodyBytes: 70_000 });
    const pool = new UpstreamPool();
    try {
      const r = await send(pool, up.origin, 'GET', '/');
      assert.deepEqual(r.body, pattern(70_000));
      const h = await send(pool, up.origin, 'HEAD', '/');
      assert.equal(h.body.byteLength, 0);
      assert.deepEqual((await send(pool, up.origin, 'GET', '/')).body, pattern(70_000));
      assert.deepEqual(
        { created: pool.stats().created, reused: pool.stats().reused },
        { created: 1, reused: 2 },
      );
    } finally {
      await pool.close();
      await up.stop();
    }
  });
});
