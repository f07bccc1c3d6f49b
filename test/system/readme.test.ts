import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, test } from 'node:test';
import { type Proc, root, run, start, stopAll } from '../_harness/process.ts';
import { tetherCommand } from '../_harness/tether.ts';

after(stopAll);

/** The commands of the README's Quick start block, comments stripped. */
function quickStart(): string[][] {
  const readme = readFileSync(resolve(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean)
    .map((line) => line.match(/'[^']*'|\S+/g)!.map((w) => w.replace(/^'|'$/g, '')));
}

test('README - the quick start works as written (server, upstream, agent, curl)', async () => {
  const commands = quickStart();
  assert.equal(commands.length, 4, 'expected four commands in the quick start');
  // The commands run verbatim; only the bind addresses are pinned to loopback through the
  // environment (tests never listen on every interface), keeping the README's ports.
  const env = {
    TETHER_PROXY_BIND_ADDR: '127.0.0.1:8000',
    TETHER_UPSTREAM_BIND_ADDR: '127.0.0.1:8001',
    TETHER_ADMIN_BIND_ADDR: '127.0.0.1:8002',
  };
  const { command, prefix } = tetherCommand();
  // Only the server gets them: the agent has an admin.bind-addr of its own (off by default).
  const launch = (argv: string[]): Proc =>
    argv[0] !== './dist/tether'
      ? start(argv[0]!, argv.slice(1))
      : start(command, [...prefix, ...argv.slice(1)], argv[1] === 'server' ? env : {});
  const [serverCmd, serviceCmd, agentCmd, curlCmd] = commands as [
    string[],
    string[],
    string[],
    string[],
  ];
  assert.equal(curlCmd[0], 'curl');

  const server = launch(serverCmd);
  await server.waitFor(/tether server ready/);
  launch(serviceCmd);
  await waitForPort(3000);
  const agent = launch(agentCmd);
  await agent.waitFor(/connected to server/);
  const curl = await run('curl', ['-sS', '--max-time', '10', ...curlCmd.slice(1)]);
  assert.equal(curl.code, 0, curl.output);
  assert.match(
    curl.output,
    /Directory listing|<html/i,
    'the python http.server answered through the tunnel',
  );
});

async function waitForPort(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}/`]);
    if (r.code === 0) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}
