import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeHeader, Flag, FrameType, Session } from '../../src/tunnel/index.ts';
import {
  frames,
  RecordingTransport,
  readAll,
  sessionPair,
  waitFor,
} from '../_harness/tunnel-sessions.ts';

const quiet = { heartbeatInterval: 0, heartbeatTimeout: 0 };
const text = new TextEncoder();

describe('tunnel - stream.writer()', () => {
  test('writes reach the peer in order; close half-closes with FIN, and the peer reads the end', async () => {
    const pair = sessionPair(quiet, quiet);
    const stream = pair.client.open();
    const writer = stream.writer();
    await writer.write(text.encode('hello, '));
    await writer.write(text.encode('world'));
    await writer.close();
    const peer = await pair.server.accept();
    assert.equal(new TextDecoder().decode(await readAll(peer.readable)), 'hello, world');
    // Only our half is closed: the peer still answers.
    await peer.end(text.encode('back'));
    assert.equal(new TextDecoder().decode(await readAll(stream.readable)), 'back');
    await Promise.all([stream.closed, peer.closed]);
    pair.close();
  });

  test('close while a write waits for window: FIN rides on its last bytes, and close settles after them', async () => {
    const transport = new RecordingTransport();
    const session = Session.client(transport, quiet);
    const stream = session.open();
    const big = new Uint8Array(300 * 1024).fill(3);
    const writer = stream.writer();
    const writing = writer.write(big);
    const closing = writer.close();
    let closed = false;
    void closing.then(() => {
      closed = true;
    });
    const sentBytes = () =>
      frames(transport.bytes())
        .filter((f) => f.type === FrameType.Data)
        .reduce((n, f) => n + f.length, 0);
    // The initial window (256 KiB) goes out; the rest waits for the peer.
    await waitFor(() => sentBytes() === 256 * 1024, 2000, 'the first window');
    assert.equal(closed, false, 'close waits for the bytes still held back');
    session.receive(
      encodeHeader({ type: FrameType.WindowUpdate, flags: 0, streamId: stream.id, length: 65536 }),
    );
    await writing;
    await closing;
    const data = frames(transport.bytes()).filter((f) => f.type === FrameType.Data);
    assert.equal(
      data.reduce((n, f) => n + f.length, 0),
      big.length,
    );
    assert.equal(data.at(-1)!.flags & Flag.FIN, Flag.FIN, 'FIN on the last Data frame');
    assert.ok(
      data.slice(0, -1).every((f) => (f.flags & Flag.FIN) === 0),
      'no FIN before the last bytes',
    );
    assert.equal(
      frames(transport.bytes()).filter(
        (f) => f.type === FrameType.WindowUpdate && f.flags & Flag.FIN,
      ).length,
      0,
      'no separate FIN frame',
    );
    await assert.rejects(Promise.resolve(writer.write(text.encode('more'))), /it was ended/);
    session.close();
  });

  test('one write at a time: a second write before the first settled is refused, the first goes on', async () => {
    const pair = sessionPair(quiet, quiet);
    const stream = pair.client.open();
    const writer = stream.writer();
    const first = writer.write(text.encode('first'));
    await assert.rejects(
      Promise.resolve(writer.write(text.encode('second'))),
      /a write is already pending/,
    );
    await first;
    await writer.close();
    const peer = await pair.server.accept();
    assert.equal(new TextDecoder().decode(await readAll(peer.readable)), 'first');
    pair.close();
  });

  test('abort resets the stream: the peer sees the reset and later writes fail', async () => {
    const pair = sessionPair(quiet, quiet);
    const stream = pair.client.open();
    const writer = stream.writer();
    await writer.write(text.encode('x'));
    const peer = await pair.server.accept();
    await writer.abort(new Error('gone'));
    await assert.rejects(readAll(peer.readable), /reset by peer/);
    await assert.rejects(Promise.resolve(writer.write(text.encode('y'))), /reset locally/);
    await assert.rejects(writer.close(), /reset locally/);
    pair.close();
  });
});
