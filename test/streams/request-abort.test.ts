import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestAbort, signalWatch } from '../../src/streams/index.ts';

for (const [kind, make] of [
  [
    'RequestAbort',
    () => {
      const a = new RequestAbort();
      return { watch: a, abort: (reason?: unknown) => a.abort(reason) };
    },
  ],
  [
    'an AbortSignal',
    () => {
      const c = new AbortController();
      return { watch: signalWatch(c.signal), abort: (reason?: unknown) => c.abort(reason) };
    },
  ],
] as const) {
  test(`${kind} - each watcher runs once, after the abort; one taken back or added late never runs`, () => {
    const { watch, abort } = make();
    const seen: string[] = [];
    watch.watch(() => seen.push(`a ${watch.aborted}`));
    const unwatch = watch.watch(() => seen.push('b'));
    watch.watch(() => seen.push(`c ${String(watch.reason)}`));
    unwatch();
    assert.equal(watch.aborted, false);
    abort('gone');
    abort('again');
    assert.deepEqual(seen, ['a true', 'c gone']);
    assert.equal(watch.reason, 'gone');
    watch.watch(() => seen.push('late'));
    abort('once more');
    assert.deepEqual(seen, ['a true', 'c gone']);
  });
}

test('RequestAbort - the signal is made on demand and follows the abort, before or after', () => {
  const early = new RequestAbort();
  early.abort('before');
  assert.equal(early.signal.aborted, true);
  assert.equal(early.signal.reason, 'before');

  const late = new RequestAbort();
  const signal = late.signal;
  assert.equal(late.signal, signal);
  const seen: string[] = [];
  signal.addEventListener('abort', () => seen.push('listener'));
  late.watch(() => seen.push('watcher'));
  late.abort();
  assert.deepEqual(seen, ['listener', 'watcher']);
  assert.ok(signal.reason instanceof DOMException && signal.reason.name === 'AbortError');
  assert.equal(late.reason, signal.reason);
});

test('RequestAbort - a watcher that throws stops no other, and its error is thrown after', () => {
  const a = new RequestAbort();
  const seen: string[] = [];
  a.watch(() => {
    seen.push('1');
    throw new Error('watcher failed');
  });
  a.watch(() => seen.push('2'));
  assert.throws(() => a.abort(), /watcher failed/);
  assert.deepEqual(seen, ['1', '2']);
  assert.ok(a.aborted);
});
