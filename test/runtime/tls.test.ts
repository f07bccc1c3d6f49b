import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type Listener,
  runtime,
  TETHER_YAMUX,
  type TlsServerOptions,
  WebSocketHandshakeError,
} from '../../src/runtime/index.ts';
import { deferred, encoder, readText, within } from './helpers.ts';

const host = '127.0.0.1';

/** A throwaway self-signed certificate for localhost and 127.0.0.1. */
function selfSigned(dir: string): TlsServerOptions {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      // rustls (Deno) refuses a CA certificate as the server's own certificate.
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  return {
    cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    key: readFileSync(join(dir, 'key.pem'), 'utf8'),
  };
}

describe(`tls (${runtime.name})`, () => {
  let dir: string;
  let pem: TlsServerOptions;
  let echo: Listener;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tether-tls-'));
    pem = selfSigned(dir);
    echo = await runtime.listen({ host, port: 0, tls: pem }, (conn) => {
      conn.readable.pipeTo(conn.writable).catch(() => conn.close());
    });
  });
  after(async () => {
    await echo.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function roundTrip(tls: { ca?: string; serverName?: string }): Promise<string> {
    const conn = await runtime.connect({ host, port: echo.port, tls });
    const writer = conn.writable.getWriter();
    await writer.write(encoder.encode('over tls'));
    await writer.close();
    return readText(conn.readable);
  }

  test('listen and connect with the CA, half-closing through TLS', async () => {
    assert.equal(await roundTrip({ ca: pem.cert }), 'over tls');
  });

  test('serverName picks the name that is verified', async () => {
    assert.equal(await roundTrip({ ca: pem.cert, serverName: 'localhost' }), 'over tls');
    await assert.rejects(
      roundTrip({ ca: pem.cert, serverName: 'wrong.example' }),
      (error: Error) => {
        assert.match(error.message, new RegExp(`^Cannot connect to ${host}:${echo.port}: `));
        return true;
      },
    );
  });

  test('without the CA the connection is refused', async () => {
    await assert.rejects(roundTrip({}), (error: Error) => {
      assert.match(error.message, new RegExp(`^Cannot connect to ${host}:${echo.port}: `));
      assert.ok(error.cause);
      return true;
    });
  });

  test('the signal aborts a handshake that never completes', async () => {
    // A plain TCP server that accepts and says nothing: the TLS handshake hangs.
    const silent = await runtime.listen({ host, port: 0 }, () => {});
    try {
      await assert.rejects(
        within(
          runtime.connect({
            host,
            port: silent.port,
            tls: { ca: pem.cert },
            signal: AbortSignal.timeout(200),
          }),
          5000,
          'the aborted connect to settle',
        ),
        { name: 'TimeoutError' },
      );
    } finally {
      await silent.close();
    }
  });

  test('the tether-yamux/1 offer over TLS: the byte stream works, the certificate is checked', async () => {
    // A server that takes the offer and echoes the raw bytes after its 101.
    const raw = await runtime.listen({ host, port: 0, tls: pem }, (conn) => {
      void (async () => {
        const reader = conn.reader();
        let head = '';
        while (!head.includes('\r\n\r\n')) {
          const { done, value } = await reader.read();
          if (done) return conn.close();
          head += new TextDecoder().decode(value);
        }
        assert.match(head, new RegExp(`\r\nUpgrade: ${TETHER_YAMUX}, websocket\r\n`));
        await conn.write(
          encoder.encode(
            `HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${TETHER_YAMUX}\r\nConnection: Upgrade\r\n\r\n`,
          ),
        );
        for (let r = await reader.read(); !r.done; r = await reader.read())
          await conn.write(r.value);
        conn.close();
      })().catch(() => conn.close());
    });
    try {
      const url = `wss://localhost:${raw.port}/`;
      const reply = deferred<Uint8Array | string>();
      const conn = await runtime.connectWebSocket(url, {
        offerByteStream: true,
        tls: { ca: pem.cert },
        handlers: { message: (_ws, data) => reply.resolve(data), close() {} },
      });
      assert.equal(conn.upgrade, TETHER_YAMUX);
      conn.send(encoder.encode('secure bytes'));
      const echoed = await within(reply.promise, 3000, 'echo');
      assert.equal(new TextDecoder().decode(echoed as Uint8Array), 'secure bytes');
      conn.close();
      // The name checked is the one given: a certificate for another name is refused.
      await assert.rejects(
        runtime.connectWebSocket(url, {
          offerByteStream: true,
          tls: { ca: pem.cert, serverName: 'wrong.example' },
          handlers: { message() {}, close() {} },
        }),
        WebSocketHandshakeError,
      );
    } finally {
      await raw.close();
    }
  });

  test('wss with the CA works; without it the handshake fails', async () => {
    const server = await runtime.serve({
      host,
      port: 0,
      tls: pem,
      fetch: (_request, info) => info.upgrade({ message: (ws, data) => ws.send(data), close() {} }),
    });
    try {
      const url = `wss://localhost:${server.port}/`;
      const reply = deferred<Uint8Array | string>();
      const ws = await runtime.connectWebSocket(url, {
        tls: { ca: pem.cert },
        handlers: { message: (_ws, data) => reply.resolve(data), close() {} },
      });
      ws.send('secure');
      assert.equal(await within(reply.promise, 3000, 'echo'), 'secure');
      ws.close();
      await assert.rejects(
        runtime.connectWebSocket(url, { handlers: { message() {}, close() {} } }),
        (error: unknown) => {
          assert.ok(error instanceof WebSocketHandshakeError);
          assert.equal(error.status, undefined);
          return true;
        },
      );
    } finally {
      await server.shutdown();
    }
  });
});
