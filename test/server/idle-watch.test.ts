import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IdleWatch } from '../../src/server/idle-watch.ts';

/** Resolves when `watch`'s callback runs; the time it took from `from`. */
function firing(ms: number): { watch: IdleWatch; fired: Promise<number> } {
  let resolve!: (at: number) => void;
  const fired = new Promise<number>((r) => {
    resolve = r;
  });
  const watch = new IdleWatch(ms, () => resolve(Date.now()));
  return { watch, fired };
}

describe('server IdleWatch (one shared sweep timer)', () => {
  test('fires once idle for the limit, not before, within an eighth of it after', async () => {
    const started = Date.now();
    const { fired } = firing(200);
    const after = (await fired) - started;
    assert.ok(after >= 200, `fired after ${after} ms`);
    // Due at 200 + 25 ms; the margin is for a loaded machine, not for the design.
    assert.ok(after < 200 + 25 + 500, `fired after ${after} ms`);
  });

  test('touches keep it alive; after the last touch it fires; a stopped watch never fires', async () => {
    const { watch, fired } = firing(400);
    let calls = 0;
    const stopped = new IdleWatch(150, () => calls++);
    stopped.stop();
    // Touch every 50 ms for 800 ms: twice the limit, never idle for anywhere near 400 ms.
    const touching = (async () => {
      for (let i = 0; i < 16; i++) {
        watch.touch();
        await new Promise((r) => setTimeout(r, 50));
      }
      return Date.now();
    })();
    const winner = await Promise.race([fired.then(() => 'fired'), touching.then(() => 'touched')]);
    assert.equal(winner, 'touched', 'fired while being touched');
    const lastTouch = await touching;
    const at = await fired;
    assert.ok(at - lastTouch >= 340, `fired ${at - lastTouch} ms after the last touch`);
    assert.equal(calls, 0);
  });

  test('a short watch added while a long one is watched still fires on time', async () => {
    const long = firing(60_000);
    const started = Date.now();
    const short = firing(100);
    const after = (await short.fired) - started;
    // On the long watch's period it would take 7.5 s.
    assert.ok(after < 2000, `the short watch fired after ${after} ms`);
    long.watch.stop();
  });
});
