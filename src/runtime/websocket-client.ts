/**
 * WebSocket client on the global `WebSocket`, shared by both adapters; each passes how to
 * build the socket and the fetch options for its TLS settings.
 *
 * The global WebSocket hides the HTTP status and body of a refused handshake. A server
 * such as tether or Piko answers auth errors before the upgrade (401 with
 * `{"error": "..."}`), so after a failed handshake one plain GET to the same URL, with the
 * same headers, learns them.
 *
 * @module
 */

import { abortReason, describeSocketError } from './errors.ts';
import {
  type TlsClientOptions,
  type WebSocketConn,
  type WebSocketConnectOptions,
  WebSocketHandshakeError,
} from './types.ts';
import { HandshakeClose, StandardWebSocketConn } from './websocket-conn.ts';

const PROBE_TIMEOUT_MS = 5000;
const PROBE_BODY_LIMIT = 64 * 1024;

export interface WebSocketClientPlatform {
  /** The runtime's client is done with a sent array when send() returns. */
  readonly sendCopies: boolean;
  create(
    url: string,
    protocols: string[],
    headers: Record<string, string>,
    tls?: TlsClientOptions,
  ): {
    ws: WebSocket;
    /** Frees what `create` allocated (Deno's HTTP client) once the socket is closed. */
    dispose?(): void;
  };
  /** Extra `fetch` init for these TLS settings, and how to free it. */
  fetchInit(tls?: TlsClientOptions): { init: RequestInit; dispose?(): void };
}

export async function connectWebSocket(
  platform: WebSocketClientPlatform,
  url: string,
  options: WebSocketConnectOptions,
): Promise<WebSocketConn> {
  const { headers = {}, protocols = [], tls, signal, handlers } = options;
  if (signal?.aborted) throw abortReason(signal);
  const { ws, dispose } = platform.create(url, [...protocols], headers, tls);
  const wrapped: typeof handlers = {
    ...handlers,
    close(conn, code, reason) {
      dispose?.();
      handlers.close(conn, code, reason);
    },
  };
  const conn = new StandardWebSocketConn(ws, wrapped, new URL(url).hostname, platform.sendCopies);
  const onAbort = () => ws.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await conn.opened;
    return conn;
  } catch (error) {
    dispose?.();
    if (signal?.aborted) throw abortReason(signal);
    throw await handshakeError(platform, url, headers, tls, error);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

async function handshakeError(
  platform: WebSocketClientPlatform,
  url: string,
  headers: Record<string, string>,
  tls: TlsClientOptions | undefined,
  error: unknown,
): Promise<WebSocketHandshakeError> {
  const detail = error instanceof HandshakeClose ? error.message : describeSocketError(error);
  const probeUrl = url.replace(/^ws(s?):/i, 'http$1:');
  const { init, dispose } = platform.fetchInit(tls);
  try {
    const response = await fetch(probeUrl, {
      ...init,
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    const body = await readLimited(response);
    return new WebSocketHandshakeError(
      `Cannot open WebSocket to ${url}: server answered ${response.status}`,
      response.status,
      body,
      { cause: error },
    );
  } catch (probeError) {
    return new WebSocketHandshakeError(
      `Cannot open WebSocket to ${url}: ${describeProbeFailure(probeError, detail)}`,
      undefined,
      '',
      { cause: error },
    );
  } finally {
    dispose?.();
  }
}

/** The probe's own failure says more (connection refused) than the socket's close event. */
function describeProbeFailure(probeError: unknown, detail: string): string {
  let cause: unknown = probeError;
  while (cause instanceof Error && cause.cause !== undefined) cause = cause.cause;
  const reason = describeSocketError(cause);
  if (/refused/i.test(reason) || /refused/i.test(String(probeError))) return 'connection refused';
  return detail || reason;
}

async function readLimited(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  try {
    while (bytes < PROBE_BODY_LIMIT) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return text + decoder.decode();
}
