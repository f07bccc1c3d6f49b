import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StreamResetError } from '../../src/tunnel/index.ts';
import { sessionPair } from '../_harness/tunnel-sessions.ts';

const quiet = { heartbeatInterval: 0, heartbeatTimeout: 0 };
const text = new TextEncoder();
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

/** A stream that has sent one byte, and the accepting side with its reader. */
async function oneByteAccepted() {
  const pair = sessionPair(quiet, quiet);
  const stream = pair.client.open();
  await stream.writable.getWriter().write(text.encode('x'));
  const peer = await pair.server.accept();
  return { pair, stream, peer, reader: peer.reader() };
}

describe('tunnel - stream.reader()', () => {
  test('reads what the peer wrote, in order, then done at its FIN', async () => {
    const pair = sessionPair(quiet, quiet);
    const stream = pair.client.open();
    const writer = stream.writable.getWriter();
    void writer.write(text.encode('one'));
    void writer.write(text.encode('two'));
    void writer.close();
    const peer = await pair.server.accept();
    const reader = peer.reader();
    const parts: string[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(decode(r.value));
    assert.equal(parts.join(''), 'onetwo');
    assert.deepEqual(await reader.read(), { done: true, value: undefined });
    pair.close();
  });

  test('a read waiting for data gets it when it arrives, and the window is returned', async () => {
    const pair = sessionPair(quiet, quiet);
    const stream = pair.client.open();
    const writer = stream.writable.getWriter();
    await writer.write(text.encode('first'));
    const peer = await pair.server.accept();
    const reader = peer.reader();
    assert.equal(decode(((await reader.read()) as { value: Uint8Array }).value), 'first');
    const waiting = reader.read();
    // 1 MiB through a 256 KiB window only completes if reads hand window back.
    const big = new Uint8Array(1024 * 1024).fill(1);
    const sending = writer.write(big);
    let got = ((await waiting) as { value: Uint8Array }).value.length;
    while (got < big.length) {
      const r = await reader.read();
      assert.equal(r.done, false);
      got += r.value!.length;
    }
    await sending;
    assert.equal(got, big.length);
    pair.close();
  });

  test('a reset fails a pending read and every later one', async () => {
    const { pair, stream, reader } = await oneByteAccepted();
    await reader.read();
    const pending = reader.read();
    stream.reset();
    await assert.rejects(pending, StreamResetError);
    await assert.rejects(reader.read(), StreamResetError);
    pair.close();
  });

  test('cancel() resets the stream; one reader only, and then no readable', async () => {
    const { pair, stream, peer, reader } = await oneByteAccepted();
    assert.throws(() => peer.reader(), /already has a reader/);
    assert.throws(() => peer.readable, /read through reader\(\)/);
    await reader.cancel();
    await stream.closed;
    // The writer's side learns of the cancel as a reset.
    await assert.rejects(stream.reader().read(), StreamResetError);
    pair.close();
  });

  test('a readable made after the stream failed starts errored', async () => {
    const pair = sessionPair(quiet, quiet);
    const stream = pair.client.open();
    stream.reset();
    await assert.rejects(stream.readable.getReader().read(), StreamResetError);
    await assert.rejects(stream.writable.getWriter().write(text.encode('x')), StreamResetError);
    pair.close();
  });
});
