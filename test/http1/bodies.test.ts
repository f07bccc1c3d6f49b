import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ByteReader, chunkedEncoder, requestFraming, writeBody } from '../../src/http1/index.ts';
import { bytes, readAll, streamOf, text } from './helpers.ts';

/** A writable that records everything written. */
function sink() {
  const chunks: Uint8Array[] = [];
  const stream = new WritableStream<Uint8Array>({ write: (c) => void chunks.push(c.slice()) });
  return { writer: stream.getWriter(), text: () => chunks.map(text).join('') };
}

describe('http1 bodies', () => {
  test('chunkedEncoder frames chunks, skips empty ones, ends with the last chunk', async () => {
    const out = streamOf('hello', '', 'x'.repeat(20000)).pipeThrough(chunkedEncoder());
    assert.equal(await readAll(out), `5\r\nhello\r\n4e20\r\n${'x'.repeat(20000)}\r\n0\r\n\r\n`);
  });

  test('chunked output of the encoder decodes back to the input', async () => {
    const encoded = await readAll(streamOf('ab', 'cdef', 'g').pipeThrough(chunkedEncoder()));
    const reader = new ByteReader(streamOf(encoded));
    assert.equal(await readAll(reader.body({ kind: 'chunked' })), 'abcdefg');
  });

  test('many small and large chunks in one read decode exactly, trailers included', async () => {
    const sizes = [1, 2, 100, 8191, 8192, 3, 20000, 5, 7, 1, 9000, 64, 64];
    let wire = '';
    let expected = '';
    sizes.forEach((n, i) => {
      const data = String.fromCharCode(97 + (i % 26)).repeat(n);
      wire += `${n.toString(16)}\r\n${data}\r\n`;
      expected += data;
    });
    wire += '0\r\nX-T: 1\r\n\r\nNEXT';
    for (const parts of [[wire], wire.match(/[\s\S]{1,4096}/g)!]) {
      const reader = new ByteReader(streamOf(...parts));
      assert.equal(await readAll(reader.body({ kind: 'chunked' })), expected);
      assert.deepEqual(reader.lastTrailers, [['X-T', '1']]);
      assert.equal(reader.bufferedBytes, 4);
    }
  });

  test('writeBody frames a stream as chunked and counts body bytes', async () => {
    const s = sink();
    const n = await writeBody(s.writer, streamOf('ab', 'c'), { kind: 'chunked' });
    assert.equal(n, 3);
    assert.equal(s.text(), '2\r\nab\r\n1\r\nc\r\n0\r\n\r\n');
  });

  test('writeBody writes bytes as is for length and close framing', async () => {
    const s = sink();
    assert.equal(await writeBody(s.writer, bytes('abc'), { kind: 'length', length: 3 }), 3);
    assert.equal(await writeBody(s.writer, streamOf('de'), { kind: 'close' }), 2);
    assert.equal(await writeBody(s.writer, null, { kind: 'chunked' }), 0);
    assert.equal(s.text(), 'abcde0\r\n\r\n');
  });

  test('writeBody rejects a body that does not match its Content-Length', async () => {
    const s = sink();
    await assert.rejects(
      writeBody(s.writer, streamOf('abcd'), { kind: 'length', length: 3 }),
      RangeError,
    );
    await assert.rejects(
      writeBody(s.writer, streamOf('ab'), { kind: 'length', length: 3 }),
      RangeError,
    );
    await assert.rejects(
      writeBody(s.writer, bytes('ab'), { kind: 'length', length: 3 }),
      RangeError,
    );
  });

  test('writeBody with none framing writes nothing and cancels the body', async () => {
    const s = sink();
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      cancel() {
        cancelled = true;
      },
    });
    assert.equal(await writeBody(s.writer, body, { kind: 'none' }), 0);
    assert.equal(cancelled, true);
    assert.equal(s.text(), '');
  });

  test('writeBody stops and cancels the body when the signal aborts', async () => {
    const s = sink();
    const ac = new AbortController();
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes('first'));
      },
      cancel() {
        cancelled = true;
      },
    });
    const done = writeBody(s.writer, body, { kind: 'chunked' }, ac.signal);
    ac.abort(new Error('client gone'));
    await assert.rejects(done, /client gone/);
    assert.equal(cancelled, true);
  });

  test('bytes after a body stay buffered for the next message', async () => {
    const reader = new ByteReader(
      streamOf('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET /next HTTP/1.1\r\n'),
    );
    const head = await reader.readRequestHead();
    assert.equal(await readAll(reader.body(requestFraming(head!))), 'abc');
    assert.equal(reader.bufferedBytes, 'GET /next HTTP/1.1\r\n'.length);
  });

  test('reading the next head while a body is unread is refused', async () => {
    const reader = new ByteReader(
      streamOf('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc'),
    );
    const head = await reader.readRequestHead();
    const body = reader.body(requestFraming(head!));
    await assert.rejects(reader.readRequestHead(), TypeError);
    await body.cancel();
    await assert.rejects(reader.readRequestHead(), /not read to its end/);
  });

  test('release hands over buffered bytes first, then the rest of the source', async () => {
    const reader = new ByteReader(
      streamOf('GET / HTTP/1.1\r\nHost: h\r\nUpgrade: x\r\n\r\nraw1', 'raw2', 'raw3'),
    );
    await reader.readRequestHead();
    assert.equal(await readAll(reader.release()), 'raw1raw2raw3');
  });

  test('waitReadable reports data without consuming, and eof at the end', async () => {
    const reader = new ByteReader(streamOf('GET / HTTP/1.1\r\nHost: h\r\n\r\n'));
    assert.equal(await reader.waitReadable(), 'data');
    assert.equal(await reader.waitReadable(), 'data');
    assert.equal((await reader.readRequestHead())?.target, '/');
    assert.equal(await reader.waitReadable(), 'eof');
    const failing = new ByteReader(
      new ReadableStream({ pull: (c) => c.error(new Error('reset')) }),
    );
    assert.equal(await failing.waitReadable(), 'error');
  });
});
