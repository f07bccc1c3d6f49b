import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { Flag, FrameDecoder, FrameType, INITIAL_STREAM_WINDOW } from '../../src/tunnel/index.ts';
import { patternBytes, readAll, sessionPair, waitFor } from '../_harness/tunnel-sessions.ts';

const quiet = { heartbeatInterval: 0, heartbeatTimeout: 0 };

/** Records WindowUpdate deltas the client sends (frames flowing client -> server). */
function tapWindowUpdates(pair: ReturnType<typeof sessionPair>): number[] {
  const deltas: number[] = [];
  const decoder = new FrameDecoder((type, flags, _id, length) => {
    if (type === FrameType.WindowUpdate && (flags & (Flag.SYN | Flag.ACK)) === 0 && length > 0)
      deltas.push(length);
  });
  const deliver = pair.serverEnd.onMessage;
  pair.serverEnd.onMessage = (message) => {
    if (typeof message !== 'string') decoder.push(message);
    deliver(message);
  };
  return deltas;
}

describe('flow control', () => {
  test('slow reader - the writer never sends more than the window, then everything arrives', async () => {
    const pair = sessionPair(quiet, quiet);
    const total = 3 * 1024 * 1024;
    const body = patternBytes(total, 3);
    const stream = pair.server.open();
    let written = false;
    const writing = (async () => {
      const writer = stream.writable.getWriter();
      for (let pos = 0; pos < total; pos += 100_000)
        await writer.write(body.subarray(pos, pos + 100_000));
      await writer.close();
      written = true;
    })();
    const accepted = await pair.client.accept();
    // The reader is paused: once the window is full nothing more may leave the server.
    await waitFor(() => pair.serverEnd.sentBytes >= INITIAL_STREAM_WINDOW, 2000, 'window filled');
    const filled = pair.serverEnd.sentBytes;
    for (let i = 0; i < 50; i++) await setImmediate();
    assert.equal(pair.serverEnd.sentBytes, filled, 'nothing sent while the reader is paused');
    // SYN (12) + Data headers (12 each, 64 KiB frames) + exactly one window of payload.
    assert.ok(filled <= INITIAL_STREAM_WINDOW + 12 * 10, `sent ${filled} bytes`);
    assert.equal(written, false);
    assert.deepEqual(await readAll(accepted.readable), body);
    await writing;
    pair.close();
  });

  test('window updates - sent as the reader consumes, in batches of at least half a window', async () => {
    const pair = sessionPair(quiet, { ...quiet, maxWindow: INITIAL_STREAM_WINDOW });
    const deltas = tapWindowUpdates(pair);
    const stream = pair.server.open();
    const writer = stream.writable.getWriter();
    await writer.write(patternBytes(200_000));
    const accepted = await pair.client.accept();
    for (let i = 0; i < 20; i++) await setImmediate();
    assert.deepEqual(deltas, [], 'no update on arrival, only on consumption');
    const reader = accepted.readable.getReader();
    let read = 0;
    while (read < 200_000) read += (await reader.read()).value!.length;
    await waitFor(() => deltas.length === 1, 1000, 'one window update');
    assert.ok(
      deltas[0]! >= INITIAL_STREAM_WINDOW / 2 && deltas[0]! <= 200_000,
      `delta ${deltas[0]}`,
    );
    pair.close();
  });

  test('auto-tuning - a fast reader grows the window through WindowUpdate deltas up to maxWindow', async () => {
    const maxWindow = 4 * 1024 * 1024;
    // Heartbeat on (long interval): the first ping measures the RTT that tuning needs.
    const config = { heartbeatInterval: 60_000, heartbeatTimeout: 0, maxWindow };
    const pair = sessionPair(config, config, { highWaterMark: 16 * 1024 * 1024 });
    const deltas = tapWindowUpdates(pair);
    await pair.client.ping();
    const total = 48 * 1024 * 1024;
    const chunk = patternBytes(1024 * 1024, 5);
    const stream = pair.server.open();
    const writing = (async () => {
      const writer = stream.writable.getWriter();
      for (let pos = 0; pos < total; pos += chunk.length) await writer.write(chunk);
      await writer.close();
    })();
    const accepted = await pair.client.accept();
    const received = await readAll(accepted.readable);
    await writing;
    assert.equal(received.length, total);
    const largest = Math.max(...deltas);
    assert.ok(largest > INITIAL_STREAM_WINDOW, `window grew: largest delta ${largest}`);
    const advertised = INITIAL_STREAM_WINDOW + deltas.reduce((a, b) => a + b, 0) - total;
    assert.ok(advertised <= maxWindow, `never advertises beyond maxWindow (${advertised})`);
    pair.close();
  });

  test('writer - a chunk larger than the window is split and waits for updates', async () => {
    const pair = sessionPair(quiet, quiet);
    const body = patternBytes(2 * 1024 * 1024 + 7, 9);
    const stream = pair.server.open();
    const writing = (async () => {
      const writer = stream.writable.getWriter();
      await writer.write(body);
      await writer.close();
    })();
    const accepted = await pair.client.accept();
    assert.deepEqual(await readAll(accepted.readable), body);
    await writing;
    pair.close();
  });
});
