import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitAbsoluteTarget } from '../../src/http1/index.ts';

describe('http1 absolute-form targets (RFC 9112 §3.2.2)', () => {
  test('authority and origin-form are split out', () => {
    const cases: [method: string, target: string, authority: string, originForm: string][] = [
      ['GET', 'http://a.example/x?y=1', 'a.example', '/x?y=1'],
      ['GET', 'http://a.example:8080', 'a.example:8080', '/'],
      ['GET', 'https://[::1]:8443/p', '[::1]:8443', '/p'],
      ['GET', 'http://a.example?q', 'a.example', '/?q'],
      ['OPTIONS', 'http://a.example', 'a.example', '*'],
      ['OPTIONS', 'http://a.example/', 'a.example', '/'],
    ];
    for (const [method, target, authority, originForm] of cases) {
      assert.deepEqual(splitAbsoluteTarget(method, target), { authority, originForm }, target);
    }
  });

  test('other forms are not absolute', () => {
    assert.equal(splitAbsoluteTarget('GET', '/x?u=http://a.example/'), undefined);
    assert.equal(splitAbsoluteTarget('OPTIONS', '*'), undefined);
    assert.equal(splitAbsoluteTarget('CONNECT', 'a.example:443'), undefined);
  });
});
