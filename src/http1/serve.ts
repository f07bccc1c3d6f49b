/**
 * The HTTP/1.1 server loop for one client connection: tether serves its proxy port itself,
 * over runtime TCP, to control keep-alive, framing, limits and upgrades.
 *
 * Choices, in short:
 * - Requests are served one at a time; a pipelined request waits for the previous response.
 * - `Expect: 100-continue`: `100 Continue` is sent when the handler first reads the body;
 *   a handler that answers without reading it gets its response sent and the connection
 *   closed (the client may or may not send the body; only closing is unambiguous).
 * - A body the handler left unread is drained up to 64 KiB after the response, else the
 *   connection is closed: leftover body bytes are never parsed as a request.
 * - The client is gone when its side ends (EOF, even a half-close, as nginx treats it) or
 *   fails while a request is in progress: `IncomingRequest.signal` aborts. Bytes the client
 *   sends meanwhile are buffered (64 KiB at most) while watching.
 * - No deadline of any kind applies while a request is in progress; only the keep-alive
 *   idle time between requests (no bytes at all) closes a connection.
 * - Closing is staged (RFC 9112 §9.6): FIN after the last response, then read and discard
 *   for a short while before the socket is released, so unread input does not turn the
 *   close into a reset that destroys the response.
 *
 * @module
 */
import type { TcpConnection } from '../runtime/index.ts';
import { RequestAbort } from '../streams/index.ts';
import { ByteReader } from './byte-reader.ts';
import { ClientWatch } from './client-watch.ts';
import { concatBytes } from './concat.ts';
import { isBodiless, requestFraming } from './framing.ts';
import { getHeader, isPersistent } from './headers.ts';
import { HttpError } from './http-error.ts';
import { KeepAliveWait } from './keep-alive-wait.ts';
import { RequestBody } from './request-body.ts';
import { serializeResponseHead } from './serialize.ts';
import { errorResponse, planResponse } from './serve-response.ts';
import type {
  IncomingRequest,
  OutgoingResponse,
  ServeHttp1Options,
  UpgradedClient,
} from './serve-types.ts';
import { ServedRequest } from './served-request.ts';
import { defaultLimits, type Http1Limits, type RequestHead } from './types.ts';
import { type BodyWriter, writeBody } from './write-body.ts';

const continueHead = new TextEncoder().encode('HTTP/1.1 100 Continue\r\n\r\n');
/** How long a closing connection keeps reading before it is released (staged close). */
const lingerMs = 1000;
/** Input read and discarded at most while lingering. */
const lingerBytes = 256 * 1024;

/** Bodies up to this size given as bytes are written together with the head. */
const inlineBody = 65536;

type Outcome = 'keep' | 'close' | 'abort' | 'upgraded';

/** Serves requests on `conn` until it closes; resolves when the connection is done. */
export async function serveHttp1(
  conn: TcpConnection,
  handler: (req: IncomingRequest) => Promise<OutgoingResponse>,
  options: ServeHttp1Options,
): Promise<void> {
  const limits = options.limits ?? defaultLimits;
  // The connection's own reader and writes, no web streams: a stream read and write per
  // request cost the server about 1 µs of a small request (Bun, docs/performance.md).
  const reader = new ByteReader(conn.reader());
  const writer: BodyWriter = { write: (chunk) => conn.write(chunk) };
  const watch = new ClientWatch(reader);
  const between = new KeepAliveWait(options.keepAlive, options.drainSignal);
  let outcome: Outcome = 'close';
  try {
    for (;;) {
      const ready = await between.next(reader);
      if (ready !== 'data') break;
      let head: RequestHead | null;
      try {
        head = await readHead(reader, limits, options.headTimeout ?? 0);
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        await writer.write(errorResponse(error));
        if (error.code === 'head-timeout') {
          // The rest of that head may still be trickling in: do not linger for it.
          outcome = 'abort';
          await conn.writable.close().catch(() => {});
        }
        break;
      }
      if (head === null) break;
      outcome = await serveOne(conn, reader, writer, watch, head, handler, options);
      if (outcome !== 'keep') break;
    }
  } catch (error) {
    outcome = 'abort';
    options.onError?.(error);
  }
  between.close();
  if (outcome === 'upgraded') return;
  if (outcome === 'abort') conn.close();
  else await closeGracefully(conn, reader);
}

async function serveOne(
  conn: TcpConnection,
  reader: ByteReader,
  writer: BodyWriter,
  watch: ClientWatch,
  head: RequestHead,
  handler: (req: IncomingRequest) => Promise<OutgoingResponse>,
  options: ServeHttp1Options,
): Promise<Outcome> {
  let framing: ReturnType<typeof requestFraming>;
  try {
    framing = requestFraming(head);
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    await writer.write(errorResponse(error));
    return 'close';
  }
  // Content-Length: 0 is no body too: nothing to ask permission for (no 100 Continue), and
  // nothing left unread that would end the connection.
  const bodiless = isBodiless(framing);
  const expectsContinue =
    head.minor === 1 &&
    !bodiless &&
    getHeader(head.headers, 'expect')?.toLowerCase() === '100-continue';
  // No body (most requests): nothing to stream, and no stream is built unless asked for.
  let inner: ReadableStream<Uint8Array> | null = null;
  if (bodiless) reader.takeBufferedBody(framing);
  else inner = reader.body(framing, options.limits ?? defaultLimits);
  const body: RequestBody = new RequestBody(
    inner,
    // Too late once the final head is out: the client then sends the body unprompted.
    expectsContinue ? async () => (req.headWritten ? undefined : writer.write(continueHead)) : null,
  );
  const abort = new RequestAbort();
  const req: ServedRequest = new ServedRequest(
    head,
    conn.remoteAddress,
    conn.remotePort,
    body,
    abort,
    writer,
  );
  // The watch lets go of the request once it is done, so the handler's listeners on the
  // signal (which need not be removed, see IncomingRequest) are not kept alive through an
  // idle keep-alive connection.
  watch.start(abort, body);
  try {
    let response: OutgoingResponse;
    try {
      response = await handler(req);
    } catch (error) {
      options.onError?.(error);
      if (abort.aborted) return 'abort';
      await writer.write(errorResponse({ status: 500, message: 'Cannot handle request' }));
      body.cancel();
      return 'close';
    }
    if (abort.aborted) {
      await cancelBody(response.body);
      return 'abort';
    }
    if (response.head.status === 101 && response.upgrade) {
      watch.stop();
      req.headWritten = true;
      return await upgrade(conn, reader, writer, body, response);
    }
    if (response.head.status < 200) {
      await cancelBody(response.body);
      throw new RangeError(`Cannot send response: status ${response.head.status} is not final`);
    }
    const wanted =
      options.keepAlive.mode !== 'off' &&
      // A CONNECT not answered with a tunnel: what the client sent after it (perhaps at
      // once, RFC 9110 §9.3.6) was meant for the tunnel, never a next request.
      head.method !== 'CONNECT' &&
      isPersistent(head) &&
      !(options.closing?.() ?? false) &&
      !options.drainSignal?.aborted &&
      (body.done || body.continueSent);
    const plan = planResponse(head, response.head, response.body, wanted, options.keepAlive);
    req.headWritten = true;
    const headBytes = serializeResponseHead(plan.head);
    const out = response.body;
    const inline =
      out instanceof Uint8Array && plan.framing.kind === 'length' && out.length <= inlineBody;
    if (inline) {
      // Head and a small body in one write: one segment, one syscall.
      const sent = conn.write(concatBytes([headBytes, out]));
      if (sent !== undefined) await sent;
    } else {
      await writer.write(headBytes);
    }
    try {
      if (!inline) await writeBody(writer, out, plan.framing, abort.signal);
    } catch (error) {
      // The response cannot be completed: only an abrupt close tells the client so.
      if (!abort.aborted) options.onError?.(error);
      return 'abort';
    }
    watch.stop();
    if (!plan.persistent) {
      body.cancel();
      return 'close';
    }
    if (!(await body.drain())) return 'close';
    return 'keep';
  } finally {
    watch.stop();
  }
}

async function upgrade(
  conn: TcpConnection,
  reader: ByteReader,
  writer: BodyWriter,
  body: RequestBody,
  response: OutgoingResponse,
): Promise<Outcome> {
  try {
    // Bytes of an unfinished request body would be mistaken for the upgraded protocol's.
    if (!body.done && !(await body.drain())) {
      throw new TypeError('Cannot upgrade: the request body was not read to its end');
    }
    await writer.write(serializeResponseHead({ ...response.head, minor: 1 }));
  } catch (error) {
    response.abandon?.(error);
    throw error;
  }
  await response.upgrade!(upgradedClient(conn, reader));
  return 'upgraded';
}

/**
 * The connection as the upgraded protocol gets it. Built apart from the request's scope: its
 * functions live as long as the connection, and must not keep the request, its body and the
 * handler's response alive with them (about 100 objects per idle agent on the upstream port).
 */
function upgradedClient(conn: TcpConnection, reader: ByteReader): UpgradedClient {
  const bytes = reader.handOver();
  return {
    get readable() {
      return bytes.readable;
    },
    // Asked for only when used: a Bun connection makes its web streams on first use.
    get writable() {
      return conn.writable;
    },
    reader: () => bytes.reader(),
    write: (chunk, borrowed) => conn.write(chunk, borrowed),
    writer: () => conn.writer(),
    close: () => conn.close(),
    closed: conn.closed,
  };
}

/** Reads a request head, failing with 408 when it takes longer than `ms` (0 = no limit). */
async function readHead(
  reader: ByteReader,
  limits: Http1Limits,
  ms: number,
): Promise<RequestHead | null> {
  // Usually the whole head came in one read: no timer for what cannot stall. Asked before
  // the read starts, since reading a buffered head consumes it at once.
  if (ms <= 0 || reader.headBuffered) return reader.readRequestHead(limits);
  const reading = reader.readRequestHead(limits);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new HttpError(408, 'head-timeout', `Request head not complete within ${ms} ms`)),
      ms,
    );
  });
  reading.catch(() => {}); // settles when the connection closes after a timeout
  try {
    return await Promise.race([reading, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function closeGracefully(conn: TcpConnection, reader: ByteReader): Promise<void> {
  try {
    // FIN once every response byte is out (the connection orders it after them).
    await conn.writable.close();
  } catch {
    conn.close();
    return;
  }
  const timer = setTimeout(() => conn.close(), lingerMs);
  try {
    while (reader.bufferedBytes <= lingerBytes && (await reader.readMore()) === 'data') {}
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}

async function cancelBody(body: OutgoingResponse['body']): Promise<void> {
  if (body instanceof ReadableStream) await body.cancel().catch(() => {});
}
