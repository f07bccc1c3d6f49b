import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer } from 'node:net';
import { after, describe, test } from 'node:test';
import { stopAll } from '../_harness/process.ts';
import { startAgent, startServer, tether, waitUntil } from '../_harness/tether.ts';
import {
  type GetResult,
  get,
  loggedAt,
  signal,
  slowBody,
  slowUpstream,
  wsClient,
  wsEchoUpstream,
} from './drain-helpers.ts';

after(stopAll);

const app = { 'x-piko-endpoint': 'app' };

async function inflight(adminUrl: string): Promise<Record<string, number>> {
  const status = (await (await fetch(adminUrl)).json()) as { inflight: Record<string, number> };
  return status.inflight;
}

/** A server with no quiet period, an agent, and one slow request (250 ms chunks) in flight. */
async function oneSlowRequest(chunks: number, id: string) {
  const upstream = await slowUpstream();
  const server = await startServer(['--drain.quiet-period', '0', '--drain.quiet-period-max', '0']);
  await startAgent(server, 'http', 'app', String(upstream.port));
  const request = get(server.proxyUrl(`/slow?chunks=${chunks}&every=250`), {
    ...app,
    'x-request-id': id,
  });
  await waitUntil(
    async () => (await inflight(server.adminUrl('/status'))).http === 1,
    5000,
    'in flight',
  );
  return { upstream, server, request };
}

describe('server drain', () => {
  test('tether drain under load - /ready 503 at once, quiet period serves and restarts, 50 slow requests finish, exit 0', async () => {
    const upstream = await slowUpstream();
    const server = await startServer([
      '--drain.quiet-period',
      '1s',
      '--drain.quiet-period-max',
      '3s',
      '--drain.grace-period',
      '30s',
    ]);
    await startAgent(server, 'http', 'app', String(upstream.port));

    // 50 requests of 7 chunks one second apart (~6 s each).
    const slow = Array.from({ length: 50 }, (_, i) =>
      get(server.proxyUrl('/slow?chunks=7&every=1000'), { ...app, 'x-request-id': `slow-${i}` }),
    );
    await waitUntil(
      async () => (await inflight(server.adminUrl('/status'))).http === 50,
      10_000,
      '50 in flight',
    );

    // Steady load: two loops of short requests, 50 ms apart, until the drain is over.
    let loading = true;
    const load: GetResult[] = [];
    const ids = new Map<GetResult, string>();
    const loop = async (n: number) => {
      for (let i = 0; loading && i < 400; i++) {
        const id = `load-${n}-${i}`;
        const r = await get(server.proxyUrl('/'), { ...app, 'x-request-id': id }, 10_000);
        ids.set(r, id);
        load.push(r);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const loops = [loop(0), loop(1)];

    const drain = tether(['drain', '--admin-url', server.adminUrl(), '--timeout', '60s']);
    await waitUntil(
      async () => (await fetch(server.adminUrl('/ready')).catch(() => undefined))?.status === 503,
      10_000,
      '/ready 503',
    );
    const readyFailedAt = Date.now();
    const drainCode = await drain.exited;
    const serverCode = await server.proc.exited;
    const exitedAt = Date.now();
    loading = false;
    await Promise.all(loops);
    const results = await Promise.all(slow);

    const log = server.proc.output();
    const drainStarted = loggedAt(log, /drain started/);
    assert.ok(drainStarted !== undefined, log);
    assert.ok(
      readyFailedAt - drainStarted < 1000,
      `/ready 503 after ${readyFailedAt - drainStarted} ms`,
    );

    assert.equal(drainCode, 0, drain.output());
    assert.match(drain.output(), /draining \(quiet\)/);
    assert.match(drain.output(), /^drained /m);
    assert.equal(serverCode, 0, log);

    for (const [i, r] of results.entries()) {
      assert.equal(r.status, 200, `slow-${i}: ${r.error}`);
      assert.ok(r.complete, `slow-${i} complete: ${r.error}`);
      assert.equal(r.body, slowBody(`slow-${i}`, 7));
    }
    const lastSlow = Math.max(...results.map((r) => r.endedAt));
    assert.ok(
      exitedAt - lastSlow < 3000,
      `exit ${exitedAt - lastSlow} ms after the last slow request`,
    );

    // Served during the quiet period, including after its first second (each request
    // restarted it); refused only once the listener closed, and none of those reached
    // the upstream or got a partial answer.
    const served = load.filter((r) => r.status === 200 && r.complete);
    const refused = load.filter((r) => r.status === 0);
    assert.equal(
      served.length + refused.length,
      load.length,
      JSON.stringify(load.filter((r) => !served.includes(r) && !refused.includes(r))),
    );
    assert.ok(
      served.some((r) => r.startedAt > drainStarted + 1500),
      'served 1.5 s into the drain',
    );
    assert.ok(refused.length > 0, 'the listener closed at the 3 s cap despite steady load');
    for (const r of refused) {
      assert.match(r.code ?? '', /^(ECONNREFUSED|ECONNRESET)$/, String(r.error));
      assert.ok(
        r.startedAt >= drainStarted + 1000,
        `refused ${r.startedAt - drainStarted} ms into the drain`,
      );
    }
    const reachedUpstream = refused.filter((r) => upstream.arrivals.has(ids.get(r) ?? ''));
    assert.deepEqual(reachedUpstream, [], 'a refused request never reached the upstream');
    await upstream.close();
  });

  test('SIGTERM with work longer than the grace period - cut with a clear reason, exit 0 on time', async () => {
    const upstream = await slowUpstream();
    const wsUpstream = await wsEchoUpstream();
    const echo = createTcpServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const server = await startServer([
      '--drain.quiet-period',
      '200ms',
      '--drain.quiet-period-max',
      '200ms',
      '--drain.grace-period',
      '1500ms',
    ]);
    await startAgent(server, 'http', 'app', String(upstream.port));
    await startAgent(server, 'http', 'ws', String(wsUpstream.port));
    await startAgent(server, 'tcp', 'db', String((echo.address() as AddressInfo).port));

    const long = get(server.proxyUrl('/slow?chunks=40&every=250'), {
      ...app,
      'x-request-id': 'long',
    });
    // A WebSocket the upstream terminates (relayed as raw bytes) and one the server
    // terminates (TCP over WebSocket).
    const upgraded = await wsClient(`ws://127.0.0.1:${server.proxyPort}/echo`, {
      'x-piko-endpoint': 'ws',
    });
    const tcp = await wsClient(`ws://127.0.0.1:${server.proxyPort}/_piko/v1/tcp/db`);
    upgraded.send('hello');
    tcp.send('hello');
    await waitUntil(
      () => upgraded.messages.length === 1 && tcp.messages.length === 1,
      5000,
      'echoes',
    );
    await waitUntil(
      async () => {
        const n = await inflight(server.adminUrl('/status'));
        return n.http === 1 && n.upgraded === 1 && n.tcp === 1;
      },
      5000,
      'one of each in flight',
    );

    const signalledAt = Date.now();
    signal(server.proc, 'SIGTERM');
    const code = await server.proc.exited;
    const took = Date.now() - signalledAt;
    const cut = await long;
    const [upgradedClose, tcpClose] = await Promise.all([upgraded.closed, tcp.closed]);

    assert.equal(code, 0);
    assert.ok(
      took >= 1500 && took < 4000,
      `exit ${took} ms after SIGTERM (quiet 0.2 s + grace 1.5 s)`,
    );
    assert.equal(cut.status, 200);
    // The client must see a cut body, never a short complete one. Deno's node:http client
    // sometimes flags a cut chunked body complete (curl reports error 18 against the same
    // server), so only Bun's client is trusted on that flag; the length check holds on both.
    if (!('Deno' in globalThis)) assert.equal(cut.complete, false, 'the client sees a cut body');
    assert.ok(cut.body.length > 0 && cut.body.length < slowBody('long', 40).length);
    // The server closes a WebSocket it terminates with 1001 Going Away; a relayed one
    // ends with its TCP connection (1006: no close frame, since tether never parsed it).
    assert.equal(tcpClose.code, 1001, JSON.stringify(tcpClose));
    assert.equal(upgradedClose.code, 1006, JSON.stringify(upgradedClose));
    const log = server.proc.output();
    assert.match(log, /grace period over, cutting what is left/);
    assert.match(log, /path="\/slow[^\n]*error="server drained: grace period of 1500 ms is over"/);
    echo.close();
    await Promise.all([upstream.close(), wsUpstream.close()]);
  });

  test('SIGINT twice - the first drains, the second stops at once and says so', async () => {
    const { upstream, server, request: long } = await oneSlowRequest(40, 'long');
    signal(server.proc, 'SIGINT');
    await server.proc.waitFor(/waiting for in-flight work/, 5000);
    const secondAt = Date.now();
    signal(server.proc, 'SIGINT');
    assert.equal(await server.proc.exited, 0);
    assert.ok(Date.now() - secondAt < 2000, 'stopped at once');
    assert.match(
      server.proc.output(),
      /SIGINT received: draining \(send Ctrl-C again to stop at once\)/,
    );
    assert.match(
      server.proc.output(),
      /SIGINT received again: stopping at once, in-flight work is cut/,
    );
    // The body is cut short (Deno's node:http client may still flag it complete).
    assert.ok((await long).body.length < slowBody('long', 40).length, 'the slow response was cut');
    await upstream.close();
  });

  test('tether status, then tether drain - a second call joins the drain; a timeout or no answer exits 1 with a clear message', async () => {
    const nobody = tether(['drain', '--admin-url', 'http://127.0.0.1:1']);
    assert.equal(await nobody.exited, 1);
    assert.match(
      nobody.output(),
      /tether: Cannot reach the admin port at http:\/\/127\.0\.0\.1:1: /,
    );

    const { upstream, server, request: slow } = await oneSlowRequest(12, 's');

    const status = tether(['status', '--admin-url', `127.0.0.1:${server.adminPort}`, '--json']);
    assert.equal(await status.exited, 0, status.output());
    const json = JSON.parse(status.output()) as {
      role: string;
      ready: boolean;
      agents: number;
      inflight: { http: number };
    };
    assert.deepEqual(
      [json.role, json.ready, json.agents, json.inflight.http],
      ['server', true, 1, 1],
    );
    const readable = tether(['status', '--admin-url', server.adminUrl()]);
    assert.equal(await readable.exited, 0, readable.output());
    assert.match(
      readable.output(),
      /^server at http:\/\/127\.0\.0\.1:\d+: ready\nin flight: http 1, upgraded 0, tcp 0\nagents connected: 1 on 1 endpoints\nendpoint app: 1 agent\n {2}127\.0\.0\.1:\d+ since /,
    );

    const impatient = tether(['drain', '--admin-url', server.adminUrl(), '--timeout', '500ms']);
    assert.equal(await impatient.exited, 1);
    assert.match(
      impatient.output(),
      /tether: Timed out after 500ms waiting for http:\/\/127\.0\.0\.1:\d+ to drain; the drain goes on there/,
    );
    const second = tether(['drain', '--admin-url', server.adminUrl(), '--quiet']);
    assert.equal(await second.exited, 0, second.output());
    assert.match(second.output(), /^drained http:\/\/127\.0\.0\.1:\d+ \(waited/);
    assert.equal(await server.proc.exited, 0);
    const done = await slow;
    assert.ok(done.complete && done.body === slowBody('s', 12), 'the request in flight finished');
    await upstream.close();
  });
});
