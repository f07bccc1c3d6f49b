/**
 * Real upstream servers for tests, each in its own process (Node or Python) so that its
 * sockets, timers and event loop are independent of the runtime under test.
 *
 *   const up = await startUpstream({ kind: 'raw', idleCloseMs: 1000 });
 *   ... up.port ...
 *   const s = await up.stats();   // executions per request id, per method, sockets, closes
 *   await up.stop();
 *
 * Kinds:
 * - `node-http`: Node's `http.createServer` with its defaults (keep-alive 5 s, sends
 *   `Keep-Alive: timeout=5`).
 * - `raw`: a hand-written HTTP/1.x server on `node:net` whose keep-alive, framing and
 *   misbehaviour are configured by {@link RawBehaviour}.
 * - `python-http10`: Python's `http.server` (HTTP/1.0, close-delimited bodies).
 *
 * Every server binds 127.0.0.1 on a free port. Request headers `x-delay-ms` and
 * `x-body-bytes` override the configured response delay and body size per request.
 * Raw responses carry `X-Upstream-Conn` (the connection's number, from 1) and
 * `X-Request-Body-Bytes` (request body bytes received, de-chunked).
 * An execution is counted when a whole request (head and body) was received and is about
 * to be answered; the key is the `x-request-id` header, else `METHOD target`.
 *
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onJsonLines } from './process.ts';

export interface RawBehaviour {
  kind: 'raw';
  /** Status line version, default 1.1. */
  httpVersion?: '1.0' | '1.1';
  /** Response framing, default `length`; `close` writes no length and closes after the body. */
  framing?: 'length' | 'chunked' | 'close';
  /** `Connection` header value to send, if any. */
  connectionHeader?: string;
  /** `Keep-Alive` header value to send, if any (sent verbatim: `timeout=abc` is fine). */
  keepAliveHeader?: string;
  /** Close the socket (FIN) after every response. */
  closeAfterResponse?: boolean;
  /** Close a connection this long after its last response, sending no hint about it. */
  idleCloseMs?: number;
  /** How the idle close happens: `fin` (destroy; default) or `rst` (reset). */
  idleCloseMode?: 'fin' | 'rst';
  /** Reset (RST) a connection that already served a request when a new request starts. */
  resetOnReuse?: boolean;
  /** Reset every connection on which a request starts once this many requests were served. */
  resetFromRequest?: number;
  /** Write unsolicited bytes on an idle connection this long after each response. */
  unsolicitedAfterMs?: number;
  /** Send `100 Continue` and `103 Early Hints` before each final response. */
  informational?: boolean;
  /** Answer every request with these bytes verbatim (malformed responses), then close. */
  rawResponse?: string;
  /** Serve TLS with this PEM certificate and key. */
  tls?: { cert: string; key: string };
  /** Response body size in bytes (default: the 2-byte body `ok`). */
  bodyBytes?: number;
  /** Delay before the response head, ms. */
  delayMs?: number;
  /** Send the body slowly: `chunks` writes of `chunkBytes`, `intervalMs` apart (length-framed). */
  trickle?: { chunkBytes: number; intervalMs: number; chunks: number };
}

export interface NodeHttpBehaviour {
  kind: 'node-http';
  /** Overrides `server.keepAliveTimeout`; default: Node's own (5000 ms). */
  keepAliveTimeout?: number;
  bodyBytes?: number;
}

export interface PythonBehaviour {
  kind: 'python-http10';
  bodyBytes?: number;
}

export type UpstreamBehaviour = RawBehaviour | NodeHttpBehaviour | PythonBehaviour;

export interface ConnectionRecord {
  id: number;
  openedAt: number;
  /** Epoch ms at which the socket closed (either side), or null while open. */
  closedAt: number | null;
  /** Requests fully received on this connection. */
  requests: number;
  /** Bytes of response body written on this connection. */
  bodyBytesWritten: number;
}

export interface UpstreamStats {
  /** Sockets accepted so far. */
  connections: number;
  /** Sockets open now. */
  open: number;
  /** Most sockets open at once. */
  maxOpen: number;
  /** Requests executed, by `x-request-id` (else `METHOD target`). */
  executions: Record<string, number>;
  /** Requests executed, by method. */
  methods: Record<string, number>;
  /** Connections reset on purpose (`resetOnReuse`, `resetFromRequest`, `idleCloseMode: 'rst'`). */
  resets: number;
  /** Idle connections closed by `idleCloseMs`. */
  idleCloses: number;
  conns: ConnectionRecord[];
}

export interface Upstream {
  readonly port: number;
  readonly origin: string;
  stats(): Promise<UpstreamStats>;
  stop(): Promise<void>;
}

const SERVER_SCRIPT = String.raw`
'use strict';
const net = require('node:net');
const tls = require('node:tls');
const http = require('node:http');
const cfg = JSON.parse(process.argv[2]);
const stats = { connections: 0, open: 0, maxOpen: 0, executions: {}, methods: {}, resets: 0, idleCloses: 0, served: 0, conns: [] };
function execute(method, target, headers) {
  const id = headers['x-request-id'] ?? method + ' ' + target;
  stats.executions[id] = (stats.executions[id] ?? 0) + 1;
  stats.methods[method] = (stats.methods[method] ?? 0) + 1;
}
function track(socket) {
  const rec = { id: ++stats.connections, openedAt: Date.now(), closedAt: null, requests: 0, bodyBytesWritten: 0 };
  stats.conns.push(rec);
  stats.open++;
  stats.maxOpen = Math.max(stats.maxOpen, stats.open);
  socket.on('error', () => {});
  socket.on('close', () => { rec.closedAt = Date.now(); stats.open--; });
  return rec;
}
function body(n) {
  if (n === undefined) return Buffer.from('ok');
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = 97 + (i % 26);
  return b;
}

function rawServer() {
  const listener = (socket) => {
    const rec = track(socket);
    socket.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let busy = false;
    let idleTimer = null;
    let closing = false;
    const armIdle = () => {
      if (cfg.idleCloseMs === undefined) return;
      idleTimer = setTimeout(() => {
        closing = true;
        stats.idleCloses++;
        if (cfg.idleCloseMode === 'rst') { stats.resets++; socket.resetAndDestroy(); } else socket.destroy();
      }, cfg.idleCloseMs);
    };
    socket.on('close', () => clearTimeout(idleTimer));
    socket.on('data', (d) => {
      if (closing) return;
      if (idleTimer) { clearTimeout(idleTimer); idleTimer = null; }
      const resetAll = cfg.resetFromRequest !== undefined && stats.served >= cfg.resetFromRequest;
      if (!busy && buf.length === 0 && ((cfg.resetOnReuse && rec.requests > 0) || resetAll)) {
        closing = true; stats.resets++; socket.resetAndDestroy(); return;
      }
      buf = Buffer.concat([buf, d]);
      pump();
    });
    function pump() {
      if (busy || closing) return;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const [method, target] = lines[0].split(' ');
      const headers = {};
      for (const l of lines.slice(1)) { const i = l.indexOf(':'); headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim(); }
      let rest = buf.subarray(end + 4);
      let consumed;
      let bodyLen = 0;
      if ((headers['transfer-encoding'] ?? '').toLowerCase() === 'chunked') {
        let p = 0;
        for (;;) {
          const le = rest.indexOf('\r\n', p);
          if (le < 0) return;
          const size = parseInt(rest.subarray(p, le).toString('latin1'), 16);
          if (size === 0) { const te = rest.indexOf('\r\n\r\n', le - 2); if (te < 0) return; consumed = te + 4; break; }
          if (rest.length < le + 2 + size + 2) return;
          bodyLen += size;
          p = le + 2 + size + 2;
        }
      } else {
        const len = Number(headers['content-length'] ?? 0);
        if (rest.length < len) return;
        consumed = len;
        bodyLen = len;
      }
      buf = rest.subarray(consumed);
      busy = true;
      rec.requests++;
      stats.served++;
      execute(method, target, headers);
      if (headers.upgrade !== undefined) {
        // Echo protocol: after the 101, every byte comes back.
        closing = true;
        socket.removeAllListeners('data');
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: ' + headers.upgrade + '\r\nConnection: Upgrade\r\n\r\n');
        if (buf.length > 0) socket.write(buf);
        socket.on('data', (d) => socket.write(d));
        socket.on('end', () => socket.end());
        return;
      }
      const delay = Number(headers['x-delay-ms'] ?? cfg.delayMs ?? 0);
      const n = headers['x-body-bytes'] !== undefined ? Number(headers['x-body-bytes']) : cfg.bodyBytes;
      const respond = () => respondTo(method, n, bodyLen, () => {
        busy = false;
        if (cfg.closeAfterResponse || cfg.framing === 'close') { closing = true; socket.end(); return; }
        if (buf.length > 0) return pump();
        armIdle();
        if (cfg.unsolicitedAfterMs !== undefined) {
          setTimeout(() => { if (!busy && !socket.destroyed) socket.write('HTTP/1.1 200 OK\r\n\r\n'); }, cfg.unsolicitedAfterMs);
        }
      });
      if (delay > 0) setTimeout(respond, delay); else respond();
    }
    function respondTo(method, n, bodyLen, done) {
      if (socket.destroyed) return;
      const b = body(cfg.trickle ? cfg.trickle.chunkBytes * cfg.trickle.chunks : n);
      if (cfg.rawResponse !== undefined) { socket.end(cfg.rawResponse); return; }
      if (cfg.informational) socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n');
      const head = ['HTTP/' + (cfg.httpVersion ?? '1.1') + ' 200 OK', 'Content-Type: text/plain', 'X-Upstream-Conn: ' + rec.id, 'X-Request-Body-Bytes: ' + bodyLen];
      const framing = cfg.framing ?? 'length';
      if (framing === 'length') head.push('Content-Length: ' + b.length);
      if (framing === 'chunked') head.push('Transfer-Encoding: chunked');
      if (cfg.connectionHeader !== undefined) head.push('Connection: ' + cfg.connectionHeader);
      if (cfg.keepAliveHeader !== undefined) head.push('Keep-Alive: ' + cfg.keepAliveHeader);
      const headBuf = Buffer.from(head.join('\r\n') + '\r\n\r\n', 'latin1');
      const noBody = method === 'HEAD';
      if (cfg.trickle && !noBody) {
        socket.write(headBuf);
        let i = 0;
        const tick = () => {
          if (socket.destroyed) return;
          socket.write(b.subarray(i * cfg.trickle.chunkBytes, (i + 1) * cfg.trickle.chunkBytes));
          rec.bodyBytesWritten += cfg.trickle.chunkBytes;
          if (++i < cfg.trickle.chunks) setTimeout(tick, cfg.trickle.intervalMs); else done();
        };
        tick();
        return;
      }
      if (noBody) { socket.write(headBuf); return done(); }
      rec.bodyBytesWritten += b.length;
      if (framing === 'chunked') {
        socket.write(Buffer.concat([headBuf, Buffer.from(b.length.toString(16) + '\r\n'), b, Buffer.from('\r\n0\r\n\r\n')]));
      } else socket.write(Buffer.concat([headBuf, b]));
      done();
    }
  };
  return cfg.tls ? tls.createServer({ cert: cfg.tls.cert, key: cfg.tls.key }, listener) : net.createServer(listener);
}

function nodeHttpServer() {
  const server = http.createServer((req, res) => {
    stats.served++;
    req.resume();
    req.on('end', () => {
      execute(req.method, req.url, req.headers);
      if (req.socket.rec) req.socket.rec.requests++;
      const b = body(cfg.bodyBytes);
      if (req.socket.rec) req.socket.rec.bodyBytesWritten += b.length;
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('Content-Length', b.length);
      res.end(b);
    });
  });
  if (cfg.keepAliveTimeout !== undefined) server.keepAliveTimeout = cfg.keepAliveTimeout;
  server.on('connection', (socket) => { socket.rec = track(socket); });
  return server;
}

const server = cfg.kind === 'node-http' ? nodeHttpServer() : rawServer();
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ type: 'listening', port: server.address().port }) + '\n');
});
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  input += d;
  let i;
  while ((i = input.indexOf('\n')) >= 0) {
    const msg = JSON.parse(input.slice(0, i));
    input = input.slice(i + 1);
    if (msg.cmd === 'stats') process.stdout.write(JSON.stringify({ type: 'reply', id: msg.id, stats }) + '\n');
  }
});
process.stdin.on('end', () => process.exit(0));
`;

const PYTHON_SCRIPT = `
import sys
from http.server import HTTPServer, BaseHTTPRequestHandler
n = int(sys.argv[1])
payload = bytes(97 + (i % 26) for i in range(n))
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain')
        self.end_headers()
        self.wfile.write(payload)
    def log_message(self, *args):
        pass
s = HTTPServer(('127.0.0.1', 0), H)
print('{"type":"listening","port":%d}' % s.server_port, flush=True)
s.serve_forever()
`;

let scriptDir: string | undefined;
function scriptPath(name: string, source: string): string {
  scriptDir ??= mkdtempSync(join(tmpdir(), 'tether-upstreams-'));
  const path = join(scriptDir, name);
  writeFileSync(path, source);
  return path;
}

/** True when `cmd` is on PATH (tests that need Python say so when it is not). */
export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Starts an upstream server process and resolves once it listens. */
export async function startUpstream(behaviour: UpstreamBehaviour): Promise<Upstream> {
  const child =
    behaviour.kind === 'python-http10'
      ? spawn('python3', [
          scriptPath('upstream.py', PYTHON_SCRIPT),
          String(behaviour.bodyBytes ?? 2),
        ])
      : spawn('node', [scriptPath('upstream.cjs', SERVER_SCRIPT), JSON.stringify(behaviour)]);
  const scheme = behaviour.kind === 'raw' && behaviour.tls ? 'https' : 'http';
  return await attach(child, behaviour.kind !== 'python-http10', scheme);
}

function attach(child: ChildProcess, hasStats: boolean, scheme: string): Promise<Upstream> {
  const replies = new Map<number, (stats: UpstreamStats) => void>();
  let nextId = 0;
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise<Upstream>((resolve, reject) => {
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      stderr += d;
    });
    child.once('exit', (code) => reject(new Error(`Upstream exited early (${code}): ${stderr}`)));
    child.once('error', reject);
    onJsonLines<{ type: string; port?: number; id?: number; stats?: UpstreamStats }>(
      child.stdout,
      (msg) => {
        if (msg.type === 'listening' && msg.port !== undefined) {
          const port = msg.port;
          resolve({
            port,
            origin: `${scheme}://127.0.0.1:${port}`,
            stats() {
              if (!hasStats) return Promise.reject(new Error('Cannot read stats: not recorded'));
              if (child.stdin === null || child.exitCode !== null) {
                return Promise.reject(new Error('Cannot read stats: upstream is not running'));
              }
              const id = ++nextId;
              return new Promise<UpstreamStats>((res) => {
                replies.set(id, res);
                child.stdin?.write(`${JSON.stringify({ cmd: 'stats', id })}\n`);
              });
            },
            async stop() {
              if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
              await exited;
            },
          });
        } else if (msg.type === 'reply' && msg.id !== undefined && msg.stats) {
          replies.get(msg.id)?.(msg.stats);
          replies.delete(msg.id);
        }
      },
    );
  });
}

/** Removes the temporary directory holding the server scripts. */
export function cleanupUpstreamScripts(): void {
  if (scriptDir) rmSync(scriptDir, { recursive: true, force: true });
  scriptDir = undefined;
}

/** Polls `check` until it returns true, failing after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
