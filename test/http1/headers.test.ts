import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  connectionTokens,
  getHeader,
  type HeaderList,
  isIdempotent,
  isPersistent,
  parseKeepAlive,
  stripHopByHop,
} from '../../src/http1/index.ts';

describe('http1 header helpers', () => {
  test('getHeader is case-insensitive and returns the first value', () => {
    const h: HeaderList = [
      ['X-A', '1'],
      ['x-a', '2'],
    ];
    assert.equal(getHeader(h, 'X-a'), '1');
    assert.equal(getHeader(h, 'missing'), undefined);
  });

  test('connectionTokens lower-cases and merges every Connection field', () => {
    const h: HeaderList = [
      ['Connection', 'Keep-Alive, X-Foo'],
      ['connection', ' Upgrade ,,'],
    ];
    assert.deepEqual([...connectionTokens(h)], ['keep-alive', 'x-foo', 'upgrade']);
  });

  test('isPersistent follows RFC 9112 §9.3', () => {
    const head = (minor: 0 | 1, connection?: string) => ({
      status: 200,
      reason: '',
      minor,
      headers: (connection ? [['Connection', connection]] : []) as HeaderList,
    });
    assert.equal(isPersistent(head(1)), true);
    assert.equal(isPersistent(head(1, 'close')), false);
    assert.equal(isPersistent(head(1, 'keep-alive, CLOSE')), false);
    assert.equal(isPersistent(head(0)), false);
    assert.equal(isPersistent(head(0, 'Keep-Alive')), true);
  });

  test('stripHopByHop removes hop-by-hop fields and those named in Connection', () => {
    const h: HeaderList = [
      ['Host', 'h'],
      ['Connection', 'X-Secret, keep-alive'],
      ['Keep-Alive', 'timeout=5'],
      ['Proxy-Connection', 'keep-alive'],
      ['TE', 'trailers'],
      ['Transfer-Encoding', 'chunked'],
      ['Upgrade', 'websocket'],
      ['Trailer', 'X-Sum'],
      ['X-Secret', '1'],
      ['Set-Cookie', 'a'],
      ['Set-Cookie', 'b'],
    ];
    assert.deepEqual(stripHopByHop(h), [
      ['Host', 'h'],
      ['Set-Cookie', 'a'],
      ['Set-Cookie', 'b'],
    ]);
  });

  test('stripHopByHop matches names of any case and keeps others of the same lengths', () => {
    const h: HeaderList = [
      ['tE', 'trailers'],
      ['UPGRADE', 'h2c'],
      ['trailer', 'X-Sum'],
      ['CONNECTION', 'close'],
      ['keep-ALIVE', 'timeout=5'],
      ['Proxy-connection', 'keep-alive'],
      ['transfer-ENCODING', 'chunked'],
      ['Tx', '1'],
      ['Referer', '/'],
      ['User-Agent', 'curl'],
      ['X-Forwarded-Host', 'h'],
      ['X-Forwarded-Proto', 'http'],
    ];
    assert.deepEqual(stripHopByHop(h), [
      ['Tx', '1'],
      ['Referer', '/'],
      ['User-Agent', 'curl'],
      ['X-Forwarded-Host', 'h'],
      ['X-Forwarded-Proto', 'http'],
    ]);
  });

  test('isIdempotent: methods of RFC 9110 §9.2.2 and Idempotency-Key', () => {
    for (const m of ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']) {
      assert.equal(isIdempotent(m, []), true, m);
    }
    assert.equal(isIdempotent('POST', []), false);
    assert.equal(isIdempotent('PATCH', []), false);
    assert.equal(isIdempotent('POST', [['Idempotency-Key', 'k']]), true);
    assert.equal(isIdempotent('POST', [['x-idempotency-key', '']]), true);
  });

  test('parseKeepAlive reads timeout and max, case-insensitive and quoted', () => {
    assert.deepEqual(parseKeepAlive('timeout=5, max=1000'), { timeout: 5, max: 1000 });
    assert.deepEqual(parseKeepAlive('Timeout=5'), { timeout: 5 });
    assert.deepEqual(parseKeepAlive('TIMEOUT = "7" ; MAX="3"'), { timeout: 7, max: 3 });
    assert.deepEqual(parseKeepAlive('timeout=0'), { timeout: 0 });
  });

  test('parseKeepAlive ignores malformed, negative and non-integer values', () => {
    assert.deepEqual(parseKeepAlive(null), {});
    assert.deepEqual(parseKeepAlive(undefined), {});
    assert.deepEqual(parseKeepAlive(''), {});
    assert.deepEqual(parseKeepAlive('timeout=abc'), {});
    assert.deepEqual(parseKeepAlive('timeout=-1, max=2'), { max: 2 });
    assert.deepEqual(parseKeepAlive('timeout=1.5'), {});
    assert.deepEqual(parseKeepAlive('timeout=NaN'), {});
    assert.deepEqual(parseKeepAlive('timeout=1e3'), {});
    assert.deepEqual(parseKeepAlive('timeout='), {});
    assert.deepEqual(parseKeepAlive('timeout'), {});
    assert.deepEqual(parseKeepAlive('timeout=99999999999999999999'), {});
    assert.deepEqual(parseKeepAlive('timeout="5'), {});
    assert.deepEqual(parseKeepAlive('foo=1, timeout=abc, timeout=4'), { timeout: 4 });
  });
});
