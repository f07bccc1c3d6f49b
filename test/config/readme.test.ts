import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { withReference } from '../../scripts/settings-reference.ts';

test('README - the settings reference matches the settings tables (run scripts/settings-reference.ts --write)', () => {
  const readme = readFileSync(resolve(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  assert.equal(readme, withReference(readme));
});
