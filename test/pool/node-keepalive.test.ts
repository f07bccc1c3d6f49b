import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { UpstreamPool } from '../../src/pool/index.ts';
import { cleanupUpstreamScripts, startUpstream } from '../_harness/upstreams.ts';
import { send } from './helpers.ts';

after(cleanupUpstreamScripts);

// Scenario E with Node's defaults: keepAliveTimeout 5 s (`Keep-Alive: timeout=5`, socket
// really closed at 6 s). Slow by nature: the one 60 s test of the suite.
test('pool - Node http upstream with default keep-alive, GET and POST every 5.0 s for 60 s: 0 failures', {
  timeout: 80_000,
}, async () => {
  const up = await startUpstream({ kind: 'node-http' });
  const pool = new UpstreamPool();
  const failures: unknown[] = [];
  const ids: string[] = [];
  try {
    const start = Date.now();
    for (let k = 0; k <= 12; k++) {
      const due = start + k * 5000 + ((k % 3) - 1) * 50; // 5.0 s ± 50 ms
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
      for (const method of ['GET', 'POST']) {
        const id = `${method}-${k}`;
        ids.push(id);
        try {
          const r = await send(pool, up.origin, method, '/', {
            id,
            body: method === 'POST' ? new Uint8Array(1024).fill(120) : null,
          });
          if (r.status !== 200 || r.text !== 'ok') failures.push(`${id}: ${r.status} ${r.text}`);
        } catch (err) {
          failures.push(err);
        }
      }
    }
    assert.deepEqual(failures, []);
    const s = await up.stats();
    for (const id of ids) assert.equal(s.executions[id], 1, id);
    assert.deepEqual(s.methods, { GET: 13, POST: 13 });
    // Evicted at timeout − 2 s = 3 s: every round on a new connection, POST reusing GET's.
    const p = pool.stats();
    assert.deepEqual(
      { created: p.created, reused: p.reused, retried: p.retried },
      { created: 13, reused: 13, retried: 0 },
    );
  } finally {
    await pool.close();
    await up.stop();
  }
});
