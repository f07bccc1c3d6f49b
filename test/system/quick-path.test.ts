import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { stopAll } from '../_harness/process.ts';
import { agentCount, type ServerProc, startAgent, startServer } from '../_harness/tether.ts';

describe('server and agent processes', () => {
  let server: ServerProc;
  const upstream = createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(
      `hello ${req.method} ${req.url} host=${req.headers.host} fwd=${req.headers['x-piko-forward']}`,
    );
  });

  before(async () => {
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    server = await startServer();
    await startAgent(server, 'http', 'my-app', String((upstream.address() as AddressInfo).port));
  });
  after(async () => {
    await stopAll();
    upstream.close();
  });

  test('proxy - a request reaches the upstream by x-piko-endpoint and by Host label', async () => {
    const byHeader = await fetch(server.proxyUrl('/a?b=1'), {
      headers: { 'x-piko-endpoint': 'my-app' },
    });
    assert.equal(byHeader.status, 200);
    assert.match(await byHeader.text(), /^hello GET \/a\?b=1 .*fwd=true$/);
    // fetch may not set Host (a forbidden header in Deno), so use node:http.
    const byHost = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        server.proxyUrl('/'),
        { headers: { host: 'my-app.example.com' } },
        (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(byHost.status, 200);
    assert.match(byHost.body, /host=my-app\.example\.com/);
  });

  test('proxy - missing and unknown endpoints get Piko errors as JSON with a tether-error code', async () => {
    const missing = await fetch(server.proxyUrl('/'));
    assert.equal(missing.status, 400);
    assert.equal(missing.headers.get('tether-error'), 'missing-endpoint');
    assert.deepEqual(await missing.json(), { error: 'missing endpoint id' });
    const unknown = await fetch(server.proxyUrl('/'), { headers: { 'x-piko-endpoint': 'nobody' } });
    assert.equal(unknown.status, 502);
    assert.deepEqual(await unknown.json(), { error: 'no available upstreams' });
  });

  test('admin - health, readiness and status', async () => {
    assert.equal((await fetch(server.adminUrl('/health'))).status, 200);
    assert.equal((await fetch(server.adminUrl('/ready'))).status, 200);
    assert.equal(await agentCount(server, 'my-app'), 1);
  });
});
