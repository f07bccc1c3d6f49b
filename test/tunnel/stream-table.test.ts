import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TunnelStream } from '../../src/tunnel/stream.ts';
import { StreamTable } from '../../src/tunnel/stream-table.ts';

// The table only stores and returns the objects: any distinct object stands in for a stream.
const stream = (id: number) => ({ id }) as unknown as TunnelStream;

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function assertSame(table: StreamTable, model: Map<number, TunnelStream>, ids: Iterable<number>) {
  assert.equal(table.size, model.size);
  for (const id of ids) assert.equal(table.get(id), model.get(id), `id ${id}`);
  const values = table.values();
  assert.equal(values.length, model.size);
  assert.deepEqual(new Set(values), new Set(model.values()));
}

test('StreamTable agrees with a Map over random opens and closes, ids of both parities up to 2^32 − 1', () => {
  for (const seed of [1, 2, 3]) {
    const next = random(seed);
    const table = new StreamTable();
    const model = new Map<number, TunnelStream>();
    const seen = new Set<number>();
    // Mostly consecutive ids of one parity (as a session opens them), some from the other
    // side, some anywhere in the 32-bit range, and the largest id.
    let nextOwn = 2;
    let nextPeer = 1;
    for (let step = 0; step < 20_000; step++) {
      const r = next();
      if (r < 0.5 || model.size === 0) {
        const kind = next();
        let id: number;
        if (kind < 0.7) {
          nextOwn += 2;
          id = nextOwn;
        } else if (kind < 0.9) {
          nextPeer += 2;
          id = nextPeer;
        } else if (kind < 0.99) id = 1 + Math.floor(next() * 0xfffffffe);
        else id = 0xffffffff;
        const s = stream(id);
        table.set(id, s);
        model.set(id, s);
        seen.add(id);
      } else {
        // Delete a present id (usually) or an absent one.
        const present = [...model.keys()];
        const id =
          next() < 0.9
            ? present[Math.floor(next() * present.length)]!
            : 1 + Math.floor(next() * 0xfffffffe);
        assert.equal(table.delete(id), model.delete(id), `delete ${id}`);
      }
      if (step % 1000 === 0) assertSame(table, model, seen);
    }
    assertSame(table, model, seen);
  }
});

test('StreamTable grows for 10 000 open streams and shrinks back as they close', () => {
  const table = new StreamTable();
  const model = new Map<number, TunnelStream>();
  for (let id = 2; id <= 20_000; id += 2) {
    const s = stream(id);
    table.set(id, s);
    model.set(id, s);
  }
  assertSame(table, model, model.keys());
  for (let id = 2; id < 20_000; id += 2) {
    assert.equal(table.delete(id), true);
    model.delete(id);
  }
  assertSame(table, model, [20_000, 2, 19_998]);
  assert.equal(table.get(20_000), model.get(20_000));
  assert.equal(table.delete(20_000), true);
  assert.equal(table.size, 0);
  assert.deepEqual(table.values(), []);
});

test('StreamTable replaces a stream set twice under one id, and refuses ids outside 1 to 2^32 − 1', () => {
  const table = new StreamTable();
  const a = stream(7);
  const b = stream(7);
  table.set(7, a);
  table.set(7, b);
  assert.equal(table.size, 1);
  assert.equal(table.get(7), b);
  for (const bad of [0, -1, 2 ** 32, 1.5, Number.NaN]) {
    assert.throws(() => table.set(bad, a), RangeError);
  }
  assert.equal(table.delete(8), false);
  assert.equal(table.get(8), undefined);
});
