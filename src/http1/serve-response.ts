/**
 * Response heads as the server loop writes them: framing chosen so that every response is
 * delimited (Content-Length, chunked, or Connection: close — DESIGN.md rule 4), and the
 * connection headers of this hop set by the engine, never by the handler.
 *
 * @module
 */
import { concatBytes } from './concat.ts';
import { equalsLower, getHeaders, isHopByHopName, trimOws } from './headers.ts';
import type { HttpError } from './http-error.ts';
import { serializeResponseHead } from './serialize.ts';
import type { KeepAlive } from './serve-types.ts';
import type { BodyFraming, HeaderList, RequestHead, ResponseHead } from './types.ts';

/**
 * Fields the engine owns on its own hop: Connection, Keep-Alive, Proxy-Connection and
 * Transfer-Encoding, the hop-by-hop names of 10 letters or more (TE, Upgrade and Trailer,
 * the shorter ones, stay as the handler set them).
 */
function isEngineOwned(name: string): boolean {
  return name.length >= 10 && isHopByHopName(name);
}

export interface PlannedResponse {
  head: ResponseHead;
  framing: BodyFraming;
  /** False when this response must end the connection (close-delimited body). */
  persistent: boolean;
}

/**
 * Decides framing and connection fields of a final response to `request`. `persistent` is
 * the caller's wish; it turns false when only closing can delimit the body.
 */
export function planResponse(
  request: RequestHead,
  response: ResponseHead,
  body: ReadableStream<Uint8Array> | Uint8Array | null,
  persistent: boolean,
  keepAlive: KeepAlive,
): PlannedResponse {
  const { status } = response;
  const headers: HeaderList = [];
  for (const field of response.headers) if (!isEngineOwned(field[0])) headers.push(field);
  let framing: BodyFraming;
  if (request.method === 'HEAD' || status === 304) {
    // RFC 9110 §9.3.2, §15.4.5: Content-Length, if any, describes the GET response.
    framing = { kind: 'none' };
    if (body instanceof Uint8Array && declaredLength(headers) === undefined && status !== 304) {
      removeField(headers, 'content-length');
      headers.push(['Content-Length', String(body.length)]);
    }
  } else if (status < 200 || status === 204) {
    // RFC 9110 §8.6: no Content-Length on 1xx and 204.
    framing = { kind: 'none' };
    removeField(headers, 'content-length');
  } else if (body === null || body instanceof Uint8Array) {
    framing = { kind: 'length', length: body?.length ?? 0 };
    removeField(headers, 'content-length');
    headers.push(['Content-Length', String(framing.length)]);
  } else {
    const declared = declaredLength(response.headers);
    removeField(headers, 'content-length');
    if (declared !== undefined) {
      framing = { kind: 'length', length: declared };
      headers.push(['Content-Length', String(declared)]);
    } else if (request.minor === 1) {
      framing = { kind: 'chunked' };
      headers.push(['Transfer-Encoding', 'chunked']);
    } else {
      // An HTTP/1.0 client knows no chunked: the close delimits the body (RFC 9112 §6.3).
      framing = { kind: 'close' };
      persistent = false;
    }
  }
  if (!persistent) {
    headers.push(['Connection', 'close']);
  } else {
    if (request.minor === 0) headers.push(['Connection', 'keep-alive']);
    if (keepAlive.mode === 'timeout') {
      headers.push(['Keep-Alive', `timeout=${Math.floor(keepAlive.ms / 1000)}`]);
    }
  }
  return { head: { status, reason: response.reason, minor: 1, headers }, framing, persistent };
}

/** A single valid Content-Length (identical repeats allowed), else undefined. */
function declaredLength(headers: HeaderList): number | undefined {
  let length: number | undefined;
  for (const value of getHeaders(headers, 'content-length')) {
    for (const part of value.split(',')) {
      const s = trimOws(part);
      if (s.length === 0 || s.length > 15 || !/^[0-9]+$/.test(s)) return undefined;
      const n = Number(s);
      if (length !== undefined && n !== length) return undefined;
      length = n;
    }
  }
  return length;
}

function removeField(headers: HeaderList, lower: string): void {
  for (let i = headers.length - 1; i >= 0; i--) {
    if (equalsLower(headers[i]![0], lower)) headers.splice(i, 1);
  }
}

const reasons: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Content Too Large',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

/** The usual reason phrase of `status`, or '' (RFC 9112 §4 allows an empty one). */
export function reasonPhrase(status: number): string {
  return reasons[status] ?? '';
}

/** A complete `{"error": …}` response that closes the connection. */
export function errorResponse(
  error: Pick<HttpError, 'status' | 'message'> & { readonly code?: string },
): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify({ error: error.message }));
  const headers: HeaderList = [
    ['Content-Type', 'application/json'],
    ['Content-Length', String(body.length)],
    ['Connection', 'close'],
  ];
  // The same machine-readable code the proxy's own errors carry (README, Errors).
  if (error.code !== undefined) headers.push(['tether-error', error.code]);
  const head = serializeResponseHead({
    status: error.status,
    reason: reasonPhrase(error.status),
    minor: 1,
    headers,
  });
  return concatBytes([head, body]);
}
