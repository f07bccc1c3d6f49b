import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UpstreamPool } from '../../src/pool/index.ts';
import { cleanupUpstreamScripts, hasCommand, startUpstream } from '../_harness/upstreams.ts';
import { send } from './helpers.ts';

let dir = '';
let cert = '';
let key = '';
let ca = '';

before(() => {
  assert.ok(hasCommand('openssl'), 'openssl is needed for this test');
  dir = mkdtempSync(join(tmpdir(), 'tether-pool-tls-'));
  // rustls (Deno) rejects a self-signed certificate used as its own CA: make a CA and a leaf.
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const at = (f: string) => join(dir, f);
  writeFileSync(
    at('leaf.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  for (const args of [
    [
      'req',
      '-x509',
      ...ec,
      '-days',
      '1',
      '-subj',
      '/CN=tether test CA',
      '-keyout',
      at('ca.key'),
      '-out',
      at('ca.pem'),
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
    ],
    ['req', ...ec, '-subj', '/CN=localhost', '-keyout', at('key.pem'), '-out', at('leaf.csr')],
    [
      'x509',
      '-req',
      '-in',
      at('leaf.csr'),
      '-CA',
      at('ca.pem'),
      '-CAkey',
      at('ca.key'),
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      at('leaf.ext'),
      '-out',
      at('cert.pem'),
    ],
  ]) {
    const r = spawnSync('openssl', args);
    assert.equal(r.status, 0, String(r.stderr));
  }
  ca = readFileSync(at('ca.pem'), 'utf8');
  cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  key = readFileSync(join(dir, 'key.pem'), 'utf8');
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
  cleanupUpstreamScripts();
});

describe('pool - https upstreams', () => {
  test('connections to an https origin are pooled and reused', { timeout: 10_000 }, async () => {
    const up = await startUpstream({
      kind: 'raw',
      tls: { cert, key },
      keepAliveHeader: 'timeout=10',
    });
    const pool = new UpstreamPool();
    const origin = {
      protocol: 'https:',
      host: '127.0.0.1',
      port: up.port,
      tls: { ca },
    } as const;
    try {
      for (let i = 0; i < 3; i++) assert.equal((await send(pool, origin, 'GET', '/')).text, 'ok');
      assert.deepEqual(
        { created: pool.stats().created, reused: pool.stats().reused },
        { created: 1, reused: 2 },
      );
      assert.equal((await up.stats()).connections, 1);
    } finally {
      await pool.close();
      await up.stop();
    }
  });

  test('an untrusted certificate is connect-failed', { timeout: 10_000 }, async () => {
    const up = await startUpstream({ kind: 'raw', tls: { cert, key } });
    const pool = new UpstreamPool();
    try {
      await assert.rejects(
        send(pool, { protocol: 'https:', host: '127.0.0.1', port: up.port }, 'GET', '/'),
        (err: unknown) => (err as { code?: string }).code === 'connect-failed',
      );
      assert.equal(pool.stats().open, 0);
    } finally {
      await pool.close();
      await up.stop();
    }
  });
});
