import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  type ChunkReader,
  type Listener,
  runtime,
  type TcpConnection,
} from '../../src/runtime/index.ts';
import { encoder, hashStream, readAll, readText, sendRandom, waitFor, within } from './helpers.ts';

const host = '127.0.0.1';

/** A listener whose connections are handed to the test one by one. */
async function listen(): Promise<{ listener: Listener; next(): Promise<TcpConnection> }> {
  const queue: TcpConnection[] = [];
  const waiters: ((conn: TcpConnection) => void)[] = [];
  const listener = await runtime.listen({ host, port: 0 }, (conn) => {
    const waiter = waiters.shift();
    if (waiter) waiter(conn);
    else queue.push(conn);
  });
  return {
    listener,
    next() {
      const queued = queue.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}

/** Waits until a progress counter is non-zero and has not moved for 300 ms. */
async function waitForStall(progress: () => number): Promise<void> {
  let last = -1;
  let stableSince = Date.now();
  await waitFor(
    () => {
      const now = progress();
      if (now !== last) {
        last = now;
        stableSince = Date.now();
      }
      return now > 0 && Date.now() - stableSince > 300;
    },
    'writes to stall',
    10_000,
  );
}

/**
 * Starts sending `total` random bytes from `conn` and returns once the sender has stalled
 * well short of them (the peer reads nothing); `sending` settles when all are sent. (Wrapped:
 * an async function returning the promise itself would wait for it.)
 */
async function sendUntilStalled(
  conn: TcpConnection,
  total: number,
): Promise<{ sending: Promise<{ bytes: number; sha256: string }> }> {
  let sent = 0;
  const sending = sendRandom(conn.writable, total, 256 * 1024, (n) => {
    sent = n;
  });
  await waitForStall(() => sent);
  assert.ok(sent < total, `writes stalled at ${sent} of ${total} bytes`);
  return { sending };
}

/** Reads `source` to its end: sha256 and byte count, as `hashStream` gives for a stream. */
async function hashSource(source: ChunkReader): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for (;;) {
    const { done, value } = await source.read();
    if (done) break;
    hash.update(value);
    bytes += value.byteLength;
  }
  return { bytes, sha256: hash.digest('hex') };
}

describe(`tcp (${runtime.name})`, () => {
  let server: Awaited<ReturnType<typeof listen>>;
  before(async () => {
    server = await listen();
  });
  after(async () => {
    await server.listener.close();
  });

  async function pair(): Promise<[TcpConnection, TcpConnection]> {
    const accepted = server.next();
    const client = await runtime.connect({ host, port: server.listener.port });
    return [client, await accepted];
  }

  test('echo round trip', async () => {
    const [client, peer] = await pair();
    void peer.readable.pipeTo(peer.writable);
    assert.equal(client.remoteAddress, host);
    assert.equal(client.remotePort, server.listener.port);
    assert.equal(peer.remotePort, client.localPort);
    const writer = client.writable.getWriter();
    await writer.write(encoder.encode('hello, '));
    await writer.write(encoder.encode('tether'));
    await writer.close();
    assert.equal(await readText(client.readable), 'hello, tether');
    await within(Promise.all([client.closed, peer.closed]), 2000, 'both ends closed');
  });

  test('32 MiB each way arrive intact (sha256)', async () => {
    const [client, peer] = await pair();
    const total = 32 * 1024 * 1024;
    const [sentUp, sentDown, gotUp, gotDown] = await Promise.all([
      sendRandom(client.writable, total),
      sendRandom(peer.writable, total),
      hashStream(peer.readable),
      hashStream(client.readable),
    ]);
    assert.deepEqual(gotUp, sentUp);
    assert.deepEqual(gotDown, sentDown);
    await within(Promise.all([client.closed, peer.closed]), 2000, 'both ends closed');
  });

  test('closing our writable sends FIN while we keep reading the reply', async () => {
    const [client, peer] = await pair();
    const writer = client.writable.getWriter();
    await writer.write(encoder.encode('question'));
    await writer.close();
    // The peer sees the end of the request, and only then answers.
    assert.equal(await readText(peer.readable), 'question');
    const reply = peer.writable.getWriter();
    await reply.write(encoder.encode('answer after FIN'));
    await reply.close();
    assert.equal(await readText(client.readable), 'answer after FIN');
    await within(Promise.all([client.closed, peer.closed]), 2000, 'both ends closed');
  });

  test("the peer's FIN ends our readable while we can still write", async () => {
    const [client, peer] = await pair();
    const greeting = peer.writable.getWriter();
    await greeting.write(encoder.encode('bye'));
    await greeting.close();
    assert.equal(await readText(client.readable), 'bye');
    const writer = client.writable.getWriter();
    await writer.write(encoder.encode('still here'));
    await writer.close();
    assert.equal(await readText(peer.readable), 'still here');
    await within(Promise.all([client.closed, peer.closed]), 2000, 'both ends closed');
  });

  test('connect to a closed port rejects with a clear error', async () => {
    const probe = await runtime.listen({ host, port: 0 }, (conn) => conn.close());
    const port = probe.port;
    await probe.close();
    await assert.rejects(runtime.connect({ host, port }), (error: Error) => {
      assert.equal(error.message, `Cannot connect to ${host}:${port}: connection refused`);
      assert.ok(error.cause, 'the runtime error is kept as cause');
      return true;
    });
  });

  test('connect with an aborted signal rejects with AbortError', async () => {
    await assert.rejects(
      runtime.connect({ host, port: server.listener.port, signal: AbortSignal.abort() }),
      { name: 'AbortError' },
    );
  });

  test('close() settles closed on both ends and ends the readables', async () => {
    const [client, peer] = await pair();
    const clientRead = readAll(client.readable);
    client.close();
    client.close(); // idempotent
    await within(client.closed, 2000, 'closed after close()');
    assert.equal((await clientRead).byteLength, 0);
    await assert.rejects(client.writable.getWriter().write(encoder.encode('late')));
    // The peer sees the end of the stream; it is fully closed once it is done writing too.
    assert.equal((await within(readAll(peer.readable), 2000, 'peer EOF')).byteLength, 0);
    await peer.writable.close();
    await within(peer.closed, 2000, 'peer closed');
  });

  test('a reset from the peer ends or errors our readable, never hangs', async () => {
    const [client, peer] = await pair();
    // The peer reads nothing; once our writes stall its receive buffer is full, and closing
    // a socket with unread data makes the kernel send RST instead of FIN.
    let sent = 0;
    const sending = sendRandom(client.writable, 64 * 1024 * 1024, 64 * 1024, (n) => {
      sent = n;
    });
    await waitForStall(() => sent);
    peer.close();
    const outcome = await within(
      readAll(client.readable).then(
        () => 'ended',
        () => 'errored',
      ),
      3000,
      'readable to settle after reset',
    );
    assert.ok(outcome === 'ended' || outcome === 'errored');
    await within(
      assert.rejects(sending, /connection/i),
      3000,
      'the stalled write to fail after reset',
    );
    client.close();
    await within(client.closed, 2000, 'client closed');
  });

  test('a peer that stops reading makes our writes wait, then they complete', async () => {
    const [client, peer] = await pair();
    // The peer reads nothing: progress must stall well short of the total (kernel buffers
    // and our read queue hold a few MiB at most).
    const { sending } = await sendUntilStalled(client, 96 * 1024 * 1024);
    // Once the peer reads again, everything arrives intact, including chunks that sat in
    // the read queue while the socket was paused.
    const [expected, got] = await Promise.all([sending, hashStream(peer.readable)]);
    assert.deepEqual(got, expected);
    await peer.writable.close();
    await within(Promise.all([client.closed, peer.closed]), 2000, 'both ends closed');
  });

  test('reader() gives what readable would: paused while nobody reads, then all of it', async () => {
    const [client, peer] = await pair();
    const source = peer.reader();
    // Nobody reads: the socket is paused and the sender stalls well short of the total.
    const { sending } = await sendUntilStalled(client, 64 * 1024 * 1024);
    const [expected, got] = await Promise.all([sending, hashSource(source)]);
    assert.deepEqual(got, expected);
    // After the end, reads keep saying so.
    assert.equal((await source.read()).done, true);
    await peer.writable.close();
    await within(Promise.all([client.closed, peer.closed]), 2000, 'both ends closed');
  });

  test('write() keeps order through partial writes and writable, and FIN comes last', async () => {
    const [client, peer] = await pair();
    const hash = createHash('sha256');
    let bytes = 0;
    const waits: Promise<void>[] = [];
    const writeDirect = (n: number) => {
      for (let i = 0; i < n; i++) {
        const chunk = new Uint8Array(randomBytes(1024 * 1024));
        hash.update(chunk);
        bytes += chunk.byteLength;
        const wait = client.write(chunk);
        if (wait !== undefined) waits.push(wait);
      }
    };
    const receiving = hashStream(peer.readable);
    // The peer reads slower than we write, so some writes go out in part and wait.
    writeDirect(8);
    // A chunk through the writable goes after the direct writes still waiting…
    const tail = new Uint8Array(randomBytes(100_000));
    hash.update(tail);
    bytes += tail.byteLength;
    const writer = client.writable.getWriter();
    await writer.write(tail);
    // …and its FIN after direct writes made since (nothing is queued in the writable now).
    writeDirect(8);
    await within(Promise.all([writer.close(), ...waits]), 20_000, 'the writes and the FIN');
    assert.ok(waits.length > 0, 'some writes had to wait for the socket');
    assert.deepEqual(await receiving, { bytes, sha256: hash.digest('hex') });
    // After FIN, a direct write is refused, as the writable's are.
    await assert.rejects(
      Promise.resolve(client.write(encoder.encode('late'))),
      /closed for writing/,
    );
    await peer.writable.close();
    await within(Promise.all([client.closed, peer.closed]), 2000, 'both ends closed');
  });

  test('writer(): its close sends FIN after every byte written, while we keep reading the reply', async () => {
    const [client, peer] = await pair();
    const hash = createHash('sha256');
    let bytes = 0;
    const writer = client.writer();
    const receiving = hashStream(peer.readable);
    let waited = 0;
    // Written without waiting, as fast as we can: several must wait for the socket.
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 16; i++) {
      const chunk = new Uint8Array(randomBytes(1024 * 1024));
      hash.update(chunk);
      bytes += chunk.byteLength;
      const wait = writer.write(chunk);
      if (wait !== undefined) {
        waited++;
        waits.push(wait);
      }
    }
    const closing = writer.close();
    // As with a WritableStream, nothing more is taken once close was asked for.
    await assert.rejects(
      Promise.resolve(writer.write(encoder.encode('late'))),
      /closed for writing/,
    );
    await within(Promise.all([closing, ...waits]), 20_000, 'the writes and the FIN');
    assert.ok(waited > 0, 'some writes had to wait for the socket');
    // The peer's read side ended with all the bytes: FIN came after them.
    assert.deepEqual(await receiving, { bytes, sha256: hash.digest('hex') });
    // Half-closed only: the peer's reply still reaches us.
    const reply = hashSource(client.reader());
    const answer = encoder.encode('still here');
    const peerWriter = peer.writable.getWriter();
    await peerWriter.write(answer);
    await peerWriter.close();
    assert.equal((await reply).bytes, answer.byteLength);
    await within(Promise.all([client.closed, peer.closed]), 2000, 'both ends closed');
  });

  test('a borrowed write keeps what the socket could not take: reusing the buffer at once is safe', async () => {
    const [client, peer] = await pair();
    const receiving = hashStream(peer.readable);
    const hash = createHash('sha256');
    let bytes = 0;
    let waited = 0;
    const waits: Promise<void>[] = [];
    // One buffer, refilled before every write, as a frame writer reuses its message buffer.
    const buffer = new Uint8Array(1024 * 1024);
    for (let i = 0; i < 16; i++) {
      buffer.set(randomBytes(buffer.length));
      hash.update(buffer);
      bytes += buffer.length;
      const wait = client.write(buffer, true);
      if (wait !== undefined) {
        waited++;
        waits.push(wait);
      }
    }
    // Scribbled over after the last write: none of it may reach the peer.
    buffer.fill(0xee);
    await within(Promise.all(waits), 20_000, 'the writes');
    assert.ok(waited > 0, 'some writes had to wait for the socket');
    await client.writable.close();
    assert.deepEqual(await receiving, { bytes, sha256: hash.digest('hex') });
    peer.close();
    await within(Promise.all([client.closed, peer.closed]), 2000, 'both ends closed');
  });

  test('cancelling reader() ends a read that is waiting', async () => {
    const [client, peer] = await pair();
    const source = peer.reader();
    const waiting = source.read();
    await source.cancel();
    assert.equal((await within(waiting, 2000, 'the waiting read to end')).done, true);
    client.close();
    peer.close();
    await within(Promise.all([client.closed, peer.closed]), 2000, 'both ends closed');
  });

  test("reader() ends at the peer's FIN; write() after close rejects clearly", async () => {
    const [client, peer] = await pair();
    const source = client.reader();
    const reply = peer.writable.getWriter();
    await reply.write(encoder.encode('bye'));
    await reply.close();
    let text = '';
    for (let r = await source.read(); !r.done; r = await source.read()) {
      text += new TextDecoder().decode(r.value);
    }
    assert.equal(text, 'bye');
    client.close();
    await within(client.closed, 2000, 'client closed');
    await assert.rejects(
      Promise.resolve(client.write(encoder.encode('late'))),
      /Cannot write: connection is closed/,
    );
    peer.close();
  });

  test('listener close stops accepting but keeps accepted connections', async () => {
    const own = await listen();
    const accepted = own.next();
    const client = await runtime.connect({ host, port: own.listener.port });
    const peer = await accepted;
    await own.listener.close();
    await assert.rejects(runtime.connect({ host, port: own.listener.port }), /connection refused/);
    void peer.readable.pipeTo(peer.writable);
    const writer = client.writable.getWriter();
    await writer.write(encoder.encode('alive'));
    await writer.close();
    assert.equal(await readText(client.readable), 'alive');
  });

  test('a listener on a taken port fails clearly', async () => {
    await assert.rejects(
      runtime.listen({ host, port: server.listener.port }, () => {}),
      new RegExp(`^Error: Cannot listen on ${host}:${server.listener.port}: address in use$`),
    );
  });
});
