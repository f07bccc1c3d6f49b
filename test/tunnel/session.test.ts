import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  EARLY_FLUSH_FRAMES,
  encodeHeader,
  Flag,
  FrameDecoder,
  FrameType,
  GoAwayCode,
  RemoteGoAwayError,
  Session,
  SessionClosedError,
  SessionDrainingError,
  type Stream,
  StreamOpenTimeoutError,
  StreamRefusedError,
  StreamResetError,
} from '../../src/tunnel/index.ts';
import { survivors } from '../_harness/gc.ts';
import {
  patternBytes,
  RecordingTransport,
  readAll,
  sessionPair,
  waitFor,
} from '../_harness/tunnel-sessions.ts';

const quiet = { heartbeatInterval: 0, heartbeatTimeout: 0 };

async function write(stream: Stream, bytes: Uint8Array, close = true): Promise<void> {
  const writer = stream.writable.getWriter();
  await writer.write(bytes);
  if (close) await writer.close();
  writer.releaseLock();
}

/** Frames sent on a RecordingTransport, decoded. */
function sentFrames(transport: RecordingTransport) {
  const frames: { type: FrameType; flags: number; streamId: number; length: number }[] = [];
  new FrameDecoder((type, flags, streamId, length) =>
    frames.push({ type, flags, streamId, length }),
  ).push(transport.bytes());
  return frames;
}

/** A stream a lone server session opened, answered by one WindowUpdate carrying `flags`. */
function openAnswered(flags: number) {
  const lone = Session.server(new RecordingTransport(), quiet);
  const stream = lone.open();
  lone.receive(
    encodeHeader({ type: FrameType.WindowUpdate, flags, streamId: stream.id, length: 0 }),
  );
  return { lone, stream };
}

describe('Session', () => {
  test('open/accept - bytes flow both ways and FIN ends each direction', async () => {
    const pair = sessionPair(quiet, quiet);
    const opened = pair.server.open();
    assert.equal(opened.id % 2, 0, 'server opens even ids');
    const request = patternBytes(100_000, 1);
    const sending = write(opened, request);
    const accepted = await pair.client.accept();
    assert.equal(accepted.id, opened.id);
    assert.deepEqual(await readAll(accepted.readable), request);
    await sending;
    const response = patternBytes(700_000, 2);
    const [, received] = await Promise.all([write(accepted, response), readAll(opened.readable)]);
    assert.deepEqual(received, response);
    await opened.accepted;
    await Promise.all([opened.closed, accepted.closed]);
    assert.equal(pair.server.streamCount, 0);
    assert.equal(pair.client.streamCount, 0);
    pair.close();
  });

  test('open - the client opens odd ids and the SYN goes out before any ACK', async () => {
    const transport = new RecordingTransport();
    const session = Session.client(transport, quiet);
    const a = session.open();
    const b = session.open();
    assert.deepEqual([a.id, b.id], [1, 3]);
    await write(a, Uint8Array.of(1, 2, 3), false);
    const frames = sentFrames(transport);
    assert.deepEqual(frames.slice(0, 3), [
      { type: FrameType.WindowUpdate, flags: Flag.SYN, streamId: 1, length: 0 },
      { type: FrameType.WindowUpdate, flags: Flag.SYN, streamId: 3, length: 0 },
      { type: FrameType.Data, flags: 0, streamId: 1, length: 3 },
    ]);
    session.close();
  });

  test('writes - header and payload and the small frames of one turn are coalesced into one message', async () => {
    const transport = new RecordingTransport();
    const session = Session.server(transport, quiet);
    // 6 SYNs + 6 Data frames: fewer than EARLY_FLUSH_FRAMES, so nothing leaves early.
    const streams = Array.from({ length: 6 }, () => session.open());
    const writers = streams.map((s) => s.writable.getWriter());
    await Promise.all(writers.map((w) => w.ready));
    await Promise.all(writers.map((w) => w.write(patternBytes(100))));
    // The SYNs may or may not share the data's message, but the Data frames (header +
    // payload each) always travel together in one.
    assert.ok(transport.messages.length <= 2, `${transport.messages.length} messages`);
    assert.equal(transport.bytes().length, 6 * 12 + 6 * 112);
    assert.ok(transport.messages.at(-1)!.length >= 6 * 112);
    session.close();
  });

  test('writes - a large wave starts leaving before the turn ends, in batches of at least EARLY_FLUSH_FRAMES', async () => {
    const transport = new RecordingTransport();
    const session = Session.server(transport, quiet);
    const streams = Array.from({ length: 64 }, () => session.open());
    await waitFor(() => transport.messages.length === 1); // the 64 SYNs
    // One write per task, as requests arriving on 64 client sockets in one event-loop turn.
    await Promise.all(
      streams.map(
        (s) =>
          new Promise<void>((resolve, reject) =>
            setImmediate(() => {
              const writer = s.writable.getWriter();
              writer.write(patternBytes(100)).then(resolve, reject);
              writer.releaseLock();
            }),
          ),
      ),
    );
    await waitFor(() => transport.bytes().length === 64 * 12 + 64 * 112);
    const dataMessages = transport.messages.slice(1);
    const perMessage = dataMessages.map((m) => m.length / 112);
    // One end-of-turn message would make the peer wait for the whole wave.
    assert.ok(dataMessages.length >= 2, `data frames per message: ${perMessage.join(', ')}`);
    for (const count of perMessage.slice(0, -1)) {
      assert.ok(count >= EARLY_FLUSH_FRAMES, `data frames per message: ${perMessage.join(', ')}`);
    }
    session.close();
  });

  test('writes - large payloads land at least 64 bytes past their source modulo 4 KiB (nearer, memmove slows down up to 15 times)', async () => {
    // Sources starting on a page (as socket reads do) or 4090 bytes into one; one frame
    // size that is not a multiple of 4 KiB.
    for (const sendCopies of [false, true]) {
      for (const [sourceOffset, size] of [
        [0, 200_000],
        [4090, 200_000],
        [0, 53_002],
      ] as const) {
        const distances: number[] = [];
        const received = new Uint8Array(size);
        let sent = 0;
        const source = new Uint8Array(new ArrayBuffer(sourceOffset + size), sourceOffset);
        source.set(patternBytes(size));
        const transport = new (class extends RecordingTransport {
          readonly sendCopies = sendCopies;
          override send(message: Uint8Array): boolean {
            for (let pos = 0; pos < message.length; ) {
              const type = message[pos + 1];
              const length = new DataView(message.buffer, message.byteOffset).getUint32(pos + 8);
              pos += 12;
              if (type !== FrameType.Data) continue;
              const at = message.byteOffset + pos;
              distances.push((((at - (source.byteOffset + sent)) % 4096) + 4096) % 4096);
              received.set(message.subarray(pos, pos + length), sent);
              sent += length;
              pos += length;
            }
            return super.send(message);
          }
        })();
        const session = Session.server(transport, quiet);
        await write(session.open(), source, false);
        assert.deepEqual(received, patternBytes(size));
        const where = `sendCopies ${sendCopies}, ${size} bytes at ${sourceOffset}: ${distances}`;
        for (const d of distances) assert.ok(d === 0 || d >= 64, where);
        session.close();
      }
    }
  });

  test('writes - a lone stream sends its chunk in one frame; busy streams share each message in frames of at most 64 KiB', async () => {
    // One frame per chunk is one chunk, one read and one socket write for the peer: with
    // 64 KiB frames a 1 GiB download cost the server 16 500 socket writes instead of 2 200.
    const lone = new RecordingTransport();
    const session = Session.server(lone, quiet);
    await write(session.open(), patternBytes(200_000), false);
    const loneData = sentFrames(lone).filter((f) => f.type === FrameType.Data);
    assert.deepEqual(
      loneData.map((f) => f.length),
      [200_000],
    );
    session.close();

    const shared = new RecordingTransport();
    const busy = Session.server(shared, quiet);
    const streams = [busy.open(), busy.open()];
    await Promise.all(streams.map((s) => write(s, patternBytes(200_000), false)));
    const sharedData = sentFrames(shared).filter((f) => f.type === FrameType.Data);
    const sizes = sharedData.map((f) => `${f.streamId}:${f.length}`).join(' ');
    for (const stream of streams) {
      const frames = sharedData.filter((f) => f.streamId === stream.id);
      assert.equal(
        frames.reduce((sum, f) => sum + f.length, 0),
        200_000,
        sizes,
      );
    }
    assert.ok(
      sharedData.every((f) => f.length <= 64 * 1024),
      sizes,
    );
    // Round robin: the first two frames belong to different streams.
    assert.notEqual(sharedData[0]!.streamId, sharedData[1]!.streamId, sizes);
    busy.close();
  });

  test('half-close - the reader sees the end while the other direction keeps flowing', async () => {
    const pair = sessionPair(quiet, quiet);
    const opened = pair.server.open();
    await write(opened, Uint8Array.of(1), true);
    const accepted = await pair.client.accept();
    assert.deepEqual(await readAll(accepted.readable), Uint8Array.of(1));
    await write(accepted, Uint8Array.of(2, 3), false);
    const reader = opened.readable.getReader();
    assert.deepEqual((await reader.read()).value, Uint8Array.of(2, 3));
    assert.equal(pair.client.streamCount, 1, 'half-closed stream is still open');
    await accepted.writable.close();
    assert.equal((await reader.read()).done, true);
    await opened.closed;
    pair.close();
  });

  test('reset - RST errors both halves on both sides', async () => {
    const pair = sessionPair(quiet, quiet);
    const opened = pair.server.open();
    await write(opened, Uint8Array.of(1), false);
    const accepted = await pair.client.accept();
    await opened.accepted;
    accepted.reset();
    await assert.rejects(accepted.readable.getReader().read(), StreamResetError);
    await assert.rejects(opened.readable.getReader().read(), StreamResetError);
    await assert.rejects(write(opened, Uint8Array.of(2)), StreamResetError);
    await opened.closed;
    assert.equal(pair.server.isClosed, false);
    pair.close();
  });

  test('onClosed - runs once, in a microtask, when both directions end; a late one runs too; closed made late resolves', async () => {
    const pair = sessionPair(quiet, quiet);
    const opened = pair.server.open();
    const calls: string[] = [];
    opened.onClosed(() => calls.push('early'));
    const sending = write(opened, Uint8Array.of(1));
    const accepted = await pair.client.accept();
    assert.deepEqual(await readAll(accepted.readable), Uint8Array.of(1));
    await sending;
    assert.deepEqual(calls, [], 'not while the response direction is open');
    await Promise.all([write(accepted, Uint8Array.of(2)), readAll(opened.readable)]);
    await waitFor(() => calls.length > 0, 1000, 'onClosed');
    assert.deepEqual(calls, ['early']);
    let late = false;
    opened.onClosed(() => {
      late = true;
    });
    assert.equal(late, false, 'a hook added after the end still runs in a microtask');
    await opened.closed;
    assert.equal(late, true);
    await opened.accepted;
    assert.deepEqual(calls, ['early'], 'each hook runs once');
    pair.close();
  });

  test('accepted - RST before ACK rejects with StreamRefusedError', async () => {
    const pair = sessionPair(quiet, quiet);
    pair.client.goAway();
    await waitFor(() => pair.server.goneAway, 1000, 'GoAway');
    // Bypass the server's own GoAway guard: the client was draining before it could know.
    const { lone, stream } = openAnswered(Flag.RST);
    await assert.rejects(stream.accepted, StreamRefusedError);
    await assert.rejects(stream.readable.getReader().read(), StreamRefusedError);
    lone.close();
    pair.close();
  });

  test('accepted - ACK|RST in one frame is a reset after the stream was taken, not a refusal', async () => {
    const { lone, stream } = openAnswered(Flag.ACK | Flag.RST);
    await stream.accepted;
    await assert.rejects(stream.readable.getReader().read(), StreamResetError);
    lone.close();
  });

  test('streamOpenTimeout - an unanswered open fails that stream, not the session', async () => {
    const transport = new RecordingTransport();
    const session = Session.server(transport, { ...quiet, streamOpenTimeout: 50 });
    const stream = session.open();
    await assert.rejects(stream.accepted, StreamOpenTimeoutError);
    await assert.rejects(
      stream.writable.getWriter().write(Uint8Array.of(1)),
      StreamOpenTimeoutError,
    );
    assert.equal(session.isClosed, false);
    assert.equal(session.streamCount, 0);
    assert.equal(session.timerCount, 0, 'open timer not re-armed');
    // Frames go out once per event-loop turn: wait for the RST to leave.
    await waitFor(() => sentFrames(transport).at(-1)?.flags === Flag.RST, 2000, 'the RST');
    const last = sentFrames(transport).at(-1);
    assert.deepEqual(last, {
      type: FrameType.WindowUpdate,
      flags: Flag.RST,
      streamId: stream.id,
      length: 0,
    });
    session.close();
  });

  test('memory - finished streams are let go at once, open timeouts on: the session keeps none alive', async () => {
    // The open-timeout queue once kept every stream opened in the last streamOpenTimeout
    // (75 s by default): over 1 GiB on a busy server. 2 000 streams in waves of 8, each
    // acknowledged, answered and closed; the first 400 must be collectable long before
    // their open timeout would have passed.
    const pair = sessionPair(quiet, { ...quiet, streamOpenTimeout: 60_000 });
    const serving = (async () => {
      for (;;) {
        const stream = await pair.client.accept().catch(() => undefined);
        if (stream === undefined) return;
        void readAll(stream.readable).then(() => stream.end(Uint8Array.of(2)));
      }
    })();
    const refs: WeakRef<object>[] = [];
    for (let wave = 0; wave < 250; wave++) {
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          const stream = pair.server.open();
          if (refs.length < 400) refs.push(new WeakRef(stream));
          await stream.end(Uint8Array.of(1));
          assert.deepEqual(await readAll(stream.readable), Uint8Array.of(2));
          await stream.closed;
        }),
      );
    }
    assert.equal(pair.server.streamCount, 0);
    // JSC scans the stack conservatively: allow a stray pointer or two, not a queue of them.
    const alive = await survivors(refs);
    assert.ok(alive <= 4, `${alive} of ${refs.length} finished streams are still alive`);
    pair.close();
    await serving;
  });

  test('ping - RTT is measured and concurrent callers share one ping', async () => {
    const pair = sessionPair(quiet, quiet);
    const sentBefore = pair.serverEnd.sentMessages;
    const [a, b] = await Promise.all([pair.server.ping(), pair.server.ping()]);
    assert.equal(a, b);
    assert.ok(a >= 0 && pair.server.rtt === a);
    assert.equal(pair.serverEnd.sentMessages - sentBefore, 1, 'one Ping SYN');
    const aborted = new AbortController();
    aborted.abort(new Error('stop'));
    await assert.rejects(pair.server.ping(aborted.signal), /stop/);
    pair.close();
  });

  test('goAway - remote GoAway stops open() but inbound streams still work', async () => {
    const pair = sessionPair(quiet, quiet);
    pair.client.goAway();
    assert.equal(pair.client.draining, true);
    assert.equal(await pair.server.remoteGoAway, GoAwayCode.Normal);
    assert.equal(pair.server.goneAway, true);
    assert.throws(() => pair.server.open(), RemoteGoAwayError);
    assert.throws(() => pair.client.open(), SessionDrainingError);
    pair.close();
  });

  test('goAway - after local GoAway inbound SYNs are refused with RST', async () => {
    const pair = sessionPair(quiet, quiet);
    pair.server.goAway();
    // The client opens before it has processed the GoAway.
    const stream = pair.client.open();
    await assert.rejects(stream.accepted, StreamRefusedError);
    assert.equal(pair.server.streamCount, 0);
    assert.equal(pair.server.isClosed, false);
    pair.close();
  });

  test('goAway - existing streams finish after GoAway and shutdown() waits for them', async () => {
    const pair = sessionPair(quiet, quiet);
    const opened = pair.server.open();
    await write(opened, Uint8Array.of(1), false);
    const accepted = await pair.client.accept();
    let done = false;
    const shutdown = pair.client.shutdown().then(() => {
      done = true;
    });
    await pair.server.remoteGoAway;
    assert.equal(done, false);
    await write(accepted, Uint8Array.of(9));
    await write(opened, Uint8Array.of(2));
    assert.deepEqual(await readAll(opened.readable), Uint8Array.of(9));
    await shutdown;
    assert.equal(await pair.client.closed, undefined, 'clean close');
    await pair.server.closed;
    pair.close();
  });

  test('shutdown - abort closes at once and resets streams', async () => {
    const pair = sessionPair(quiet, quiet);
    const opened = pair.server.open();
    await write(opened, Uint8Array.of(1), false);
    await pair.client.accept();
    const abort = new AbortController();
    const shutdown = pair.server.shutdown(abort.signal);
    abort.abort(new Error('grace period over'));
    await shutdown;
    assert.ok((await pair.server.closed) instanceof SessionClosedError);
    await assert.rejects(opened.readable.getReader().read(), SessionClosedError);
    pair.close();
  });

  test('acceptBacklog - overflow is refused with RST and the session survives', async () => {
    const pair = sessionPair(quiet, { ...quiet, acceptBacklog: 4 });
    const streams = Array.from({ length: 10 }, () => pair.client.open());
    const refused: number[] = [];
    for (const s of streams) {
      // The 4 in the backlog fail with SessionClosedError when the test closes the pair.
      s.accepted.catch((e) => e instanceof StreamRefusedError && refused.push(s.id));
    }
    // Nobody accepts yet: the first 4 wait in the backlog, the other 6 are refused.
    await waitFor(() => refused.length === 6, 1000, 'six refusals');
    assert.deepEqual(
      refused,
      streams.slice(4).map((s) => s.id),
    );
    assert.ok(pair.serverLog.some((l) => l.level === 'warn' && /backlog/.test(l.message)));
    const first = await pair.server.accept();
    assert.equal(first.id, streams[0]!.id);
    await streams[0]!.accepted;
    assert.equal(pair.server.isClosed, false);
    assert.equal(pair.client.isClosed, false);
    pair.close();
  });

  test('acceptStreams false - every inbound SYN is refused with RST at once, nothing is kept for it, one warning', async () => {
    // The server: only it opens streams, so an agent's SYN must not park a stream (and up to
    // a window of data) that nobody will ever accept.
    const pair = sessionPair(quiet, { ...quiet, acceptStreams: false });
    const streams = Array.from({ length: 5 }, () => pair.client.open());
    const refused: number[] = [];
    for (const s of streams) {
      s.accepted.catch((e) => e instanceof StreamRefusedError && refused.push(s.id));
      // Data that leaves before the RST arrives is dropped like any late frame.
      write(s, new Uint8Array(64 * 1024), false).catch(() => {});
    }
    await waitFor(() => refused.length === 5, 1000, 'five refusals');
    assert.equal(pair.server.streamCount, 0);
    const warnings = pair.serverLog.filter((l) => /accepts no streams/.test(l.message));
    assert.deepEqual(
      warnings.map((l) => l.level),
      ['warn', 'debug', 'debug', 'debug', 'debug'],
    );
    // Its own streams still work.
    const own = pair.server.open();
    const accepted = await pair.client.accept();
    await own.end(Uint8Array.of(7));
    assert.deepEqual(await readAll(accepted.readable), Uint8Array.of(7));
    assert.equal(pair.server.isClosed, false);
    pair.close();
  });

  test('memory - a small frame buffered for a slow reader does not keep the whole message it came in alive', async () => {
    // Frames are coalesced into messages of up to 1 MiB and payloads are views of them: a
    // few bytes for a stream nobody reads yet held the message's buffer, outside the window.
    const transport = new RecordingTransport();
    const session = Session.client(transport, quiet);
    const message = new Uint8Array(12 + 12 + 3 + 12 + 200_000);
    message.set(
      encodeHeader({ type: FrameType.WindowUpdate, flags: Flag.SYN, streamId: 2, length: 0 }),
      0,
    );
    message.set(encodeHeader({ type: FrameType.Data, flags: 0, streamId: 2, length: 3 }), 12);
    message.set([1, 2, 3], 24);
    message.set(encodeHeader({ type: FrameType.Data, flags: 0, streamId: 2, length: 200_000 }), 27);
    session.receive(message.subarray(0, 27));
    session.receive(message.subarray(27));
    const stream = await session.accept();
    const reader = stream.readable.getReader();
    const small = await reader.read();
    assert.deepEqual(small.value, Uint8Array.of(1, 2, 3));
    assert.ok(
      small.value!.buffer.byteLength < 1024,
      `3 buffered bytes hold a buffer of ${small.value!.buffer.byteLength} bytes`,
    );
    // A payload that is most of its buffer is passed on as it is.
    const large = await reader.read();
    assert.equal(large.value!.length, 200_000);
    assert.equal(large.value!.buffer, message.buffer);
    session.close();
  });

  test('1000 simultaneous opens - none lost and the session survives', async () => {
    const pair = sessionPair(quiet, { ...quiet, acceptBacklog: 1024 });
    const serving = (async () => {
      for (let i = 0; i < 1000; i++) {
        const s = await pair.server.accept();
        void s.readable.pipeTo(s.writable).catch(() => {});
      }
    })();
    const echoes = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const s = pair.client.open();
        const body = patternBytes(64 + (i % 100), i + 1);
        await write(s, body);
        assert.deepEqual(await readAll(s.readable), body);
        return s.id;
      }),
    );
    await serving;
    assert.equal(new Set(echoes).size, 1000);
    await waitFor(() => pair.server.streamCount === 0 && pair.client.streamCount === 0);
    assert.equal(pair.client.isClosed, false);
    pair.close();
  });

  test('1000-SYN burst, prompt acceptor, default backlog - the backlog is judged after the acceptor ran: none refused', async () => {
    const pair = sessionPair(quiet, quiet);
    let refusals = 0;
    const serving = echoEverything(pair.server, false);
    await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const s = pair.client.open();
        const body = patternBytes(100, i + 1);
        await write(s, body).catch(() => {});
        await s.accepted.catch(() => refusals++);
        assert.deepEqual(await readAll(s.readable), body);
      }),
    );
    assert.equal(refusals, 0);
    assert.equal(pair.server.isClosed, false);
    pair.close();
    await serving;
  });

  test('1000 simultaneous opens, slow acceptor, default backlog - refused opens are safe to retry, none lost', async () => {
    const pair = sessionPair(quiet, quiet);
    let refusals = 0;
    // One accept per event-loop turn: the backlog fills and overflows.
    const serving = echoEverything(pair.server, true);
    const echo = async (i: number): Promise<void> => {
      const s = pair.client.open();
      const body = patternBytes(100, i + 1);
      const writing = write(s, body).catch(() => {});
      try {
        await s.accepted;
      } catch (error) {
        assert.ok(error instanceof StreamRefusedError);
        refusals++;
        return echo(i);
      }
      await writing;
      assert.deepEqual(await readAll(s.readable), body);
    };
    await Promise.all(Array.from({ length: 1000 }, (_, i) => echo(i)));
    assert.ok(
      refusals > 0,
      'a 1000-SYN burst overflows the 256 backlog (hashicorp behaves the same)',
    );
    assert.equal(pair.client.isClosed, false);
    assert.equal(pair.server.isClosed, false);
    pair.close();
    await serving;
  });

  test('close - every pending read, write, open and accept fails at once with the reason as cause', async () => {
    const pair = sessionPair(quiet, quiet);
    const opened = pair.server.open();
    const writer = opened.writable.getWriter();
    await writer.write(patternBytes(10));
    const accepted = await pair.client.accept();
    // A write stuck on the window: 256 KiB initial, nobody reading on the other side.
    const blockedWrite = writer.write(patternBytes(600_000));
    const pendingRead = opened.readable.getReader().read();
    const pendingAccept = pair.server.accept();
    const reason = new Error('operator said so');
    await waitFor(() => pair.serverEnd.sentBytes > 256 * 1024);
    pair.clientEnd.hold = true; // the client can no longer answer the ping
    const pendingPing = pair.server.ping();
    pair.server.close(reason);
    for (const p of [blockedWrite, pendingRead, pendingAccept, pendingPing]) {
      await assert.rejects(p, (e: Error) => e instanceof SessionClosedError && e.cause === reason);
    }
    assert.throws(() => pair.server.open(), SessionClosedError);
    await assert.rejects(pair.server.accept(), SessionClosedError);
    assert.equal(await pair.server.closed, reason);
    // The peer learns through the transport and fails its streams too.
    assert.ok((await pair.client.closed) instanceof Error);
    await assert.rejects(accepted.readable.getReader().read(), SessionClosedError);
    await opened.closed;
  });

  test('close - no timers remain on any close path', async () => {
    const config = {
      heartbeatInterval: 50,
      heartbeatTimeout: 200,
      streamOpenTimeout: 1000,
      writeStallTimeout: 1000,
    };
    const pair = sessionPair(config, config);
    pair.server.open();
    assert.ok(pair.server.timerCount >= 3, 'heartbeat, liveness and open timers are armed');
    pair.server.close();
    assert.equal(pair.server.timerCount, 0);
    await pair.client.closed;
    assert.equal(pair.client.timerCount, 0, 'closed by the transport');
    // Protocol error path
    const p2 = sessionPair(config, config);
    p2.clientEnd.sendText('hello');
    await p2.server.closed;
    assert.equal(p2.server.timerCount, 0);
    await p2.client.closed;
    assert.equal(p2.client.timerCount, 0);
  });

  test('writeStallTimeout - a transport that never drains closes the session with GoAway(InternalError)', async () => {
    const pair = sessionPair(
      quiet,
      { ...quiet, writeStallTimeout: 200 },
      { highWaterMark: 64 * 1024 },
    );
    const stream = pair.server.open();
    const writer = stream.writable.getWriter();
    await writer.write(patternBytes(10));
    await pair.client.accept();
    pair.clientEnd.hold = true; // the client's socket buffer never empties
    const started = Date.now();
    const blocked = writer.write(patternBytes(600_000)); // more than one window
    const reason = await pair.server.closed;
    assert.match(reason?.message ?? '', /^Session closed: transport did not drain for 200 ms$/);
    assert.ok(Date.now() - started >= 190);
    await assert.rejects(blocked, SessionClosedError);
    assert.ok(pair.serverLog.some((l) => l.level === 'error' && /did not drain/.test(l.message)));
    assert.equal(pair.server.timerCount, 0);
  });

  test('maxStreams - open() beyond the limit throws and inbound streams beyond it are refused', async () => {
    const pair = sessionPair({ ...quiet, maxStreams: 2 }, { ...quiet, maxStreams: 2 });
    pair.server.open();
    pair.server.open();
    assert.throws(() => pair.server.open(), RangeError);
    const inbound = [pair.client.open(), pair.client.open()];
    // The server already holds two streams: both of the client's opens are refused.
    for (const s of inbound) await assert.rejects(s.accepted, StreamRefusedError);
    assert.equal(pair.server.isClosed, false);
    pair.close();
  });

  test('liveness - any inbound frame keeps the peer alive, silence kills it', async () => {
    // No pings anywhere: only the client's data frames prove it is alive.
    const pair = sessionPair(quiet, { heartbeatInterval: 0, heartbeatTimeout: 300 });
    const stream = pair.client.open();
    const writer = stream.writable.getWriter();
    await writer.write(Uint8Array.of(0));
    const accepted = await pair.server.accept();
    void accepted.readable.pipeTo(new WritableStream()).catch(() => {});
    const started = Date.now();
    while (Date.now() - started < 1000) {
      await writer.write(Uint8Array.of(1));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(
      pair.server.isClosed,
      false,
      'alive after 3 x heartbeatTimeout of data-only traffic',
    );
    assert.ok(Date.now() - pair.server.lastInboundAt < 300);
    const silentSince = Date.now();
    const reason = await pair.server.closed;
    assert.equal(reason?.message, 'Session closed: no frame from peer for 300 ms');
    assert.ok(Date.now() - silentSince <= 600);
    pair.close();
  });
});

/** Accepts until the session closes and echoes every stream; optionally one per turn. */
async function echoEverything(session: Session, onePerTurn: boolean): Promise<void> {
  for (;;) {
    const s = await session.accept().catch(() => undefined);
    if (!s) return;
    void s.readable.pipeTo(s.writable).catch(() => {});
    if (onePerTurn) await new Promise((resolve) => setImmediate(resolve));
  }
}
