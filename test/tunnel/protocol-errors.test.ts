import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  encodeHeader,
  Flag,
  FrameDecoder,
  FrameType,
  GoAwayCode,
  ProtocolError,
  Session,
  UnknownStreamError,
  WindowExceededError,
} from '../../src/tunnel/index.ts';
import { frames, type LogLine, RecordingTransport, waitFor } from '../_harness/tunnel-sessions.ts';

const quiet = { heartbeatInterval: 0, heartbeatTimeout: 0 };

function header(type: FrameType, flags: number, streamId: number, length: number): Uint8Array {
  return encodeHeader({ type, flags, streamId, length });
}

/** A server session driven by hand-made frames from a fake client. */
function rawServer() {
  const transport = new RecordingTransport();
  const log: LogLine[] = [];
  const session = Session.server(transport, {
    ...quiet,
    onLog: (level, message) => log.push({ level, message }),
  });
  const goAways = () => {
    const codes: number[] = [];
    new FrameDecoder(
      (type, _f, _id, length) => type === FrameType.GoAway && codes.push(length),
    ).push(transport.bytes());
    return codes;
  };
  return { transport, session, log, goAways };
}

async function expectProtocolClose(
  server: ReturnType<typeof rawServer>,
  errorClass: typeof ProtocolError,
  logPattern: RegExp,
): Promise<void> {
  const reason = await server.session.closed;
  assert.ok(reason instanceof errorClass, `closed with ${reason?.name}: ${reason?.message}`);
  assert.deepEqual(server.goAways(), [GoAwayCode.ProtocolError]);
  assert.equal(server.transport.closedWith, 1002);
  assert.ok(
    server.log.some(
      (l) => (l.level === 'warn' || l.level === 'error') && logPattern.test(l.message),
    ),
    `log names the violation: ${JSON.stringify(server.log)}`,
  );
}

describe('protocol violations', () => {
  test('window - data beyond the advertised window ends the session with GoAway(ProtocolError)', async () => {
    const server = rawServer();
    const bystander = rawServer();
    server.session.receive(header(FrameType.WindowUpdate, Flag.SYN, 1, 0));
    server.session.receive(header(FrameType.Data, 0, 1, 256 * 1024));
    server.session.receive(new Uint8Array(256 * 1024));
    assert.equal(server.session.isClosed, false, 'exactly one window is fine');
    assert.doesNotThrow(() => {
      server.session.receive(header(FrameType.Data, 0, 1, 1));
      server.session.receive(Uint8Array.of(0));
    });
    await expectProtocolClose(server, WindowExceededError, /exceed the receive window/);
    assert.equal(bystander.session.isClosed, false, 'other sessions untouched');
    bystander.session.close();
  });

  test('unknown stream - data for a stream that never existed is a protocol error', async () => {
    const server = rawServer();
    server.session.receive(header(FrameType.Data, 0, 5, 0));
    await expectProtocolClose(server, UnknownStreamError, /unknown stream 5/);
  });

  test('recently closed stream - late frames are tolerated like hashicorp', async () => {
    const server = rawServer();
    server.session.receive(header(FrameType.WindowUpdate, Flag.SYN, 1, 0));
    const stream = await server.session.accept();
    stream.reset();
    await stream.closed;
    server.session.receive(header(FrameType.Data, 0, 1, 3));
    server.session.receive(Uint8Array.of(1, 2, 3));
    server.session.receive(header(FrameType.WindowUpdate, Flag.FIN, 1, 0));
    const own = server.session.open();
    own.reset();
    server.session.receive(header(FrameType.WindowUpdate, Flag.ACK, own.id, 0));
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(server.session.isClosed, false);
    server.session.close();
  });

  test('text message - a string on the binary tunnel is a protocol error', async () => {
    const server = rawServer();
    server.session.receive('hello');
    await expectProtocolClose(server, ProtocolError, /text message/);
  });

  test('version - an unknown protocol version is a protocol error', async () => {
    const server = rawServer();
    const bad = header(FrameType.Ping, Flag.SYN, 0, 1);
    bad[0] = 1;
    server.session.receive(bad);
    await expectProtocolClose(server, ProtocolError, /unsupported protocol version 1/);
  });

  test('type - an unknown frame type is a protocol error', async () => {
    const server = rawServer();
    server.session.receive(Uint8Array.of(0, 9, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0));
    await expectProtocolClose(server, ProtocolError, /unknown type 9/);
  });

  test('stream ids - a peer opening with our parity is a protocol error', async () => {
    const server = rawServer();
    server.session.receive(header(FrameType.WindowUpdate, Flag.SYN, 2, 0));
    await expectProtocolClose(server, ProtocolError, /parity/);
  });

  test('stream ids - SYNs out of order are accepted (hashicorp opens from several goroutines); a SYN for an open stream is still an error', async () => {
    // Piko's server (hashicorp yamux) takes an id, then the opening goroutine sends the SYN:
    // two concurrent opens can put SYN 4 on the wire before SYN 2.
    const transport = new RecordingTransport();
    const agent = Session.client(transport, quiet);
    agent.receive(header(FrameType.WindowUpdate, Flag.SYN, 4, 0));
    agent.receive(header(FrameType.WindowUpdate, Flag.SYN, 2, 0));
    const first = await agent.accept();
    const second = await agent.accept();
    assert.deepEqual([first.id, second.id], [4, 2]);
    assert.equal(agent.isClosed, false);
    const acks = () =>
      frames(transport.bytes())
        .filter((f) => f.type === FrameType.WindowUpdate && f.flags & Flag.ACK)
        .map((f) => f.id);
    await waitFor(() => acks().length === 2, 1000, 'two ACKs');
    assert.deepEqual(acks(), [4, 2]);
    agent.receive(header(FrameType.WindowUpdate, Flag.SYN, 2, 0));
    const reason = await agent.closed;
    assert.ok(reason instanceof ProtocolError, String(reason));
    assert.match(reason.message, /duplicate SYN for stream 2/);
  });

  test('ping - a Ping SYN is answered with a Ping ACK carrying the same value', async () => {
    const server = rawServer();
    server.session.receive(header(FrameType.Ping, Flag.SYN, 0, 0xcafe));
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.deepEqual(server.transport.bytes(), header(FrameType.Ping, Flag.ACK, 0, 0xcafe));
    server.session.close();
  });

  test('GoAway(ProtocolError) from the peer closes the session', async () => {
    const server = rawServer();
    server.session.receive(header(FrameType.GoAway, 0, 0, GoAwayCode.ProtocolError));
    assert.equal(await server.session.remoteGoAway, GoAwayCode.ProtocolError);
    const reason = await server.session.closed;
    assert.match(reason?.message ?? '', /peer sent GoAway\(ProtocolError\)/);
  });
});
