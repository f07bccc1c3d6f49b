import type { ResponseHead, UpgradedDuplex } from '../http1/index.ts';
import {
  concatBytes,
  HttpError,
  isPersistent,
  responseFraming,
  serializeRequestHead,
  upgradedDuplex,
  writeBody,
} from '../http1/index.ts';
import type { AbortWatch, RequestAbort } from '../streams/index.ts';
import type { PoolConfig } from './config.ts';
import type { PooledConnection } from './connection.ts';
import { UpstreamError } from './errors.ts';
import { idleTimeoutAfter } from './keep-alive.ts';
import { abortedError } from './origin-pool.ts';
import type { PreparedRequest } from './request.ts';

export interface UpstreamResponse {
  /** The final head: never 1xx, except 101 for an upgrade. */
  head: ResponseHead;
  /** Exactly the body; cancelling it closes the connection (it is not pooled). */
  body: ReadableStream<Uint8Array>;
  /** 101 only: raw bytes both ways with the upstream (streams, or its own reader and writer). */
  upgraded?: UpgradedDuplex;
  /**
   * The whole body, when it had arrived with the head (framed by length) and the
   * connection is already released. `body` then streams the same bytes, made only when
   * asked for: a caller that takes `whole` saves a body stream per small response.
   */
  whole?: Uint8Array;
}

/**
 * The connection failed before any byte of the response arrived: the one case where a
 * request may be retried (when the connection was reused, see pool.ts).
 */
export class EarlyFailure extends Error {
  constructor(
    /** Some of the request may have reached the upstream. */
    readonly written: boolean,
    options?: ErrorOptions,
  ) {
    super('The upstream closed the connection before responding', options);
    this.name = 'EarlyFailure';
  }
}

/** What a caller may pass with one request. */
export interface RequestOptions {
  /** Aborting closes the connection and fails the request (and its body). */
  signal?: AbortSignal;
  /**
   * The same as `signal`, cheaper for a caller that makes many requests: a RequestAbort
   * makes no AbortSignal unless the request needs one (see request-abort.ts). Give one of
   * the two, not both.
   */
  abort?: RequestAbort;
  /**
   * Each interim response (1xx but 100 and 101, such as 103 Early Hints) as it arrives; the
   * final head is read once what it returns has settled.
   */
  onInformational?: (head: ResponseHead) => void | Promise<void>;
}

const INLINE_BODY_BYTES = 65_536;
const settled = Promise.resolve();

/**
 * Sends one request on `conn` and reads the response head. The connection goes back to
 * the pool (through `release`) only once the body has been read to its end, the request
 * was fully written, and the response allows reuse; every other ending closes it.
 */
export async function exchange(
  conn: PooledConnection,
  req: PreparedRequest,
  config: PoolConfig,
  options: RequestOptions,
  abort: AbortWatch | undefined,
  release: (conn: PooledConnection) => void,
): Promise<UpstreamResponse> {
  const { onInformational } = options;
  conn.requests++;
  conn.idleMs = null; // earned again by this response
  if (conn.writer.desiredSize === null) {
    conn.close();
    throw new EarlyFailure(false);
  }
  let aborted = false;
  const onAbort = () => {
    aborted = true;
    conn.close();
  };
  const cleanup = abort === undefined ? noop : abort.watch(onAbort);
  const fail = (err: Error): Error => {
    conn.close();
    cleanup();
    return aborted ? abortedError(abort) : err;
  };

  let writeDone = false;
  let writeError: unknown;
  let responding = false;
  // A request without body is one write, which the socket usually takes whole at once: no
  // promise and no callbacks for it then (they were a measurable part of a small request).
  const writing =
    req.body === null ? conn.socket.write(requestHead(req)) : writeRequest(conn, req, abort);
  let written: Promise<void> = settled;
  if (writing === undefined) writeDone = true;
  else {
    // Never rejects: a failure is kept in writeError.
    written = writing.then(
      () => {
        writeDone = true;
      },
      (err: unknown) => {
        writeError = err ?? new Error('Cannot write request upstream');
        // Before the response starts, a failed write ends the wait for it: the connection
        // closes and the read below sees the end. After, the response is still read.
        if (!responding) conn.close();
      },
    );
  }

  // The first response byte decides whether a failure happened "before the response".
  const first = await conn.reader.waitReadable();
  responding = true;
  if (first !== 'data') {
    const cause = writeError ?? new Error(`Upstream connection ${first}`);
    throw fail(new EarlyFailure(true, { cause }));
  }

  let head: ResponseHead;
  try {
    for (;;) {
      head = await conn.reader.readResponseHead();
      if (head.status >= 200 || head.status === 101) break;
      if (head.status !== 100) await onInformational?.(head);
    }
  } catch (cause) {
    throw fail(responseError(cause, 'Cannot read upstream response head'));
  }

  if (head.status === 101) {
    if (!req.upgrade) {
      throw fail(
        new UpstreamError('bad-response', 'Upstream sent 101 to a request without Upgrade'),
      );
    }
    await written;
    if (writeError !== undefined) {
      throw fail(
        new UpstreamError('upstream-closed', 'Cannot send upgrade request upstream', {
          cause: writeError,
        }),
      );
    }
    cleanup();
    conn.writer.releaseLock();
    const upgraded = upgradedDuplex(conn.reader, conn.socket);
    conn.detach();
    return { head, body: emptyBody(), upgraded };
  }

  let framing: ReturnType<typeof responseFraming>;
  try {
    framing = responseFraming(head, req.method);
  } catch (cause) {
    throw fail(responseError(cause, 'Cannot frame upstream response'));
  }
  const persistent = !req.close && framing.kind !== 'close' && isPersistent(head);
  const idleMs = persistent ? idleTimeoutAfter(head, config) : null;
  let finished = false;
  const finish = (complete: boolean) => {
    if (finished) return;
    finished = true;
    cleanup();
    // A request body still being written (the upstream answered early) ends reuse too.
    if (!complete || aborted || idleMs === null || !writeDone) {
      conn.close();
      return;
    }
    conn.idleMs = idleMs;
    release(conn);
  };

  const whole = conn.reader.takeBufferedBody(framing);
  if (whole !== null) {
    finish(true);
    let body: ReadableStream<Uint8Array> | undefined;
    return {
      head,
      whole,
      get body() {
        body ??= new ReadableStream({
          start(c) {
            if (whole.length > 0) c.enqueue(whole);
            c.close();
          },
        });
        return body;
      },
    };
  }
  const inner = conn.reader.body(framing).getReader();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk: Awaited<ReturnType<typeof inner.read>>;
        try {
          chunk = await inner.read();
        } catch (cause) {
          finish(false);
          controller.error(
            aborted
              ? abortedError(abort)
              : responseError(cause, 'Cannot read upstream response body'),
          );
          return;
        }
        if (aborted) {
          finish(false);
          controller.error(abortedError(abort));
        } else if (chunk.done) {
          controller.close();
          finish(true);
        } else controller.enqueue(chunk.value);
      },
      cancel(reason) {
        finish(false);
        return inner.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
  return { head, body };
}

function requestHead(req: PreparedRequest): Uint8Array {
  return serializeRequestHead({
    method: req.method,
    target: req.target,
    minor: 1,
    headers: req.headers,
  });
}

/** Writes a request: the head straight to the socket, a streamed body after it through the writer. */
async function writeRequest(
  conn: PooledConnection,
  req: PreparedRequest,
  abort: AbortWatch | undefined,
): Promise<void> {
  const head = requestHead(req);
  const body = req.body;
  if (body === null) return conn.socket.write(head);
  if (
    body instanceof Uint8Array &&
    body.byteLength <= INLINE_BODY_BYTES &&
    req.framing.kind === 'length'
  ) {
    // One write, one segment: head and a small body together.
    return conn.socket.write(concatBytes([head, body]));
  }
  await conn.socket.write(head);
  // A body is the one part of a request that needs a real AbortSignal.
  await writeBody(conn.writer, body, req.framing, abort?.signal);
}

function responseError(cause: unknown, what: string): UpstreamError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return cause instanceof HttpError
    ? new UpstreamError('bad-response', `${what}: ${detail}`, { cause })
    : new UpstreamError('upstream-closed', `${what}: ${detail}`, { cause });
}

function noop(): void {}

function emptyBody(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (c) => c.close() });
}
