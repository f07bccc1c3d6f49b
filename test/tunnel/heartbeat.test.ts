import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FrameDecoder, FrameType, SessionClosedError } from '../../src/tunnel/index.ts';
import { patternBytes, sessionPair, waitFor } from '../_harness/tunnel-sessions.ts';

// Scaled down on real timers: ping every 100 ms, dead after 300 ms of silence.
const fast = { heartbeatInterval: 100, heartbeatTimeout: 300 };

/** Counts frames of `type` delivered to the server. */
function countToServer(pair: ReturnType<typeof sessionPair>, type: FrameType): () => number {
  let count = 0;
  const decoder = new FrameDecoder((t) => {
    if (t === type) count++;
  });
  const deliver = pair.serverEnd.onMessage;
  pair.serverEnd.onMessage = (message) => {
    if (typeof message !== 'string') decoder.push(message);
    deliver(message);
  };
  return () => count;
}

describe('heartbeat', () => {
  test('idle session - pings every interval keep both sides alive for many timeouts', async () => {
    const pair = sessionPair(fast, fast);
    const pings = countToServer(pair, FrameType.Ping);
    const started = Date.now();
    // 12 pings from the client (and their replies) take about 1.2 s = 4 x heartbeatTimeout.
    await waitFor(() => pings() >= 24, 5000, '12 ping rounds');
    assert.ok(Date.now() - started >= 1000, 'pings are paced by the interval, not sent in a burst');
    assert.equal(pair.client.isClosed, false);
    assert.equal(pair.server.isClosed, false);
    assert.ok(pair.client.rtt !== undefined && pair.server.rtt !== undefined);
    pair.close();
  });

  test('silent peer - declared dead within the window; open streams fail fast', async () => {
    const pair = sessionPair(fast, fast);
    const stream = pair.server.open();
    const writer = stream.writable.getWriter();
    await writer.write(patternBytes(10));
    const accepted = await pair.client.accept();
    await stream.accepted;
    const reader = stream.readable.getReader();
    const pendingRead = reader.read();
    // The client stops answering without closing anything: its messages are held.
    pair.serverEnd.hold = true;
    const silentSince = Date.now();
    const reason = await pair.server.closed;
    const detectedAfter = Date.now() - silentSince;
    assert.ok(reason instanceof SessionClosedError);
    assert.equal(reason.message, 'Session closed: no frame from peer for 300 ms');
    assert.ok(detectedAfter >= 250 && detectedAfter <= 600, `dead after ${detectedAfter} ms`);
    await assert.rejects(
      pendingRead,
      (e: Error) => e instanceof SessionClosedError && e.cause === reason,
    );
    await assert.rejects(writer.write(patternBytes(10)), SessionClosedError);
    assert.equal(pair.server.timerCount, 0);
    // The transport is closed too, so the silent side fails its streams instead of hanging.
    await pair.client.closed;
    await assert.rejects(accepted.readable.getReader().read(), SessionClosedError);
  });

  test('saturated stream - bulk transfer with a slow consumer never trips the detector', async () => {
    // A small transport buffer keeps the link saturated and backpressured throughout.
    const pair = sessionPair(fast, fast, { highWaterMark: 64 * 1024 });
    const stream = pair.server.open();
    const chunk = patternBytes(256 * 1024, 11);
    const runFor = 1500; // 5 x heartbeatTimeout
    const started = Date.now();
    const sending = (async () => {
      const writer = stream.writable.getWriter();
      while (Date.now() - started < runFor) await writer.write(chunk);
      await writer.close();
    })();
    const accepted = await pair.client.accept();
    const reader = accepted.readable.getReader();
    let received = 0;
    let paused = false;
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      received += r.value.length;
      // slow-ish consumer: yields to the event loop every chunk...
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (!paused && Date.now() - started > 500) {
        // ...and once stops reading for longer than heartbeatTimeout: no data and no window
        // update flows, only heartbeats keep the sessions alive.
        paused = true;
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
    }
    await sending;
    assert.ok(Date.now() - started >= runFor);
    assert.ok(received > 4 * chunk.length, `received ${received} bytes`);
    assert.equal(pair.server.isClosed, false, 'sender alive');
    assert.equal(pair.client.isClosed, false, 'receiver alive');
    pair.close();
  });
});
