/**
 * The HTTP idle limit (`--proxy.http-idle-timeout`, 1 s here) means "no bytes either way":
 * an upload still flowing and a response still trickling outlive it; only real silence
 * is cut, with 504 `upstream idle timeout`.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { stopAll } from '../_harness/process.ts';
import { type ServerProc, startAgent, startServer } from '../_harness/tether.ts';
import { cleanupUpstreamScripts, startUpstream, type Upstream } from '../_harness/upstreams.ts';
import { viaEndpoint } from './_support.ts';

const IDLE_MS = 1_000;

describe('HTTP idle limit counts bytes both ways', () => {
  let server: ServerProc;
  let plain: Upstream;
  let trickle: Upstream;

  before(async () => {
    [plain, trickle] = await Promise.all([
      startUpstream({ kind: 'raw' }),
      startUpstream({ kind: 'raw', trickle: { chunkBytes: 1, intervalMs: 300, chunks: 9 } }),
    ]);
    server = await startServer(['--proxy.http-idle-timeout', `${IDLE_MS}ms`]);
    await Promise.all([
      startAgent(server, 'http', 'plain', String(plain.port)),
      startAgent(server, 'http', 'trickle', String(trickle.port)),
    ]);
  });
  after(async () => {
    await stopAll();
    await Promise.all([plain?.stop(), trickle?.stop()]);
    cleanupUpstreamScripts();
  });

  test('a flowing upload and a trickling response outlive the limit; silence gets 504', {
    timeout: 20_000,
  }, async () => {
    const upload = async () => {
      // 12 chunks, 200 ms apart: 2.4 s of upload, never 1 s without a byte.
      const result = await new Promise<{ status: number; received: string }>((resolve, reject) => {
        const req = request(
          server.proxyUrl('/upload'),
          { method: 'POST', headers: { 'x-piko-endpoint': 'plain' }, agent: false },
          (res) => {
            res.resume();
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                received: String(res.headers['x-request-body-bytes']),
              }),
            );
          },
        );
        req.on('error', reject);
        let sent = 0;
        const tick = () => {
          req.write(Buffer.alloc(1000, 120));
          if (++sent < 12) setTimeout(tick, 200);
          else req.end();
        };
        tick();
      });
      assert.deepEqual(result, { status: 200, received: '12000' });
    };

    const trickling = async () => {
      const res = await viaEndpoint(server.proxyUrl('/t'), 'trickle');
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'abcdefghi');
      assert.ok(res.ms > 2 * IDLE_MS, `the trickle took ${res.ms} ms`);
    };

    const silent = async () => {
      const res = await viaEndpoint(server.proxyUrl('/s'), 'plain', {
        headers: { 'x-delay-ms': String(3 * IDLE_MS) },
      });
      assert.equal(res.status, 504);
      assert.deepEqual(JSON.parse(res.body.toString()), { error: 'upstream idle timeout' });
      assert.ok(res.ms < 3 * IDLE_MS, `the 504 came after ${res.ms} ms`);
    };

    await Promise.all([upload(), trickling(), silent()]);
    // The access log tells the truth about what the client got.
    await server.proc.waitFor(/request method=GET .*path=\/s .*status=504/, 2_000);
  });
});
