import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Flag, FrameType, HEADER_LENGTH, Session } from '../../src/tunnel/index.ts';
import { frames, RecordingTransport } from '../_harness/tunnel-sessions.ts';

const quiet = { heartbeatInterval: 0, heartbeatTimeout: 0 };

/** A byte-stream transport (tether-yamux/1): done with each array once send() returns. */
class ByteStreamRecorder extends RecordingTransport {
  readonly sendCopies = true;
  readonly byteStream: boolean;
  /** The arrays exactly as given, before the copy `messages` keeps. */
  readonly given: Uint8Array[] = [];
  constructor(byteStream: boolean) {
    super();
    this.byteStream = byteStream;
  }
  override send(bytes: Uint8Array): boolean {
    this.given.push(bytes);
    return super.send(bytes.slice());
  }
}

describe('tunnel - frames on a byte-stream transport', () => {
  test('a large payload follows its header as a send of its own, uncopied', async () => {
    const transport = new ByteStreamRecorder(true);
    const session = Session.client(transport, quiet);
    const stream = session.open();
    const big = new Uint8Array(200 * 1024).fill(9);
    // Within the initial window (256 KiB), so it leaves in one frame at once.
    await stream.end(big);
    assert.equal(transport.given.length, 2, 'the headers, then the payload');
    assert.equal(transport.given[1], big, 'the payload is the written array itself');
    assert.equal(transport.given[0]!.length, 2 * HEADER_LENGTH, 'SYN, then the Data header');
    // Together they are the frames, as if copied into one message.
    assert.deepEqual(frames(transport.bytes()), [
      { type: FrameType.WindowUpdate, flags: Flag.SYN, id: stream.id, length: 0 },
      { type: FrameType.Data, flags: Flag.FIN, id: stream.id, length: big.length },
    ]);
    session.close();
  });

  test('small payloads, and any payload on a message transport, are copied into the message', async () => {
    for (const [byteStream, size] of [
      [true, 1000],
      [false, 200 * 1024],
    ] as const) {
      const transport = new ByteStreamRecorder(byteStream);
      const session = Session.client(transport, quiet);
      const stream = session.open();
      await stream.end(new Uint8Array(size).fill(3));
      assert.equal(transport.given.length, 1, `one message (byteStream ${byteStream}, ${size} B)`);
      assert.equal(transport.given[0]!.length, 2 * HEADER_LENGTH + size);
      session.close();
    }
  });
});
