import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestAbortController } from '../../src/pool/index.ts';
import { watchAbort } from '../../src/pool/request-abort.ts';

for (const [kind, make] of [
  ['RequestAbortController', () => new RequestAbortController()],
  ['AbortController', () => new AbortController()],
] as const) {
  test(`watchAbort - ${kind}: each watcher runs once, after the signal aborted; one taken back does not run`, () => {
    const controller = make();
    const seen: string[] = [];
    watchAbort(controller.signal, () => seen.push(`a ${controller.signal.aborted}`));
    const unwatch = watchAbort(controller.signal, () => seen.push('b'));
    watchAbort(controller.signal, () => seen.push(`c ${String(controller.signal.reason)}`));
    unwatch();
    controller.abort('gone');
    controller.abort('again');
    assert.deepEqual(seen, ['a true', 'c gone']);
    // Like a listener added to an aborted signal, a late watcher never runs.
    watchAbort(controller.signal, () => seen.push('late'));
    controller.abort('once more');
    assert.deepEqual(seen, ['a true', 'c gone']);
  });
}

test('RequestAbortController - its signal is a real AbortSignal: listeners run before hooks, and a throwing hook stops no other', () => {
  const controller = new RequestAbortController();
  assert.ok(controller.signal instanceof AbortSignal);
  const seen: string[] = [];
  watchAbort(controller.signal, () => {
    seen.push('hook 1');
    throw new Error('hook failed');
  });
  watchAbort(controller.signal, () => seen.push('hook 2'));
  controller.signal.addEventListener('abort', () => seen.push('listener'));
  assert.throws(() => controller.abort(), /hook failed/);
  assert.deepEqual(seen, ['listener', 'hook 1', 'hook 2']);
  assert.ok(controller.signal.aborted);
});
