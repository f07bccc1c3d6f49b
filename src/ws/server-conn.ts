import {
  type ByteSocket,
  type ChunkReader,
  endSocket,
  readEach,
  SendQueue,
  type WebSocketConn,
  type WebSocketHandlers,
} from '../runtime/index.ts';
import {
  CloseCode,
  closePayload,
  encodeFrame,
  FrameDecoder,
  Opcode,
  WebSocketProtocolError,
} from './frame.ts';

/** After our Close frame, how long the client has to answer before the socket is dropped. */
const CLOSE_TIMEOUT_MS = 5000;
const utf8 = new TextDecoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Close codes an endpoint may send (RFC 6455 §7.4.1, §7.4.2; 1012–1014 from IANA). */
function isSendableCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1003) ||
    (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999)
  );
}

function strictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8Strict.decode(bytes);
  } catch {
    return undefined;
  }
}

export interface ServerWebSocketOptions {
  /** Largest frame payload accepted from the client. */
  readonly maxPayload: number;
}

/**
 * The server side of a WebSocket (RFC 6455) on a connection tether's HTTP/1.1 engine
 * upgraded, as a `WebSocketConn`: what the upstream port gives agents that speak only
 * WebSocket (Piko's). Each data frame's payload is handed on as it arrives, in pieces when
 * it spans reads: the tunnel on top reads one byte stream, so message boundaries carry
 * nothing. Pings are answered; a protocol violation closes with the RFC's code.
 */
export class ServerWebSocketConn implements WebSocketConn {
  readonly protocol = '';
  readonly remoteAddress: string;
  /** Every message is copied into a frame of its own. */
  readonly sendCopies = true;
  readonly #socket: ByteSocket;
  readonly #reader: ChunkReader;
  readonly #handlers: WebSocketHandlers;
  readonly #decoder: FrameDecoder;
  readonly #queue = new SendQueue();
  #closeSent = false;
  #isClosed = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    socket: ByteSocket,
    reader: ChunkReader,
    handlers: WebSocketHandlers,
    remoteAddress: string,
    options: ServerWebSocketOptions,
  ) {
    this.#socket = socket;
    this.#reader = reader;
    this.#handlers = handlers;
    this.remoteAddress = remoteAddress;
    this.#decoder = new FrameDecoder({ expectMasked: true, maxPayload: options.maxPayload });
  }

  get bufferedAmount(): number {
    return this.#queue.amount;
  }

  /** Calls `open`, then reads frames until the connection ends. */
  start(): void {
    this.#handlers.open?.(this);
    readEach(this.#reader, {
      chunk: (value) => {
        if (this.#isClosed) return false;
        this.#push(value);
        return !this.#isClosed;
      },
      end: () => this.#finish(CloseCode.Abnormal, ''),
      error: this.#failed,
    });
  }

  send(data: Uint8Array | string): boolean {
    if (this.#isClosed || this.#closeSent) return false;
    const frame =
      typeof data === 'string'
        ? encodeFrame(Opcode.Text, new TextEncoder().encode(data), false)
        : encodeFrame(Opcode.Binary, data, false);
    this.#write(frame);
    return this.#queue.open;
  }

  drained(): Promise<void> {
    return this.#isClosed ? Promise.resolve() : this.#queue.drained();
  }

  close(code: number = CloseCode.Normal, reason = ''): void {
    if (this.#isClosed || this.#closeSent) return;
    this.#sendClose(code, reason);
    this.#closeTimer = setTimeout(
      () => this.#finish(CloseCode.Abnormal, '', true),
      CLOSE_TIMEOUT_MS,
    );
  }

  #push(chunk: Uint8Array): void {
    let frames: ReturnType<FrameDecoder['push']>;
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      const e = error as WebSocketProtocolError;
      const code = e instanceof WebSocketProtocolError ? e.code : CloseCode.ProtocolError;
      if (!this.#closeSent) this.#sendClose(code, e.message.slice(0, 123));
      this.#finish(code, e.message);
      return;
    }
    for (const frame of frames) {
      if (this.#isClosed) return;
      switch (frame.opcode) {
        case Opcode.Binary:
        case Opcode.Continuation:
          if (frame.payload.length > 0) this.#handlers.message(this, frame.payload);
          break;
        case Opcode.Text:
          // The tunnel refuses it with its own error (a text message on a binary tunnel).
          this.#handlers.message(this, utf8.decode(frame.payload));
          break;
        case Opcode.Ping:
          if (!this.#closeSent) this.#write(encodeFrame(Opcode.Pong, frame.payload, false));
          break;
        case Opcode.Pong:
          break;
        case Opcode.Close: {
          const p = frame.payload;
          const code = p.length >= 2 ? (p[0]! << 8) | p[1]! : CloseCode.NoStatus;
          const reason = p.length >= 2 ? strictUtf8(p.subarray(2)) : '';
          // §7.4.1 and §5.5.1: a code that may not be sent, a 1-byte body or a reason that is
          // not UTF-8 is a protocol error; anything else is echoed, then the server ends the
          // TCP connection (§7.1.1).
          const valid =
            p.length !== 1 && (p.length === 0 || isSendableCode(code)) && reason !== undefined;
          if (!this.#closeSent) {
            if (valid) this.#sendClose(p.length >= 2 ? code : undefined, reason);
            else this.#sendClose(CloseCode.ProtocolError, 'invalid close frame');
          }
          this.#finish(valid ? code : CloseCode.ProtocolError, reason ?? '');
          return;
        }
      }
    }
  }

  #sendClose(code: number | undefined, reason: string): void {
    this.#closeSent = true;
    const payload = code === undefined ? new Uint8Array(0) : closePayload(code, reason);
    this.#write(encodeFrame(Opcode.Close, payload, false));
  }

  #write(frame: Uint8Array): void {
    const writing = this.#socket.write(frame);
    if (writing !== undefined) this.#queue.track(writing, frame.byteLength, this.#failed);
  }

  readonly #failed = (): void => this.#finish(CloseCode.Abnormal, '', true);

  /**
   * Reports the close once. The socket ends after what is queued (a Close echo) is out, or
   * at once when `now` (the peer failed or never answered), and within CLOSE_TIMEOUT_MS in
   * any case: a peer that stopped reading cannot hold it.
   */
  #finish(code: number, reason: string, now = false): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    clearTimeout(this.#closeTimer);
    this.#queue.release();
    endSocket(this.#socket, now);
    this.#handlers.close(this, code, reason);
  }
}
