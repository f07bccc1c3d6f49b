/**
 * A WebSocket client over a plain runtime TCP/TLS connection, used by the Deno adapter.
 *
 * Why not Deno's global WebSocket: its socket has Nagle's algorithm on, so a small message
 * sent while the previous one is unacknowledged waits for the peer's delayed ACK. A tunnel
 * sends exactly that (a stream ACK, then the response): measured 44 ms per proxied request
 * through a Deno agent, against 0.4 ms with TCP_NODELAY (denoConnect sets it). Owning the
 * socket also gives the handshake's status and body directly, without a probe request.
 *
 * @module
 */

import { ByteStreamConn, TETHER_YAMUX } from './byte-stream-conn.ts';
import { abortReason, describeSocketError } from './errors.ts';
import { SendQueue } from './send-queue.ts';
import type {
  ChunkReader,
  ConnectOptions,
  TcpConnection,
  WebSocketConn,
  WebSocketConnectOptions,
  WebSocketHandlers,
} from './types.ts';
import { WebSocketHandshakeError } from './types.ts';
import { ABNORMAL_CLOSURE } from './websocket-conn.ts';
import {
  encodeClientFrame,
  FrameError,
  OP_BINARY,
  OP_CLOSE,
  OP_PING,
  OP_PONG,
  OP_TEXT,
  ServerFrameReader,
} from './websocket-frames.ts';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const HEAD_LIMIT = 64 * 1024;
const BODY_LIMIT = 64 * 1024;
/** Largest message accepted from the server (Deno's own client refused 64 MiB frames). */
const MAX_MESSAGE = 64 * 1024 * 1024;
/** After our close frame, how long the server has to answer before the socket is dropped. */
const CLOSE_TIMEOUT_MS = 5000;
/** A refused handshake's body is read this long at most. */
const BODY_TIMEOUT_MS = 5000;

type Connect = (options: ConnectOptions) => Promise<TcpConnection>;
const encoder = new TextEncoder();

export async function connectTcpWebSocket(
  connect: Connect,
  url: string,
  options: WebSocketConnectOptions,
): Promise<WebSocketConn> {
  const { headers = {}, protocols = [], tls, signal, handlers, offerByteStream } = options;
  if (signal?.aborted) throw abortReason(signal);
  const target = new URL(url);
  const secure = target.protocol === 'wss:' || target.protocol === 'https:';
  const port = Number(target.port) || (secure ? 443 : 80);
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  const fail = (why: string, status?: number, body = '', cause?: unknown) =>
    new WebSocketHandshakeError(
      `Cannot open WebSocket to ${url}: ${why}`,
      status,
      body,
      cause === undefined ? undefined : { cause },
    );

  let conn: TcpConnection;
  try {
    conn = await connect({
      host,
      port,
      // The name checked against the certificate, as `tether forward` does (Bun may not
      // take it from the host by itself).
      ...(secure ? { tls: { serverName: host, ...tls } } : {}),
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if (signal?.aborted) throw abortReason(signal);
    const reason = describeSocketError(error);
    const refused = /refused/i.test(reason) || /refused/i.test(String(error));
    throw fail(refused ? 'connection refused' : reason, undefined, '', error);
  }
  const onAbort = () => conn.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  const reader = conn.reader();
  const writer = conn.writable.getWriter();
  try {
    const keyBytes = crypto.getRandomValues(new Uint8Array(16));
    const key = btoa(String.fromCharCode(...keyBytes));
    const lines = [
      `GET ${target.pathname}${target.search} HTTP/1.1`,
      `Host: ${target.host}`,
      // RFC 9110 §7.8: protocols in order of preference; a WebSocket server picks the last.
      offerByteStream ? `Upgrade: ${TETHER_YAMUX}, websocket` : 'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${key}`,
      'Sec-WebSocket-Version: 13',
    ];
    if (protocols.length > 0) lines.push(`Sec-WebSocket-Protocol: ${protocols.join(', ')}`);
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    await writer.write(encoder.encode(`${lines.join('\r\n')}\r\n\r\n`));

    const { status, fields, rest } = await readHead(reader);
    if (status !== 101) {
      const body = await readBody(reader, fields, rest);
      conn.close();
      throw fail(`server answered ${status}`, status, body);
    }
    const chosen = fields.get('upgrade')?.toLowerCase();
    if (offerByteStream && chosen === TETHER_YAMUX) {
      if (signal?.aborted) throw abortReason(signal);
      // ByteStreamConn writes directly and closes the writable for its FIN.
      writer.releaseLock();
      const raw = new ByteStreamConn(conn, reader, handlers, host);
      raw.start(rest);
      return raw;
    }
    // Checked only after a list was offered: which protocol the 101 is for is ambiguous then.
    if (offerByteStream && chosen !== 'websocket') {
      conn.close();
      throw fail(`the server switched to ${JSON.stringify(chosen ?? '')}, not websocket`, 101);
    }
    const expected = btoa(
      String.fromCharCode(
        ...new Uint8Array(await crypto.subtle.digest('SHA-1', encoder.encode(key + GUID))),
      ),
    );
    if (fields.get('sec-websocket-accept') !== expected) {
      conn.close();
      throw fail('the server sent a wrong Sec-WebSocket-Accept', 101);
    }
    if (signal?.aborted) throw abortReason(signal);
    const ws = new TcpWebSocketConn(
      conn,
      reader,
      writer,
      handlers,
      host,
      fields.get('sec-websocket-protocol') ?? '',
    );
    ws.start(rest);
    return ws;
  } catch (error) {
    conn.close();
    if (signal?.aborted) throw abortReason(signal);
    if (error instanceof WebSocketHandshakeError) throw error;
    throw fail(describeSocketError(error), undefined, '', error);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

type Reader = ChunkReader;

/** Reads the response head; `rest` holds the bytes after it. */
async function readHead(
  reader: Reader,
): Promise<{ status: number; fields: Map<string, string>; rest: Uint8Array }> {
  let buffered = new Uint8Array(0);
  for (;;) {
    const end = indexOfHeadEnd(buffered);
    if (end >= 0) {
      const text = new TextDecoder().decode(buffered.subarray(0, end));
      const [statusLine = '', ...fieldLines] = text.split('\r\n');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
      if (!status) throw new Error(`malformed status line ${JSON.stringify(statusLine)}`);
      const fields = new Map<string, string>();
      for (const line of fieldLines) {
        const colon = line.indexOf(':');
        if (colon > 0)
          fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      return { status: Number(status[1]), fields, rest: buffered.subarray(end + 4) };
    }
    if (buffered.length > HEAD_LIMIT) throw new Error('response head over 64 KiB');
    const { done, value } = await reader.read();
    if (done) throw new Error('the server closed the connection during the handshake');
    const next = new Uint8Array(buffered.length + value.length);
    next.set(buffered);
    next.set(value, buffered.length);
    buffered = next;
  }
}

function indexOfHeadEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

/** The body of a refused handshake, as text: Content-Length, else until EOF; bounded. */
async function readBody(reader: Reader, fields: Map<string, string>, rest: Uint8Array) {
  const length = Number(fields.get('content-length') ?? Number.NaN);
  const chunked = /chunked/i.test(fields.get('transfer-encoding') ?? '');
  const want = Number.isFinite(length) ? Math.min(length, BODY_LIMIT) : BODY_LIMIT;
  const parts = [rest];
  let have = rest.length;
  const deadline = AbortSignal.timeout(BODY_TIMEOUT_MS);
  const onTimeout = () => reader.cancel().catch(() => {});
  deadline.addEventListener('abort', onTimeout, { once: true });
  try {
    while (have < want && !(chunked && endsChunked(parts))) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      have += value.length;
    }
  } catch {
    // Whatever arrived is the body we report.
  } finally {
    deadline.removeEventListener('abort', onTimeout);
  }
  const all = new Uint8Array(have);
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  const text = new TextDecoder().decode(all.subarray(0, want));
  return chunked ? dechunk(text) : text;
}

function endsChunked(parts: Uint8Array[]): boolean {
  const last = parts.at(-1);
  return last !== undefined && new TextDecoder().decode(last.subarray(-5)) === '0\r\n\r\n';
}

function dechunk(text: string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const eol = text.indexOf('\r\n', i);
    if (eol < 0) return out;
    const size = Number.parseInt(text.slice(i, eol), 16);
    if (!(size > 0)) return out;
    out += text.slice(eol + 2, eol + 2 + size);
    i = eol + 2 + size + 2;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeText(payload: Uint8Array): string {
  try {
    return utf8.decode(payload);
  } catch {
    throw new FrameError(1007, 'invalid UTF-8 in a text message');
  }
}

class TcpWebSocketConn implements WebSocketConn {
  readonly remoteAddress: string;
  readonly protocol: string;
  /** encodeClientFrame copies (and masks) every message. */
  readonly sendCopies = true;
  readonly #conn: TcpConnection;
  readonly #reader: Reader;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #handlers: WebSocketHandlers;
  readonly #queue = new SendQueue();
  #closeSent = false;
  #isClosed = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    conn: TcpConnection,
    reader: Reader,
    writer: WritableStreamDefaultWriter<Uint8Array>,
    handlers: WebSocketHandlers,
    remoteAddress: string,
    protocol: string,
  ) {
    this.#conn = conn;
    this.#reader = reader;
    this.#writer = writer;
    this.#handlers = handlers;
    this.remoteAddress = remoteAddress;
    this.protocol = protocol;
  }

  get bufferedAmount(): number {
    return this.#queue.amount;
  }

  /** Calls `open`, then reads until the connection ends; `rest` came with the handshake. */
  start(rest: Uint8Array): void {
    this.#handlers.open?.(this);
    const frames = new ServerFrameReader(
      {
        message: (opcode, payload) =>
          this.#handlers.message(this, opcode === OP_TEXT ? decodeText(payload) : payload),
        control: (opcode, payload) => this.#control(opcode, payload),
      },
      MAX_MESSAGE,
    );
    void (async () => {
      try {
        if (rest.length > 0) frames.push(rest);
        for (;;) {
          const { done, value } = await this.#reader.read();
          if (done || this.#isClosed) break;
          frames.push(value);
        }
      } catch (error) {
        if (this.#isClosed) return;
        if (error instanceof FrameError) {
          this.#sendClose(error.code, error.message.slice(0, 123));
          this.#finish(error.code, error.message);
          return;
        }
      }
      this.#finish(ABNORMAL_CLOSURE, '');
    })();
  }

  send(data: Uint8Array | string): boolean {
    if (this.#isClosed || this.#closeSent) return false;
    if (typeof data === 'string') this.#write(encodeClientFrame(OP_TEXT, encoder.encode(data)));
    else this.#write(encodeClientFrame(OP_BINARY, data));
    return this.#queue.open;
  }

  drained(): Promise<void> {
    return this.#isClosed ? Promise.resolve() : this.#queue.drained();
  }

  close(code?: number, reason = ''): void {
    if (code !== undefined && code !== 1000 && (code < 3000 || code > 4999)) {
      throw new RangeError(`Invalid close code ${code} (1000 or 3000-4999)`);
    }
    const reasonBytes = encoder.encode(reason);
    if (reasonBytes.length > 123) throw new RangeError('Invalid close reason: over 123 bytes');
    if (this.#isClosed || this.#closeSent) return;
    this.#sendClose(code, reason);
    this.#closeTimer = setTimeout(() => this.#finish(ABNORMAL_CLOSURE, ''), CLOSE_TIMEOUT_MS);
  }

  #control(opcode: number, payload: Uint8Array): void {
    if (opcode === OP_PING) {
      if (!this.#closeSent) this.#write(encodeClientFrame(OP_PONG, payload));
      return;
    }
    if (opcode !== OP_CLOSE) return;
    let code = 1005;
    let reason = '';
    if (payload.length >= 2) {
      code = (payload[0]! << 8) | payload[1]!;
      reason = new TextDecoder().decode(payload.subarray(2));
    }
    // Echo the close (§5.5.1), then end our side; the server closes the TCP connection.
    if (!this.#closeSent) this.#sendClose(payload.length >= 2 ? code : undefined, reason);
    this.#writer.close().catch(() => {});
    this.#finish(code, reason);
  }

  #sendClose(code: number | undefined, reason: string): void {
    this.#closeSent = true;
    let payload = new Uint8Array(0);
    if (code !== undefined) {
      const text = encoder.encode(reason);
      payload = new Uint8Array(2 + text.length);
      payload[0] = code >>> 8;
      payload[1] = code & 0xff;
      payload.set(text, 2);
    }
    this.#write(encodeClientFrame(OP_CLOSE, payload));
  }

  #write(frame: Uint8Array): void {
    this.#queue.track(this.#writer.write(frame), frame.byteLength, this.#failed);
  }

  readonly #failed = (): void => this.#finish(ABNORMAL_CLOSURE, '');

  /** Reports the close once and lets go of the connection. */
  #finish(code: number, reason: string): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    clearTimeout(this.#closeTimer);
    this.#queue.release();
    // Let queued frames (our close echo) leave before the socket goes.
    this.#writer.close().then(
      () => this.#conn.close(),
      () => this.#conn.close(),
    );
    this.#reader.cancel().catch(() => {});
    this.#handlers.close(this, code, reason);
  }
}
