import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { stopAll } from '../_harness/process.ts';
import { agentCount, startAgent, startServer, tether, waitUntil } from '../_harness/tether.ts';
import {
  allLoggedAt,
  get,
  loggedAt,
  mixedUpstream,
  type RuntimeUpstream,
  signal,
  slowBody,
  wsClient,
} from './drain-helpers.ts';

after(stopAll);

const app = { 'x-piko-endpoint': 'app' };

/** Arrivals at `upstream` later than `at` (epoch ms). */
function arrivalsAfter(upstream: RuntimeUpstream, at: number): string[] {
  return [...upstream.arrivals].filter(([, t]) => t > at).map(([id]) => id);
}

describe('agent drain', () => {
  test('rolling restart of two agents under constant load - 0 failed requests, nothing routed to a draining agent', async () => {
    const server = await startServer();
    const [uA, uB, uA2, uB2] = await Promise.all([
      mixedUpstream(),
      mixedUpstream(),
      mixedUpstream(),
      mixedUpstream(),
    ]);
    const grace = ['--drain.grace-period', '10s'];
    // Debug logs show each stream a draining agent refused.
    const a = await startAgent(server, 'http', 'app', String(uA.port), [
      ...grace,
      '--log.level',
      'debug',
    ]);
    const b = await startAgent(server, 'http', 'app', String(uB.port), [
      ...grace,
      '--log.level',
      'debug',
    ]);
    await waitUntil(async () => (await agentCount(server, 'app')) === 2, 5000, 'two agents');

    let loading = true;
    const failures: string[] = [];
    const done = { short: 0, ws: 0, slow: 0 };
    const shortLoop = async (n: number) => {
      for (let i = 0; loading && i < 2000; i++) {
        const id = `short-${n}-${i}`;
        const r = await get(server.proxyUrl('/'), { ...app, 'x-request-id': id }, 10_000);
        if (r.status !== 200 || r.body !== `ok ${id}`)
          failures.push(`${id}: ${r.status} ${r.error ?? r.body}`);
        else done.short++;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const wsLoop = async (n: number) => {
      for (let i = 0; loading && i < 500; i++) {
        const id = `ws-${n}-${i}`;
        try {
          const ws = await wsClient(`ws://127.0.0.1:${server.proxyPort}/ws`, {
            ...app,
            'x-request-id': id,
          });
          for (let k = 0; k < 3; k++) {
            ws.send(`${id}/${k}`);
            await waitUntil(() => ws.messages.length > k, 5000, `echo ${k} of ${id}`);
          }
          assert.deepEqual(ws.messages, [`${id}/0`, `${id}/1`, `${id}/2`]);
          ws.close();
          await ws.closed;
          done.ws++;
        } catch (error) {
          failures.push(`${id}: ${(error as Error).message}`);
        }
      }
    };
    const slowLoop = async () => {
      for (let i = 0; loading && i < 100; i++) {
        const id = `slow-${i}`;
        const r = await get(server.proxyUrl('/slow?chunks=6&every=250'), {
          ...app,
          'x-request-id': id,
        });
        if (r.status !== 200 || !r.complete || r.body !== slowBody(id, 6)) {
          failures.push(`${id}: ${r.status} ${r.error ?? r.body}`);
        } else done.slow++;
      }
    };
    const loops = [
      shortLoop(0),
      shortLoop(1),
      shortLoop(2),
      wsLoop(0),
      wsLoop(1),
      slowLoop(),
      slowLoop(),
    ];
    await waitUntil(
      () => done.short > 20 && done.ws > 2 && uA.arrivals.size > 5 && uB.arrivals.size > 5,
      10_000,
      'load on both agents',
    );

    const goAways = () => allLoggedAt(server.proc.output(), /agent draining \(GoAway\)/);
    signal(a, 'SIGTERM');
    await waitUntil(() => goAways().length === 1, 5000, "A's GoAway at the server");
    const a2 = await startAgent(server, 'http', 'app', String(uA2.port), grace);
    assert.equal(await a.exited, 0, a.output());

    await waitUntil(() => uA2.arrivals.size > 5, 10_000, 'load on the replacement of A');
    signal(b, 'SIGTERM');
    await waitUntil(() => goAways().length === 2, 5000, "B's GoAway at the server");
    await startAgent(server, 'http', 'app', String(uB2.port), grace);
    assert.equal(await b.exited, 0, b.output());
    // Keep the load on for a second after B's GoAway, so the checks below see traffic.
    const goAwayBAt = goAways()[1] ?? 0;
    await waitUntil(
      () => uB2.arrivals.size > 5 && Date.now() > goAwayBAt + 1000,
      10_000,
      'load on the replacement of B',
    );
    loading = false;
    await Promise.all(loops);

    assert.deepEqual(failures, [], `${failures.length} failed requests`);
    assert.ok(done.short > 50 && done.ws > 5 && done.slow > 3, JSON.stringify(done));
    const [goAwayA, goAwayB] = goAways() as [number, number];
    // A stream the server opened before the GoAway arrived may reach the upstream a moment
    // later; anything well after it would have been routed to a leaving agent.
    assert.deepEqual(arrivalsAfter(uA, goAwayA + 250), [], 'routed to A after its GoAway');
    assert.deepEqual(arrivalsAfter(uB, goAwayB + 250), [], 'routed to B after its GoAway');
    assert.ok(arrivalsAfter(uA2, goAwayB + 250).length > 0, 'A2 served after the second GoAway');
    assert.ok(arrivalsAfter(uB2, goAwayB + 250).length > 0, 'B2 served after the second GoAway');
    // Only opens already on their way when the GoAway left can be refused (at most one per
    // load loop); a server that kept routing to a leaving agent would be refused all along.
    for (const agent of [a, b]) {
      const refused =
        agent.output().match(/Refused inbound stream \d+: session is draining/g) ?? [];
      assert.ok(refused.length <= loops.length, `${refused.length} streams refused while draining`);
    }
    assert.match(a.output(), /SIGTERM received: draining/);
    assert.match(a2.output(), /connected to server/);
    await Promise.all([uA, uB, uA2, uB2].map((u) => u.close()));
  });

  test('GoAway from a draining server - the agent connects its replacement before the old session ends', async () => {
    const s1 = await startServer([
      '--drain.quiet-period',
      '300ms',
      '--drain.quiet-period-max',
      '300ms',
    ]);
    const s2 = await startServer();
    // The agent's connect URL points here; this switch decides which server it reaches,
    // as a load balancer in front of several servers would.
    let target = s1.upstreamPort;
    const sockets = new Set<Socket>();
    const lb = createTcpServer((client) => {
      const upstream = connect(target, '127.0.0.1');
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((r) => lb.listen(0, '127.0.0.1', r));
    const lbUrl = `http://127.0.0.1:${(lb.address() as AddressInfo).port}`;
    const u = await mixedUpstream();
    const agent = await startAgent({ upstreamUrl: () => lbUrl }, 'http', 'app', String(u.port));
    await waitUntil(async () => (await agentCount(s1, 'app')) === 1, 5000, 'agent on s1');

    const inFlight = get(s1.proxyUrl('/slow?chunks=12&every=250'), {
      ...app,
      'x-request-id': 'old',
    });
    await waitUntil(async () => u.arrivals.has('old'), 5000, 'slow request at the upstream');
    target = s2.upstreamPort;
    const drain = tether(['drain', '--admin-url', s1.adminUrl()]);

    await waitUntil(async () => (await agentCount(s2, 'app')) === 1, 5000, 'replacement on s2');
    // Make before break: the old session is still there, still serving the slow request.
    const s1Status = (await (await fetch(s1.adminUrl('/status'))).json()) as {
      agents: number;
      inflight: { http: number };
    };
    assert.equal(s1Status.agents, 1, 'old session still open');
    assert.equal(s1Status.inflight.http, 1, 'old session still serving');
    for (let i = 0; i < 5; i++) {
      const r = await get(s2.proxyUrl('/'), { ...app, 'x-request-id': `new-${i}` });
      assert.equal(r.status, 200, String(r.error));
    }
    const old = await inFlight;
    assert.ok(old.complete && old.body === slowBody('old', 12), `old request: ${old.error}`);
    assert.equal(await drain.exited, 0, drain.output());
    assert.equal(await s1.proc.exited, 0);

    const connectedS2 = loggedAt(s2.proc.output(), /agent connected endpoint=app/);
    const oldClosed = loggedAt(s1.proc.output(), /agent disconnected endpoint=app/);
    assert.ok(connectedS2 !== undefined && oldClosed !== undefined);
    assert.ok(connectedS2 < oldClosed, `replacement at ${connectedS2}, old closed at ${oldClosed}`);
    assert.match(
      agent.output(),
      /server sent GoAway: reconnecting, old session finishes its streams/,
    );
    for (const s of sockets) s.destroy();
    lb.close();
    await u.close();
  });

  test('tether drain and status through the agent admin port - other agents take the new requests, exit 0', async () => {
    const server = await startServer();
    const [uA, uB] = await Promise.all([mixedUpstream(), mixedUpstream()]);
    const a = await startAgent(server, 'http', 'app', String(uA.port), [
      '--admin.bind-addr',
      '127.0.0.1:0',
    ]);
    await startAgent(server, 'http', 'app', String(uB.port));
    await waitUntil(async () => (await agentCount(server, 'app')) === 2, 5000, 'two agents');
    const adminAddr = (await a.waitFor(/tether agent started .*admin=(\S+)/))[1];
    const adminUrl = `http://${adminAddr}`;

    await waitUntil(
      async () => (await fetch(`${adminUrl}/ready`)).status === 200,
      5000,
      'agent ready',
    );
    const status = tether(['status', '--admin-url', adminUrl]);
    assert.equal(await status.exited, 0, status.output());
    assert.match(status.output(), /^agent at http:\/\/127\.0\.0\.1:\d+: ready$/m);
    assert.match(status.output(), /^listener app \(http\): connected, 1 sessions/m);

    const slow = Array.from({ length: 4 }, (_, i) =>
      get(server.proxyUrl('/slow?chunks=8&every=250'), { ...app, 'x-request-id': `slow-${i}` }),
    );
    await waitUntil(
      () => [...uA.arrivals.keys()].some((id) => id.startsWith('slow-')),
      5000,
      'slow request on A',
    );
    const drain = tether(['drain', '--admin-url', adminUrl]);
    await waitUntil(
      async () => (await fetch(`${adminUrl}/ready`)).status === 503,
      5000,
      'agent /ready 503',
    );
    const drainingSince = Date.now();
    for (let i = 0; i < 10; i++) {
      const r = await get(server.proxyUrl('/'), { ...app, 'x-request-id': `during-${i}` });
      assert.equal(r.status, 200, String(r.error));
    }
    assert.equal(await drain.exited, 0, drain.output());
    assert.match(drain.output(), /^draining; in flight streams=\d+; sessions open 1; \d+ s$/m);
    assert.match(drain.output(), /^drained http:\/\/127\.0\.0\.1:\d+/m);
    assert.equal(await a.exited, 0, a.output());
    for (const [i, r] of (await Promise.all(slow)).entries()) {
      assert.ok(r.complete && r.body === slowBody(`slow-${i}`, 8), `slow-${i}: ${r.error}`);
    }
    assert.deepEqual(
      arrivalsAfter(uA, drainingSince),
      [],
      'nothing new reached the draining agent',
    );
    assert.ok(arrivalsAfter(uB, drainingSince).length >= 10);
    const gone = tether(['drain', '--admin-url', adminUrl]);
    assert.equal(await gone.exited, 1);
    assert.match(gone.output(), /Cannot reach the admin port/);
    await Promise.all([uA.close(), uB.close()]);
  });
});
