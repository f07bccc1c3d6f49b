/** WebSocket opcodes, RFC 6455 §5.2. */
export enum Opcode {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xa,
}

/** Close codes, RFC 6455 §7.4.1. */
export enum CloseCode {
  Normal = 1000,
  GoingAway = 1001,
  ProtocolError = 1002,
  Unsupported = 1003,
  NoStatus = 1005,
  Abnormal = 1006,
  InvalidData = 1007,
  TooBig = 1009,
  InternalError = 1011,
}

export interface Frame {
  readonly fin: boolean;
  readonly opcode: Opcode;
  readonly payload: Uint8Array;
}

/** A violation by the peer; `code` is the close code to answer with. */
export class WebSocketProtocolError extends Error {
  override name = 'WebSocketProtocolError';
  readonly code: CloseCode;
  constructor(message: string, code: CloseCode = CloseCode.ProtocolError) {
    super(message);
    this.code = code;
  }
}

/**
 * Encodes one frame. Servers send unmasked frames; clients must mask (§5.3), which
 * `mask` does in place on a copy.
 */
export function encodeFrame(
  opcode: Opcode,
  payload: Uint8Array,
  mask = false,
  fin = true,
): Uint8Array {
  const len = payload.length;
  const extra = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const headLen = 2 + extra + (mask ? 4 : 0);
  const out = new Uint8Array(headLen + len);
  out[0] = (fin ? 0x80 : 0) | opcode;
  if (extra === 0) out[1] = len;
  else if (extra === 2) {
    out[1] = 126;
    out[2] = len >>> 8;
    out[3] = len & 0xff;
  } else {
    out[1] = 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(len));
  }
  if (mask) out[1]! |= 0x80;
  out.set(payload, headLen);
  if (mask) {
    const key = crypto.getRandomValues(new Uint8Array(4));
    out.set(key, 2 + extra);
    for (let i = 0; i < len; i++) out[headLen + i]! ^= key[i & 3]!;
  }
  return out;
}

export interface DecoderOptions {
  /** Frames from clients must be masked, frames from servers must not (§5.1). */
  readonly expectMasked: boolean;
  /** Largest frame payload accepted; larger is a 1009 close. */
  readonly maxPayload: number;
}

/** Incremental frame decoder: push bytes as they come, take whole frames out. */
export class FrameDecoder {
  readonly #options: DecoderOptions;
  #buffer: Uint8Array = new Uint8Array(0);

  constructor(options: DecoderOptions) {
    this.#options = options;
  }

  /** Appends bytes and returns every complete frame; throws WebSocketProtocolError. */
  push(chunk: Uint8Array): Frame[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : concat(this.#buffer, chunk);
    const frames: Frame[] = [];
    for (;;) {
      const frame = this.#next();
      if (!frame) return frames;
      frames.push(frame);
    }
  }

  #next(): Frame | undefined {
    const b = this.#buffer;
    if (b.length < 2) return undefined;
    const b0 = b[0]!;
    const b1 = b[1]!;
    if (b0 & 0x70)
      throw new WebSocketProtocolError('Cannot read frame: reserved bits set without an extension');
    const opcode = b0 & 0x0f;
    if (!(opcode in Opcode))
      throw new WebSocketProtocolError(`Cannot read frame: unknown opcode ${opcode}`);
    const fin = (b0 & 0x80) !== 0;
    const masked = (b1 & 0x80) !== 0;
    if (masked !== this.#options.expectMasked) {
      throw new WebSocketProtocolError(
        `Cannot read frame: ${masked ? 'masked frame from server' : 'unmasked frame from client'}`,
      );
    }
    let len = b1 & 0x7f;
    let offset = 2;
    if (len === 126) {
      if (b.length < 4) return undefined;
      len = (b[2]! << 8) | b[3]!;
      offset = 4;
    } else if (len === 127) {
      if (b.length < 10) return undefined;
      const big = new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0);
      if (big > BigInt(this.#options.maxPayload)) throw tooBig(big);
      len = Number(big);
      offset = 10;
    }
    if (opcode >= 0x8 && (len > 125 || !fin)) {
      throw new WebSocketProtocolError(
        'Cannot read frame: control frame fragmented or longer than 125 bytes',
      );
    }
    if (len > this.#options.maxPayload) throw tooBig(len);
    const maskAt = offset;
    if (masked) offset += 4;
    if (b.length < offset + len) return undefined;
    const payload = b.slice(offset, offset + len);
    if (masked) {
      const key = b.subarray(maskAt, maskAt + 4);
      for (let i = 0; i < len; i++) payload[i]! ^= key[i & 3]!;
    }
    this.#buffer = b.subarray(offset + len);
    return { fin, opcode, payload };
  }
}

function tooBig(len: number | bigint): WebSocketProtocolError {
  return new WebSocketProtocolError(
    `Cannot read frame: payload of ${len} bytes is over the limit`,
    CloseCode.TooBig,
  );
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The payload of a Close frame (§5.5.1). */
export function closePayload(code: number, reason = ''): Uint8Array {
  const text = new TextEncoder().encode(reason).subarray(0, 123);
  const out = new Uint8Array(2 + text.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}
