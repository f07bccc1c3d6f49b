import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { unmask } from '../../src/ws/frame.ts';
import {
  encodeFrame,
  type Frame,
  FrameDecoder,
  Opcode,
  WebSocketProtocolError,
} from '../../src/ws/index.ts';

const server = () => new FrameDecoder({ expectMasked: true, maxPayload: 16 * 1024 * 1024 });
const client = () => new FrameDecoder({ expectMasked: false, maxPayload: 16 * 1024 * 1024 });

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function join(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Pushes `wire` in pieces of the given sizes (cycled), each piece a fresh array. */
function pushSplit(decoder: FrameDecoder, wire: Uint8Array, sizes: number[]): Frame[] {
  const frames: Frame[] = [];
  for (let at = 0, k = 0; at < wire.length; k++) {
    const n = Math.min(sizes[k % sizes.length]!, wire.length - at);
    frames.push(...decoder.push(wire.slice(at, at + n)));
    at += n;
  }
  return frames;
}

describe('ws FrameDecoder', () => {
  test('a masked frame comes back unmasked however the bytes are split', () => {
    for (const size of [0, 1, 125, 126, 65_535, 65_536, 70_001]) {
      const payload = bytes(size, size);
      const wire = encodeFrame(Opcode.Binary, payload, true);
      for (const sizes of [[1], [2, 3], [7], [1000], [wire.length]]) {
        const frames = pushSplit(server(), wire, sizes);
        assert.deepEqual(join(frames.map((f) => f.payload)), payload, `${size} in ${sizes}`);
        assert.ok(frames.every((f) => f.opcode === Opcode.Binary));
        // FIN only on the frame's last piece.
        assert.deepEqual(
          frames.map((f) => f.fin),
          frames.map((_, i) => i === frames.length - 1),
        );
      }
    }
  });

  test('a large frame streams out as it arrives, as views of the pushed chunks', () => {
    const payload = bytes(1024 * 1024, 7);
    const wire = encodeFrame(Opcode.Binary, payload, true);
    const decoder = server();
    const got: Uint8Array[] = [];
    for (let at = 0; at < wire.length; at += 65_536) {
      const chunk = wire.slice(at, at + 65_536);
      const frames = decoder.push(chunk);
      // Every chunk yields its bytes at once: nothing waits for the end of the frame.
      assert.equal(frames.length, 1, `chunk at ${at}`);
      const piece = frames[0]!.payload;
      assert.equal(piece.buffer, chunk.buffer, 'a view of the chunk, not a copy');
      assert.equal(piece.length, at === 0 ? 65_536 - 14 : Math.min(65_536, wire.length - at));
      got.push(piece);
    }
    assert.deepEqual(join(got), payload);
  });

  test('an unmasked frame from a server streams the same way', () => {
    const payload = bytes(200_000, 3);
    const frames = pushSplit(client(), encodeFrame(Opcode.Binary, payload), [4096]);
    assert.ok(frames.length > 40);
    assert.deepEqual(join(frames.map((f) => f.payload)), payload);
  });

  test('a fragmented message: pieces keep their frame opcode, FIN only at the end', () => {
    const a = bytes(300, 1);
    const b = bytes(10, 2);
    const wire = join([
      encodeFrame(Opcode.Binary, a, true, false),
      encodeFrame(Opcode.Ping, bytes(5), true),
      encodeFrame(Opcode.Continuation, b, true, true),
    ]);
    const frames = server().push(wire);
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.fin, f.payload.length]),
      [
        [Opcode.Binary, false, 300],
        [Opcode.Ping, true, 5],
        [Opcode.Continuation, true, 10],
      ],
    );
  });

  test('control frames come out whole, even when split across chunks', () => {
    const ping = bytes(125, 9);
    const frames = pushSplit(server(), encodeFrame(Opcode.Ping, ping, true), [3, 50]);
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.opcode, Opcode.Ping);
    assert.deepEqual(frames[0]!.payload, ping);
    const close = server().push(encodeFrame(Opcode.Close, new Uint8Array(0), true));
    assert.deepEqual(
      close.map((f) => [f.opcode, f.fin, f.payload.length]),
      [[Opcode.Close, true, 0]],
    );
  });

  test('protocol violations are errors with the RFC close code', () => {
    const cases: [string, () => unknown, RegExp, number][] = [
      [
        'continuation without a message',
        () => server().push(encodeFrame(Opcode.Continuation, bytes(3), true)),
        /continuation without a message/,
        1002,
      ],
      [
        'a new message inside a fragmented one',
        () =>
          server().push(
            join([
              encodeFrame(Opcode.Binary, bytes(3), true, false),
              encodeFrame(Opcode.Binary, bytes(3), true),
            ]),
          ),
        /new message before the last one ended/,
        1002,
      ],
      [
        'an unmasked frame to a server',
        () => server().push(encodeFrame(Opcode.Binary, bytes(3))),
        /unmasked frame from client/,
        1002,
      ],
      [
        'a masked frame to a client',
        () => client().push(encodeFrame(Opcode.Binary, bytes(3), true)),
        /masked frame from server/,
        1002,
      ],
      [
        'a fragmented control frame',
        () => server().push(encodeFrame(Opcode.Ping, bytes(3), true, false)),
        /control frame fragmented/,
        1002,
      ],
      [
        'reserved bits',
        () => server().push(Uint8Array.of(0x80 | 0x40 | Opcode.Binary, 0x80, 0, 0, 0, 0)),
        /reserved bits/,
        1002,
      ],
    ];
    for (const [name, run, message, code] of cases) {
      assert.throws(
        run,
        (e: unknown) =>
          e instanceof WebSocketProtocolError && message.test(e.message) && e.code === code,
        name,
      );
    }
  });

  test('a frame over the limit is refused from its header, before its payload arrives', () => {
    const decoder = new FrameDecoder({ expectMasked: true, maxPayload: 1000 });
    const header = encodeFrame(Opcode.Binary, bytes(1001), true).subarray(0, 8);
    assert.throws(
      () => decoder.push(header),
      (e: unknown) => e instanceof WebSocketProtocolError && e.code === 1009,
    );
  });
});

describe('ws unmask', () => {
  test('word-at-a-time unmasking equals the byte loop at every alignment and key phase', () => {
    const key = Uint8Array.of(0x12, 0x34, 0x56, 0x78);
    for (const offset of [0, 1, 2, 3, 5]) {
      for (const length of [0, 1, 31, 32, 33, 100, 1027]) {
        for (let phase = 0; phase < 4; phase++) {
          const data = bytes(offset + length, length + phase);
          const view = data.subarray(offset);
          const want = view.map((b, i) => b ^ key[(phase + i) & 3]!);
          unmask(view, key, phase);
          assert.deepEqual(view, want, `offset ${offset} length ${length} phase ${phase}`);
          // The bytes before the view are untouched.
          assert.deepEqual(
            data.subarray(0, offset),
            bytes(offset + length, length + phase).subarray(0, offset),
          );
        }
      }
    }
  });
});
