import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type Proc, start, stopAll } from '../_harness/process.ts';
import { startAgent, startServer, waitUntil } from '../_harness/tether.ts';
import { hasCommand } from '../_harness/upstreams.ts';
import { signal, slowUpstream } from './drain-helpers.ts';

after(stopAll);
const dir = mkdtempSync(join(tmpdir(), 'tether-notify-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// An AF_UNIX datagram receiver standing in for systemd: one JSON line per datagram.
const RECEIVER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    data = s.recv(4096)
    print(json.dumps(data.decode()), flush=True)
`;

interface Receiver {
  readonly proc: Proc;
  readonly path: string;
  /** Datagrams received so far, in order. */
  messages(): string[];
}

async function receiver(name: string): Promise<Receiver> {
  const path = join(dir, name);
  const proc = start('python3', ['-u', '-c', RECEIVER, path]);
  await proc.waitFor(/listening/, 10_000);
  return {
    proc,
    path,
    messages: () =>
      proc
        .output()
        .split('\n')
        .filter((l) => l.startsWith('"'))
        .map((l) => JSON.parse(l) as string),
  };
}

const firstIndex = (messages: string[], re: RegExp) => messages.findIndex((m) => re.test(m));

describe('sd_notify', { skip: !hasCommand('python3') && 'python3 is not installed' }, () => {
  test('tether server - READY=1, then WATCHDOG=1 every WATCHDOG_USEC/2, then STOPPING=1 on drain', async () => {
    const rx = await receiver('server.sock');
    const server = await startServer(
      ['--drain.quiet-period', '300ms', '--drain.quiet-period-max', '300ms'],
      { NOTIFY_SOCKET: rx.path, WATCHDOG_USEC: '200000' },
    );
    await waitUntil(
      () => rx.messages().filter((m) => m === 'WATCHDOG=1').length >= 3,
      10_000,
      'three watchdog beats',
    );
    signal(server.proc, 'SIGTERM');
    await waitUntil(
      () => rx.messages().some((m) => m.startsWith('STOPPING=1')),
      10_000,
      'STOPPING=1',
    );
    assert.equal(await server.proc.exited, 0);
    const messages = rx.messages();
    const ready = firstIndex(messages, /^READY=1\nSTATUS=serving: 0 agents connected/);
    const watchdog = firstIndex(messages, /^WATCHDOG=1$/);
    const stopping = firstIndex(messages, /^STOPPING=1\nSTATUS=draining/);
    assert.ok(ready === 0, `READY=1 first: ${JSON.stringify(messages)}`);
    assert.ok(watchdog > ready && stopping > watchdog, JSON.stringify(messages));
  });

  test('tether agent - READY=1 only once connected, STATUS lines, STOPPING=1 on SIGTERM', async () => {
    const upstream = await slowUpstream();
    const rx = await receiver('agent.sock');
    const server = await startServer();
    const agent = await startAgent(server, 'http', 'app', String(upstream.port), [], {
      NOTIFY_SOCKET: rx.path,
      WATCHDOG_USEC: '200000',
    });
    await waitUntil(() => rx.messages().some((m) => m.startsWith('READY=1')), 5000, 'READY=1');
    await waitUntil(() => rx.messages().includes('WATCHDOG=1'), 5000, 'WATCHDOG=1');
    signal(agent, 'SIGTERM');
    assert.equal(await agent.exited, 0);
    const messages = rx.messages();
    assert.match(messages[0] ?? '', /^READY=1\nSTATUS=serving: 1\/1 listeners connected/);
    const stopping = firstIndex(messages, /^STOPPING=1/);
    assert.ok(stopping > firstIndex(messages, /^WATCHDOG=1$/), JSON.stringify(messages));
    await upstream.close();
  });

  test('tether server - without NOTIFY_SOCKET nothing is sent and it runs as usual', async () => {
    const rx = await receiver('unused.sock');
    const server = await startServer(
      ['--drain.quiet-period', '0', '--drain.quiet-period-max', '0'],
      {
        WATCHDOG_USEC: '200000',
      },
    );
    signal(server.proc, 'SIGTERM');
    assert.equal(await server.proc.exited, 0);
    assert.deepEqual(rx.messages(), []);
  });
});
