/**
 * SCENARIOS.md A: slow responses through a tunnel behind a load balancer that reaps idle
 * connections. haproxy sits in front of the upstream port with 3 s idle timeouts; the
 * tunnel's heartbeat (1 s) keeps it busy, so a response that is silent for 20 s and one
 * that trickles a byte every 4 s both arrive intact and no agent ever reconnects.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { start, stopAll } from '../_harness/process.ts';
import { startAgent, startServer, waitUntil } from '../_harness/tether.ts';
import { cleanupUpstreamScripts, hasCommand, startUpstream } from '../_harness/upstreams.ts';
import { countLines, tcpConnect, viaEndpoint } from './_support.ts';

const HAPROXY = '/usr/sbin/haproxy';
const HEARTBEAT = ['--tunnel.heartbeat-interval', '1s', '--tunnel.heartbeat-timeout', '3s'];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('scenario A: slow responses behind a load balancer that reaps idle connections', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tether-haproxy-'));
  after(async () => {
    await stopAll();
    cleanupUpstreamScripts();
    rmSync(dir, { recursive: true, force: true });
  });

  test('silent 20 s and trickling 1 byte / 4 s: both intact, no reconnect', {
    skip: hasCommand(HAPROXY) ? false : 'haproxy is not installed',
    timeout: 90_000,
  }, async () => {
    const [silent, trickle] = await Promise.all([
      startUpstream({ kind: 'raw', delayMs: 20_000 }),
      startUpstream({
        kind: 'raw',
        trickle: { chunkBytes: 1, intervalMs: 4_000, chunks: 8 },
      }),
    ]);
    const server = await startServer(HEARTBEAT);
    const lbPort = await freePort();
    const config = join(dir, 'haproxy.cfg');
    writeFileSync(
      config,
      [
        'global',
        '  maxconn 256',
        'defaults',
        '  mode http',
        '  timeout connect 3s',
        '  timeout client 3s',
        '  timeout server 3s',
        '  timeout tunnel 3s',
        'frontend agents',
        `  bind 127.0.0.1:${lbPort}`,
        '  default_backend tether',
        'backend tether',
        `  server upstream-port 127.0.0.1:${server.upstreamPort}`,
        '',
      ].join('\n'),
    );
    const lb = start(HAPROXY, ['-db', '-f', config]);
    await waitUntil(
      () =>
        tcpConnect(lbPort).then(
          (s) => {
            s.destroy();
            return true;
          },
          () => false,
        ),
      10_000,
      'haproxy to listen',
    );
    const through = { upstreamUrl: () => `http://127.0.0.1:${lbPort}` };
    const [agentSilent, agentTrickle] = await Promise.all([
      startAgent(through, 'http', 'silent', String(silent.port), HEARTBEAT),
      startAgent(through, 'http', 'trickle', String(trickle.port), HEARTBEAT),
    ]);

    const started = Date.now();
    const [a, b] = await Promise.all([
      viaEndpoint(server.proxyUrl('/slow'), 'silent', { timeoutMs: 60_000 }),
      viaEndpoint(server.proxyUrl('/trickle'), 'trickle', { timeoutMs: 60_000 }),
    ]);
    const took = Date.now() - started;

    assert.equal(a.status, 200);
    assert.equal(a.body.toString(), 'ok');
    assert.ok(a.ms >= 19_000, `the silent response took ${a.ms} ms`);
    assert.equal(b.status, 200);
    assert.equal(b.body.toString(), 'abcdefgh');
    assert.ok(b.ms >= 27_000, `the trickle took ${b.ms} ms`);
    assert.ok(took < 60_000);

    // The tunnels lived through all of it: one connection each, never dropped.
    for (const agent of [agentSilent, agentTrickle]) {
      assert.equal(countLines(agent.output(), /connected to server/), 1, agent.output());
      assert.doesNotMatch(agent.output(), /disconnected from server/);
    }
    assert.doesNotMatch(server.proc.output(), /agent disconnected/);
    assert.equal(lb.output().match(/\[ALERT\]/g)?.length ?? 0, 0, lb.output());
    await Promise.all([silent.stop(), trickle.stop()]);
  });
});
