import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HeaderList, IncomingRequest } from '../../src/http1/index.ts';
import { forwardHead, isUpgradeRequest } from '../../src/server/forward-head.ts';

function request(headers: HeaderList, remoteAddress = '10.0.0.7'): IncomingRequest {
  return {
    head: { method: 'GET', target: '/a?b=c', minor: 1, headers },
    body: new ReadableStream({ start: (c) => c.close() }),
    remoteAddress,
    remotePort: 40000,
    signal: new AbortController().signal,
    watchAbort: () => () => {},
    informational: async () => {},
  };
}

describe('server forwardHead', () => {
  test('hop-by-hop fields go, forwarding fields are added, one request per stream', () => {
    const head = forwardHead(
      request([
        ['Host', 'app.example'],
        ['Connection', 'keep-alive, X-Secret'],
        ['Keep-Alive', 'timeout=5'],
        ['X-Secret', 'drop me'],
        ['TE', 'trailers'],
        ['Accept', '*/*'],
        ['Content-Length', '0'],
        ['X-Piko-Forward', 'spoofed'],
      ]),
      { kind: 'none' },
      false,
    );
    assert.deepEqual(head.headers, [
      ['Host', 'app.example'],
      ['Accept', '*/*'],
      ['Connection', 'close'],
      ['x-piko-forward', 'true'],
      ['X-Forwarded-For', '10.0.0.7'],
      ['X-Forwarded-Proto', 'http'],
      ['X-Forwarded-Host', 'app.example'],
      ['Forwarded', 'for=10.0.0.7;proto=http;host="app.example"'],
    ]);
    assert.equal(head.target, '/a?b=c');
    assert.equal(head.minor, 1);
  });

  test('an HTTP/1.0 request without Host goes on as HTTP/1.1 with an empty Host (RFC 9112 §3.2), and no forwarded host', () => {
    const req = request([['Accept', '*/*']]);
    req.head.minor = 0;
    const head = forwardHead(req, { kind: 'none' }, false);
    assert.equal(head.minor, 1);
    assert.deepEqual(head.headers[0], ['Host', '']);
    assert.equal(head.headers.filter(([n]) => n.toLowerCase() === 'host').length, 1);
    assert.equal(
      head.headers.some(([n]) => n === 'X-Forwarded-Host'),
      false,
    );
    assert.deepEqual(
      head.headers.find(([n]) => n === 'Forwarded'),
      ['Forwarded', 'for=10.0.0.7;proto=http'],
    );
  });

  test("an absolute-form target's authority replaces Host and the target goes on in origin-form (RFC 9112 §3.2.2)", () => {
    const req = request([
      ['Host', 'b.example'],
      ['Accept', '*/*'],
    ]);
    req.head.target = 'http://a.example:8080/x?y=1';
    const head = forwardHead(req, { kind: 'none' }, false);
    assert.equal(head.target, '/x?y=1');
    assert.deepEqual(
      head.headers.filter(([n]) => n.toLowerCase() === 'host'),
      [['Host', 'a.example:8080']],
    );
    assert.deepEqual(
      head.headers.find(([n]) => n === 'X-Forwarded-Host'),
      ['X-Forwarded-Host', 'a.example:8080'],
    );
  });

  test('an empty Host is passed on empty, with no X-Forwarded-Host', () => {
    const head = forwardHead(request([['Host', '']]), { kind: 'none' }, false);
    assert.deepEqual(head.headers[0], ['Host', '']);
    assert.equal(
      head.headers.some(([n]) => n === 'X-Forwarded-Host'),
      false,
    );
  });

  test('earlier proxies are kept: every X-Forwarded-For and Forwarded line, joined (RFC 9110 §5.3; Go ReverseProxy does the same), then appended to', () => {
    const head = forwardHead(
      request(
        [
          ['host', 'h'],
          ['x-forwarded-for', '1.1.1.1'],
          ['X-Forwarded-For', '2.2.2.2'],
          ['forwarded', 'for=1.1.1.1'],
          ['Forwarded', 'for=2.2.2.2'],
          ['x-forwarded-proto', 'https'],
          ['x-forwarded-host', 'outer'],
        ],
        '::1',
      ),
      { kind: 'length', length: 5 },
      false,
    );
    const all = (name: string) =>
      head.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
    // A proxy in front that adds its own line (HAProxy's `option forwardfor`) is not lost.
    assert.deepEqual(all('x-forwarded-for'), ['1.1.1.1, 2.2.2.2, ::1']);
    assert.deepEqual(all('forwarded'), [
      'for=1.1.1.1, for=2.2.2.2, for="[::1]";proto=http;host="h"',
    ]);
    assert.deepEqual(all('x-forwarded-proto'), ['https']);
    assert.deepEqual(all('x-forwarded-host'), ['outer']);
    assert.deepEqual(all('content-length'), ['5']);
  });

  test('an upgrade keeps Connection: Upgrade and the Upgrade token; chunked is declared', () => {
    const head = forwardHead(
      request([
        ['Host', 'h'],
        ['Connection', 'Upgrade'],
        ['Upgrade', 'websocket'],
        ['Transfer-Encoding', 'chunked'],
      ]),
      { kind: 'chunked' },
      true,
    );
    const names = head.headers.map(([n]) => n);
    assert.deepEqual(names.slice(0, 5), [
      'Host',
      'Connection',
      'Upgrade',
      'Transfer-Encoding',
      'x-piko-forward',
    ]);
    assert.deepEqual(head.headers[1], ['Connection', 'Upgrade']);
    assert.deepEqual(head.headers[2], ['Upgrade', 'websocket']);
    assert.deepEqual(head.headers[3], ['Transfer-Encoding', 'chunked']);
  });

  test('an upgrade is asked for by Upgrade plus an `upgrade` token on any Connection line, in HTTP/1.1 only', () => {
    const head = (minor: 0 | 1, headers: HeaderList) => ({
      method: 'GET',
      target: '/',
      minor,
      headers,
    });
    const upgrade: [string, string] = ['Upgrade', 'websocket'];
    assert.equal(isUpgradeRequest(head(1, [['Connection', 'Upgrade'], upgrade])), true);
    assert.equal(isUpgradeRequest(head(1, [['connection', 'keep-alive, upgrade'], upgrade])), true);
    // Two Connection lines are one list (RFC 9110 §5.3).
    assert.equal(
      isUpgradeRequest(head(1, [['Connection', 'keep-alive'], ['Connection', 'Upgrade'], upgrade])),
      true,
    );
    // RFC 9110 §7.8: a server MUST ignore Upgrade in an HTTP/1.0 request.
    assert.equal(isUpgradeRequest(head(0, [['Connection', 'Upgrade'], upgrade])), false);
    assert.equal(isUpgradeRequest(head(1, [['Connection', 'Upgraded'], upgrade])), false);
    assert.equal(isUpgradeRequest(head(1, [['Connection', 'Upgrade']])), false);
    assert.equal(isUpgradeRequest(head(1, [upgrade])), false);
  });

  test('quotes and backslashes cannot break out of the Forwarded host parameter', () => {
    const head = forwardHead(request([['Host', 'a"b\\c']]), { kind: 'none' }, false);
    const forwarded = head.headers.find(([n]) => n === 'Forwarded')![1];
    assert.equal(forwarded, 'for=10.0.0.7;proto=http;host="abc"');
  });
});
