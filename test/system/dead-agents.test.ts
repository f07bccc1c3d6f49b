/**
 * Dead agents on an endpoint with two agents: a killed agent (its WebSocket closes at
 * once) stops receiving requests immediately; a black-holed one (SIGSTOP: no FIN, no RST,
 * no bytes) is declared dead by the heartbeat within its timeout, its in-flight requests
 * fail fast with 502 instead of hanging, and the other agent serves everything after.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { stopAll } from '../_harness/process.ts';
import { agentCount, startAgent, startServer, waitUntil } from '../_harness/tether.ts';
import { type HttpResult, viaEndpoint } from './_support.ts';

/** An upstream answering its letter, except `/hold` requests, which wait for `release()`. */
function letterUpstream(letter: string) {
  const held: ServerResponse[] = [];
  let served = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    if (req.url === '/hold') {
      held.push(res);
      return;
    }
    served++;
    res.end(letter);
  });
  return {
    server,
    held,
    get served() {
      return served;
    },
    async listen(): Promise<number> {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return (server.address() as AddressInfo).port;
    },
    release() {
      for (const res of held.splice(0)) res.end(letter);
    },
    async close() {
      this.release();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/**
 * Stops or continues a process by pid. Deno's ChildProcess.kill() marks the child killed
 * after SIGSTOP and then ignores every later signal, SIGKILL included, so the harness
 * could never stop it; process.kill() has no such state.
 */
function signal(pid: number, name: 'SIGSTOP' | 'SIGCONT'): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

async function letters(proxyUrl: string, endpoint: string, n: number): Promise<string[]> {
  const results = await Promise.all(
    Array.from({ length: n }, () =>
      viaEndpoint(proxyUrl, endpoint, { timeoutMs: 10_000 }).then(
        (r) => (r.status === 200 ? r.body.toString() : `status ${r.status}`),
        (error: Error) => `error ${error.message}`,
      ),
    ),
  );
  return results;
}

describe('dead agents', () => {
  const upstreams: ReturnType<typeof letterUpstream>[] = [];
  const stopped: number[] = [];
  after(async () => {
    for (const pid of stopped) signal(pid, 'SIGCONT');
    await stopAll();
    await Promise.all(upstreams.map((u) => u.close()));
  });

  /** A server and two agents on `endpoint` with a 200 ms / 1 s heartbeat; agent A's pid. */
  async function twoAgentsFastHeartbeat(endpoint: string) {
    const heartbeat = ['--tunnel.heartbeat-interval', '200ms', '--tunnel.heartbeat-timeout', '1s'];
    const [a, b] = [letterUpstream('a'), letterUpstream('b')];
    upstreams.push(a, b);
    const server = await startServer(heartbeat);
    const [agentA] = await Promise.all([
      startAgent(server, 'http', endpoint, String(await a.listen()), heartbeat),
      startAgent(server, 'http', endpoint, String(await b.listen()), heartbeat),
    ]);
    const pid = agentA.child.pid!;
    stopped.push(pid);
    return { a, b, server, pid };
  }

  test('SIGKILL one of two agents: new requests go to the other at once', async () => {
    const [a, b] = [letterUpstream('a'), letterUpstream('b')];
    upstreams.push(a, b);
    // Default heartbeat (20 s / 45 s): only the WebSocket's close can tell the server.
    const server = await startServer();
    const [agentA] = await Promise.all([
      startAgent(server, 'http', 'pair', String(await a.listen())),
      startAgent(server, 'http', 'pair', String(await b.listen())),
    ]);
    assert.deepEqual(new Set(await letters(server.proxyUrl('/'), 'pair', 4)), new Set(['a', 'b']));

    const killed = Date.now();
    agentA.kill('SIGKILL');
    await waitUntil(async () => (await agentCount(server, 'pair')) === 1, 5_000, 'agent gone');
    const detectedMs = Date.now() - killed;
    assert.ok(detectedMs < 2_000, `the dead agent was removed after ${detectedMs} ms`);

    const after = await letters(server.proxyUrl('/'), 'pair', 50);
    assert.deepEqual(after, Array(50).fill('b'));
  });

  test('SIGSTOP one of two agents: dead within the heartbeat timeout, in-flight fail fast with 502, the rest succeed', {
    timeout: 30_000,
  }, async () => {
    const { a, b, server, pid } = await twoAgentsFastHeartbeat('stop');

    // Requests that stay in flight: round robin spreads them over both agents.
    const inflight = Array.from({ length: 4 }, () =>
      viaEndpoint(server.proxyUrl('/hold'), 'stop', { timeoutMs: 20_000 }).then(
        (r) => ({ ...r, at: Date.now() }),
        (error: Error) => ({ error, at: Date.now() }),
      ),
    );
    await waitUntil(() => a.held.length + b.held.length === 4, 5_000, 'requests in flight');
    const onA = a.held.length;
    assert.ok(onA > 0, 'some requests are in flight on the agent about to stop');

    const stoppedAt = Date.now();
    signal(pid, 'SIGSTOP');
    await waitUntil(async () => (await agentCount(server, 'stop')) === 1, 5_000, 'agent gone');
    const deadAfter = Date.now() - stoppedAt;
    // Heartbeat timeout 1 s, checked on the 200 ms heartbeat: dead by ~1.2 s.
    assert.ok(deadAfter < 2_000, `declared dead after ${deadAfter} ms`);

    // New requests all go to the surviving agent, with no failure.
    assert.deepEqual(await letters(server.proxyUrl('/'), 'stop', 20), Array(20).fill('b'));

    // The surviving agent's in-flight requests still complete; the stopped agent's failed
    // fast with 502 (by the time the session was declared dead), not hanging.
    b.release();
    const results = await Promise.all(inflight);
    const failed = results.filter((r) => !('status' in r) || r.status !== 200);
    assert.equal(failed.length, onA, 'exactly the requests on the stopped agent failed');
    for (const r of failed) {
      assert.ok('status' in r, `a 502, not a hang or a reset: ${'error' in r ? r.error : ''}`);
      const res = r as HttpResult & { at: number };
      assert.equal(res.status, 502);
      assert.match(res.body.toString(), /"error":"upstream unreachable"/);
      assert.ok(res.at - stoppedAt < 2_500, `the 502 came ${res.at - stoppedAt} ms after the stop`);
    }
    const succeeded = results.filter((r) => 'status' in r && r.status === 200) as HttpResult[];
    assert.deepEqual(
      succeeded.map((r) => r.body.toString()),
      Array(4 - onA).fill('b'),
    );
    signal(pid, 'SIGCONT');
  });

  test('requests sent to a black-holed agent before it is declared dead move to the other agent when that is safe', {
    timeout: 30_000,
  }, async () => {
    const { a, server, pid } = await twoAgentsFastHeartbeat('hole');
    signal(pid, 'SIGSTOP');

    // Round robin sends every other request to the stopped agent, which never ACKs the
    // stream. Once its session is declared dead: a GET (idempotent) and a PUT/POST whose
    // body was never sent (bodies wait for the ACK) are retried on the other agent; a POST
    // without a body may have been read by the agent, so it gets 502 and is not resent.
    const send = (method: string, body?: string) =>
      viaEndpoint(server.proxyUrl('/'), 'hole', {
        method,
        timeoutMs: 10_000,
        ...(body === undefined ? {} : { body }),
      }).then((r) => `${method} ${r.status} ${r.status === 200 ? r.body.toString() : ''}`.trim());
    const safe = await Promise.all([
      send('GET'),
      send('GET'),
      send('PUT', 'x'.repeat(1000)),
      send('PUT', 'x'.repeat(1000)),
      send('POST', 'payload'),
      send('POST', 'payload'),
    ]);
    assert.deepEqual(safe.sort(), [
      'GET 200 b',
      'GET 200 b',
      'POST 200 b',
      'POST 200 b',
      'PUT 200 b',
      'PUT 200 b',
    ]);
    assert.equal(a.served, 0, 'nothing reached the stopped agent');
    signal(pid, 'SIGCONT');
  });
});
