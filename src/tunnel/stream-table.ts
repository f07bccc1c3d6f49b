import type { TunnelStream } from './stream.ts';

const MIN_CAPACITY = 64;

/**
 * A session's open streams by id: an open-addressing hash table (linear probing, deletion by
 * backward shift, so no tombstones) instead of a Map. Every request adds and deletes one
 * stream on both sides of the tunnel, and on Bun that churn through a Map cost about 2.5 µs of
 * CPU per small request in each process at c=32 (docs/performance.md). Stream ids are 32-bit
 * and, from each side, consecutive numbers of one parity (spec.md "Stream ID"), so `id >>> 1`
 * spreads them over consecutive slots.
 */
export class StreamTable {
  /** 0 marks an empty slot: no stream has id 0, the session's own id. */
  #keys = new Uint32Array(MIN_CAPACITY);
  #values: (TunnelStream | undefined)[] = new Array(MIN_CAPACITY).fill(undefined);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(id: number): TunnelStream | undefined {
    const keys = this.#keys;
    const mask = keys.length - 1;
    for (let i = (id >>> 1) & mask; ; i = (i + 1) & mask) {
      const key = keys[i]!;
      if (key === id) return this.#values[i];
      if (key === 0) return undefined;
    }
  }

  /** Adds the stream under `id` (1 to 2^32 − 1), replacing any with the same id. */
  set(id: number, stream: TunnelStream): void {
    if (!Number.isInteger(id) || id < 1 || id > 0xffffffff) {
      throw new RangeError(`Invalid stream id ${id}`);
    }
    const keys = this.#keys;
    const mask = keys.length - 1;
    let i = (id >>> 1) & mask;
    for (; keys[i] !== 0; i = (i + 1) & mask) {
      if (keys[i] === id) {
        this.#values[i] = stream;
        return;
      }
    }
    keys[i] = id;
    this.#values[i] = stream;
    this.#size++;
    // At most half full, so every probe ends soon on an empty slot.
    if (this.#size * 2 > keys.length) this.#resize(keys.length * 2);
  }

  delete(id: number): boolean {
    const keys = this.#keys;
    const values = this.#values;
    const mask = keys.length - 1;
    let hole = (id >>> 1) & mask;
    for (; keys[hole] !== id; hole = (hole + 1) & mask) {
      if (keys[hole] === 0) return false;
    }
    // Backward shift (Knuth, TAOCP 6.4 Algorithm R): each later entry of the run that may
    // live in the hole moves into it, so a probe never meets a gap before its key.
    for (let j = (hole + 1) & mask; keys[j] !== 0; j = (j + 1) & mask) {
      const home = (keys[j]! >>> 1) & mask;
      const stays = hole < j ? home > hole && home <= j : home > hole || home <= j;
      if (stays) continue;
      keys[hole] = keys[j]!;
      values[hole] = values[j];
      hole = j;
    }
    keys[hole] = 0;
    values[hole] = undefined;
    this.#size--;
    // Shrink after a burst (10 000 streams leave a table of 32 768 slots otherwise).
    if (keys.length > MIN_CAPACITY && this.#size * 8 < keys.length) this.#resize(keys.length / 2);
    return true;
  }

  /** The streams, as a new array (safe to change the table while going through it). */
  values(): TunnelStream[] {
    const out: TunnelStream[] = [];
    for (const stream of this.#values) if (stream !== undefined) out.push(stream);
    return out;
  }

  #resize(capacity: number): void {
    const keys = this.#keys;
    const values = this.#values;
    this.#keys = new Uint32Array(capacity);
    this.#values = new Array(capacity).fill(undefined);
    this.#size = 0;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== 0) this.set(keys[i]!, values[i]!);
    }
  }
}
