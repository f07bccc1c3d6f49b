import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeHeader,
  encodeHeader,
  Flag,
  FrameDecoder,
  FrameType,
  GoAwayCode,
  HEADER_LENGTH,
  ProtocolError,
} from '../../src/tunnel/index.ts';

const hex = (s: string) =>
  Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!, (b) => Number.parseInt(b, 16));

/** Golden frames built by hand from hashicorp/yamux spec.md ("Framing"): big-endian fields. */
const golden: {
  name: string;
  header: { type: FrameType; flags: number; streamId: number; length: number };
  bytes: string;
}[] = [
  {
    name: 'Data SYN',
    header: { type: FrameType.Data, flags: Flag.SYN, streamId: 1, length: 5 },
    bytes: '00 00 0001 00000001 00000005',
  },
  {
    name: 'Data FIN',
    header: { type: FrameType.Data, flags: Flag.FIN, streamId: 3, length: 0 },
    bytes: '00 00 0004 00000003 00000000',
  },
  {
    name: 'WindowUpdate ACK',
    header: { type: FrameType.WindowUpdate, flags: Flag.ACK, streamId: 2, length: 0x40000 },
    bytes: '00 01 0002 00000002 00040000',
  },
  {
    name: 'WindowUpdate FIN',
    header: { type: FrameType.WindowUpdate, flags: Flag.FIN, streamId: 0xfffffffe, length: 0 },
    bytes: '00 01 0004 fffffffe 00000000',
  },
  {
    name: 'WindowUpdate RST',
    header: { type: FrameType.WindowUpdate, flags: Flag.RST, streamId: 7, length: 0 },
    bytes: '00 01 0008 00000007 00000000',
  },
  {
    name: 'Ping SYN',
    header: { type: FrameType.Ping, flags: Flag.SYN, streamId: 0, length: 0xdeadbeef },
    bytes: '00 02 0001 00000000 deadbeef',
  },
  {
    name: 'Ping ACK',
    header: { type: FrameType.Ping, flags: Flag.ACK, streamId: 0, length: 0xdeadbeef },
    bytes: '00 02 0002 00000000 deadbeef',
  },
  {
    name: 'GoAway Normal',
    header: { type: FrameType.GoAway, flags: 0, streamId: 0, length: GoAwayCode.Normal },
    bytes: '00 03 0000 00000000 00000000',
  },
  {
    name: 'GoAway ProtocolError',
    header: { type: FrameType.GoAway, flags: 0, streamId: 0, length: GoAwayCode.ProtocolError },
    bytes: '00 03 0000 00000000 00000001',
  },
  {
    name: 'GoAway InternalError',
    header: { type: FrameType.GoAway, flags: 0, streamId: 0, length: GoAwayCode.InternalError },
    bytes: '00 03 0000 00000000 00000002',
  },
];

interface Decoded {
  type: FrameType;
  flags: number;
  streamId: number;
  length: number;
  payload: number[] | undefined;
}

/**
 * Decodes `chunks` and joins the pieces of each Data payload that spans chunks back into one
 * frame, checking how they came: SYN, ACK and RST only on the first piece, FIN only on the
 * last, every piece a view of a pushed chunk.
 */
function decodeAll(chunks: Uint8Array[]): Decoded[] {
  const frames: Decoded[] = [];
  let open: Decoded | undefined;
  const decoder = new FrameDecoder((type, flags, streamId, length, payload) => {
    const complete = decoder.idle;
    if (payload !== undefined && payload.length > 0) {
      assert.ok(
        chunks.some((c) => c.buffer === payload.buffer),
        'a piece is a view, not a copy',
      );
    }
    if (open !== undefined) {
      assert.equal(type, FrameType.Data);
      assert.equal(streamId, open.streamId);
      assert.equal(flags & ~Flag.FIN, 0, 'only FIN on a later piece');
      open.flags |= flags;
      open.length += length;
      open.payload!.push(...payload!);
    } else {
      open = { type, flags, streamId, length, payload: payload ? [...payload] : undefined };
      frames.push(open);
    }
    if (complete) open = undefined;
    else assert.equal(flags & Flag.FIN, 0, 'no FIN before the last piece');
  });
  for (const chunk of chunks) decoder.push(chunk);
  assert.equal(decoder.idle, true, 'no partial frame left');
  return frames;
}

function frame(
  type: FrameType,
  flags: number,
  streamId: number,
  length: number,
  payload?: Uint8Array,
) {
  const header = encodeHeader({ type, flags, streamId, length });
  if (!payload) return header;
  const out = new Uint8Array(HEADER_LENGTH + payload.length);
  out.set(header);
  out.set(payload, HEADER_LENGTH);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

// A sequence mixing every type, empty and non-empty payloads.
const sequence = concat([
  frame(FrameType.WindowUpdate, Flag.SYN, 1, 0),
  frame(FrameType.Data, 0, 1, 5, new TextEncoder().encode('hello')),
  frame(FrameType.Ping, Flag.SYN, 0, 42),
  frame(FrameType.Data, Flag.ACK, 2, 0, new Uint8Array(0)),
  frame(
    FrameType.Data,
    0,
    3,
    300,
    Uint8Array.from({ length: 300 }, (_, i) => i & 0xff),
  ),
  frame(FrameType.WindowUpdate, Flag.FIN, 1, 0),
  frame(FrameType.GoAway, 0, 0, GoAwayCode.Normal),
]);

describe('codec', () => {
  for (const g of golden) {
    test(`encodeHeader - ${g.name} matches the spec bytes`, () => {
      assert.deepEqual(encodeHeader(g.header), hex(g.bytes));
    });
    test(`decodeHeader - ${g.name} round trips`, () => {
      assert.deepEqual(decodeHeader(hex(g.bytes)), { version: 0, ...g.header });
    });
  }

  test('FrameDecoder - Data payload follows its header', () => {
    const frames = decodeAll([hex('00 00 0001 00000001 00000003 616263')]);
    assert.deepEqual(frames, [
      {
        type: FrameType.Data,
        flags: Flag.SYN,
        streamId: 1,
        length: 3,
        payload: [0x61, 0x62, 0x63],
      },
    ]);
  });

  test('FrameDecoder - a sequence split at every byte boundary decodes identically', () => {
    const whole = decodeAll([sequence]);
    assert.equal(whole.length, 7);
    for (let cut = 1; cut < sequence.length; cut++) {
      assert.deepEqual(
        decodeAll([sequence.subarray(0, cut), sequence.subarray(cut)]),
        whole,
        `cut at ${cut}`,
      );
    }
    assert.deepEqual(
      decodeAll(Array.from(sequence, (b) => Uint8Array.of(b))),
      whole,
      'one byte per chunk',
    );
  });

  test('FrameDecoder - randomized splits decode identically', () => {
    const whole = decodeAll([sequence]);
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    for (let round = 0; round < 500; round++) {
      const chunks: Uint8Array[] = [];
      for (let pos = 0; pos < sequence.length; ) {
        const size = 1 + rand(40);
        chunks.push(sequence.subarray(pos, pos + size));
        pos += size;
      }
      assert.deepEqual(decodeAll(chunks), whole);
    }
  });

  test('FrameDecoder - a payload arriving whole in the chunk after its header (as Piko sends them) is a view of that chunk, not a copy', () => {
    const payload = Uint8Array.from({ length: 70_000 }, (_, i) => i & 0xff);
    const seen: Uint8Array[] = [];
    const decoder = new FrameDecoder((_type, _flags, _id, _length, p) => {
      if (p !== undefined) seen.push(p);
    });
    decoder.push(encodeHeader({ type: FrameType.Data, flags: 0, streamId: 1, length: 70_000 }));
    assert.equal(decoder.idle, false, 'a header without its payload is a partial frame');
    decoder.push(payload);
    assert.equal(decoder.idle, true);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.buffer, payload.buffer);
  });

  test('FrameDecoder - a payload that spans chunks is handed on in pieces as they come, not gathered', () => {
    const payload = Uint8Array.from({ length: 70_000 }, (_, i) => i & 0xff);
    const parts: { flags: number; piece: Uint8Array }[] = [];
    const decoder = new FrameDecoder((_type, flags, _id, _length, piece) => {
      parts.push({ flags, piece: piece! });
    });
    const header = encodeHeader({
      type: FrameType.Data,
      flags: Flag.ACK | Flag.FIN,
      streamId: 1,
      length: 70_000,
    });
    const first = new Uint8Array(HEADER_LENGTH + 1000);
    first.set(header);
    first.set(payload.subarray(0, 1000), HEADER_LENGTH);
    decoder.push(first);
    // The first thousand bytes are delivered before the rest exists.
    assert.equal(parts.length, 1);
    assert.equal(decoder.idle, false);
    const rest = payload.slice(1000);
    decoder.push(rest.subarray(0, 30_000));
    decoder.push(rest.subarray(30_000));
    assert.equal(decoder.idle, true);
    assert.deepEqual(
      parts.map((p) => [p.flags, p.piece.length]),
      [
        [Flag.ACK, 1000],
        [0, 30_000],
        [Flag.FIN, 39_000],
      ],
    );
    assert.equal(parts[0]!.piece.buffer, first.buffer);
    assert.equal(parts[1]!.piece.buffer, rest.buffer);
    assert.deepEqual(
      [...parts.flatMap((p) => [...p.piece])],
      [...payload],
      'the pieces are the payload, in order',
    );
  });

  test('FrameDecoder - unknown version is a protocol error', () => {
    const decoder = new FrameDecoder(() => {});
    assert.throws(() => decoder.push(hex('01 00 0000 00000001 00000000')), ProtocolError);
  });

  test('FrameDecoder - unknown type is a protocol error', () => {
    const decoder = new FrameDecoder(() => {});
    assert.throws(() => decoder.push(hex('00 04 0000 00000001 00000000')), /unknown type 4/);
  });

  test('FrameDecoder - Data longer than the largest window is refused before buffering', () => {
    const decoder = new FrameDecoder(() => {}, 1024);
    assert.throws(() => decoder.push(hex('00 00 0000 00000001 00000401')), ProtocolError);
  });
});
