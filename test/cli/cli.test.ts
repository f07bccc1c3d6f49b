import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import pkg from '../../package.json' with { type: 'json' };
import { binary, run, stopAll } from '../_harness/process.ts';

after(stopAll);

describe('compiled binary', () => {
  test('tether - the compiled binary exists (npm test builds it first)', () => {
    assert.ok(existsSync(binary), `${binary} is missing; run npm run build`);
  });

  test('tether --help - lists every subcommand, without colours when piped', async () => {
    const { code, output } = await run(binary, ['--help']);
    assert.equal(code, 0);
    for (const sub of ['server', 'agent', 'forward', 'drain', 'status', 'systemd']) {
      assert.match(output, new RegExp(`\\b${sub}\\b`), sub);
    }
    assert.ok(!output.includes(String.fromCharCode(27)), 'ANSI escape in piped output');
  });

  test('tether --version - prints the package version', async () => {
    const { code, output } = await run(binary, ['--version']);
    assert.equal(code, 0);
    assert.equal(output.trim(), pkg.version);
  });

  test('tether agent http --help - shows positionals and settings with their environment names', async () => {
    const { code, output } = await run(binary, ['agent', 'http', '--help']);
    assert.equal(code, 0);
    assert.match(output, /ENDPOINT/);
    assert.match(output, /--connect\.url.*TETHER_CONNECT_URL/);
  });

  test('tether - bad values exit 2 and name the key, the value and what was expected', async () => {
    const { code, output } = await run(binary, ['server', '--tunnel.heartbeat-interval', 'often']);
    assert.equal(code, 2);
    assert.match(
      output,
      /tunnel\.heartbeat-interval \(from --tunnel\.heartbeat-interval\): expected a duration.*"often"/,
    );
  });

  test('tether - an unknown flag exits 2 instead of being ignored', async () => {
    const { code, output } = await run(binary, ['server', '--proxy.bind-adr', ':9000']);
    assert.equal(code, 2);
    assert.match(output, /Unknown flag --proxy\.bind-adr/);
  });

  test('tether - an unknown subcommand exits 2', async () => {
    const { code, output } = await run(binary, ['serve']);
    assert.equal(code, 2);
    assert.match(output, /serve/);
  });

  test('tether - a missing config file exits 2 with its path', async () => {
    const { code, output } = await run(binary, [
      'server',
      '--config.path',
      '/nonexistent/tether.yaml',
    ]);
    assert.equal(code, 2);
    assert.match(output, /Cannot read config file \/nonexistent\/tether\.yaml/);
  });
});
