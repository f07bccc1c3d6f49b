import type { ChunkReader, ChunkWriter, Duplex } from '../runtime/index.ts';
import type { Http1Limits, RequestHead, ResponseHead } from './types.ts';

/**
 * Keep-alive towards clients, a three-state setting (DESIGN.md rule 4): 'off' closes after
 * every response, 'timeout' closes a connection idle between requests for `ms`, 'forever'
 * never closes an idle connection. A zero never means forever.
 */
export type KeepAlive = { mode: 'off' } | { mode: 'timeout'; ms: number } | { mode: 'forever' };

export interface IncomingRequest {
  head: RequestHead;
  /** The request body, de-chunked; empty when the request has none. */
  body: ReadableStream<Uint8Array>;
  remoteAddress: string;
  remotePort: number;
  /**
   * Aborted when the client goes away (its side ends or fails) before the response is done;
   * never after: a listener on it need not be removed (test/http1/serve.test.ts). Made on
   * first use.
   */
  readonly signal: AbortSignal;
  /**
   * Runs `fn` once when `signal` aborts, without making the signal: the cheaper way to
   * watch for the client going away on every request (see streams/request-abort.ts). The
   * returned function stops watching; like a listener on `signal`, it need not be called.
   */
  watchAbort(fn: () => void): () => void;
  /**
   * Sends an interim response (102–199, such as 103 Early Hints) ahead of the final
   * one. Dropped for an HTTP/1.0 client (RFC 9110 §15.2) and once the final head is out;
   * 100 Continue stays the engine's (sent when the body is first read). The caller strips
   * hop-by-hop fields.
   */
  informational(head: ResponseHead): Promise<void>;
}

export interface OutgoingResponse {
  head: ResponseHead;
  body: ReadableStream<Uint8Array> | Uint8Array | null;
  /** For 101: called with the raw client connection after the head is written. */
  upgrade?: (client: UpgradedClient) => void | Promise<void>;
  /**
   * For 101: called instead of `upgrade` when the switch cannot happen (the client went
   * away, or left a request body unread), so the handler can release what it holds.
   */
  abandon?: (reason: unknown) => void;
}

/**
 * The client connection after a 101: its bytes as streams (`readable` first read wins) or
 * through the connection's own reader and writes, which cost less per chunk. Use one way
 * of reading and one of writing.
 */
export interface UpgradedClient extends Duplex {
  /** The bytes `readable` would give, without a ReadableStream. */
  reader(): ChunkReader;
  /** `TcpConnection.write`: undefined when the socket took all of `chunk` at once. */
  write(chunk: Uint8Array, borrowed?: boolean): Promise<void> | undefined;
  /** `TcpConnection.writer`: `write()` as a ChunkWriter, whose close half-closes. */
  writer(): ChunkWriter;
  /** Closes both directions now. */
  close(): void;
  /** Settles once the socket is fully closed. */
  readonly closed: Promise<void>;
}

export interface ServeHttp1Options {
  keepAlive: KeepAlive;
  limits?: Http1Limits;
  onError?(err: unknown): void;
  /** Stop reusing connections (drain): after the current response, send Connection: close. */
  closing?: () => boolean;
  /**
   * Drain: once aborted, a connection idle between requests closes at once (gracefully),
   * and a busy one sends Connection: close with its current response.
   */
  drainSignal?: AbortSignal;
  /**
   * Once the first byte of a request head has arrived, the whole head must arrive within
   * this many ms, else 408 and close (slow-head clients hold a connection and a buffer;
   * Go calls this ReadHeaderTimeout). 0 or absent: no limit. Bodies are never timed.
   */
  headTimeout?: number;
}
