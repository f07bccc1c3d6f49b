/**
 * Clients and peers shared by the system tests: a node:http client (it may set Host and
 * has no hidden timeouts in either runtime), raw TCP exchanges, deterministic large
 * payloads with their sha256, and a Bun WebSocket echo upstream in its own process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { onJsonLines, root } from '../_harness/process.ts';

export interface HttpResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  readonly ms: number;
}

export interface HttpOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array;
  /** Fails the request (rejects) after this long; the default 60 s only bounds a hang. */
  readonly timeoutMs?: number;
}

/** One request on a fresh connection through node:http. */
export function httpRequest(url: string, options: HttpOptions = {}): Promise<HttpResult> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('error', reject);
        res.on('end', () =>
          resolvePromise({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            ms: performance.now() - started,
          }),
        );
      },
    );
    req.setTimeout(options.timeoutMs ?? 60_000, () =>
      req.destroy(new Error(`Request to ${url} timed out after ${options.timeoutMs ?? 60_000} ms`)),
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Sends a request to an endpoint through the proxy port, by `x-piko-endpoint`. */
export function viaEndpoint(
  proxyUrl: string,
  endpoint: string,
  options: HttpOptions = {},
): Promise<HttpResult> {
  return httpRequest(proxyUrl, {
    ...options,
    headers: { 'x-piko-endpoint': endpoint, ...options.headers },
  });
}

export interface RawResult {
  /** Every byte received until the peer closed (or the deadline). */
  readonly data: Buffer;
  /** True when the peer closed the connection before the deadline. */
  readonly closed: boolean;
}

/**
 * Writes `bytes` on a new TCP connection and collects what comes back until the peer
 * closes or `ms` passes (then the socket is destroyed and `closed` is false).
 */
export function rawExchange(
  port: number,
  bytes: string | Uint8Array,
  ms = 5_000,
): Promise<RawResult> {
  return new Promise((resolvePromise, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolvePromise({ data: Buffer.concat(chunks), closed: false });
    }, ms);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the answer still counts as closed.
      if (error.code === 'ECONNRESET' && chunks.length > 0) return;
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolvePromise({ data: Buffer.concat(chunks), closed: true });
    });
  });
}

/** A raw HTTP/1.1 response split into its status line, field lines and body. */
export function splitResponse(data: Buffer): {
  text: string;
  status: string;
  fields: string[];
  body: string;
} {
  const text = data.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const lines = text.slice(0, end).split('\r\n');
  return { text, status: lines[0] ?? '', fields: lines.slice(1), body: text.slice(end + 4) };
}

/** Opens a TCP connection and resolves once connected. */
export function tcpConnect(port: number): Promise<Socket> {
  return new Promise((resolvePromise, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolvePromise(socket));
    socket.once('error', reject);
  });
}

/**
 * A deterministic payload of `mib` MiB in 1 MiB chunks (random bytes, each chunk stamped
 * with its index so reordered chunks change the hash), generated lazily.
 */
export function* payloadChunks(mib: number): Generator<Buffer> {
  const base = Buffer.alloc(1024 * 1024);
  let x = 0x9e3779b9;
  for (let i = 0; i < base.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    base.writeUInt32LE(x >>> 0, i);
  }
  for (let i = 0; i < mib; i++) {
    const chunk = Buffer.from(base);
    chunk.writeUInt32LE(i, 0);
    chunk.writeUInt32LE(i, 512 * 1024);
    yield chunk;
  }
}

/** The sha256 (hex) of {@link payloadChunks}. */
export function payloadSha256(mib: number): string {
  const hash = createHash('sha256');
  for (const chunk of payloadChunks(mib)) hash.update(chunk);
  return hash.digest('hex');
}

/** Writes a generator's chunks to a node stream, honouring backpressure, then ends it. */
export async function writeAll(
  out: NodeJS.WritableStream & { once(event: 'drain', fn: () => void): unknown },
  chunks: Iterable<Buffer>,
  end = true,
): Promise<void> {
  for (const chunk of chunks) {
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  if (end) out.end();
}

// A Bun.serve WebSocket echo server: echoes text and binary, picks the subprotocol
// `echo.v2` when offered, closes with the code and reason a `close:<code>:<reason>` text
// asks for, and prints each close it receives as a JSON line.
const WS_UPSTREAM = `
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch(req, srv) {
    const offered = (req.headers.get('sec-websocket-protocol') ?? '').split(',').map((s) => s.trim());
    const headers = offered.includes('echo.v2') ? { 'Sec-WebSocket-Protocol': 'echo.v2' } : {};
    if (srv.upgrade(req, { headers, data: { offered } })) return;
    return new Response('expected a WebSocket', { status: 426 });
  },
  websocket: {
    maxPayloadLength: 64 * 1024 * 1024,
    idleTimeout: 0,
    message(ws, msg) {
      if (typeof msg === 'string' && msg.startsWith('close:')) {
        const [, code, reason] = msg.split(':');
        ws.close(Number(code), reason);
        return;
      }
      ws.send(msg);
    },
    close(ws, code, reason) {
      console.log(JSON.stringify({ type: 'closed', code, reason }));
    },
  },
});
console.log(JSON.stringify({ type: 'listening', port: server.port }));
`;

export interface WsUpstream {
  readonly port: number;
  /** Close frames the upstream received, in order. */
  readonly closes: { code: number; reason: string }[];
  stop(): Promise<void>;
}

let scriptDir: string | undefined;

/** Starts the Bun WebSocket echo upstream in its own process. */
export async function startWsUpstream(): Promise<WsUpstream> {
  scriptDir ??= mkdtempSync(join(tmpdir(), 'tether-system-'));
  const script = join(scriptDir, 'ws-upstream.ts');
  writeFileSync(script, WS_UPSTREAM);
  const child: ChildProcess = spawn(resolve(root, 'node_modules', '.bin', 'bun'), [script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const closes: { code: number; reason: string }[] = [];
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const port = await new Promise<number>((resolvePromise, reject) => {
    child.once('exit', (code) => reject(new Error(`WebSocket upstream exited (${code})`)));
    onJsonLines<{ type: string; port?: number; code?: number; reason?: string }>(
      child.stdout,
      (msg) => {
        if (msg.type === 'listening' && msg.port) resolvePromise(msg.port);
        if (msg.type === 'closed') closes.push({ code: msg.code ?? 0, reason: msg.reason ?? '' });
      },
    );
  });
  return {
    port,
    closes,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Removes the temporary scripts folder. */
export function cleanupSupport(): void {
  if (scriptDir) rmSync(scriptDir, { recursive: true, force: true });
  scriptDir = undefined;
}

/** Counts the lines of a process's output that match `pattern`. */
export function countLines(output: string, pattern: RegExp): number {
  return output.split('\n').filter((l) => pattern.test(l)).length;
}
