import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Flag, FrameType, Session } from '../../src/tunnel/index.ts';
import { frames, RecordingTransport, readAll, sessionPair } from '../_harness/tunnel-sessions.ts';

const quiet = { heartbeatInterval: 0, heartbeatTimeout: 0 };
const text = new TextEncoder();

describe('tunnel - stream.end()', () => {
  test('a whole message and its FIN leave as one Data frame, in the message with the SYN', async () => {
    const transport = new RecordingTransport();
    const session = Session.client(transport, quiet);
    const stream = session.open();
    await stream.end(text.encode('GET / HTTP/1.1\r\n\r\n'));
    assert.equal(transport.messages.length, 1, 'SYN, data and FIN in one message');
    assert.deepEqual(frames(transport.bytes()), [
      { type: FrameType.WindowUpdate, flags: Flag.SYN, id: stream.id, length: 0 },
      { type: FrameType.Data, flags: Flag.FIN, id: stream.id, length: 18 },
    ]);
    session.close();
  });

  test('the peer reads the bytes, then the end; the stream finishes when both sides ended', async () => {
    const pair = sessionPair(quiet, quiet);
    const stream = pair.client.open();
    void stream.end(text.encode('hello'));
    const peer = await pair.server.accept();
    assert.equal(new TextDecoder().decode(await readAll(peer.readable)), 'hello');
    await peer.end(text.encode('world'));
    assert.equal(new TextDecoder().decode(await readAll(stream.readable)), 'world');
    await Promise.all([stream.closed, peer.closed]);
    assert.equal(pair.client.streamCount, 0);
    pair.close();
  });

  test('a message larger than the send window waits for window and still ends with FIN', async () => {
    const pair = sessionPair(quiet, { ...quiet, initialWindow: 256 * 1024 });
    const big = new Uint8Array(1024 * 1024).fill(7);
    const stream = pair.client.open();
    const ending = stream.end(big);
    const peer = await pair.server.accept();
    const got = await readAll(peer.readable);
    await ending;
    assert.equal(got.length, big.length);
    assert.ok(got.every((b) => b === 7));
    pair.close();
  });

  test('the writable is closed afterwards, and end() refuses a stream being written', async () => {
    const transport = new RecordingTransport();
    const session = Session.client(transport, quiet);
    const ended = session.open();
    await ended.end(text.encode('x'));
    await assert.rejects(ended.writable.getWriter().write(text.encode('more')), TypeError);
    await assert.rejects(ended.end(text.encode('again')), /Cannot end stream/);

    const writing = session.open();
    const writer = writing.writable.getWriter();
    await assert.rejects(writing.end(text.encode('x')), /Cannot end stream/);
    writer.releaseLock();
    session.close();
  });

  test('after a reset, end() rejects with the reset', async () => {
    const transport = new RecordingTransport();
    const session = Session.client(transport, quiet);
    const stream = session.open();
    stream.reset();
    await assert.rejects(stream.end(text.encode('x')), /reset locally/);
    session.close();
  });

  test('endWith() sends the same one frame without a promise; a failed stream ignores it', async () => {
    const pair = sessionPair(quiet, quiet);
    const stream = pair.client.open();
    assert.equal(stream.endWith(text.encode('hello')), undefined);
    const peer = await pair.server.accept();
    assert.equal(new TextDecoder().decode(await readAll(peer.readable)), 'hello');
    peer.endWith(text.encode('world'));
    assert.equal(new TextDecoder().decode(await readAll(stream.readable)), 'world');
    await Promise.all([stream.closed, peer.closed]);
    // Misuse still throws; a stream that has failed (reset) takes it silently.
    assert.throws(() => stream.endWith(text.encode('again')), /Cannot end stream/);
    const reset = pair.client.open();
    reset.reset();
    reset.endWith(text.encode('x'));
    pair.close();
  });
});
