import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ByteReader,
  type RequestHead,
  type ResponseHead,
  requestFraming,
  responseFraming,
  serializeRequestHead,
  serializeResponseHead,
} from '../../src/http1/index.ts';
import { bytes, readAll, splitAt, streamOf, text } from './helpers.ts';

const request: RequestHead = {
  method: 'POST',
  target: '/upload?x=1&y=%20',
  minor: 1,
  headers: [
    ['Host', 'example.com'],
    ['User-Agent', 'curl/8.5.0'],
    ['Set-Cookie', 'a=1'],
    ['set-cookie', 'b=2'],
    ['X-Empty', ''],
    ['X-Obs', 'caf\u00e9 \u00ff'],
    ['Transfer-Encoding', 'chunked'],
  ],
};

const response: ResponseHead = {
  status: 200,
  reason: 'OK',
  minor: 1,
  headers: [
    ['Content-Type', 'text/plain'],
    ['Set-Cookie', 'a=1; Path=/'],
    ['Set-Cookie', 'b=2; Path=/'],
    ['Content-Length', '5'],
  ],
};

describe('http1 heads', () => {
  test('request head round-trips through serialize and parse', async () => {
    const reader = new ByteReader(streamOf(serializeRequestHead(request)));
    assert.deepEqual(await reader.readRequestHead(), request);
    assert.equal(await reader.readRequestHead(), null);
  });

  test('response head round-trips through serialize and parse', async () => {
    const reader = new ByteReader(streamOf(serializeResponseHead(response)));
    assert.deepEqual(await reader.readResponseHead(), response);
  });

  test('serialized request head is the expected wire text', () => {
    const head: RequestHead = {
      method: 'GET',
      target: '/',
      minor: 0,
      headers: [['Host', 'a']],
    };
    assert.equal(text(serializeRequestHead(head)), 'GET / HTTP/1.0\r\nHost: a\r\n\r\n');
  });

  test('serialized response head is the expected wire text, byte for byte', () => {
    const head: ResponseHead = {
      minor: 1,
      status: 404,
      reason: 'Not Found',
      headers: [
        ['Content-Length', '0'],
        ['X-Empty', ''],
        ['X-Obs', '\x80\xff'],
      ],
    };
    assert.deepEqual(
      serializeResponseHead(head),
      bytes('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nX-Empty: \r\nX-Obs: \x80\xff\r\n\r\n'),
    );
    assert.deepEqual(
      serializeResponseHead({ minor: 0, status: 200, reason: '', headers: [] }),
      bytes('HTTP/1.0 200 \r\n\r\n'),
    );
    assert.throws(() => serializeResponseHead({ ...head, reason: 'a\nb' }), TypeError);
    assert.throws(() => serializeResponseHead({ ...head, headers: [['X', 'é\u0100']] }), TypeError);
    assert.throws(() => serializeResponseHead({ ...head, status: 1000 }), RangeError);
  });

  test('parser trims optional whitespace around values and keeps name case', async () => {
    const reader = new ByteReader(streamOf('GET / HTTP/1.1\r\nHOST:  a \t\r\nx-A:\tb\r\n\r\n'));
    const head = await reader.readRequestHead();
    assert.deepEqual(head?.headers, [
      ['HOST', 'a'],
      ['x-A', 'b'],
    ]);
  });

  test('status line without reason phrase parses with an empty reason', async () => {
    const reader = new ByteReader(streamOf('HTTP/1.1 204\r\n\r\n'));
    const head = await reader.readResponseHead();
    assert.equal(head.status, 204);
    assert.equal(head.reason, '');
  });

  test('1xx heads are returned one by one before the final head', async () => {
    const reader = new ByteReader(
      streamOf('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi'),
    );
    const interim = await reader.readResponseHead();
    assert.equal(interim.status, 100);
    assert.deepEqual(responseFraming(interim, 'POST'), { kind: 'none' });
    const final = await reader.readResponseHead();
    assert.equal(final.status, 200);
    assert.equal(await readAll(reader.body(responseFraming(final, 'POST'))), 'hi');
  });

  test('serializers refuse header injection', () => {
    assert.throws(
      () => serializeResponseHead({ ...response, headers: [['X', 'a\r\nInjected: 1']] }),
      TypeError,
    );
    assert.throws(
      () => serializeRequestHead({ ...request, headers: [['Bad Name', 'x']] }),
      TypeError,
    );
    assert.throws(() => serializeRequestHead({ ...request, target: '/a b' }), TypeError);
  });

  test('leading empty lines before a request line are skipped (RFC 9112 §2.2)', async () => {
    const reader = new ByteReader(streamOf('\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n'));
    assert.equal((await reader.readRequestHead())?.target, '/');
  });

  test('clean EOF before a request gives null; EOF inside a head is an error', async () => {
    assert.equal(await new ByteReader(streamOf()).readRequestHead(), null);
    await assert.rejects(new ByteReader(streamOf('GET / HTTP/1.1\r\nHo')).readRequestHead(), {
      code: 'incomplete-head',
      status: 400,
    });
    await assert.rejects(new ByteReader(streamOf()).readResponseHead(), {
      code: 'empty-response',
      status: 502,
    });
  });
});

// A message sequence: a chunked request with extensions and trailers, then a pipelined
// request with a Content-Length body, then a bodiless one.
const sequence =
  'POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n' +
  '5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Sum: 31\r\nX-More: y\r\n\r\n' +
  'PUT /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz' +
  'GET /c HTTP/1.0\r\n\r\n';

async function parseSequence(parts: string[]) {
  const reader = new ByteReader(streamOf(...parts));
  const out: unknown[] = [];
  for (;;) {
    const head = await reader.readRequestHead();
    if (head === null) return out;
    const body = await readAll(reader.body(requestFraming(head)));
    out.push({ head, body, trailers: reader.lastTrailers });
  }
}

describe('http1 split inputs', () => {
  test('a message sequence split at every byte boundary parses identically', async () => {
    const whole = await parseSequence([sequence]);
    assert.equal(whole.length, 3);
    assert.deepEqual((whole[0] as { trailers: unknown }).trailers, [
      ['X-Sum', '31'],
      ['X-More', 'y'],
    ]);
    assert.equal((whole[0] as { body: string }).body, 'helloabcdefghijklmnopqrstuvwxyz');
    for (let i = 1; i < sequence.length; i++) {
      assert.deepEqual(await parseSequence(splitAt(sequence, i)), whole, `split at ${i}`);
    }
  });

  test('the sequence fed one byte per chunk parses identically', async () => {
    const whole = await parseSequence([sequence]);
    assert.deepEqual(await parseSequence(sequence.split('')), whole);
  });

  test('a response with chunked body split at every boundary parses identically', async () => {
    const input =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n' +
      'HTTP/1.1 204 No Content\r\n\r\n';
    const parse = async (parts: string[]) => {
      const reader = new ByteReader(streamOf(...parts));
      const a = await reader.readResponseHead();
      const body = await readAll(reader.body(responseFraming(a, 'GET')));
      const trailers = reader.lastTrailers;
      const b = await reader.readResponseHead();
      return { a, body, trailers, b, rest: reader.bufferedBytes };
    };
    const whole = await parse([input]);
    assert.equal(whole.body, 'abc');
    assert.equal(whole.b.status, 204);
    for (let i = 1; i < input.length; i++) {
      assert.deepEqual(await parse(splitAt(input, i)), whole, `split at ${i}`);
    }
  });

  test('obs-text bytes in values survive parse and serialize byte for byte', async () => {
    const raw = bytes('GET / HTTP/1.1\r\nHost: a\r\nX: \x80\x9f\xff\r\n\r\n');
    const head = await new ByteReader(streamOf(raw)).readRequestHead();
    assert.deepEqual(serializeRequestHead(head!), raw);
  });
});
