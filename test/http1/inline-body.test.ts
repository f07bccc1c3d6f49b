// Small bodies given as bytes: serveHttp1 writes head and body together, and ByteReader
// hands over a body that is already buffered without a body stream.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ByteReader, serveHttp1 } from '../../src/http1/index.ts';
import { directWriter, type TcpConnection } from '../../src/runtime/index.ts';
import { bytes, readAll, streamOf, text } from './helpers.ts';

/**
 * A connection whose input is `input` and whose writes are recorded one by one. The client
 * keeps its side open until the server closes its own (a client that ends its side at once
 * is gone, and its response is cut).
 */
function recordingConnection(input: string): { conn: TcpConnection; writes: Uint8Array[] } {
  const writes: Uint8Array[] = [];
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => {
    resolveClosed = r;
  });
  let client!: ReadableStreamDefaultController<Uint8Array>;
  const readable = new ReadableStream<Uint8Array>({
    start(c) {
      client = c;
      c.enqueue(bytes(input));
    },
  });
  const conn: TcpConnection = {
    readable,
    reader: () => readable.getReader(),
    write(chunk) {
      writes.push(chunk.slice());
      return undefined;
    },
    writable: new WritableStream({
      write(chunk) {
        writes.push(chunk.slice());
      },
      close() {
        client.close();
      },
    }),
    writer: () => directWriter(conn),
    remoteAddress: '127.0.0.1',
    remotePort: 1,
    localPort: 2,
    close: () => resolveClosed(),
    closed,
  };
  return { conn, writes };
}

const headers: [string, string][] = [['Content-Type', 'text/plain']];

describe('http1 inline bodies', () => {
  test('a response body given as bytes leaves in the same write as its head', async () => {
    const { conn, writes } = recordingConnection('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    await serveHttp1(
      conn,
      async () => ({ head: { status: 200, reason: 'OK', minor: 1, headers }, body: bytes('hi') }),
      { keepAlive: { mode: 'off' } },
    );
    assert.equal(writes.length, 1);
    const wire = text(writes[0]!);
    assert.match(wire, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(wire, /\r\nContent-Length: 2\r\n/);
    assert.ok(wire.endsWith('\r\n\r\nhi'));
  });

  test('a HEAD response never carries the bytes, and a large body is written on its own', async () => {
    const head = recordingConnection('HEAD / HTTP/1.1\r\nHost: t\r\n\r\n');
    await serveHttp1(
      head.conn,
      async () => ({ head: { status: 200, reason: 'OK', minor: 1, headers }, body: bytes('hi') }),
      { keepAlive: { mode: 'off' } },
    );
    assert.equal(head.writes.length, 1);
    assert.ok(text(head.writes[0]!).endsWith('\r\n\r\n'));

    const big = new Uint8Array(256 * 1024).fill(120);
    const large = recordingConnection('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    await serveHttp1(
      large.conn,
      async () => ({ head: { status: 200, reason: 'OK', minor: 1, headers }, body: big }),
      { keepAlive: { mode: 'off' } },
    );
    assert.equal(large.writes.length, 2, 'head, then the body without a copy');
    assert.equal(large.writes[1]!.length, big.length);
  });

  test('takeBufferedBody: the whole buffered body, else null and nothing consumed', async () => {
    const reader = new ByteReader(
      streamOf('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 204 No Content\r\n\r\n'),
    );
    await reader.readResponseHead();
    assert.equal(text(reader.takeBufferedBody({ kind: 'length', length: 3 })!), 'abc');
    const next = await reader.readResponseHead();
    assert.equal(next.status, 204);
    assert.equal(reader.takeBufferedBody({ kind: 'none' })!.length, 0);

    const split = new ByteReader(
      streamOf('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc', 'def'),
    );
    await split.readResponseHead();
    assert.equal(split.takeBufferedBody({ kind: 'length', length: 6 }), null);
    assert.equal(split.takeBufferedBody({ kind: 'chunked' }), null);
    assert.equal(await readAll(split.body({ kind: 'length', length: 6 })), 'abcdef');
  });
});
