/**
 * Interim responses through the whole path: an upstream's 103 Early Hints reaches the
 * client ahead of the final response, as it would through Go's ReverseProxy (so Piko);
 * its 100 Continue does not (the client loop sends its own when the body is read), and an
 * HTTP/1.0 client, which knows no 1xx, gets only the final response.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { stopAll } from '../_harness/process.ts';
import { type ServerProc, startAgent, startServer } from '../_harness/tether.ts';
import { startUpstream, type Upstream } from '../_harness/upstreams.ts';
import { rawExchange } from './_support.ts';

describe('interim responses', () => {
  let server: ServerProc;
  let upstream: Upstream;

  before(async () => {
    // Sends `100 Continue` and `103 Early Hints` (with a Link field) before each response.
    upstream = await startUpstream({ kind: 'raw', informational: true });
    server = await startServer();
    await startAgent(server, 'http', 'hints', String(new URL(upstream.origin).port));
  });
  after(async () => {
    await stopAll();
    await upstream.stop();
  });

  async function send(version: '1.0' | '1.1'): Promise<string> {
    const res = await rawExchange(
      server.proxyPort,
      `GET /page HTTP/${version}\r\nHost: hints.example.com\r\nx-piko-endpoint: hints\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(res.closed, true, 'the server closes after the answer');
    return res.data.toString('latin1');
  }

  test('103 Early Hints reaches an HTTP/1.1 client before the final response; 100 does not', async () => {
    const got = await send('1.1');
    const heads = got.split('\r\n\r\n');
    assert.match(heads[0]!, /^HTTP\/1\.1 103 Early Hints\r\n/i, got);
    assert.match(heads[0]!, /\r\nLink: <\/a\.css>; rel=preload$/i);
    assert.match(heads[1]!, /^HTTP\/1\.1 200 /, got);
    assert.equal(heads[2], 'ok');
    assert.doesNotMatch(got, / 100 Continue/);
  });

  test('an HTTP/1.0 client gets the final response only', async () => {
    const got = await send('1.0');
    assert.match(got, /^HTTP\/1\.1 200 /, got);
    assert.doesNotMatch(got, /HTTP\/1\.1 1\d\d /);
    assert.ok(got.endsWith('\r\n\r\nok'), got);
  });
});
