import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Listener, runtime, type TcpConnection } from '../../src/runtime/index.ts';
import { pumpBoth } from '../../src/streams/index.ts';
import { sessionPair } from '../_harness/tunnel-sessions.ts';
import { encoder, readText, within } from '../runtime/helpers.ts';

const quiet = { heartbeatInterval: 0, heartbeatTimeout: 0 };

/**
 * `pumpBoth` between a real TCP connection and a tunnel stream, as the agent's TCP forwarder
 * runs it: both sides are read through their own readers and written through their own
 * writers (no web streams on the relay's side).
 */
describe(`pumpBoth (${runtime.name})`, () => {
  let listener: Listener;
  const accepted: TcpConnection[] = [];
  before(async () => {
    listener = await runtime.listen({ host: '127.0.0.1', port: 0 }, (conn) => accepted.push(conn));
  });
  after(async () => {
    await listener.close();
  });

  /** A client connection, the relay's end of it, and a tunnel stream pair. */
  async function setup() {
    const client = await runtime.connect({ host: '127.0.0.1', port: listener.port });
    const relayEnd = await within(
      (async () => {
        while (accepted.length === 0) await new Promise((r) => setTimeout(r, 5));
        return accepted.shift()!;
      })(),
      2000,
      'the accepted connection',
    );
    const pair = sessionPair(quiet, quiet);
    const near = pair.client.open();
    const far = await pair.server.accept();
    return { client, relayEnd, pair, near, far };
  }

  test('bytes go both ways and each half-close is passed on as a half-close', async () => {
    const { client, relayEnd, pair, near, far } = await setup();
    const relaying = pumpBoth(relayEnd, near);
    // The client sends and half-closes: the far end reads it all, then the end…
    const clientWriter = client.writable.getWriter();
    await clientWriter.write(encoder.encode('ping'));
    await clientWriter.close();
    assert.equal(await within(readText(far.readable), 2000, 'the far end'), 'ping');
    // …and can still answer, which the client reads before its own end.
    const farWriter = far.writer();
    await farWriter.write(encoder.encode('pong'));
    await farWriter.close();
    assert.equal(await within(readText(client.readable), 2000, 'the client'), 'pong');
    assert.equal(await within(relaying, 2000, 'both directions'), undefined);
    await within(client.closed, 2000, 'the client closed');
    pair.close();
  });

  test('a reset on one side tears both down, and the relay resolves with the error', async () => {
    const { client, relayEnd, pair, near, far } = await setup();
    const relaying = pumpBoth(relayEnd, near);
    const clientWriter = client.writable.getWriter();
    await clientWriter.write(encoder.encode('hello'));
    const reader = far.readable.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), 'hello');
    far.reset();
    const error = await within(relaying, 2000, 'the relay to end');
    assert.match(String(error), /reset by peer/);
    // The relay closed the client's connection, not just half-closed it: the client's reads
    // end, and its writes fail once the close has come back.
    await within(
      readText(client.readable).catch(() => ''),
      2000,
      'the client connection to end',
    );
    await within(
      (async () => {
        for (;;) {
          await clientWriter.write(encoder.encode('more'));
          await new Promise((r) => setTimeout(r, 5));
        }
      })().catch((e: unknown) => e),
      2000,
      'a write to fail',
    );
    pair.close();
  });
});
