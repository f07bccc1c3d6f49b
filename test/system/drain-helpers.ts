/**
 * Helpers for the drain, rolling-restart and sd_notify system tests: signals that Deno's
 * child_process reports honestly, a node:http client that tells a complete body from a
 * cut one, and an in-process upstream with slow (chunked) responses and arrival records.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Proc } from '../_harness/process.ts';

/**
 * Sends a signal by pid. Deno's `ChildProcess.kill()` makes the exit event report that
 * signal even when the child handled it and exited 0; `process.kill` does not.
 */
export function signal(proc: Proc, name: 'SIGTERM' | 'SIGINT'): void {
  if (proc.child.pid !== undefined && proc.child.exitCode === null)
    process.kill(proc.child.pid, name);
}

export interface GetResult {
  readonly status: number;
  readonly body: string;
  /** The response ended cleanly (not aborted or reset). */
  readonly complete: boolean;
  readonly error?: string;
  /** Socket-level error code when no response came (ECONNREFUSED, ECONNRESET…). */
  readonly code?: string;
  readonly startedAt: number;
  readonly endedAt: number;
}

/** One GET on a fresh connection; never rejects: failures are in the result. */
export function get(
  url: string,
  headers: Record<string, string>,
  timeoutMs = 60_000,
): Promise<GetResult> {
  const startedAt = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    let status = 0;
    let body = '';
    const done = (extra: Partial<GetResult>) => {
      if (settled) return;
      settled = true;
      resolve({ status, body, complete: false, startedAt, endedAt: Date.now(), ...extra });
    };
    const req = request(url, { headers, agent: false }, (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => done({ complete: res.complete }));
      res.on('aborted', () => done({ error: 'response aborted' }));
      res.on('error', (e) => done({ error: e.message }));
      res.on('close', () =>
        done({ complete: res.complete, ...(res.complete ? {} : { error: 'closed early' }) }),
      );
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) =>
      done({ error: e.message, ...(e.code ? { code: e.code } : {}) }),
    );
    req.end();
  });
}

/** The body a slow upstream sends for `chunks` chunks: exact, so a cut body is visible. */
export function slowBody(id: string, chunks: number): string {
  let s = '';
  for (let i = 0; i < chunks; i++) s += `${id}:${i};`;
  return s;
}

export interface SlowUpstream {
  readonly port: number;
  /** Arrival time (epoch ms) of every request, by x-request-id. */
  readonly arrivals: Map<string, number>;
  close(): Promise<void>;
}

/**
 * An upstream on 127.0.0.1 that answers `/slow?chunks=N&every=MS` with N chunks MS apart
 * (chunked, body from {@link slowBody}), and anything else at once with `ok <id>`.
 */
export async function slowUpstream(): Promise<SlowUpstream> {
  const arrivals = new Map<string, number>();
  const timers = new Set<ReturnType<typeof setInterval>>();
  const server: Server = createServer((req, res) => {
    const id = String(req.headers['x-request-id'] ?? '');
    arrivals.set(id, Date.now());
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/slow') {
      res.end(`ok ${id}`);
      return;
    }
    const chunks = Number(url.searchParams.get('chunks') ?? 3);
    const every = Number(url.searchParams.get('every') ?? 1000);
    res.writeHead(200, { 'content-type': 'text/plain' });
    let i = 0;
    res.write(`${id}:${i++};`);
    const timer = setInterval(() => {
      if (i >= chunks) {
        clearInterval(timer);
        timers.delete(timer);
        res.end();
        return;
      }
      res.write(`${id}:${i++};`);
    }, every);
    timers.add(timer);
    res.on('close', () => {
      clearInterval(timer);
      timers.delete(timer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    arrivals,
    close: () =>
      new Promise<void>((r) => {
        for (const t of timers) clearInterval(t);
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

/** The leading ISO timestamp of the first output line matching `pattern`, as epoch ms. */
export function loggedAt(output: string, pattern: RegExp): number | undefined {
  for (const line of output.split('\n')) {
    if (!pattern.test(line)) continue;
    const ts = /^(\d{4}-\d\d-\d\dT[\d:.]+Z)/.exec(line)?.[1];
    return ts ? Date.parse(ts) : undefined;
  }
  return undefined;
}

export interface WsClient {
  send(text: string): void;
  /** Messages received so far. */
  readonly messages: string[];
  /** Settles with the close code and reason the client saw. */
  readonly closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

/** A WebSocket client from src/runtime (it can send headers, which the global one cannot). */
export async function wsClient(
  url: string,
  headers: Record<string, string> = {},
): Promise<WsClient> {
  const { runtime } = await import('../../src/runtime/index.ts');
  const messages: string[] = [];
  let onClose!: (v: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((r) => {
    onClose = r;
  });
  const decoder = new TextDecoder();
  const ws = await runtime.connectWebSocket(url, {
    headers,
    handlers: {
      message: (_ws, data) => messages.push(typeof data === 'string' ? data : decoder.decode(data)),
      close: (_ws, code, reason) => onClose({ code, reason }),
    },
  });
  return {
    send: (text) => ws.send(new TextEncoder().encode(text)),
    messages,
    closed,
    close: () => ws.close(1000, 'done'),
  };
}

/** A WebSocket echo upstream (binary messages come back as sent). */
export async function wsEchoUpstream(): Promise<{ port: number; close(): Promise<void> }> {
  const { runtime } = await import('../../src/runtime/index.ts');
  const server = await runtime.serve({
    host: '127.0.0.1',
    port: 0,
    fetch: (_req, info) =>
      info.upgrade({
        message: (ws, data) => ws.send(data),
        close: () => {},
      }),
  });
  return { port: server.port, close: () => server.close() };
}

export interface RuntimeUpstream {
  readonly port: number;
  /** Arrival time (epoch ms) of every request and WebSocket handshake, by x-request-id. */
  readonly arrivals: Map<string, number>;
  close(): Promise<void>;
}

/**
 * An upstream on the runtime under test that serves plain requests (`ok <id>`), slow
 * ones (`/slow?chunks=N&every=MS`, body from {@link slowBody}) and WebSocket echo, so
 * one agent target carries all three kinds of load.
 */
export async function mixedUpstream(): Promise<RuntimeUpstream> {
  const { runtime } = await import('../../src/runtime/index.ts');
  const arrivals = new Map<string, number>();
  const encoder = new TextEncoder();
  const server = await runtime.serve({
    host: '127.0.0.1',
    port: 0,
    fetch: (req, info) => {
      const id = req.headers.get('x-request-id') ?? '';
      arrivals.set(id, Date.now());
      if (req.headers.get('upgrade')?.toLowerCase() === 'websocket') {
        return info.upgrade({ message: (ws, data) => ws.send(data), close: () => {} });
      }
      const url = new URL(req.url);
      if (url.pathname !== '/slow') return new Response(`ok ${id}`);
      const chunks = Number(url.searchParams.get('chunks') ?? 3);
      const every = Number(url.searchParams.get('every') ?? 250);
      let timer: ReturnType<typeof setInterval> | undefined;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          let i = 0;
          controller.enqueue(encoder.encode(`${id}:${i++};`));
          timer = setInterval(() => {
            if (i >= chunks) {
              clearInterval(timer);
              controller.close();
              return;
            }
            controller.enqueue(encoder.encode(`${id}:${i++};`));
          }, every);
        },
        cancel: () => clearInterval(timer),
      });
      return new Response(body, { headers: { 'content-type': 'text/plain' } });
    },
  });
  return { port: server.port, arrivals, close: () => server.close() };
}

/** Every leading ISO timestamp of output lines matching `pattern`, as epoch ms. */
export function allLoggedAt(output: string, pattern: RegExp): number[] {
  const times: number[] = [];
  for (const line of output.split('\n')) {
    if (!pattern.test(line)) continue;
    const ts = /^(\d{4}-\d\d-\d\dT[\d:.]+Z)/.exec(line)?.[1];
    if (ts) times.push(Date.parse(ts));
  }
  return times;
}
