// The framing and request-smuggling corpus (RFC 9112 §6.3 and friends): each malformed
// message must fail with a clear HttpError whose status and code are asserted.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ByteReader,
  defaultLimits,
  type Http1Limits,
  requestFraming,
  responseFraming,
} from '../../src/http1/index.ts';
import { readAll, rejectsHttp, streamOf } from './helpers.ts';

/** Parses a whole request: head, framing, body. */
async function parseRequest(raw: string, limits: Http1Limits = defaultLimits) {
  const reader = new ByteReader(streamOf(raw));
  const head = await reader.readRequestHead(limits);
  if (head === null) throw new Error('unexpected EOF');
  const body = await readAll(reader.body(requestFraming(head), limits));
  return { head, body };
}

async function parseResponse(raw: string, method = 'GET') {
  const reader = new ByteReader(streamOf(raw));
  const head = await reader.readResponseHead();
  return { head, body: await readAll(reader.body(responseFraming(head, method))) };
}

const req = (headers: string, body = '') => `POST / HTTP/1.1\r\nHost: h\r\n${headers}\r\n${body}`;

const requestCases: [name: string, raw: string, status: number, code: string][] = [
  [
    'Content-Length with Transfer-Encoding',
    req('Content-Length: 3\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'),
    400,
    'te-and-cl',
  ],
  [
    'Transfer-Encoding before Content-Length',
    req('Transfer-Encoding: chunked\r\nContent-Length: 3\r\n', '0\r\n\r\n'),
    400,
    'te-and-cl',
  ],
  [
    'two differing Content-Lengths',
    req('Content-Length: 3\r\nContent-Length: 4\r\n', 'abcd'),
    400,
    'conflicting-content-length',
  ],
  [
    'differing Content-Length list',
    req('Content-Length: 3, 4\r\n', 'abcd'),
    400,
    'conflicting-content-length',
  ],
  [
    'Content-Length with plus sign',
    req('Content-Length: +3\r\n', 'abc'),
    400,
    'bad-content-length',
  ],
  [
    'Content-Length with minus sign',
    req('Content-Length: -3\r\n', 'abc'),
    400,
    'bad-content-length',
  ],
  [
    'Content-Length with inner space',
    req('Content-Length: 1 2\r\n', 'abc'),
    400,
    'bad-content-length',
  ],
  ['Content-Length in hex', req('Content-Length: 0x3\r\n', 'abc'), 400, 'bad-content-length'],
  // Byte 0xA0 is not whitespace in HTTP (RFC 9110 §5.6.3) though JavaScript's trim() drops it.
  [
    'Content-Length after a 0xA0 byte',
    req('Content-Length: \xa05\r\n', 'hello'),
    400,
    'bad-content-length',
  ],
  [
    'Content-Length before a 0xA0 byte',
    req('Content-Length: 5\xa0\r\n', 'hello'),
    400,
    'bad-content-length',
  ],
  [
    'Transfer-Encoding chunked followed by a 0xA0 byte',
    req('Transfer-Encoding: chunked\xa0\r\n', '0\r\n\r\n'),
    400,
    'te-not-chunked',
  ],
  ['empty Content-Length', req('Content-Length: \r\n'), 400, 'bad-content-length'],
  [
    'Content-Length beyond safe integers',
    req('Content-Length: 99999999999999999999\r\n'),
    400,
    'bad-content-length',
  ],
  [
    'Transfer-Encoding: chunked, identity',
    req('Transfer-Encoding: chunked, identity\r\n', '0\r\n\r\n'),
    400,
    'bad-te',
  ],
  [
    'Transfer-Encoding: chunked twice',
    req('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'),
    400,
    'bad-te',
  ],
  ['Transfer-Encoding: gzip', req('Transfer-Encoding: gzip\r\n', 'x'), 400, 'te-not-chunked'],
  [
    'Transfer-Encoding: gzip, chunked',
    req('Transfer-Encoding: gzip, chunked\r\n', '0\r\n\r\n'),
    501,
    'unsupported-te',
  ],
  [
    'Transfer-Encoding: xchunked',
    req('Transfer-Encoding: xchunked\r\n', '0\r\n\r\n'),
    400,
    'te-not-chunked',
  ],
  [
    'Transfer-Encoding in HTTP/1.0',
    'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    400,
    'te-in-http10',
  ],
  [
    'chunk size 0x10',
    req('Transfer-Encoding: chunked\r\n', '0x10\r\n0123456789abcdef\r\n0\r\n\r\n'),
    400,
    'bad-chunk',
  ],
  [
    'chunk size -1',
    req('Transfer-Encoding: chunked\r\n', '-1\r\nx\r\n0\r\n\r\n'),
    400,
    'bad-chunk',
  ],
  [
    'chunk size +1',
    req('Transfer-Encoding: chunked\r\n', '+1\r\nx\r\n0\r\n\r\n'),
    400,
    'bad-chunk',
  ],
  [
    'chunk size overflow',
    req('Transfer-Encoding: chunked\r\n', 'ffffffffffffffffff\r\nx\r\n0\r\n\r\n'),
    400,
    'bad-chunk',
  ],
  [
    'chunk size with hex junk',
    req('Transfer-Encoding: chunked\r\n', '1g\r\nx\r\n0\r\n\r\n'),
    400,
    'bad-chunk',
  ],
  [
    'chunk size with trailing space only',
    req('Transfer-Encoding: chunked\r\n', '1 \r\nx\r\n0\r\n\r\n'),
    400,
    'bad-chunk',
  ],
  [
    'empty chunk size',
    req('Transfer-Encoding: chunked\r\n', '\r\nx\r\n0\r\n\r\n'),
    400,
    'bad-chunk',
  ],
  [
    'chunk data longer than its size',
    req('Transfer-Encoding: chunked\r\n', '1\r\nxy\r\n0\r\n\r\n'),
    400,
    'bad-chunk',
  ],
  [
    'chunk size line ending in bare LF',
    req('Transfer-Encoding: chunked\r\n', '1\nx\r\n0\r\n\r\n'),
    400,
    'bad-chunk',
  ],
  [
    'chunk extension too long',
    req('Transfer-Encoding: chunked\r\n', `1;${'a'.repeat(1100)}\r\nx\r\n0\r\n\r\n`),
    400,
    'chunk-ext-too-large',
  ],
  [
    'chunk-size line too long',
    req('Transfer-Encoding: chunked\r\n', `${'0'.repeat(5000)}1\r\nx\r\n0\r\n\r\n`),
    400,
    'chunk-line-too-long',
  ],
  [
    'chunked body cut short',
    req('Transfer-Encoding: chunked\r\n', '5\r\nab'),
    400,
    'incomplete-body',
  ],
  ['Content-Length body cut short', req('Content-Length: 5\r\n', 'ab'), 400, 'incomplete-body'],
  ['obs-fold', req('X-A: 1\r\n folded\r\n'), 400, 'obs-fold'],
  ['obs-fold with tab', req('X-A: 1\r\n\tfolded\r\n'), 400, 'obs-fold'],
  ['bare CR in a value', req('X-A: 1\r2\r\n'), 400, 'bare-cr'],
  ['bare LF ending a header line', req('X-A: 1\n'), 400, 'bare-lf'],
  ['bare LF ending the request line', 'GET / HTTP/1.1\nHost: h\r\n\r\n', 400, 'bare-lf'],
  ['bare LF ending the head', 'GET / HTTP/1.1\r\nHost: h\r\n\n', 400, 'bare-lf'],
  ['space before colon', req('Content-Length : 3\r\n', 'abc'), 400, 'space-before-colon'],
  [
    'tab before colon',
    req('Transfer-Encoding\t: chunked\r\n', '0\r\n\r\n'),
    400,
    'space-before-colon',
  ],
  ['NUL in a value', req('X-A: a\x00b\r\n'), 400, 'invalid-header'],
  ['DEL in a value', req('X-A: a\x7fb\r\n'), 400, 'invalid-header'],
  ['header name with invalid char', req('X(A): 1\r\n'), 400, 'invalid-header'],
  ['header line without colon', req('X-A 1\r\n'), 400, 'invalid-header'],
  ['empty header name', req(': 1\r\n'), 400, 'invalid-header'],
  ['invalid method token', 'G(T / HTTP/1.1\r\nHost: h\r\n\r\n', 400, 'invalid-method'],
  ['request line with two spaces', 'GET  / HTTP/1.1\r\nHost: h\r\n\r\n', 400, 'invalid-target'],
  ['target with control char', 'GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n', 400, 'invalid-target'],
  ['target with non-ASCII byte', 'GET /\xe9 HTTP/1.1\r\nHost: h\r\n\r\n', 400, 'invalid-target'],
  ['relative target', 'GET a/b HTTP/1.1\r\nHost: h\r\n\r\n', 400, 'invalid-target'],
  ['asterisk target on GET', 'GET * HTTP/1.1\r\nHost: h\r\n\r\n', 400, 'invalid-target'],
  ['origin-form target on CONNECT', 'CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n', 400, 'invalid-target'],
  ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: h\r\n\r\n', 505, 'unsupported-version'],
  ['HTTP/1.2', 'GET / HTTP/1.2\r\nHost: h\r\n\r\n', 505, 'unsupported-version'],
  ['HTTP/0.9 style request line', 'GET /\r\n\r\n', 400, 'bad-request-line'],
  ['lower-case version', 'GET / http/1.1\r\nHost: h\r\n\r\n', 400, 'invalid-version'],
  ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n', 400, 'missing-host'],
  ['two Host fields', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400, 'multiple-host'],
  // RFC 9112 §3.2: a Host that is not `uri-host [":" port]` gets 400.
  ['Host with a space', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 400, 'invalid-host'],
  ['Host with a path', 'GET / HTTP/1.1\r\nHost: a.example/x\r\n\r\n', 400, 'invalid-host'],
  ['Host with userinfo', 'GET / HTTP/1.1\r\nHost: u@a.example\r\n\r\n', 400, 'invalid-host'],
  ['Host with two ports', 'GET / HTTP/1.1\r\nHost: a:80:81\r\n\r\n', 400, 'invalid-host'],
  ['Host with a letter in the port', 'GET / HTTP/1.1\r\nHost: a:8o\r\n\r\n', 400, 'invalid-host'],
  ['Host with a broken %-escape', 'GET / HTTP/1.1\r\nHost: a%4\r\n\r\n', 400, 'invalid-host'],
  ['Host with obs-text', 'GET / HTTP/1.1\r\nHost: \xe9.example\r\n\r\n', 400, 'invalid-host'],
  ['Host IP literal not closed', 'GET / HTTP/1.1\r\nHost: [::1\r\n\r\n', 400, 'invalid-host'],
  // An absolute-form target's authority stands in for Host: same grammar, no userinfo.
  [
    'absolute-form target with userinfo',
    'GET http://u:p@a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n',
    400,
    'invalid-target',
  ],
  [
    'absolute-form target with no host',
    'GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n',
    400,
    'invalid-target',
  ],
  [
    'absolute-form target with only a port',
    'GET http://:80/ HTTP/1.1\r\nHost: h\r\n\r\n',
    400,
    'invalid-target',
  ],
  [
    'Host with junk after an IP literal',
    'GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n',
    400,
    'invalid-host',
  ],
  ['too many headers', req('X: 1\r\n'.repeat(101)), 431, 'too-many-headers'],
  ['head too large', req(`X: ${'a'.repeat(16000)}\r\n`.repeat(5)), 431, 'head-too-large'],
  ['header line too long', req(`X: ${'a'.repeat(16400)}\r\n`), 431, 'line-too-long'],
  [
    'request line too long',
    `GET /${'a'.repeat(16400)} HTTP/1.1\r\nHost: h\r\n\r\n`,
    414,
    'uri-too-long',
  ],
  [
    'request line longer than the whole head may be, in one read',
    `GET /${'a'.repeat(70_000)} HTTP/1.1\r\nHost: h\r\n\r\n`,
    414,
    'uri-too-long',
  ],
];

describe('http1 request smuggling corpus', () => {
  for (const [name, raw, status, code] of requestCases) {
    test(`request: ${name} → ${status} ${code}`, () =>
      rejectsHttp(parseRequest(raw), status, code));
  }

  test('valid Host values are accepted: names, ports, IP literals, %-escapes, empty', async () => {
    for (const host of [
      'a.example',
      'A-b_c~d.example:8080',
      '127.0.0.1:1',
      '[::1]',
      '[::1]:8080',
      '[v1.x:y]',
      '[fe80::1%25eth0]:8080',
      'a%2Db',
      "x!$&'()*+,;=",
      'a:',
      '',
    ]) {
      const { head } = await parseRequest(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      assert.equal(head.headers[0]?.[1], host);
    }
  });

  test('an absolute-form target with a valid authority is accepted whatever the Host', async () => {
    const { head } = await parseRequest(
      'GET http://a.example:8080/x?y HTTP/1.1\r\nHost: b\r\n\r\n',
    );
    assert.equal(head.target, 'http://a.example:8080/x?y');
  });

  test('identical repeated Content-Lengths are collapsed', async () => {
    const { body } = await parseRequest(
      req('Content-Length: 3\r\nContent-Length: 3, 3\r\n', 'abc'),
    );
    assert.equal(body, 'abc');
  });

  test('chunk sizes with leading zeros, upper-case hex and extensions are valid', async () => {
    const { body } = await parseRequest(
      req('Transfer-Encoding: chunked\r\n', '00000A ; a=b;c\r\n0123456789\r\n00\r\n\r\n'),
    );
    assert.equal(body, '0123456789');
  });

  test('limits are configurable', async () => {
    const limits = { ...defaultLimits, maxHeaders: 2 };
    await rejectsHttp(parseRequest(req('A: 1\r\nB: 2\r\n'), limits), 431, 'too-many-headers');
    assert.ok(await parseRequest(req('A: 1\r\n'), limits));
  });

  test('a never-ending head stops at the limit instead of buffering forever', async () => {
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        sent += 1024;
        c.enqueue(new TextEncoder().encode(sent === 1024 ? 'GET / HTTP/1.1\r\n' : 'X: 1\r\n'));
      },
    });
    await rejectsHttp(new ByteReader(endless).readRequestHead(), 431, 'too-many-headers');
    const oneLine = new ReadableStream<Uint8Array>({
      pull: (c) => c.enqueue(new Uint8Array(1024).fill(97)),
    });
    await rejectsHttp(new ByteReader(oneLine).readRequestHead(), 414, 'uri-too-long');
  });
});

const responseCases: [name: string, raw: string, code: string][] = [
  [
    'Content-Length with Transfer-Encoding',
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'te-and-cl',
  ],
  [
    'two differing Content-Lengths',
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc',
    'conflicting-content-length',
  ],
  ['bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'bad-chunk'],
  ['obs-fold', 'HTTP/1.1 200 OK\r\nX: 1\r\n 2\r\nContent-Length: 0\r\n\r\n', 'obs-fold'],
  ['bad status code', 'HTTP/1.1 2x0 OK\r\n\r\n', 'bad-status-line'],
  ['status code below 100', 'HTTP/1.1 099 Odd\r\n\r\n', 'bad-status-line'],
  ['HTTP/2.0 status line', 'HTTP/2.0 200 OK\r\n\r\n', 'unsupported-version'],
  ['garbage instead of a status line', 'hello world\r\n\r\n', 'bad-status-line'],
  ['body cut short', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', 'incomplete-body'],
  ['too many headers', `HTTP/1.1 200 OK\r\n${'X: 1\r\n'.repeat(101)}\r\n`, 'too-many-headers'],
];

describe('http1 response framing', () => {
  for (const [name, raw, code] of responseCases) {
    test(`response: ${name} → 502 ${code}`, () => rejectsHttp(parseResponse(raw), 502, code));
  }

  test('a transfer coding other than chunked is refused, never passed on unlabelled (§6.3 item 4 would read to the close)', async () => {
    for (const te of ['gzip', 'gzip, chunked', 'identity']) {
      await rejectsHttp(
        parseResponse(`HTTP/1.1 200 OK\r\nTransfer-Encoding: ${te}\r\n\r\n0\r\n\r\n`),
        502,
        'unsupported-te',
      );
    }
  });

  test('no length at all means read until close', async () => {
    const { body } = await parseResponse('HTTP/1.1 200 OK\r\n\r\nuntil the end');
    assert.equal(body, 'until the end');
  });

  test('HEAD, 1xx, 204, 304 and CONNECT 2xx have no body whatever the headers say', () => {
    const head = (status: number) => ({
      status,
      reason: '',
      minor: 1 as const,
      headers: [['Content-Length', '10']] as [string, string][],
    });
    assert.deepEqual(responseFraming(head(200), 'HEAD'), { kind: 'none' });
    assert.deepEqual(responseFraming(head(101), 'GET'), { kind: 'none' });
    assert.deepEqual(responseFraming(head(204), 'GET'), { kind: 'none' });
    assert.deepEqual(responseFraming(head(304), 'GET'), { kind: 'none' });
    assert.deepEqual(responseFraming(head(200), 'CONNECT'), { kind: 'none' });
    assert.deepEqual(responseFraming(head(200), 'GET'), { kind: 'length', length: 10 });
  });

  test('a request without Content-Length or Transfer-Encoding has no body', () => {
    assert.deepEqual(
      requestFraming({ method: 'POST', target: '/', minor: 1, headers: [['Host', 'h']] }),
      { kind: 'none' },
    );
  });
});
