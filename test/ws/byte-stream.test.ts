import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Duplex } from '../../src/runtime/index.ts';
import { webSocketBytes } from '../../src/ws/index.ts';

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
