import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runtime } from '../../src/runtime/index.ts';
import { decoder, deferred, encoder, within } from './helpers.ts';

const host = '127.0.0.1';

/** Connects until the port refuses (the server stopped accepting); fails after 3 s. */
async function untilRefused(port: number): Promise<void> {
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline) {
    try {
      (await runtime.connect({ host, port })).close();
    } catch {
      return;
    }
  }
  throw new Error(`Timed out waiting for port ${port} to refuse connections`);
}

describe(`serve (${runtime.name})`, () => {
  test('port 0 picks a free port and requests carry the peer address', async () => {
    const server = await runtime.serve({
      host,
      port: 0,
      fetch: (request, info) =>
        Response.json({ path: new URL(request.url).pathname, from: info.remoteAddress }),
    });
    try {
      assert.ok(server.port > 0);
      const response = await fetch(`http://${host}:${server.port}/hello`);
      assert.deepEqual(await response.json(), { path: '/hello', from: host });
    } finally {
      await server.shutdown();
    }
  });

  test('shutdown stops accepting and waits for the in-flight request', async () => {
    const entered = deferred<void>();
    const release = deferred<void>();
    const server = await runtime.serve({
      host,
      port: 0,
      async fetch() {
        entered.resolve();
        await release.promise;
        return new Response('finished');
      },
    });
    const inFlight = fetch(`http://${host}:${server.port}/slow`);
    await entered.promise;
    let shutDown = false;
    const shutdown = server.shutdown().then(() => {
      shutDown = true;
    });
    // New connections are refused from now on.
    await untilRefused(server.port);
    assert.equal(shutDown, false, 'shutdown waits while the request is in flight');
    release.resolve();
    const response = await inFlight;
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'finished');
    await within(shutdown, 5000, 'shutdown to finish');
  });

  test('shutdown waits for a streaming response body to finish', async () => {
    const release = deferred<void>();
    const server = await runtime.serve({
      host,
      port: 0,
      fetch: () =>
        new Response(
          new ReadableStream<Uint8Array>({
            async start(controller) {
              controller.enqueue(encoder.encode('head '));
              await release.promise;
              controller.enqueue(encoder.encode('tail'));
              controller.close();
            },
          }),
        ),
    });
    const response = await fetch(`http://${host}:${server.port}/`);
    const reader = response.body!.getReader();
    assert.equal(decoder.decode((await reader.read()).value), 'head ');
    let shutDown = false;
    const shutdown = server.shutdown().then(() => {
      shutDown = true;
    });
    // Shutdown has begun once new connections are refused.
    await untilRefused(server.port);
    assert.equal(shutDown, false, 'shutdown waits for the body');
    release.resolve();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read())
      rest += decoder.decode(r.value);
    assert.equal(rest, 'tail');
    await within(shutdown, 5000, 'shutdown to finish');
  });

  test('shutdown leaves upgraded WebSockets open', async () => {
    const server = await runtime.serve({
      host,
      port: 0,
      fetch: (_request, info) => info.upgrade({ message: (ws, data) => ws.send(data), close() {} }),
    });
    const reply = deferred<Uint8Array | string>();
    const closed = deferred<number>();
    const ws = await runtime.connectWebSocket(`ws://${host}:${server.port}/`, {
      handlers: {
        message: (_ws, data) => reply.resolve(data),
        close: (_ws, code) => closed.resolve(code),
      },
    });
    await within(server.shutdown(), 5000, 'shutdown with a WebSocket open');
    ws.send('still there?');
    assert.equal(await within(reply.promise, 3000, 'echo after shutdown'), 'still there?');
    ws.close(1000);
    assert.equal(await within(closed.promise, 3000, 'close'), 1000);
    // With its last WebSocket gone the server stops listening.
    await untilRefused(server.port);
  });

  test('a response after 12.5 s of silence is not cut by an idle timeout', {
    timeout: 30_000,
  }, async () => {
    // Bun's default idle timeout is 10 s and was seen firing at 12.0 s (runtime.md §1).
    const silenceMs = 12_500;
    const server = await runtime.serve({
      host,
      port: 0,
      async fetch() {
        await new Promise((resolve) => setTimeout(resolve, silenceMs));
        return new Response('patience');
      },
    });
    try {
      const started = Date.now();
      const response = await fetch(`http://${host}:${server.port}/`);
      assert.equal(await response.text(), 'patience');
      assert.ok(Date.now() - started >= silenceMs - 100);
    } finally {
      await server.shutdown();
    }
  });
});
