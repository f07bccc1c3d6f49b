import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Duplex } from '../../src/runtime/index.ts';
import { FrameDecoder, webSocketBytes } from '../../src/ws/index.ts';

/** Two in-memory byte duplexes wired to each other, like the two ends of a TCP connection. */
function socketPair(): [Duplex, Duplex] {
  const ab = new TransformStream<Uint8Array, Uint8Array>();
  const ba = new TransformStream<Uint8Array, Uint8Array>();
  return [
    { readable: ba.readable, writable: ab.writable },
    { readable: ab.readable, writable: ba.writable },
  ];
}

async function readBytes(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(readable).arrayBuffer());
}

async function readAll(readable: ReadableStream<Uint8Array>): Promise<string> {
  return new TextDecoder().decode(await readBytes(readable));
}

describe('webSocketBytes', () => {
  test('a Close is a half-close: the side that got it still sends its remaining bytes', async () => {
    const [a, b] = socketPair();
    const closes: string[] = [];
    const client = webSocketBytes(a, {
      role: 'client',
      onClose: (code) => closes.push(`client ${code}`),
    });
    const server = webSocketBytes(b, {
      role: 'server',
      onClose: (code) => closes.push(`server ${code}`),
    });
    const clientWriter = client.writable.getWriter();
    await clientWriter.write(new TextEncoder().encode('ping'));
    const clientClosed = clientWriter.close();
    // The server sees the client's bytes, then the end of its readable (the Close) ...
    assert.equal(await readAll(server.readable), 'ping');
    // ... and still answers, like an echo server answering after the client's FIN.
    const serverWriter = server.writable.getWriter();
    const reading = readAll(client.readable);
    await serverWriter.write(new TextEncoder().encode('pong'));
    await serverWriter.close();
    await clientClosed;
    assert.equal(await reading, 'pong');
    assert.deepEqual(closes.sort(), ['client 1000', 'server 1000']);
  });

  test('a large payload from the server follows its own header, uncopied', async () => {
    const [a, b] = socketPair();
    const server = webSocketBytes(b, { role: 'server' });
    const raw = a.readable.getReader();
    const writer = server.writable.getWriter();
    const payload = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
    const written = writer.write(payload);
    const head = (await raw.read()).value!;
    const body = (await raw.read()).value!;
    await written;
    // FIN + binary, 64-bit length 100 000 (RFC 6455 §5.2).
    assert.deepEqual([...head], [0x82, 127, 0, 0, 0, 0, 0, 0x01, 0x86, 0xa0]);
    assert.equal(body, payload, 'the array written, not a copy of it');
    const decoder = new FrameDecoder({ expectMasked: false, maxPayload: 1 << 20 });
    const pieces = [...decoder.push(head), ...decoder.push(body)];
    const got = new Uint8Array(payload.length);
    let at = 0;
    for (const piece of pieces) {
      got.set(piece.payload, at);
      at += piece.payload.length;
    }
    assert.equal(at, payload.length);
    assert.deepEqual(got, payload);
    // A small payload still leaves as one frame, header and payload in one write.
    const small = writer.write(new Uint8Array(10));
    assert.equal((await raw.read()).value!.length, 12);
    await small;
  });

  test('a text message ends the byte stream with an error', async () => {
    const [a, b] = socketPair();
    const server = webSocketBytes(b, { role: 'server' });
    const answer = readBytes(a.readable);
    const raw = a.writable.getWriter();
    // A masked text frame "hi" (FIN, opcode 1, mask key 0).
    await raw.write(new Uint8Array([0x81, 0x82, 0, 0, 0, 0, 0x68, 0x69]));
    await assert.rejects(readAll(server.readable), /text messages/);
    await raw.close();
    // The server answered with a Close frame (opcode 8) carrying 1003.
    const bytes = await answer;
    assert.equal(bytes[0], 0x88);
    assert.equal((bytes[2]! << 8) | bytes[3]!, 1003);
  });
});
