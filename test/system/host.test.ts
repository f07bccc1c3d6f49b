/**
 * Host on every hop: the upstream sees the client's Host; a request that names no
 * authority (HTTP/1.0 without Host, or an empty Host) reaches it with the upstream's own
 * address, as if it had been called directly; a Host that is no authority is refused at
 * the door with 400 and nothing reaches the upstream.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { stopAll } from '../_harness/process.ts';
import { type ServerProc, startAgent, startServer } from '../_harness/tether.ts';
import { rawExchange, splitResponse } from './_support.ts';

describe('Host on every hop', () => {
  let server: ServerProc;
  let upstreamPort = 0;
  const seen: { url: string; host: string | undefined; hosts: number }[] = [];
  const upstream = createServer((req, res) => {
    const hosts = req.rawHeaders.filter((_, i) => i % 2 === 0 && /^host$/i.test(_)).length;
    seen.push({ url: req.url ?? '', host: req.headers.host, hosts });
    res.end('fine');
  });

  before(async () => {
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upstreamPort = (upstream.address() as AddressInfo).port;
    server = await startServer();
    await startAgent(server, 'http', 'hosts', `127.0.0.1:${upstreamPort}`);
  });
  after(async () => {
    await stopAll();
    upstream.close();
  });

  async function send(requestLine: string, fields: string[], route = ['x-piko-endpoint: hosts']) {
    const head = [requestLine, ...route, 'Connection: close', ...fields];
    const res = await rawExchange(server.proxyPort, `${head.join('\r\n')}\r\n\r\n`);
    assert.equal(res.closed, true, 'the server closes after the answer');
    return splitResponse(res.data);
  }

  /** What the upstream saw of the request for `url`. */
  const upstreamSaw = (url: string) => seen.find((s) => s.url === url);

  test("the client's Host reaches the upstream", async () => {
    const res = await send('GET /named HTTP/1.1', ['Host: app.example:8443']);
    assert.match(res.status, /^HTTP\/1\.1 200 /);
    assert.deepEqual(upstreamSaw('/named'), {
      url: '/named',
      host: 'app.example:8443',
      hosts: 1,
    });
  });

  test('an HTTP/1.0 request without Host reaches the upstream with its address as Host', async () => {
    const res = await send('GET /old HTTP/1.0', []);
    assert.match(res.status, /^HTTP\/1\.[01] 200 /, `got ${res.status}`);
    assert.equal(res.body, 'fine');
    assert.deepEqual(upstreamSaw('/old'), {
      url: '/old',
      host: `127.0.0.1:${upstreamPort}`,
      hosts: 1,
    });
  });

  test('an empty Host (no authority, RFC 9112 §3.2) is filled the same way', async () => {
    const res = await send('GET /empty HTTP/1.1', ['Host:']);
    assert.match(res.status, /^HTTP\/1\.1 200 /, `got ${res.status}`);
    assert.equal(upstreamSaw('/empty')?.host, `127.0.0.1:${upstreamPort}`);
  });

  test("an absolute-form target's authority routes and becomes Host; the target goes on in origin-form", async () => {
    // RFC 9112 §3.2.2: the Host received is ignored. It names an endpoint with no agent, so
    // routing by it would answer 502.
    const res = await send(
      'GET http://hosts.example.com/abs?x=1 HTTP/1.1',
      ['Host: nobody.example.com'],
      [],
    );
    assert.match(res.status, /^HTTP\/1\.1 200 /, `got ${res.status}`);
    assert.deepEqual(upstreamSaw('/abs?x=1'), {
      url: '/abs?x=1',
      host: 'hosts.example.com',
      hosts: 1,
    });
  });

  test('a Host that is not an authority gets 400 and never reaches the upstream', async () => {
    for (const host of ['a b.example', 'a.example/evil', 'user@a.example', 'a.example:80:81']) {
      const res = await send('GET /bad-host HTTP/1.1', [`Host: ${host}`]);
      assert.match(res.status, /^HTTP\/1\.1 400 /, `Host "${host}" got ${res.status}`);
      assert.match(res.text, /\r\ntether-error: invalid-host\r\n/i);
    }
    assert.equal(
      seen.some((s) => s.url === '/bad-host'),
      false,
    );
  });
});
