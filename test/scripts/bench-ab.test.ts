import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cpuTicks, parseAbArgs, type Sample, summarize } from '../../scripts/bench/ab.ts';

describe('bench:ab arguments', () => {
  test('defaults: GET at c=32, 5 rounds of 4 s, access log on', () => {
    const o = parseAbArgs(['HEAD~1', 'HEAD']);
    assert.deepEqual(o, {
      case: 'get',
      connections: 32,
      rounds: 5,
      seconds: 4,
      logLevel: 'info',
      trees: ['HEAD~1', 'HEAD'],
    });
  });

  test('flags with and without "=", in any order', () => {
    const o = parseAbArgs([
      '--case=download',
      'a',
      '--rounds',
      '3',
      '-c',
      '1',
      'b',
      '--log-level=warn',
    ]);
    assert.equal(o.case, 'download');
    assert.equal(o.rounds, 3);
    assert.equal(o.connections, 1);
    assert.equal(o.logLevel, 'warn');
    assert.deepEqual(o.trees, ['a', 'b']);
  });

  test('bad input is refused with the reason and the usage', () => {
    const cases: [string[], RegExp][] = [
      [
        ['--case', 'upload', 'a', 'b'],
        /--case wants one of get, download, ws, tcp-up, tcp-down, got upload/,
      ],
      [['--rounds', '0', 'a', 'b'], /--rounds wants a whole number from 1 to 20, got 0/],
      [['--rounds', '21', 'a', 'b'], /from 1 to 20, got 21/],
      [['--seconds', '1.5', 'a', 'b'], /--seconds wants a whole number from 1 to 30, got 1.5/],
      [['-c'], /-c wants a whole number from 1 to 1024, got nothing/],
      [['--log-level', 'loud', 'a', 'b'], /--log-level wants debug, info, warn or error/],
      [['--fast', 'a', 'b'], /Unknown option --fast/],
      [['a'], /Two builds to compare are needed, got 1/],
      [['a', 'b', 'c'], /got 3/],
    ];
    for (const [argv, why] of cases) {
      assert.throws(
        () => parseAbArgs(argv),
        (error: unknown) =>
          error instanceof RangeError && why.test(error.message) && /Usage:/.test(error.message),
        argv.join(' '),
      );
    }
  });
});

describe('bench:ab CPU time', () => {
  test('user + system ticks, counted after the last ")" of the command name', () => {
    // proc(5): pid (comm) state ppid … utime(14) stime(15) …; this comm holds ") 9 9 ".
    const rest = 'S 1 2 3 4 5 6 7 8 9 10 1234 56 0 0 20 0 9 0 100 0 0';
    assert.equal(cpuTicks(`4242 (bun) ${rest}`), 1290);
    assert.equal(cpuTicks(`4242 (a) 9 9 (b)) ${rest}`), 1290);
  });

  test('a line that is not a stat line is an error, not zero', () => {
    assert.throws(() => cpuTicks('no parenthesis here'), /no command name/);
    assert.throws(() => cpuTicks('1 (bun) S 1 2'), /no CPU times/);
  });
});

describe('bench:ab summary', () => {
  const s = (rate: number, server: number, agent: number, p50 = 1): Sample => ({
    rate,
    p50,
    server,
    agent,
  });

  test('medians with their range, B/A, and in how many pairs B was better', () => {
    const a = [s(100, 30, 20), s(110, 32, 21), s(90, 31, 22)];
    const b = [s(120, 28, 22), s(100, 29, 20), s(95, 33, 21)];
    const table = summarize('get', ['old', 'new'], a, b);
    const rows = table.split('\n');
    assert.equal(rows[0], '| get | A: old | B: new | B/A | B better in |');
    // Rates: B higher in pairs 1 and 3; medians 100 and 100.
    assert.equal(rows[2], '| req/s | 100 (90–110) | 100 (95–120) | 1.000 | 2 of 3 |');
    // Lower is better for latency and CPU: server lower in pairs 1 and 2.
    assert.equal(
      rows[4],
      '| server CPU µs per req | 31.0 (30.0–32.0) | 29.0 (28.0–33.0) | 0.935 | 2 of 3 |',
    );
    assert.equal(
      rows[5],
      '| agent CPU µs per req | 21.0 (20.0–22.0) | 21.0 (20.0–22.0) | 1.000 | 2 of 3 |',
    );
  });

  test('the download has no latency row and counts CPU per GiB', () => {
    const table = summarize(
      'download',
      ['a', 'b'],
      [s(800, 950, 1000, Number.NaN)],
      [s(900, 600, 900, Number.NaN)],
    );
    assert.doesNotMatch(table, /p50/);
    assert.match(table, /\| MB\/s \| 800 \(800–800\) \| 900 \(900–900\) \| 1\.125 \| 1 of 1 \|/);
    assert.match(table, /\| server CPU ms per GiB \| 950\.0 .* \| 0\.632 \| 1 of 1 \|/);
  });

  test('TCP forwarding adds the forward client, in ms per GiB', () => {
    const a = { ...s(400, 2000, 900, Number.NaN), forward: 1800 };
    const b = { ...s(600, 1100, 800, Number.NaN), forward: 1100 };
    const table = summarize('tcp-up', ['a', 'b'], [a], [b]);
    assert.doesNotMatch(table, /p50/);
    assert.match(table, /\| MB\/s \| 400 .* \| 1\.500 \| 1 of 1 \|/);
    assert.match(
      table,
      /\| forward CPU ms per GiB \| 1800\.0 .* \| 1100\.0 .* \| 0\.611 \| 1 of 1 \|/,
    );
  });

  test('no samples for a side: dashes, not NaN', () => {
    const table = summarize('ws', ['a', 'b'], [s(1, 1, 1)], []);
    assert.doesNotMatch(table, /NaN/);
    assert.match(table, /\| msg\/s \| 1 \(1–1\) \| – \| – \| – \|/);
  });
});
