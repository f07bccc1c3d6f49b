/**
 * Bulk transfers on a saturated tunnel never trip the dead-peer detector (SCENARIOS.md,
 * "more conditions"): with a strict heartbeat (50 ms, dead after 300 ms) on both sides,
 * uploads and downloads fill the one tunnel both ways at once, yet the session lives,
 * every byte arrives, and a small request still gets through meanwhile.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Proc } from '../_harness/process.ts';
import { stopAll } from '../_harness/process.ts';
import { type ServerProc, startAgent, startServer } from '../_harness/tether.ts';
import { countLines, payloadChunks, payloadSha256, viaEndpoint, writeAll } from './_support.ts';

const MIB = 100;
const TIMEOUT_MS = 300;
const HEARTBEAT = [
  '--tunnel.heartbeat-interval',
  '50ms',
  '--tunnel.heartbeat-timeout',
  `${TIMEOUT_MS}ms`,
];

describe('a saturated tunnel keeps its heartbeat', () => {
  let server: ServerProc;
  let agent: Proc;
  const upstream = createServer(async (req, res) => {
    if (req.url === '/download') {
      res.writeHead(200, { 'content-length': String(MIB * 1024 * 1024) });
      await writeAll(res, payloadChunks(MIB)).catch(() => {});
      return;
    }
    const hash = createHash('sha256');
    req.on('data', (d: Buffer) => hash.update(d));
    req.on('error', () => {});
    req.on('end', () => res.end(hash.digest('hex')));
  });

  before(async () => {
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    server = await startServer(HEARTBEAT);
    agent = await startAgent(
      server,
      'http',
      'bulk',
      String((upstream.address() as AddressInfo).port),
      HEARTBEAT,
    );
  });
  after(async () => {
    await stopAll();
    upstream.closeAllConnections();
    upstream.close();
  });

  test(`2 uploads and 2 downloads of ${MIB} MiB at once: intact, no disconnect`, {
    timeout: 60_000,
  }, async () => {
    const expected = payloadSha256(MIB);
    const upload = () =>
      new Promise<string>((resolve, reject) => {
        const req = request(
          server.proxyUrl('/upload'),
          { method: 'POST', headers: { 'x-piko-endpoint': 'bulk' }, agent: false },
          (res) => {
            let body = '';
            res.on('data', (d) => (body += d));
            res.on('end', () => resolve(body));
          },
        );
        req.on('error', reject);
        writeAll(req, payloadChunks(MIB)).catch(reject);
      });
    const download = () =>
      new Promise<string>((resolve, reject) => {
        const req = request(
          server.proxyUrl('/download'),
          { headers: { 'x-piko-endpoint': 'bulk' }, agent: false },
          (res) => {
            const hash = createHash('sha256');
            res.on('data', (d: Buffer) => hash.update(d));
            res.on('end', () => resolve(hash.digest('hex')));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end();
      });
    const started = Date.now();
    const bulk = Promise.all([upload(), upload(), download(), download()]);
    // A small request in the middle of it all is not stuck behind the bulk.
    const small = await viaEndpoint(server.proxyUrl('/small'), 'bulk', {
      method: 'POST',
      body: 'x',
    });
    assert.equal(small.status, 200);
    assert.ok(small.ms < 2_000, `the small request took ${small.ms} ms`);
    assert.deepEqual(await bulk, [expected, expected, expected, expected]);
    const tookMs = Date.now() - started;
    // Saturated for several heartbeat timeouts, or the test proves nothing.
    assert.ok(tookMs > 2 * TIMEOUT_MS, `the bulk took only ${tookMs} ms`);

    assert.equal(countLines(agent.output(), /connected to server/), 1, agent.output());
    assert.doesNotMatch(agent.output(), /disconnected from server/);
    assert.doesNotMatch(server.proc.output(), /agent disconnected/);
  });
});
