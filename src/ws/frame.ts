import { encodeClientFrame } from '../runtime/index.ts';

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

/** Bytes of an unmasked frame header for a payload of `length` (§5.2). */
function headerLength(length: number): number {
  return length < 126 ? 2 : length < 65536 ? 4 : 10;
}

function writeHeader(out: Uint8Array, opcode: Opcode, length: number, fin: boolean): void {
  out[0] = (fin ? 0x80 : 0) | opcode;
  if (length < 126) out[1] = length;
  else if (length < 65536) {
    out[1] = 126;
    out[2] = length >>> 8;
    out[3] = length & 0xff;
  } else {
    out[1] = 127;
    new DataView(out.buffer, out.byteOffset, 10).setBigUint64(2, BigInt(length));
  }
}

/** The header alone of an unmasked frame: a large payload can follow it uncopied. */
export function frameHeader(opcode: Opcode, length: number, fin = true): Uint8Array {
  const out = new Uint8Array(headerLength(length));
  writeHeader(out, opcode, length, fin);
  return out;
}

/**
 * Encodes one frame. Servers send unmasked frames; clients must mask (§5.3): those come from
 * the runtime's client framing (one pool of masking keys, masked a word at a time).
 */
export function encodeFrame(
  opcode: Opcode,
  payload: Uint8Array,
  mask = false,
  fin = true,
): Uint8Array {
  if (mask) {
    const frame = encodeClientFrame(opcode, payload);
    if (!fin) frame[0]! &= 0x7f;
    return frame;
  }
  const at = headerLength(payload.length);
  const out = new Uint8Array(at + payload.length);
  writeHeader(out, opcode, payload.length, fin);
  out.set(payload, at);
  return out;
}

export interface DecoderOptions {
  /** Frames from clients must be masked, frames from servers must not (§5.1). */
  readonly expectMasked: boolean;
  /** Largest frame payload accepted; larger is a 1009 close. */
  readonly maxPayload: number;
}

/** Longest header: 2 bytes, 8 of extended length, 4 of masking key (§5.2). */
const MAX_HEADER = 14;
const EMPTY = new Uint8Array(0);

/**
 * Incremental frame decoder: push bytes as they come, take frames out.
 *
 * Data frames (binary, text, continuation) come out in pieces as their bytes arrive, each
 * piece a view of the pushed chunk, unmasked in place: a large frame is never buffered
 * whole or copied (it was, with a copy of everything buffered per chunk: quadratic in the
 * frame's size). Each piece carries its frame's opcode; `fin` is true on the last piece of
 * a frame that has FIN. Control frames (at most 125 bytes) come out whole.
 */
export class FrameDecoder {
  readonly #options: DecoderOptions;
  readonly #header = new Uint8Array(MAX_HEADER);
  #headerFill = 0;
  /** Payload bytes of the current frame still to come; -1 between frames. */
  #remaining = -1;
  #opcode: Opcode = Opcode.Binary;
  #fin = false;
  #key: Uint8Array | undefined;
  /** Position in the masking key of the next payload byte. */
  #phase = 0;
  /** A control frame's payload, gathered until complete. */
  #control: Uint8Array | undefined;
  #controlFill = 0;
  /** A data message has started without FIN: only continuation frames may follow (§5.4). */
  #fragmented = false;

  constructor(options: DecoderOptions) {
    this.#options = options;
  }

  /**
   * Takes one chunk (unmasked in place, so it must not be read elsewhere) and returns the
   * frames and pieces it completes; throws WebSocketProtocolError.
   */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      if (this.#remaining < 0) {
        pos = this.#readHeader(chunk, pos);
        if (this.#remaining < 0) return frames; // the header is not complete yet
        if (this.#remaining === 0) this.#emit(frames, EMPTY);
        continue;
      }
      const take = Math.min(this.#remaining, end - pos);
      const piece = chunk.subarray(pos, pos + take);
      pos += take;
      if (this.#key !== undefined) {
        unmask(piece, this.#key, this.#phase);
        this.#phase = (this.#phase + take) & 3;
      }
      this.#remaining -= take;
      if (this.#control === undefined) this.#emit(frames, piece);
      else {
        this.#control.set(piece, this.#controlFill);
        this.#controlFill += take;
        if (this.#remaining === 0) this.#emit(frames, this.#control);
      }
    }
    return frames;
  }

  #emit(frames: Frame[], payload: Uint8Array): void {
    const last = this.#remaining === 0;
    frames.push({ fin: last && this.#fin, opcode: this.#opcode, payload });
    if (last) {
      this.#remaining = -1;
      this.#control = undefined;
    }
  }

  /** Reads header bytes from `chunk` at `pos`; returns where the header ended or the chunk did. */
  #readHeader(chunk: Uint8Array, pos: number): number {
    const h = this.#header;
    let fill = this.#headerFill;
    const need = (): number => {
      if (fill < 2) return 2;
      const len7 = h[1]! & 0x7f;
      return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (h[1]! & 0x80 ? 4 : 0);
    };
    // Byte by byte: a header is 2 to 14 bytes, and the first two say how long it is.
    while (fill < need()) {
      if (pos === chunk.length) {
        this.#headerFill = fill;
        return pos;
      }
      h[fill++] = chunk[pos++]!;
      if (fill === 2) this.#checkStart(h[0]!, h[1]!);
    }
    this.#headerFill = 0;
    this.#begin(h, fill);
    return pos;
  }

  /** Checks what the first two bytes decide (§5.2, §5.4), before the rest arrives. */
  #checkStart(b0: number, b1: number): void {
    if (b0 & 0x70)
      throw new WebSocketProtocolError('Cannot read frame: reserved bits set without an extension');
    const opcode = b0 & 0x0f;
    if (!(opcode in Opcode))
      throw new WebSocketProtocolError(`Cannot read frame: unknown opcode ${opcode}`);
    const masked = (b1 & 0x80) !== 0;
    if (masked !== this.#options.expectMasked) {
      throw new WebSocketProtocolError(
        `Cannot read frame: ${masked ? 'masked frame from server' : 'unmasked frame from client'}`,
      );
    }
    const fin = (b0 & 0x80) !== 0;
    if (opcode >= 0x8) {
      if ((b1 & 0x7f) > 125 || !fin) {
        throw new WebSocketProtocolError(
          'Cannot read frame: control frame fragmented or longer than 125 bytes',
        );
      }
    } else if (opcode === Opcode.Continuation ? !this.#fragmented : this.#fragmented) {
      throw new WebSocketProtocolError(
        opcode === Opcode.Continuation
          ? 'Cannot read frame: continuation without a message to continue'
          : 'Cannot read frame: new message before the last one ended',
      );
    }
  }

  #begin(h: Uint8Array, length: number): void {
    const b0 = h[0]!;
    const b1 = h[1]!;
    let len = b1 & 0x7f;
    let at = 2;
    if (len === 126) {
      len = (h[2]! << 8) | h[3]!;
      at = 4;
    } else if (len === 127) {
      const big = new DataView(h.buffer, h.byteOffset + 2, 8).getBigUint64(0);
      if (big > BigInt(this.#options.maxPayload)) throw tooBig(big);
      len = Number(big);
      at = 10;
    }
    if (len > this.#options.maxPayload) throw tooBig(len);
    this.#opcode = b0 & 0x0f;
    this.#fin = (b0 & 0x80) !== 0;
    if (this.#opcode < 0x8) this.#fragmented = !this.#fin;
    this.#key = at < length ? h.slice(at, at + 4) : undefined;
    this.#phase = 0;
    this.#remaining = len;
    this.#control = this.#opcode >= 0x8 ? new Uint8Array(len) : undefined;
    this.#controlFill = 0;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * XORs `bytes` in place with the masking key (§5.3), starting at key byte `phase`; a word
 * at a time where the bytes are 4-aligned in their buffer. Masking and unmasking are the
 * same operation.
 */
export function unmask(bytes: Uint8Array, key: Uint8Array, phase: number): void {
  const n = bytes.length;
  let i = 0;
  if (n >= 32 && LITTLE_ENDIAN) {
    const start = (4 - (bytes.byteOffset & 3)) & 3;
    for (; i < start; i++) bytes[i]! ^= key[(phase + i) & 3]!;
    const p = (phase + i) & 3;
    const word =
      key[p]! |
      (key[(p + 1) & 3]! << 8) |
      (key[(p + 2) & 3]! << 16) |
      (key[(p + 3) & 3]! << 24) |
      0;
    const words = (n - i) >>> 2;
    const body = new Int32Array(bytes.buffer, bytes.byteOffset + i, words);
    for (let w = 0; w < words; w++) body[w]! ^= word;
    i += words << 2;
  }
  for (; i < n; i++) bytes[i]! ^= key[(phase + i) & 3]!;
}

function tooBig(len: number | bigint): WebSocketProtocolError {
  return new WebSocketProtocolError(
    `Cannot read frame: payload of ${len} bytes is over the limit`,
    CloseCode.TooBig,
  );
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
