import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { describe, test } from 'node:test';
import { runtime } from '../../src/runtime/index.ts';
import { deferred, waitFor, within } from './helpers.ts';

/** Binds an AF_UNIX datagram socket, prints "ready", then prints one datagram as JSON. */
const receiver = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
path = sys.argv[1]
s.bind(path.replace("@", "\\0", 1) if path.startswith("@") else path)
print("ready", flush=True)
s.settimeout(10)
print(json.dumps(s.recv(4096).decode()), flush=True)
`;

async function receiveOne(
  path: string,
  send: () => boolean,
): Promise<{ sent: boolean; got: string }> {
  const child = spawn('python3', ['-c', receiver, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let buffer = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text: string) => {
    buffer += text;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    lines.push(...parts);
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    await waitFor(() => lines.includes('ready'), 'the receiver to bind');
    const sent = send();
    await within(exited, 10_000, 'the receiver to exit');
    return { sent, got: JSON.parse(lines[1] ?? '""') };
  } finally {
    child.kill();
  }
}

describe(`system (${runtime.name})`, () => {
  test('sendUnixDatagram delivers to a socket path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-notify-'));
    try {
      const path = join(dir, 'notify.sock');
      const message = 'READY=1\nSTATUS=serving';
      const { sent, got } = await receiveOne(path, () => runtime.sendUnixDatagram(path, message));
      assert.equal(sent, true);
      assert.equal(got, message);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('sendUnixDatagram delivers to an abstract @name socket', async () => {
    const path = `@tether-test-${process.pid}-${Date.now()}`;
    const { sent, got } = await receiveOne(path, () =>
      runtime.sendUnixDatagram(path, 'WATCHDOG=1'),
    );
    assert.equal(sent, true);
    assert.equal(got, 'WATCHDOG=1');
  });

  test('sendUnixDatagram returns false when nobody listens', () => {
    assert.equal(runtime.sendUnixDatagram('/nonexistent/tether/notify.sock', 'READY=1'), false);
  });

  test('onSignal calls the listener when the signal arrives', async () => {
    const heard = deferred<void>();
    let calls = 0;
    const dispose = runtime.onSignal('SIGHUP', () => {
      calls++;
      heard.resolve();
    });
    try {
      process.kill(process.pid, 'SIGHUP');
      await within(heard.promise, 3000, 'SIGHUP');
      assert.equal(calls, 1);
    } finally {
      dispose();
    }
  });
});
