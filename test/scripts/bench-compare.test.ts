import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compare, parseResults } from '../../scripts/bench/compare.ts';
import type { Results } from '../../scripts/bench/report.ts';

/** A run with one GET case, the download and WebSocket echo; tether's figures scaled by `k`. */
function run(commit: string, k: number, nginxRps: number): Results {
  const http = (rps: number, p50: number) => ({
    rps,
    p50,
    p99: p50 * 4,
    p999: p50 * 8,
    errors: 0,
    requests: rps * 5,
    mbps: 1,
  });
  return {
    date: '2026-11-22T00:00:00.000Z',
    commit,
    machine: { cores: 2 } as Results['machine'],
    agentRuntime: 'bun',
    seconds: 5,
    rounds: 2,
    concurrency: [32],
    http: {
      'get64-c32': {
        direct: [http(100_000, 0.25), http(100_000, 0.25)],
        nginx: [http(nginxRps, 0.7), http(nginxRps, 0.7)],
        tether: [http(10_000 * k, 2 / k), http(12_000 * k, 2 / k)],
      },
    },
    download: { direct: [2000], nginx: [900], tether: [800 * k] },
    ws: {
      direct: [{ mps: 100_000, p50: 0.1, p99: 1, errors: 0, messages: 1 }],
      nginx: [{ mps: 60_000, p50: 0.1, p99: 1, errors: 0, messages: 1 }],
      tether: [{ mps: 30_000 * k, p50: 0.1, p99: 1, errors: 0, messages: 1 }],
    },
  };
}

describe('bench compare', () => {
  test('shows tether before and after, its change, and the ratios within each run', () => {
    const out = compare(run('aaa', 1, 40_000), run('bbb', 1.2, 40_000)).split('\n');
    assert.ok(out[0]?.includes('commit aaa') && out[1]?.includes('commit bbb'));
    // Medians: 11,000 → 13,200 req/s; against nginx's 40,000: 28 % → 33 %.
    assert.ok(
      out.includes(
        '| GET 64 B, c=32: req/s | 11,000 | 13,200 | +20 % better | 28 % | 33 % | 11 % | 13 % |',
      ),
      out.join('\n'),
    );
    // Latency falls: lower is better.
    assert.ok(
      out.some((l) => l.startsWith('| GET 64 B, c=32: p50 ms | 2.00 | 1.67 | −17 % better |')),
    );
    assert.ok(
      out.some((l) =>
        l.startsWith('| 1 GiB download: MB/s | 800 | 960 | +20 % better | 89 % | 107 % |'),
      ),
    );
    assert.ok(
      out.includes(
        '| GET c=32: tether ≥ 40 % of nginx req/s, 0 errors | 28 %, 0 errors (**no**) | 33 %, 0 errors (**no**) |',
      ),
    );
    assert.ok(
      out.includes('| 1 GiB download ≥ 1.0 × nginx MB/s | 0.89 × (**no**) | 1.07 × (yes) |'),
    );
  });

  test('a faster machine alone moves tether, not its ratio to nginx', () => {
    const out = compare(run('aaa', 1, 40_000), run('bbb', 1.5, 60_000)).split('\n');
    const row = out.find((l) => l.startsWith('| GET 64 B, c=32: req/s |'));
    assert.equal(
      row,
      '| GET 64 B, c=32: req/s | 11,000 | 16,500 | +50 % better | 28 % | 28 % | 11 % | 17 % |',
    );
  });

  test('refuses files that are not bench results, naming them', () => {
    assert.throws(() => parseResults('{', 'a.json'), /Cannot read a\.json: not JSON/);
    assert.throws(
      () => parseResults('{"commit":"x"}', 'b.json'),
      /Cannot read b\.json: not a bench-results file/,
    );
    assert.equal(parseResults(JSON.stringify(run('c', 1, 1)), 'c.json').commit, 'c');
  });
});
