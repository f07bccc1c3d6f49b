import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createLogger } from '../../src/log/index.ts';
import { stopAll } from '../_harness/process.ts';
import { startServer, tether } from '../_harness/tether.ts';
import { signal } from '../system/drain-helpers.ts';

after(stopAll);

describe('logging under journald', () => {
  test('createLogger - JOURNAL_STREAM set: <6>/<4>/<3> priority prefixes, no timestamps, no colours', () => {
    const lines: string[] = [];
    const log = createLogger({
      env: { JOURNAL_STREAM: '8:12345' },
      isTTY: true,
      write: (l) => lines.push(l),
      level: 'debug',
    });
    log.info('ready', { port: 8000 });
    log.warn('slow');
    log.error('broken');
    log.child('drain').debug('detail');
    assert.deepEqual(lines, ['<6>ready port=8000', '<4>slow', '<3>broken', '<7>[drain] detail']);
  });

  test('tether server and agent - with JOURNAL_STREAM every stderr line carries its priority', async () => {
    const env = { JOURNAL_STREAM: '8:12345' };
    const server = await startServer(
      ['--drain.quiet-period', '0', '--drain.quiet-period-max', '0'],
      env,
    );
    // An agent pointed at a closed port warns, and one that cannot open its admin port errs.
    const agent = tether(
      [
        'agent',
        'http',
        'app',
        '1',
        '--connect.url',
        'http://127.0.0.1:1',
        '--admin.bind-addr',
        `127.0.0.1:${server.adminPort}`,
      ],
      env,
    );
    await agent.exited;
    signal(server.proc, 'SIGTERM');
    assert.equal(await server.proc.exited, 0);
    const serverLines = server.proc.output().trim().split('\n');
    assert.match(serverLines[0] ?? '', /^<6>tether server ready /);
    for (const l of serverLines) assert.match(l, /^<[3467]>/, `server line without priority: ${l}`);
    assert.match(agent.output(), /^<3>.*cannot open the admin port/m);
    // The CLI's own one-line reason for exiting is an error too.
    assert.match(agent.output(), /^<3>tether: Cannot listen on admin\.bind-addr: /m);
    assert.ok(!server.proc.output().includes('\u001b['), 'no ANSI colours');
  });

  test('tether agent - a connection failure is logged as a warning, <4>', async () => {
    const agent = tether(['agent', 'http', 'app', '1', '--connect.url', 'http://127.0.0.1:1'], {
      JOURNAL_STREAM: '8:1',
    });
    await agent.waitFor(/^<4>.*cannot connect to server, retrying/m, 10_000);
    signal(agent, 'SIGTERM');
    assert.equal(await agent.exited, 0);
  });
});
