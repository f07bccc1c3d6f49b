/**
 * The client side of RFC 6455 framing, for the WebSocket client over a plain TCP connection
 * (tcp-websocket-client.ts): masked frames out (§5.3), unmasked frames in, reassembled into
 * messages. Kept here rather than in src/ws because src/runtime sits below every other layer.
 *
 * @module
 */

/** RFC 6455 §5.2 opcodes. */
export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

// Masking keys come from the system CSPRNG (§10.3: they must be unpredictable), drawn in
// blocks so a small frame does not cost a getRandomValues call of its own.
const keys = new Uint8Array(4096);
let keyPos = keys.length;

/** One masked frame with FIN set: header and masked payload in one buffer (one copy). */
export function encodeClientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.byteLength;
  const lenBytes = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const headLen = 2 + lenBytes + 4;
  // Pad in front so the payload starts 4-aligned and can be masked a word at a time.
  const pad = (4 - (headLen % 4)) % 4;
  const buffer = new ArrayBuffer(pad + headLen + n);
  const out = new Uint8Array(buffer, pad);
  out[0] = 0x80 | opcode;
  if (lenBytes === 0) out[1] = 0x80 | n;
  else if (lenBytes === 2) {
    out[1] = 0x80 | 126;
    out[2] = n >>> 8;
    out[3] = n & 0xff;
  } else {
    out[1] = 0x80 | 127;
    const view = new DataView(buffer, pad + 2, 8);
    view.setUint32(0, Math.floor(n / 2 ** 32));
    view.setUint32(4, n >>> 0);
  }
  if (keyPos + 4 > keys.length) {
    crypto.getRandomValues(keys);
    keyPos = 0;
  }
  const maskAt = 2 + lenBytes;
  out.set(keys.subarray(keyPos, keyPos + 4), maskAt);
  keyPos += 4;
  out.set(payload, headLen);
  const mask = out.subarray(maskAt, maskAt + 4);
  const word = new DataView(buffer, pad + maskAt, 4).getUint32(0, LITTLE_ENDIAN);
  const words = n >>> 2;
  const body = new Uint32Array(buffer, pad + headLen, words);
  for (let i = 0; i < words; i++) body[i]! ^= word;
  for (let i = words << 2; i < n; i++) out[headLen + i]! ^= mask[i & 3]!;
  return out;
}

export interface FrameEvents {
  /** A whole data message (FIN seen): opcode OP_TEXT or OP_BINARY. */
  message(opcode: number, payload: Uint8Array): void;
  /** A control frame: close, ping or pong. */
  control(opcode: number, payload: Uint8Array): void;
}

/** A violation of RFC 6455 by the server; `code` is the close code to send (§7.4.1). */
export class FrameError extends Error {
  override name = 'FrameError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Incremental decoder of the server's (unmasked) frames. */
export class ServerFrameReader {
  readonly #events: FrameEvents;
  readonly #maxMessage: number;
  readonly #head = new Uint8Array(14);
  #headLen = 0;
  #headNeed = 2;
  #inPayload = false;
  #opcode = 0;
  #fin = false;
  #payload: Uint8Array = new Uint8Array(0);
  #filled = 0;
  /** Data frames of a fragmented message so far, and its opcode. */
  #parts: Uint8Array[] = [];
  #partsBytes = 0;
  #messageOpcode = 0;

  constructor(events: FrameEvents, maxMessage: number) {
    this.#events = events;
    this.#maxMessage = maxMessage;
  }

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (!this.#inPayload) {
        while (this.#headLen < this.#headNeed && i < chunk.length) {
          this.#head[this.#headLen++] = chunk[i++]!;
          if (this.#headLen === 2) this.#headNeed = this.#headSize();
        }
        if (this.#headLen < this.#headNeed) return;
        this.#startPayload();
        continue;
      }
      const want = this.#payload.length - this.#filled;
      if (this.#filled === 0 && chunk.length - i >= want) {
        // The whole payload is in this chunk: hand out a view, no copy (chunks are fresh).
        this.#payload = chunk.subarray(i, i + want);
        i += want;
      } else {
        const n = Math.min(want, chunk.length - i);
        this.#payload.set(chunk.subarray(i, i + n), this.#filled);
        this.#filled += n;
        i += n;
        if (this.#filled < this.#payload.length) return;
      }
      this.#endFrame();
    }
  }

  #headSize(): number {
    const b0 = this.#head[0]!;
    const b1 = this.#head[1]!;
    if (b0 & 0x70) throw new FrameError(1002, 'reserved bits set without an extension');
    if (b1 & 0x80) throw new FrameError(1002, 'the server masked a frame');
    const len = b1 & 0x7f;
    return 2 + (len === 126 ? 2 : len === 127 ? 8 : 0);
  }

  #startPayload(): void {
    const h = this.#head;
    this.#fin = (h[0]! & 0x80) !== 0;
    this.#opcode = h[0]! & 0x0f;
    let len = h[1]! & 0x7f;
    if (len === 126) len = (h[2]! << 8) | h[3]!;
    else if (len === 127) {
      const view = new DataView(h.buffer, 2, 8);
      len = view.getUint32(0) * 2 ** 32 + view.getUint32(4);
    }
    const control = this.#opcode >= 0x8;
    if (control && (len > 125 || !this.#fin)) {
      throw new FrameError(1002, 'a control frame is fragmented or over 125 bytes');
    }
    if (!control && this.#partsBytes + len > this.#maxMessage) {
      throw new FrameError(1009, `message over ${this.#maxMessage} bytes`);
    }
    this.#headLen = 0;
    this.#headNeed = 2;
    this.#inPayload = true;
    this.#filled = 0;
    this.#payload = len === 0 ? new Uint8Array(0) : new Uint8Array(len);
    if (len === 0) this.#endFrame();
  }

  #endFrame(): void {
    this.#inPayload = false;
    const opcode = this.#opcode;
    const payload = this.#payload;
    this.#payload = new Uint8Array(0);
    if (opcode >= 0x8) {
      if (opcode !== OP_CLOSE && opcode !== OP_PING && opcode !== OP_PONG) {
        throw new FrameError(1002, `unknown control opcode ${opcode}`);
      }
      this.#events.control(opcode, payload);
      return;
    }
    if (opcode === OP_CONTINUATION) {
      if (this.#parts.length === 0) throw new FrameError(1002, 'continuation without a start');
    } else if (opcode === OP_TEXT || opcode === OP_BINARY) {
      if (this.#parts.length > 0) throw new FrameError(1002, 'new message inside a fragmented one');
      this.#messageOpcode = opcode;
    } else {
      throw new FrameError(1002, `unknown data opcode ${opcode}`);
    }
    if (this.#fin && this.#parts.length === 0) {
      this.#events.message(opcode, payload);
      return;
    }
    this.#parts.push(payload);
    this.#partsBytes += payload.length;
    if (!this.#fin) return;
    const whole = new Uint8Array(this.#partsBytes);
    let offset = 0;
    for (const part of this.#parts) {
      whole.set(part, offset);
      offset += part.length;
    }
    this.#parts = [];
    this.#partsBytes = 0;
    this.#events.message(this.#messageOpcode, whole);
  }
}
