import {
  ByteReader,
  chunkedEncoder,
  concatBytes,
  equalsLower,
  getHeader,
  type HeaderList,
  HttpError,
  type ResponseHead,
  reasonPhrase,
  requestFraming,
  responseFraming,
  serializeResponseHead,
  stripHopByHop,
  tunnelHopLimits,
  upgradedDuplex,
} from '../http1/index.ts';
import type { Logger } from '../log/index.ts';
import { type Origin, UpstreamError, type UpstreamPool } from '../pool/index.ts';
import { pump, pumpBoth, RequestAbort } from '../streams/index.ts';
import type { Stream } from '../tunnel/index.ts';

/**
 * Serves one tunnel stream: reads the HTTP/1.1 request the server wrote, sends it to the
 * upstream through the pool, writes the response back and closes the stream (one request
 * per stream). When the server resets the stream (the client left), the upstream request
 * is aborted and its connection is not pooled.
 */
export async function forwardHttpStream(
  stream: Stream,
  origin: Origin,
  pool: UpstreamPool,
  log: Logger,
): Promise<void> {
  const reader = new ByteReader(stream.reader());
  let finished = false;
  const abort = new RequestAbort();
  stream.onClosed(() => {
    if (!finished) abort.abort(new Error('stream reset by server'));
  });
  try {
    // The server added forwarding fields to a head it had checked: allow for them.
    const head = await reader.readRequestHead(tunnelHopLimits).catch((error: unknown) => {
      if (error instanceof HttpError) throw error;
      return null;
    });
    if (head === null) return;
    const upgrade = getHeader(head.headers, 'upgrade') !== undefined;
    const framing = requestFraming(head);
    const headers: HeaderList = stripHopByHop(head.headers);
    fillEmptyHost(headers, origin);
    if (upgrade) {
      headers.push(
        ['Connection', 'Upgrade'],
        ['Upgrade', getHeader(head.headers, 'upgrade') ?? ''],
      );
    }
    const response = await pool.request(
      origin,
      {
        method: head.method,
        target: head.target,
        headers: withoutContentLength(headers),
        body: framing.kind === 'none' ? null : reader.body(framing),
        ...(framing.kind === 'length' ? { bodyLength: framing.length } : {}),
      },
      {
        abort,
        // 103 Early Hints and the like go on as they come, each its own head on the stream.
        onInformational: (interim) =>
          writeHead(stream, { ...interim, headers: stripHopByHop(interim.headers) }),
      },
    );

    if (response.upgraded && response.head.status === 101) {
      // The stream's own writer and reader: no web stream per chunk of a WebSocket.
      const writer = stream.writer();
      const upgraded = response.upgraded;
      try {
        await writer.write(serializeResponseHead(response.head));
      } catch (error) {
        // The pool let go of the connection with the 101: nobody else would close it.
        upgraded.writable.abort(error).catch(() => {});
        throw error;
      }
      const tunnel = upgradedDuplex(reader, {
        get writable() {
          return stream.writable;
        },
        writer: () => writer,
      });
      if ((await pumpBoth(tunnel, upgraded)) !== undefined) stream.reset();
      return;
    }

    const bodyFraming = responseFraming(response.head, head.method);
    // A body framed by length gets its Content-Length below: the upstream's own would be a
    // second one. Without a body (HEAD, 304) the upstream's describes the GET and stays.
    const stripped = stripHopByHop(response.head.headers);
    const out = bodyFraming.kind === 'length' ? withoutContentLength(stripped) : stripped;
    out.push(['Connection', 'close']);
    if (bodyFraming.kind === 'length') out.push(['Content-Length', String(bodyFraming.length)]);
    const { status, reason } = response.head;
    if (response.whole !== undefined) {
      // The body came with the head: head, body and FIN leave in one frame. Nothing waits
      // for it: a stream the server reset meanwhile (its client left) needs nothing more.
      const headBytes = serializeResponseHead({ status, reason, minor: 1, headers: out });
      finished = true;
      stream.endWith(concatBytes([headBytes, response.whole]));
      return;
    }
    let body: ReadableStream<Uint8Array> | undefined = response.body;
    if (bodyFraming.kind === 'chunked') {
      out.push(['Transfer-Encoding', 'chunked']);
      body = response.body.pipeThrough(chunkedEncoder());
    } else if (bodyFraming.kind === 'none') {
      await response.body.cancel().catch(() => {});
      body = undefined;
    }
    // 'close': the body ends with our FIN, the server re-frames it for the client.
    const writer = stream.writer();
    await writer.write(serializeResponseHead({ status, reason, minor: 1, headers: out }));
    if (body) await pump(body, { writer: () => writer });
    else await writer.close();
  } catch (error) {
    if (abort.aborted) {
      log.debug('request cancelled: the client went away', { origin: origin.host });
      return;
    }
    await writeError(stream, error, log);
  } finally {
    finished = true;
  }
}

/** `headers` (a fresh list) without its Content-Length fields, removed in place. */
function withoutContentLength(headers: HeaderList): HeaderList {
  for (let i = headers.length - 1; i >= 0; i--) {
    const name = headers[i]![0];
    if (name.length === 14 && equalsLower(name, 'content-length')) headers.splice(i, 1);
  }
  return headers;
}

/**
 * An empty Host (the client named no authority, RFC 9112 §3.2; the server sends one for an
 * HTTP/1.0 request without Host) becomes the upstream's own, as Go's transport does for
 * Piko: what the upstream would see if it were called directly.
 */
function fillEmptyHost(headers: HeaderList, origin: Origin): void {
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    if (name.length !== 4 || !equalsLower(name, 'host')) continue;
    if (value !== '') return;
    const host = origin.host.includes(':') ? `[${origin.host}]` : origin.host;
    const defaultPort = origin.protocol === 'https:' ? 443 : 80;
    headers[i] = [name, origin.port === defaultPort ? host : `${host}:${origin.port}`];
    return;
  }
}

async function writeHead(stream: Stream, head: ResponseHead): Promise<void> {
  const writer = stream.writable.getWriter();
  try {
    await writer.write(serializeResponseHead({ ...head, minor: 1 }));
  } finally {
    writer.releaseLock();
  }
}

async function writeError(stream: Stream, error: unknown, log: Logger) {
  const upstream = error instanceof UpstreamError;
  const status = error instanceof HttpError ? error.status : 502;
  const message =
    upstream || error instanceof HttpError ? (error as Error).message : 'upstream unreachable';
  log.warn('upstream request failed', { error: error as Error });
  const body = new TextEncoder().encode(`${JSON.stringify({ error: message })}\n`);
  const head: ResponseHead = {
    status,
    reason: reasonPhrase(status),
    minor: 1,
    headers: [
      ['Content-Type', 'application/json'],
      ['Content-Length', String(body.length)],
      ['Connection', 'close'],
      [
        'tether-error',
        upstream
          ? (error as UpstreamError).code
          : error instanceof HttpError
            ? error.code
            : 'upstream-unreachable',
      ],
    ],
  };
  try {
    const headBytes = serializeResponseHead(head);
    await stream.end(concatBytes([headBytes, body]));
  } catch {
    // The response had already started, or the stream is gone: a reset tells the server.
    stream.reset();
  }
}
