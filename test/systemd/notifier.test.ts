import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Notifier } from '../../src/systemd/index.ts';
import { waitUntil } from '../_harness/tether.ts';

function recorder() {
  const sent: { path: string; message: string }[] = [];
  const send = (path: string, message: string) => {
    sent.push({ path, message });
    return true;
  };
  return { sent, send };
}

describe('Notifier', () => {
  test('Notifier - without NOTIFY_SOCKET nothing is sent and no watchdog runs', () => {
    const r = recorder();
    const n = new Notifier({ env: { WATCHDOG_USEC: '1000' }, send: r.send });
    n.ready('serving');
    n.status('x');
    n.stopping('draining');
    n.stop();
    assert.equal(n.enabled, false);
    assert.equal(n.watchdogIntervalMs, undefined);
    assert.deepEqual(r.sent, []);
  });

  test('Notifier - READY=1 with status, STATUS only on change, STOPPING=1, to NOTIFY_SOCKET', () => {
    const r = recorder();
    const n = new Notifier({ env: { NOTIFY_SOCKET: '/run/x.sock' }, send: r.send });
    n.ready('serving: 0 agents');
    n.status('serving: 0 agents');
    n.status('serving: 1 agents');
    n.stopping('draining');
    n.stop();
    assert.deepEqual(
      r.sent.map((s) => s.message),
      [
        'READY=1\nSTATUS=serving: 0 agents',
        'STATUS=serving: 1 agents',
        'STOPPING=1\nSTATUS=draining',
      ],
    );
    assert.ok(r.sent.every((s) => s.path === '/run/x.sock'));
  });

  test('Notifier - WATCHDOG=1 every WATCHDOG_USEC/2 after READY, until stop()', async () => {
    const r = recorder();
    const n = new Notifier({
      env: { NOTIFY_SOCKET: '@abstract', WATCHDOG_USEC: '40000' },
      send: r.send,
    });
    assert.equal(n.watchdogIntervalMs, 20);
    const started = performance.now();
    n.ready('serving');
    await waitUntil(() => r.sent.filter((s) => s.message === 'WATCHDOG=1').length >= 3, 2000);
    const elapsed = performance.now() - started;
    n.stop();
    const count = r.sent.length;
    assert.ok(elapsed >= 55, `three beats 20 ms apart took ${elapsed} ms`);
    await new Promise((resolve) => setTimeout(resolve, 60)); // proving silence needs a wait
    assert.equal(r.sent.length, count, 'no beat after stop()');
  });

  test('Notifier - WATCHDOG_PID of another process turns the watchdog off; a throwing sender is ignored', () => {
    const other = new Notifier({
      env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1' },
      pid: 4242,
    });
    assert.equal(other.watchdogIntervalMs, undefined);
    const mine = new Notifier({
      env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '4242' },
      pid: 4242,
      send: () => {
        throw new Error('no FFI');
      },
    });
    assert.equal(mine.watchdogIntervalMs, 500);
    mine.ready('serving');
    mine.stopping('draining');
    mine.stop();
  });
});
