/**
 * The one seam between tether and its JavaScript runtime. Everything above `src/runtime/`
 * speaks web standards plus these interfaces; only `bun.ts` and `deno.ts` touch the
 * `Bun` and `Deno` globals.
 *
 * @module
 */

/** A bidirectional byte stream: a TCP or TLS connection, or a tunnel stream. */
export interface Duplex {
  readonly readable: ReadableStream<Uint8Array>;
  /** Closing the writable half-closes the connection (FIN); aborting it closes at once. */
  readonly writable: WritableStream<Uint8Array>;
}

/**
 * The part of a `ReadableStreamDefaultReader` that byte readers use. A ReadableStream's
 * reader is one; so are a connection's and a tunnel stream's `reader()`, which read the same
 * bytes without building a ReadableStream.
 */
export interface ChunkReader {
  read(): Promise<{ done: false; value: Uint8Array } | { done: true; value?: undefined }>;
  cancel(reason?: unknown): Promise<void>;
  releaseLock(): void;
}

/**
 * The part of a `WritableStreamDefaultWriter` that relays use; a connection's and a tunnel
 * stream's `writer()` write the same bytes without a WritableStream's promise machinery per
 * chunk (a relay writes every chunk of an upgraded stream).
 */
export interface ChunkWriter {
  /** Undefined when the bytes were taken at once, else a promise that settles when they are. */
  write(chunk: Uint8Array): Promise<void> | undefined;
  /** Half-closes (FIN) after every byte written before. */
  close(): Promise<void>;
  /** Closes or resets at once; what is not written yet is lost. */
  abort(reason?: unknown): Promise<void>;
}

export interface TcpConnection extends Duplex {
  /**
   * The bytes `readable` would give, read without a ReadableStream (the HTTP/1.1 server
   * loop reads every request this way: a stream read per request was measurable). Use
   * either this or `readable`, never both; call it once.
   */
  reader(): ChunkReader;
  /**
   * Writes `chunk` after everything written before, through this or `writable`: undefined
   * when the socket took all of it at once, else a promise that settles when it has (and
   * rejects if the connection fails first). A closed connection gives a rejected promise.
   * Never mix it with writes still queued in `writable`: one writer at a time. `borrowed`:
   * the caller changes `chunk` once this returns (a reused buffer), so what the socket keeps
   * to write later is copied first.
   */
  write(chunk: Uint8Array, borrowed?: boolean): Promise<void> | undefined;
  /** `write()` as a ChunkWriter: closing it half-closes after every byte written before. */
  writer(): ChunkWriter;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  /** Close both directions now; pending reads end, pending writes fail. Idempotent. */
  close(): void;
  /** Settles once the socket is fully closed, whichever side closed it. Never rejects. */
  readonly closed: Promise<void>;
}

export interface TlsClientOptions {
  /**
   * PEM bundle to trust. Bun trusts it instead of the bundled roots; Deno trusts it in
   * addition to them.
   */
  readonly ca?: string;
  readonly serverName?: string;
  /**
   * Bun: accept any certificate. Deno can only skip the host name check per connection
   * (chain checks stay on unless Deno runs with --unsafely-ignore-certificate-errors).
   */
  readonly insecureSkipVerify?: boolean;
}

export interface TlsServerOptions {
  readonly cert: string;
  readonly key: string;
}

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  /** Present: connect with TLS. */
  readonly tls?: TlsClientOptions;
  readonly signal?: AbortSignal;
}

export interface ListenOptions {
  /** Host to bind; `0.0.0.0`, `::`, `127.0.0.1`… */
  readonly host: string;
  /** 0 picks a free port; read the chosen one from the listener. */
  readonly port: number;
  readonly tls?: TlsServerOptions;
}

export interface Listener {
  readonly host: string;
  readonly port: number;
  /** Stop accepting; connections already accepted stay open. Idempotent. */
  close(): Promise<void>;
}

/** A WebSocket, from either side of the handshake, with send-side backpressure. */
export interface WebSocketConn {
  /**
   * Queue one message. Returns false when the caller should await `drained()` before
   * sending more; the message itself is never dropped (tether keeps every runtime below
   * its drop threshold) unless the socket is closed, in which case it is discarded.
   */
  send(data: Uint8Array | string): boolean;
  /** Bytes queued and not yet handed to the kernel. */
  readonly bufferedAmount: number;
  /** Resolves once the queue is below the low-water mark, or the socket is closed. */
  drained(): Promise<void>;
  /** Close with a code and reason (RFC 6455 §7.4). Idempotent. */
  close(code?: number, reason?: string): void;
  /** Subprotocol agreed in the handshake, or "". */
  readonly protocol: string;
  readonly remoteAddress: string;
  /**
   * True when `send()` is done with the array once it returns (written, or copied into
   * the runtime's own buffer), so the caller may reuse it for the next message. Otherwise
   * every message must be a fresh array.
   */
  readonly sendCopies?: boolean;
  /**
   * The protocol the connection switched to when it is not WebSocket (RFC 9110 §7.8): then
   * messages are plain byte chunks, with no framing, such as `tether-yamux/1`.
   */
  readonly upgrade?: string;
}

export interface WebSocketHandlers {
  open?(ws: WebSocketConn): void;
  /** Binary messages arrive as Uint8Array (never copied more than the runtime forces). */
  message(ws: WebSocketConn, data: Uint8Array | string): void;
  /** Called exactly once. Abnormal closures report 1006, whatever the runtime says. */
  close(ws: WebSocketConn, code: number, reason: string): void;
}

export interface UpgradeOptions {
  readonly protocol?: string;
  readonly headers?: HeadersInit;
}

export interface RequestInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /**
   * Accept a WebSocket upgrade for this request; return the Response it gives from the
   * fetch handler (the adapter knows what the runtime wants back).
   */
  upgrade(handlers: WebSocketHandlers, options?: UpgradeOptions): Response;
}

export interface HttpServeOptions extends ListenOptions {
  fetch(request: Request, info: RequestInfo): Response | Promise<Response>;
  /** Largest WebSocket message accepted, bytes. */
  readonly maxWebSocketMessage?: number;
}

export interface HttpServer extends Listener {
  /** Stop accepting and wait for in-flight requests; upgraded sockets are left alone. */
  shutdown(): Promise<void>;
}

export interface WebSocketConnectOptions {
  readonly headers?: Record<string, string>;
  readonly protocols?: readonly string[];
  readonly tls?: TlsClientOptions;
  readonly signal?: AbortSignal;
  readonly handlers: WebSocketHandlers;
  /**
   * Also offer `tether-yamux/1` (docs/transport.md), ahead of websocket: a server that picks
   * it gives a connection whose messages are plain byte chunks (`upgrade` says so).
   */
  readonly offerByteStream?: boolean;
}

export type SignalName = 'SIGTERM' | 'SIGINT' | 'SIGHUP';

export interface Runtime {
  readonly name: 'bun' | 'deno';
  readonly version: string;
  connect(options: ConnectOptions): Promise<TcpConnection>;
  listen(options: ListenOptions, onConnection: (conn: TcpConnection) => void): Promise<Listener>;
  serve(options: HttpServeOptions): Promise<HttpServer>;
  /** Resolves once open; rejects with `WebSocketHandshakeError` when the handshake fails. */
  connectWebSocket(url: string, options: WebSocketConnectOptions): Promise<WebSocketConn>;
  /** Returns a function that removes the listener. */
  onSignal(signal: SignalName, listener: () => void): () => void;
  /** Send a datagram to an AF_UNIX socket (sd_notify). False where not possible. */
  sendUnixDatagram(path: string, message: string): boolean;
}

/** The WebSocket handshake failed; `status` is the HTTP status when the server sent one. */
export class WebSocketHandshakeError extends Error {
  readonly status: number | undefined;
  readonly body: string;
  constructor(message: string, status: number | undefined, body = '', options?: ErrorOptions) {
    super(message, options);
    this.name = 'WebSocketHandshakeError';
    this.status = status;
    this.body = body;
  }
}
