import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseOrigin } from '../../src/pool/index.ts';

describe('pool - parseOrigin', () => {
  test('a bare port means http on localhost', () => {
    assert.deepEqual(parseOrigin('8080'), { protocol: 'http:', host: 'localhost', port: 8080 });
  });

  test('host:port means http', () => {
    assert.deepEqual(parseOrigin('10.0.0.5:3000'), {
      protocol: 'http:',
      host: '10.0.0.5',
      port: 3000,
    });
    assert.deepEqual(parseOrigin('[::1]:3000'), { protocol: 'http:', host: '::1', port: 3000 });
  });

  test('URLs give the scheme and default ports', () => {
    assert.deepEqual(parseOrigin('http://svc.local:81'), {
      protocol: 'http:',
      host: 'svc.local',
      port: 81,
    });
    assert.deepEqual(parseOrigin('http://svc.local'), {
      protocol: 'http:',
      host: 'svc.local',
      port: 80,
    });
    assert.deepEqual(parseOrigin('https://svc.local'), {
      protocol: 'https:',
      host: 'svc.local',
      port: 443,
    });
    assert.deepEqual(parseOrigin('https://svc.local:8443/'), {
      protocol: 'https:',
      host: 'svc.local',
      port: 8443,
    });
  });

  test('anything else is a TypeError that names the address', () => {
    for (const bad of [
      '',
      'svc.local',
      'ftp://x:1',
      'http://x:1/path',
      'http://u:p@x:1',
      '70000',
      'x:0',
      'http://x:1?q',
    ]) {
      assert.throws(
        () => parseOrigin(bad),
        (err: unknown) => {
          assert.ok(err instanceof TypeError, `${bad}: ${err}`);
          assert.match(err.message, /^Invalid upstream address/);
          assert.ok(err.message.includes(`"${bad}"`));
          return true;
        },
      );
    }
  });
});
