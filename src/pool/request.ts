import type { BodyFraming, HeaderList } from '../http1/index.ts';
import { connectionTokens, equalsLower, getHeader, isIdempotent, trimOws } from '../http1/index.ts';
import type { PoolConfig } from './config.ts';

/** What the caller asks the pool to send. */
export interface OutgoingRequest {
  method: string;
  target: string;
  /** Host already set and hop-by-hop headers stripped; framing headers are added if missing. */
  headers: HeaderList;
  body: ReadableStream<Uint8Array> | Uint8Array | null;
  /** Known length ⇒ Content-Length, else chunked when a body is present. */
  bodyLength?: number;
}

/** A request ready to write, perhaps more than once. */
export interface PreparedRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: HeaderList;
  readonly body: ReadableStream<Uint8Array> | Uint8Array | null;
  readonly framing: BodyFraming;
  /** The body can be sent again (none, bytes, or buffered). */
  readonly replayable: boolean;
  readonly idempotent: boolean;
  /** The request itself says `Connection: close`: the connection ends after it. */
  readonly close: boolean;
  readonly upgrade: boolean;
}

const NEEDS_LENGTH = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Adds framing headers and, for a streamed body of known length up to replayBufferBytes,
 * buffers it so an idempotent request can be replayed on a fresh connection. Returns a
 * promise only when it has such a body to read.
 */
export function prepareRequest(
  req: OutgoingRequest,
  config: PoolConfig,
): PreparedRequest | Promise<PreparedRequest> {
  // Fields are only ever added here, never changed: a copy of the list is enough.
  const headers: HeaderList = req.headers.slice();
  // One pass for the fields looked at here (this runs for every request).
  let te: string | undefined;
  let rawLength: string | undefined;
  let connection = false;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    if (name.length === 17 && equalsLower(name, 'transfer-encoding')) te ??= value;
    else if (name.length === 14 && equalsLower(name, 'content-length')) rawLength ??= value;
    else if (name.length === 10 && equalsLower(name, 'connection')) connection = true;
  }
  const cl = rawLength === undefined ? undefined : trimOws(rawLength);
  const body = req.body;
  let length = req.bodyLength ?? (body instanceof Uint8Array ? body.byteLength : undefined);
  if (length === undefined && te === undefined && cl !== undefined && /^\d+$/.test(cl)) {
    length = Number(cl);
  }
  if (
    body instanceof ReadableStream &&
    length !== undefined &&
    length <= config.replayBufferBytes
  ) {
    return readAll(body, length).then((bytes) =>
      prepared(req, headers, te, cl, connection, bytes, length),
    );
  }
  return prepared(req, headers, te, cl, connection, body, length);
}

function prepared(
  req: OutgoingRequest,
  headers: HeaderList,
  te: string | undefined,
  cl: string | undefined,
  connection: boolean,
  body: OutgoingRequest['body'],
  length: number | undefined,
): PreparedRequest {
  let framing: BodyFraming = { kind: 'none' };
  if (body !== null) {
    if (te?.toLowerCase().includes('chunked')) framing = { kind: 'chunked' };
    else if (length !== undefined) {
      framing = { kind: 'length', length };
      if (cl === undefined) headers.push(['Content-Length', String(length)]);
    } else {
      framing = { kind: 'chunked' };
      headers.push(['Transfer-Encoding', 'chunked']);
    }
  } else if (cl === undefined && te === undefined && NEEDS_LENGTH.has(req.method.toUpperCase())) {
    headers.push(['Content-Length', '0']);
  }
  const tokens = connection ? connectionTokens(headers) : null;
  return {
    method: req.method,
    target: req.target,
    headers,
    body,
    framing,
    replayable: body === null || body instanceof Uint8Array,
    idempotent: isIdempotent(req.method, headers),
    close: tokens?.has('close') ?? false,
    upgrade: (tokens?.has('upgrade') ?? false) && getHeader(headers, 'upgrade') !== undefined,
  };
}

async function readAll(stream: ReadableStream<Uint8Array>, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let at = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (at + value.byteLength > length) {
      await reader.cancel();
      throw new RangeError(`Request body is longer than its declared length ${length}`);
    }
    out.set(value, at);
    at += value.byteLength;
  }
  if (at !== length) throw new RangeError(`Request body ended after ${at} of ${length} bytes`);
  return out;
}
