import assert from 'node:assert/strict';
import { test } from 'node:test';

test('runtime - suite runs', () => {
  assert.equal(typeof globalThis.ReadableStream, 'function');
});
