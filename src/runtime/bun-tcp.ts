/**
 * TCP/TLS for Bun: `Bun.connect`/`Bun.listen` callback sockets wrapped into web streams with
 * backpressure both ways (partial writes wait for `drain`; a full read queue pauses the
 * socket until the consumer pulls again).
 *
 * @module
 */

import type { Socket, SocketHandler, TCPSocketListener } from 'bun';
import { directWriter } from './direct-writer.ts';
import {
  abortReason,
  connectError,
  describeSocketError,
  listenError,
  writeEndedError,
} from './errors.ts';
import type {
  ChunkReader,
  ChunkWriter,
  ConnectOptions,
  Listener,
  ListenOptions,
  TcpConnection,
} from './types.ts';

/** Bytes queued in the readable before the socket is paused (kernel buffers hold the rest). */
const READ_HIGH_WATER = 256 * 1024;

interface PendingWrite {
  readonly chunk: Uint8Array;
  offset: number;
  readonly written: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

type ReadResult = { done: false; value: Uint8Array } | { done: true; value?: undefined };

interface SocketData {
  conn?: BunTcpConnection;
}

const readDone: Promise<ReadResult> = Promise.resolve({ done: true });

class BunTcpConnection implements TcpConnection {
  readonly closed: Promise<void>;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  readonly #socket: Socket<SocketData>;
  // The web streams are made on first use: most connections are read with `reader()` and
  // written with `write()`, and two streams with their controllers cost every idle
  // connection memory (10 000 idle agents, docs/performance.md).
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #reader: ReadableStreamDefaultController<Uint8Array> | undefined;
  #writer: WritableStreamDefaultController | undefined;
  #paused = false;
  #readEnded = false;
  #writeEnded = false;
  #isClosed = false;
  /** Writes the socket has not taken whole yet, oldest first. */
  #pending: PendingWrite[] = [];
  #error: Error | undefined;
  #resolveClosed!: () => void;
  /** Set by `reader()`: chunks go to the queue below instead of the readable. */
  #direct = false;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #waiting: ReturnType<typeof Promise.withResolvers<ReadResult>> | undefined;
  #failure: Error | undefined;

  constructor(socket: Socket<SocketData>) {
    this.#socket = socket;
    socket.setNoDelay(true);
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    this.localPort = socket.localPort;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  get readable(): ReadableStream<Uint8Array> {
    this.#readable ??= new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#reader = controller;
        },
        pull: () => this.#resume(),
        cancel: () => this.#cancelRead(),
      },
      new ByteLengthQueuingStrategy({ highWaterMark: READ_HIGH_WATER }),
    );
    return this.#readable;
  }

  get writable(): WritableStream<Uint8Array> {
    this.#writable ??= new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#writer = controller;
        if (this.#isClosed && !this.#writeEnded) controller.error(this.#closedError());
      },
      write: (chunk) => this.write(chunk),
      close: () => {
        // FIN only after every byte written before it, direct writes included.
        const last = this.#pending.at(-1);
        if (last === undefined) this.#end();
        else return last.written.then(() => this.#end());
      },
      abort: () => this.close(),
    });
    return this.#writable;
  }

  /** The readable's controller, the readable made if nobody asked for it yet. */
  #controller(): ReadableStreamDefaultController<Uint8Array> {
    if (this.#reader === undefined) void this.readable;
    return this.#reader!;
  }

  reader(): ChunkReader {
    // Bytes that came before anyone asked went to the readable: read on from there.
    if (this.#readable !== undefined) return this.#readable.getReader();
    this.#direct = true;
    return {
      read: () => this.#read(),
      cancel: () => {
        this.#cancelRead();
        return Promise.resolve();
      },
      releaseLock: () => {},
    };
  }

  write(chunk: Uint8Array, borrowed = false): Promise<void> | undefined {
    if (this.#isClosed) return Promise.reject(this.#closedError());
    if (this.#writeEnded) return Promise.reject(writeEndedError());
    if (this.#pending.length === 0) {
      const written = this.#socket.write(chunk);
      if (written === chunk.byteLength) return undefined;
      if (written < 0) return Promise.reject(this.#closedError());
      return borrowed ? this.#wait(chunk.slice(written), 0) : this.#wait(chunk, written);
    }
    return this.#wait(borrowed ? chunk.slice() : chunk, 0);
  }

  writer(): ChunkWriter {
    return directWriter(this);
  }

  close(): void {
    if (this.#isClosed) return;
    this.#socket.close();
    this.onClose();
  }

  #end(): void {
    this.#writeEnded = true;
    if (this.#isClosed) return;
    // Both directions done: release the socket; otherwise send FIN and keep reading.
    if (this.#readEnded) this.#socket.end();
    else this.#socket.shutdown();
  }

  #wait(chunk: Uint8Array, offset: number): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#pending.push({ chunk, offset, written: promise, resolve, reject });
    return promise;
  }

  #read(): Promise<ReadResult> {
    const chunk = this.#queue.shift();
    if (chunk !== undefined) {
      this.#queued -= chunk.length;
      if (this.#queued < READ_HIGH_WATER) this.#resume();
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#readEnded) return readDone;
    this.#resume();
    this.#waiting = Promise.withResolvers();
    return this.#waiting.promise;
  }

  #resume(): void {
    if (this.#paused && !this.#isClosed) {
      this.#paused = false;
      this.#socket.resume();
    }
  }

  /** Nobody reads any more: drop what arrives, or let go of the socket if writing is over too. */
  #cancelRead(): void {
    this.#readEnded = true;
    this.#queue = [];
    this.#queued = 0;
    // A read waiting on a cancelled reader ends, as a ReadableStream's does.
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve({ done: true });
    if (this.#paused) this.#socket.resume();
    if (this.#writeEnded) this.close();
  }

  /**
   * Ends a direct reader's input. A failure, as when a ReadableStream errors, drops what is
   * queued and fails every read from now on; a clean end lets the queue be read first.
   */
  #endDirect(failure?: Error): void {
    if (failure) {
      this.#failure = failure;
      this.#queue = [];
      this.#queued = 0;
    }
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (failure) waiting?.reject(failure);
    else waiting?.resolve({ done: true });
  }

  onDrain(): void {
    const queue = this.#pending;
    while (queue.length > 0) {
      const pending = queue[0]!;
      const { chunk } = pending;
      while (pending.offset < chunk.byteLength) {
        // Bun reads `byteOffset` relative to the view, not its ArrayBuffer: adding
        // chunk.byteOffset wrote the wrong bytes, or threw RangeError and stalled the write
        // for good (found by test/system/http-tunnel.test.ts, 100 MiB upload).
        const written = this.#socket.write(
          chunk,
          pending.offset,
          chunk.byteLength - pending.offset,
        );
        if (written < 0) {
          this.onClose(this.#closedError());
          return;
        }
        if (written === 0) return;
        pending.offset += written;
      }
      queue.shift();
      pending.resolve();
    }
  }

  onData(chunk: Uint8Array): void {
    if (this.#readEnded) return;
    // Bun hands each callback a fresh buffer (test/runtime/tcp.test.ts holds chunks in the
    // queue while paused and compares hashes), so the chunk is queued without a copy.
    if (this.#direct) {
      const waiting = this.#waiting;
      if (waiting !== undefined) {
        this.#waiting = undefined;
        waiting.resolve({ done: false, value: chunk });
        return;
      }
      this.#queue.push(chunk);
      this.#queued += chunk.length;
      if (!this.#paused && this.#queued >= READ_HIGH_WATER) {
        this.#paused = true;
        this.#socket.pause();
      }
      return;
    }
    const reader = this.#controller();
    reader.enqueue(chunk);
    if (!this.#paused && (reader.desiredSize ?? 0) <= 0) {
      this.#paused = true;
      this.#socket.pause();
    }
  }

  /** The peer sent FIN. */
  onEnd(): void {
    if (!this.#readEnded) {
      this.#readEnded = true;
      if (this.#direct) this.#endDirect();
      else this.#controller().close();
    }
    if (this.#writeEnded) this.#socket.end();
  }

  onError(error: Error): void {
    this.#error ??= error;
  }

  onClose(error?: Error): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    const cause = error ?? this.#error;
    const failure = cause
      ? new Error(`Connection failed: ${describeSocketError(cause)}`, { cause })
      : undefined;
    if (!this.#readEnded) {
      this.#readEnded = true;
      if (this.#direct) this.#endDirect(failure);
      else if (failure) this.#controller().error(failure);
      else this.#controller().close();
    }
    const pending = this.#pending;
    this.#pending = [];
    const writeFailure = failure ?? this.#closedError();
    for (const p of pending) p.reject(writeFailure);
    if (!this.#writeEnded) this.#writer?.error(writeFailure);
    this.#resolveClosed();
  }

  #closedError(): Error {
    return new Error('Cannot write: connection is closed', {
      ...(this.#error ? { cause: this.#error } : {}),
    });
  }
}

function handlers(onOpen: (socket: Socket<SocketData>) => void): SocketHandler<SocketData> {
  const socketHandler: SocketHandler<SocketData, 'uint8array'> = {
    binaryType: 'uint8array',
    open: onOpen,
    data: (socket, chunk) => socket.data.conn?.onData(chunk),
    drain: (socket) => socket.data.conn?.onDrain(),
    end: (socket) => socket.data.conn?.onEnd(),
    error: (socket, error) => socket.data.conn?.onError(error),
    close: (socket, error) => socket.data.conn?.onClose(error),
  };
  // Bun's option types only describe the default `buffer` binary type; plain Uint8Array
  // chunks are what the web streams above promise.
  return socketHandler as unknown as SocketHandler<SocketData>;
}

export function bunConnect(options: ConnectOptions): Promise<TcpConnection> {
  const { host, port, tls, signal } = options;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  const { promise, resolve, reject } = Promise.withResolvers<TcpConnection>();
  let settled = false;
  let socket: Socket<SocketData> | undefined;
  const onAbort = () => fail(abortReason(signal!));
  function fail(error: unknown): void {
    if (settled) return;
    settled = true;
    signal?.removeEventListener('abort', onAbort);
    socket?.terminate();
    reject(error);
  }
  function ready(s: Socket<SocketData>): void {
    if (settled) return void s.terminate();
    settled = true;
    signal?.removeEventListener('abort', onAbort);
    const conn = new BunTcpConnection(s);
    s.data.conn = conn;
    resolve(conn);
  }
  const base = handlers((s) => {
    socket = s;
    // A TLS socket is ready only once its handshake has been checked, below.
    if (!tls) ready(s);
  });
  signal?.addEventListener('abort', onAbort, { once: true });
  Bun.connect<SocketData>({
    hostname: host,
    port,
    allowHalfOpen: true,
    data: {},
    ...(tls && {
      tls: {
        ...(tls.ca !== undefined && { ca: tls.ca }),
        ...(tls.serverName !== undefined && { serverName: tls.serverName }),
        rejectUnauthorized: !tls.insecureSkipVerify,
      },
    }),
    socket: {
      ...base,
      handshake(s, success, authorizationError) {
        // Bun calls `open` and passes data even when verification failed; refuse here.
        if (success || tls?.insecureSkipVerify) ready(s);
        else
          fail(connectError(host, port, authorizationError ?? new Error('TLS handshake failed')));
      },
      close(s, error) {
        if (s.data.conn) s.data.conn.onClose(error);
        else fail(connectError(host, port, error ?? new Error('connection closed')));
      },
      connectError: (_s, error) => fail(connectError(host, port, error)),
    },
  }).catch((error: unknown) => fail(connectError(host, port, error)));
  return promise;
}

export async function bunListen(
  options: ListenOptions,
  onConnection: (conn: TcpConnection) => void,
): Promise<Listener> {
  const { host, port, tls } = options;
  let server: TCPSocketListener<SocketData>;
  try {
    server = Bun.listen<SocketData>({
      hostname: host,
      port,
      allowHalfOpen: true,
      data: {},
      ...(tls && { tls: { cert: tls.cert, key: tls.key } }),
      socket: handlers((socket) => {
        // `data` starts as the listener's shared object: give each socket its own.
        socket.data = {};
        const conn = new BunTcpConnection(socket);
        socket.data.conn = conn;
        try {
          onConnection(conn);
        } catch {
          conn.close();
        }
      }),
    });
  } catch (error) {
    throw listenError(host, port, error);
  }
  let stopped = false;
  return {
    host,
    port: server.port,
    close() {
      if (!stopped) {
        stopped = true;
        server.stop(false);
      }
      return Promise.resolve();
    },
  };
}
