/**
 * TCP/TLS for Deno on `Deno.connect`/`Deno.listen` (not `node:net`: its web-stream bridge
 * is 3× slower, runtime.md §4). The streams are built on `read`/`write`/`closeWrite`
 * rather than `conn.readable`/`conn.writable` because those close the whole resource at
 * EOF or on close, which would break half-close.
 *
 * @module
 */

import { type DenoConn, type DenoListener, deno } from './deno-api.ts';
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

/** Bytes read ahead into the readable's queue before reading waits for the consumer. */
const READ_HIGH_WATER = 256 * 1024;
const READ_SIZE = 64 * 1024;
/** Short reads are copied out so a mostly empty 64 KiB buffer is not kept alive. */
const COPY_BELOW = 16 * 1024;

class DenoTcpConnection implements TcpConnection {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly closed: Promise<void>;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  readonly #conn: DenoConn;
  #readEnded = false;
  #writeEnded = false;
  #isClosed = false;
  #buffer = new Uint8Array(READ_SIZE);
  #resolveClosed!: () => void;
  #writer!: WritableStreamDefaultController;
  /** The last write started (direct or through `writable`): the next one goes after it. */
  #lastWrite: Promise<void> | undefined;

  constructor(conn: DenoConn) {
    this.#conn = conn;
    conn.setNoDelay?.(true);
    this.remoteAddress = conn.remoteAddr.hostname;
    this.remotePort = conn.remoteAddr.port;
    this.localPort = conn.localAddr.port;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.readable = new ReadableStream<Uint8Array>(
      {
        pull: (controller) => this.#pull(controller),
        cancel: () => {
          this.#readEnded = true;
          if (this.#writeEnded) this.close();
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: READ_HIGH_WATER }),
    );
    this.writable = new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#writer = controller;
      },
      write: (chunk) => this.write(chunk),
      close: async () => {
        // FIN only after every byte written before it, direct writes included.
        await this.#lastWrite;
        this.#writeEnded = true;
        if (this.#isClosed) return;
        if (this.#readEnded) return this.close();
        try {
          await conn.closeWrite();
        } catch (error) {
          if (!this.#isClosed) throw this.#failure(error);
        }
      },
      abort: () => this.close(),
    });
  }

  /** Deno reads into a buffer of its own either way: this is the readable's reader. */
  reader(): ChunkReader {
    return this.readable.getReader();
  }

  write(given: Uint8Array, borrowed = false): Promise<void> {
    if (this.#isClosed) return Promise.reject(new Error('Cannot write: connection is closed'));
    if (this.#writeEnded) return Promise.reject(writeEndedError());
    // Every write here outlives the call: a borrowed array is copied.
    const chunk = borrowed ? given.slice() : given;
    const before = this.#lastWrite;
    const done = before === undefined ? this.#write(chunk) : before.then(() => this.#write(chunk));
    this.#lastWrite = done;
    // Only the last write is waited for by the next: forget it once it settles.
    done.then(
      () => {
        if (this.#lastWrite === done) this.#lastWrite = undefined;
      },
      () => {
        if (this.#lastWrite === done) this.#lastWrite = undefined;
      },
    );
    return done;
  }

  writer(): ChunkWriter {
    return directWriter(this);
  }

  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the runtime.
    }
    if (!this.#writeEnded) this.#writer.error(new Error('Cannot write: connection is closed'));
    this.#resolveClosed();
  }

  async #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    let n: number | null;
    try {
      n = await this.#conn.read(this.#buffer);
    } catch (error) {
      this.#readEnded = true;
      // Our own close() interrupts the pending read: that ends the stream, it is no failure.
      if (this.#isClosed) return controller.close();
      controller.error(this.#failure(error));
      return this.close();
    }
    if (n === null) {
      this.#readEnded = true;
      controller.close();
      if (this.#writeEnded) this.close();
      return;
    }
    if (n < COPY_BELOW) {
      controller.enqueue(this.#buffer.slice(0, n));
    } else {
      controller.enqueue(this.#buffer.subarray(0, n));
      this.#buffer = new Uint8Array(READ_SIZE);
    }
  }

  async #write(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    try {
      while (offset < chunk.byteLength) {
        offset += await this.#conn.write(offset === 0 ? chunk : chunk.subarray(offset));
      }
    } catch (error) {
      if (this.#isClosed) throw new Error('Cannot write: connection is closed', { cause: error });
      const failure = this.#failure(error);
      this.close();
      throw failure;
    }
  }

  #failure(error: unknown): Error {
    return new Error(`Connection failed: ${describeSocketError(error)}`, { cause: error });
  }
}

export async function denoConnect(options: ConnectOptions): Promise<TcpConnection> {
  const { host, port, tls, signal } = options;
  if (signal?.aborted) throw abortReason(signal);
  let conn: DenoConn;
  try {
    conn = await deno.connect({
      hostname: host,
      port,
      transport: 'tcp',
      ...(signal && { signal }),
    });
  } catch (error) {
    if (signal?.aborted) throw abortReason(signal);
    throw connectError(host, port, error);
  }
  if (!tls) return new DenoTcpConnection(conn);
  // startTls takes the TCP resource over: an abort must close whichever is current.
  let current: DenoConn = conn;
  const onAbort = () => {
    try {
      current.close();
    } catch {
      // Already closed.
    }
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // startTls rather than connectTls: it lets the name checked differ from the address.
    const tlsConn = await deno.startTls(conn, {
      hostname: tls.serverName ?? host,
      ...(tls.ca !== undefined && { caCerts: [tls.ca] }),
      // Deno cannot skip chain verification per connection (only the process-wide
      // --unsafely-ignore-certificate-errors flag can); skip what it allows.
      ...(tls.insecureSkipVerify && { unsafelyDisableHostnameVerification: true }),
    });
    current = tlsConn;
    if (signal?.aborted) throw abortReason(signal);
    await tlsConn.handshake();
    return new DenoTcpConnection(tlsConn);
  } catch (error) {
    onAbort();
    if (signal?.aborted) throw abortReason(signal);
    throw connectError(host, port, error);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

export async function denoListen(
  options: ListenOptions,
  onConnection: (conn: TcpConnection) => void,
): Promise<Listener> {
  const { host, port, tls } = options;
  let listener: DenoListener;
  try {
    listener = tls
      ? deno.listenTls({ hostname: host, port, cert: tls.cert, key: tls.key })
      : deno.listen({ hostname: host, port, transport: 'tcp' });
  } catch (error) {
    throw listenError(host, port, error);
  }
  let stopped = false;
  const accepting = (async () => {
    while (!stopped) {
      let conn: DenoConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (stopped || error instanceof deno.errors.BadResource!) return;
        // A transient accept failure (EMFILE…) must not kill the listener.
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      const wrapped = new DenoTcpConnection(conn);
      try {
        onConnection(wrapped);
      } catch {
        wrapped.close();
      }
    }
  })();
  return {
    host,
    port: listener.addr.port,
    async close() {
      if (!stopped) {
        stopped = true;
        listener.close();
      }
      await accepting;
    },
  };
}
