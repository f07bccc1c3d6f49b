import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  GoAwayCode,
  RemoteGoAwayError,
  SessionClosedError,
  type Stream,
} from '../../src/tunnel/index.ts';
import { patternBytes, waitFor } from '../_harness/tunnel-sessions.ts';
import { wsTunnel } from '../_harness/tunnel-ws.ts';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function sendAndReceive(stream: Stream, body: Uint8Array): Promise<string> {
  const writing = (async () => {
    const writer = stream.writable.getWriter();
    for (let pos = 0; pos < body.length; pos += 50_000)
      await writer.write(body.subarray(pos, pos + 50_000));
    await writer.close();
  })();
  const hash = createHash('sha256');
  const reader = stream.readable.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) hash.update(r.value);
  await writing;
  return hash.digest('hex');
}

describe('tunnel over a real WebSocket (src/runtime)', () => {
  test('64 streams x 512 KiB each way arrive byte-exact; pings measure RTT', async () => {
    const tunnel = await wsTunnel({ heartbeatInterval: 200 }, { heartbeatInterval: 200 });
    try {
      const size = 512 * 1024;
      const agentSide = (async () => {
        const results: Promise<string>[] = [];
        for (let i = 0; i < 64; i++) {
          const stream = await tunnel.client.accept();
          const index = (stream.id - 2) / 2;
          results.push(sendAndReceive(stream, patternBytes(size, 1000 + index)));
        }
        return Promise.all(results);
      })();
      const serverDigests = await Promise.all(
        Array.from({ length: 64 }, (_, i) =>
          sendAndReceive(tunnel.server.open(), patternBytes(size, i + 1)),
        ),
      );
      const agentDigests = await agentSide;
      for (let i = 0; i < 64; i++) {
        assert.equal(
          serverDigests[i],
          sha(patternBytes(size, 1000 + i)),
          `agent -> server, stream ${i}`,
        );
        assert.equal(
          agentDigests[i],
          sha(patternBytes(size, i + 1)),
          `server -> agent, stream ${i}`,
        );
      }
      await waitFor(
        () => tunnel.server.rtt !== undefined && tunnel.client.rtt !== undefined,
        2000,
        'RTT',
      );
      assert.equal(tunnel.server.isClosed, false);
      assert.equal(tunnel.client.isClosed, false);
    } finally {
      await tunnel.close();
    }
  });

  test('GoAway from the agent, then close: the server stops opening and sees the end', async () => {
    const tunnel = await wsTunnel();
    try {
      tunnel.client.goAway();
      assert.equal(await tunnel.server.remoteGoAway, GoAwayCode.Normal);
      assert.throws(() => tunnel.server.open(), RemoteGoAwayError);
      await tunnel.client.shutdown();
      assert.equal(await tunnel.client.closed, undefined);
      // The server learns through the WebSocket close, not a timer.
      await tunnel.server.closed;
      assert.equal(tunnel.server.timerCount, 0);
    } finally {
      await tunnel.close();
    }
  });

  test('dead agent - the server session fails its streams when the agent stops answering', async () => {
    const tunnel = await wsTunnel(
      { heartbeatInterval: 100, heartbeatTimeout: 300 },
      { heartbeatInterval: 0, heartbeatTimeout: 0 },
    );
    try {
      const stream = tunnel.server.open();
      const pending = stream.readable.getReader().read();
      await tunnel.client.accept();
      // Black-hole the agent: its session no longer sees inbound messages, so it answers
      // nothing, while the WebSocket itself stays open (no FIN, no close frame).
      tunnel.client.receive = () => {};
      const started = Date.now();
      await assert.rejects(pending, /no frame from peer for 300 ms/);
      assert.ok(Date.now() - started < 1000, 'declared dead within timeout + slack');
      assert.ok((await tunnel.server.closed) instanceof SessionClosedError);
    } finally {
      await tunnel.close();
    }
  });
});
