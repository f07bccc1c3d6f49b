import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { commandLine, quoteArg, renderUnit } from '../../src/systemd/index.ts';
import { binary, stopAll } from '../_harness/process.ts';
import { tether } from '../_harness/tether.ts';

after(stopAll);

const dir = mkdtempSync(join(tmpdir(), 'tether-units-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

/** `systemd-analyze verify` on a unit text; returns its exit code and output. */
function verify(name: string, text: string): { code: number; output: string } {
  const path = join(dir, name);
  writeFileSync(path, text);
  const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

/** Runs `tether systemd …` and returns the unit it printed. */
async function generate(
  args: readonly string[],
): Promise<{ code: number; unit: string; err: string }> {
  const proc = tether(['systemd', ...args]);
  const code = await proc.exited;
  // The harness merges stdout and stderr: on success that is the unit, else the message.
  const output = proc.output();
  return { code, unit: code === 0 ? output : '', err: code === 0 ? '' : output };
}

function line(unit: string, key: string): string | undefined {
  return unit.split('\n').find((l) => l.startsWith(`${key}=`));
}

describe('quoteArg', () => {
  test('quoteArg - plain words stay bare; % and $ are escaped for systemd', () => {
    assert.equal(quoteArg('--proxy.bind-addr'), '--proxy.bind-addr');
    assert.equal(quoteArg(':8000'), ':8000');
    assert.equal(quoteArg('50%'), '50%%');
    assert.equal(quoteArg('$HOME'), '$$HOME');
  });

  test('quoteArg - spaces, quotes, backslashes and a lone semicolon are quoted or escaped', () => {
    assert.equal(quoteArg('a b'), '"a b"');
    assert.equal(quoteArg('say "hi"'), '"say \\"hi\\""');
    assert.equal(quoteArg('c:\\x y'), '"c:\\\\x y"');
    assert.equal(quoteArg(''), '""');
    assert.equal(quoteArg(';'), '\\;');
    assert.equal(commandLine(['/bin/tether', 'agent', 'a b']), '/bin/tether agent "a b"');
  });
});

describe('renderUnit', () => {
  const base = {
    role: 'server' as const,
    exec: [binary],
    args: ['server'],
    adminUrl: 'http://127.0.0.1:8002',
    drainMs: 345_000,
    privilegedPort: false,
  };

  test('renderUnit - notify service with watchdog, drain on stop, and a stop timeout covering the drain', () => {
    const unit = renderUnit(base);
    assert.equal(line(unit, 'Type'), 'Type=notify');
    assert.equal(line(unit, 'NotifyAccess'), 'NotifyAccess=main');
    assert.equal(line(unit, 'ExecStart'), `ExecStart=${binary} server`);
    assert.match(
      line(unit, 'ExecStop') ?? '',
      / drain --admin-url http:\/\/127\.0\.0\.1:8002 --timeout \d+s$/,
    );
    const stop = Number(/TimeoutStopSec=(\d+)s/.exec(unit)?.[1]);
    const drainTimeout = Number(/--timeout (\d+)s/.exec(unit)?.[1]);
    assert.ok(drainTimeout >= 345, `drain --timeout ${drainTimeout} s covers quiet cap + grace`);
    assert.ok(stop > drainTimeout, `TimeoutStopSec ${stop} s outlasts the drain command`);
    assert.equal(line(unit, 'Restart'), 'Restart=on-failure');
    assert.match(line(unit, 'WatchdogSec') ?? '', /^WatchdogSec=\d+s$/);
    for (const h of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'DynamicUser=yes']) {
      assert.ok(unit.includes(`\n${h}\n`), h);
    }
    assert.equal(line(unit, 'AmbientCapabilities'), undefined);
  });

  test('renderUnit - a named user replaces DynamicUser; a low port adds CAP_NET_BIND_SERVICE; no admin, no ExecStop', () => {
    const unit = renderUnit({ ...base, user: 'tether', privilegedPort: true, adminUrl: undefined });
    assert.equal(line(unit, 'User'), 'User=tether');
    assert.equal(line(unit, 'DynamicUser'), undefined);
    assert.equal(line(unit, 'AmbientCapabilities'), 'AmbientCapabilities=CAP_NET_BIND_SERVICE');
    assert.equal(line(unit, 'ExecStop'), undefined);
  });
});

describe('tether systemd', { skip: !hasAnalyze && 'systemd-analyze is not installed' }, () => {
  test('tether systemd server - the unit passes systemd-analyze verify, flags quoted, binary absolute', async () => {
    const { code, unit } = await generate([
      'server',
      '--exec-path',
      binary,
      '--proxy.bind-addr',
      '127.0.0.1:8000',
      '--upstream.token',
      'se cret$%',
      '--drain.grace-period=60s',
    ]);
    assert.equal(code, 0, unit);
    assert.equal(
      line(unit, 'ExecStart'),
      `ExecStart=${binary} server --proxy.bind-addr 127.0.0.1:8000 --upstream.token "se cret$$%%" --drain.grace-period 60s`,
    );
    // Default quiet cap 45 s + grace 60 s.
    assert.match(
      line(unit, 'ExecStop') ?? '',
      /--admin-url http:\/\/127\.0\.0\.1:8002 --timeout 1[0-9][0-9]s$/,
    );
    assert.equal(line(unit, 'AmbientCapabilities'), undefined);
    const result = verify('tether-server.service', unit);
    assert.equal(result.code, 0, result.output);
  });

  test('tether systemd server - a port below 1024 and a named user, and the default ExecStart is this tether', async () => {
    const { code, unit } = await generate([
      'server',
      '--proxy.bind-addr',
      ':80',
      '--user',
      'nobody',
    ]);
    assert.equal(code, 0, unit);
    assert.equal(line(unit, 'AmbientCapabilities'), 'AmbientCapabilities=CAP_NET_BIND_SERVICE');
    assert.equal(line(unit, 'User'), 'User=nobody');
    const exec = line(unit, 'ExecStart') ?? '';
    assert.match(exec, /^ExecStart=\/\S+ /, 'absolute path of the running binary');
    assert.ok(!exec.includes('--user'), 'tether systemd flags stay out of ExecStart');
    const result = verify('tether-server-80.service', unit);
    assert.equal(result.code, 0, result.output);
  });

  test('tether systemd agent - with and without an admin address; both verify', async () => {
    const withAdmin = await generate([
      'agent',
      'http',
      'my-app',
      '3000',
      '--exec-path',
      binary,
      '--connect.url',
      'https://tether.example.com:8001',
      '--admin.bind-addr',
      ':9002',
      '--drain.grace-period',
      '2m',
    ]);
    assert.equal(withAdmin.code, 0, withAdmin.unit);
    assert.equal(
      line(withAdmin.unit, 'ExecStart'),
      `ExecStart=${binary} agent http my-app 3000 --connect.url https://tether.example.com:8001 --admin.bind-addr :9002 --drain.grace-period 2m`,
    );
    assert.match(
      line(withAdmin.unit, 'ExecStop') ?? '',
      /drain --admin-url http:\/\/127\.0\.0\.1:9002 /,
    );
    assert.equal(verify('tether-agent.service', withAdmin.unit).code, 0);

    const without = await generate(['agent', 'tcp', 'db', '5432', '--exec-path', binary]);
    assert.equal(without.code, 0, without.unit);
    assert.equal(line(without.unit, 'ExecStop'), undefined, 'no admin port: SIGTERM drains');
    const result = verify('tether-agent-tcp.service', without.unit);
    assert.equal(result.code, 0, result.output);
  });

  test('tether systemd - a mistyped flag or missing arguments exit 2 with a clear message', async () => {
    const typo = await generate(['server', '--proxy.bind-adr', ':80']);
    assert.equal(typo.code, 2);
    assert.match(typo.err, /Unknown flag --proxy\.bind-adr/);
    const missing = await generate(['agent', 'http', 'my-app']);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /takes <endpoint> <addr>/);
  });
});
