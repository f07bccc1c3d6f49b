/**
 * SCENARIOS.md C and E through the whole path (client → server → agent → upstream):
 * keep-alive off means `Connection: close` and a closed socket; every response is framed,
 * even a close-delimited one; and the agent's upstream pool survives the keep-alive race
 * against Node's default keep-alive and against an upstream that closes idle connections
 * without a hint, never sending a POST twice.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { stopAll } from '../_harness/process.ts';
import { type ServerProc, startAgent, startServer } from '../_harness/tether.ts';
import {
  cleanupUpstreamScripts,
  hasCommand,
  startUpstream,
  type Upstream,
} from '../_harness/upstreams.ts';
import { rawExchange, viaEndpoint } from './_support.ts';

function rawGet(endpoint: string, extra = ''): string {
  return `GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nx-piko-endpoint: ${endpoint}\r\n${extra}\r\n`;
}

function headOf(data: Buffer): string {
  const text = data.toString('latin1');
  return text.slice(0, text.indexOf('\r\n\r\n')).toLowerCase();
}

describe('scenarios C and E through the full path', () => {
  let server: ServerProc;
  let keepAliveOff: ServerProc;
  const upstreams: Upstream[] = [];
  const up = async (behaviour: Parameters<typeof startUpstream>[0]) => {
    const u = await startUpstream(behaviour);
    upstreams.push(u);
    return u;
  };

  before(async () => {
    const [plain, closeDelimited, connClose] = await Promise.all([
      up({ kind: 'raw' }),
      up({ kind: 'raw', framing: 'close', bodyBytes: 100_000 }),
      up({ kind: 'raw', connectionHeader: 'close', closeAfterResponse: true, bodyBytes: 1000 }),
    ]);
    [server, keepAliveOff] = await Promise.all([
      startServer(),
      startServer(['--proxy.idle-timeout', 'off']),
    ]);
    await Promise.all([
      startAgent(server, 'http', 'plain', String(plain.port)),
      startAgent(keepAliveOff, 'http', 'plain', String(plain.port)),
      startAgent(server, 'http', 'close-delimited', String(closeDelimited.port)),
      startAgent(server, 'http', 'conn-close', String(connClose.port)),
    ]);
    if (hasCommand('python3')) {
      const py = await up({ kind: 'python-http10', bodyBytes: 50_000 });
      await startAgent(server, 'http', 'http10', String(py.port));
    }
  });
  after(async () => {
    await stopAll();
    await Promise.all(upstreams.map((u) => u.stop()));
    cleanupUpstreamScripts();
  });

  test('keep-alive off: Connection: close, and the socket closes right after the response', async () => {
    // Even a client asking for keep-alive gets the connection closed.
    const off = await rawExchange(
      keepAliveOff.proxyPort,
      rawGet('plain', 'Connection: keep-alive\r\n'),
      3_000,
    );
    assert.equal(off.closed, true, 'the server closed the connection');
    assert.match(headOf(off.data), /^http\/1\.1 200/);
    assert.match(headOf(off.data), /\r\nconnection: close/);
    assert.ok(off.data.toString().endsWith('\r\n\r\nok'), 'the whole body came first');

    // The default (620 s, advertised) keeps the same exchange open: the test can tell.
    const on = await rawExchange(server.proxyPort, rawGet('plain'), 500);
    assert.equal(on.closed, false);
    assert.match(headOf(on.data), /\r\nkeep-alive: timeout=620/);
  });

  test('close-delimited, Connection: close and HTTP/1.0 upstream responses reach curl complete and framed', {
    skip: hasCommand('curl') ? false : 'curl is not installed',
  }, async () => {
    const cases: [string, number][] = [
      ['close-delimited', 100_000],
      ['conn-close', 1000],
    ];
    if (hasCommand('python3')) cases.push(['http10', 50_000]);
    for (const [endpoint, bytes] of cases) {
      // Three requests on one client connection: each must be framed for the next to work.
      const url = server.proxyUrl(`/${endpoint}`);
      const run = spawnSync(
        'curl',
        [
          '-sS',
          '--max-time',
          '10',
          '-H',
          `x-piko-endpoint: ${endpoint}`,
          ...['-o', '/dev/null', '-o', '/dev/null', '-o', '/dev/null'],
          '-w',
          '%{http_code} %{size_download} %{num_connects}\\n',
          url,
          url,
          url,
        ],
        { encoding: 'utf8', timeout: 15_000 },
      );
      assert.equal(run.status, 0, `curl ${endpoint}: ${run.stderr}`);
      const lines = run.stdout.trim().split('\n');
      assert.deepEqual(
        lines.map((l) => l.split(' ').slice(0, 2).join(' ')),
        [`200 ${bytes}`, `200 ${bytes}`, `200 ${bytes}`],
        endpoint,
      );
      // One connection for all three: the responses were framed, not ended by a close.
      assert.deepEqual(
        lines.map((l) => l.split(' ')[2]),
        ['1', '0', '0'],
        `${endpoint}: connections per request`,
      );
    }
  });

  test('keep-alive race: Node default keep-alive every 5.0 s, and silent idle close every N s', {
    timeout: 60_000,
  }, async () => {
    const [node, silent] = await Promise.all([
      up({ kind: 'node-http' }),
      // Closes a connection 4 s after its last response, without any hint: the same as
      // the agent's no-hint eviction, the worst case.
      up({ kind: 'raw', idleCloseMs: 4_000 }),
    ]);
    await Promise.all([
      startAgent(server, 'http', 'node-ka', String(node.port)),
      startAgent(server, 'http', 'silent-close', String(silent.port)),
    ]);

    const paced = async (endpoint: string, everyMs: number, count: number) => {
      const failures: string[] = [];
      const posts: string[] = [];
      const started = Date.now();
      for (let i = 0; i < count; i++) {
        const at = started + i * everyMs;
        await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now()))); // the pace
        const method = i % 2 === 0 ? 'GET' : 'POST';
        const id = `${endpoint}-${i}`;
        if (method === 'POST') posts.push(id);
        const res = await viaEndpoint(server.proxyUrl(`/${i}`), endpoint, {
          method,
          headers: { 'x-request-id': id },
          ...(method === 'POST' ? { body: `payload ${i}` } : {}),
        }).catch((error: Error) => ({ status: 0, body: Buffer.from(error.message) }));
        if (res.status !== 200) failures.push(`${method} ${i}: ${res.status} ${res.body}`);
      }
      return { failures, posts };
    };

    const [nodeRun, silentRun] = await Promise.all([
      paced('node-ka', 5_000, 7),
      paced('silent-close', 4_000, 8),
    ]);
    for (const [upstream, run, closesSilently] of [
      [node, nodeRun, false],
      [silent, silentRun, true],
    ] as const) {
      // Closing at the same moment as the pace, the silent upstream can close a connection
      // while a request is on its way over it (a window of well under a millisecond, seen
      // once in many CI runs). A GET is then retried on a fresh connection; a POST cannot be
      // (its bytes were written), and 502 reused-connection is the safe answer. Nothing else
      // may fail, and every other POST runs exactly once; a refused one never ran.
      const refused = new Set<string>();
      const failures = run.failures.filter((f) => {
        const raced = /^POST (\d+): 502 .*closed a reused connection/.exec(f);
        if (!closesSilently || raced === null) return true;
        refused.add(`silent-close-${raced[1]}`);
        return false;
      });
      assert.deepEqual(failures, []);
      const stats = await upstream.stats();
      for (const id of run.posts) {
        const expected = refused.has(id) ? 0 : 1;
        assert.equal(stats.executions[id] ?? 0, expected, `${id} executed ${expected} times`);
      }
      assert.equal(
        stats.methods.POST ?? 0,
        run.posts.length - refused.size,
        'POST executions = POSTs answered',
      );
    }
    // Node advertises timeout=5, so the agent evicts at 3 s and every paced request met a
    // connection at the end of its life. (For the silent upstream, closing at exactly the
    // request interval, either side may win each time — including neither, when a request
    // beats both timers — so its connection count proves nothing and is not asserted;
    // test/pool/race.test.ts pins that race down.)
    assert.ok((await node.stats()).connections > 1);
  });
});
