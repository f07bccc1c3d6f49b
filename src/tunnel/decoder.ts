import { readUint32 } from './codec.ts';
import { ProtocolError } from './errors.ts';
import { Flag, FrameType, HEADER_LENGTH, PROTOCOL_VERSION } from './frame.ts';

/**
 * Called once per frame, and for a Data payload that spans chunks once per piece as it
 * arrives: SYN, ACK and RST come with the first piece, FIN with the last, `length` is the
 * piece's. `payload` is set for Data frames only (spec.md: the other types carry their value
 * in the length field) and is a view into the inbound chunk.
 */
export type FrameHandler = (
  type: FrameType,
  flags: number,
  streamId: number,
  length: number,
  payload: Uint8Array | undefined,
) => void;

const EMPTY = new Uint8Array(0);

/**
 * Incremental frame decoder. The transport's messages form one byte stream whose boundaries
 * mean nothing (Piko writes header and payload as two messages), so any split is handled.
 * Payload bytes are never copied or gathered: a payload is passed on as views of the chunks
 * it came in (gathering a large frame that spanned reads cost the server a quarter of its
 * CPU on a download, docs/performance.md).
 */
export class FrameDecoder {
  readonly #onFrame: FrameHandler;
  readonly #maxPayload: number;
  readonly #header = new Uint8Array(HEADER_LENGTH);
  #headerFill = 0;
  #type: FrameType = FrameType.Data;
  #flags = 0;
  #streamId = 0;
  #length = 0;
  /** Bytes of the current Data frame's payload still to come; 0 between frames. */
  #remaining = 0;
  /** Flags for the next piece of that payload: the frame's, but FIN only on its last piece. */
  #pieceFlags = 0;

  /** `maxPayload` bounds the length a Data frame may announce. */
  constructor(onFrame: FrameHandler, maxPayload = 0xffffffff) {
    this.#onFrame = onFrame;
    this.#maxPayload = maxPayload;
  }

  /** True when no partial frame is pending. */
  get idle(): boolean {
    return this.#headerFill === 0 && this.#remaining === 0;
  }

  /** Feeds one chunk; throws ProtocolError on a bad version, type or size. */
  push(chunk: Uint8Array): void {
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      const remaining = this.#remaining;
      if (remaining > 0) {
        // The rest of a payload that spans chunks, handed on as it comes: no copy, and no
        // buffer the size of the frame (DESIGN: bytes flow as they arrive).
        const take = remaining < end - pos ? remaining : end - pos;
        const view = chunk.subarray(pos, pos + take);
        pos += take;
        this.#remaining = remaining - take;
        let flags = this.#pieceFlags;
        if (this.#remaining === 0) flags |= this.#flags & Flag.FIN;
        this.#pieceFlags = 0;
        this.#onFrame(FrameType.Data, flags, this.#streamId, take, view);
        continue;
      }
      if (this.#headerFill === 0 && end - pos >= HEADER_LENGTH) {
        this.#parse(chunk, pos);
        pos += HEADER_LENGTH;
      } else {
        const take = Math.min(HEADER_LENGTH - this.#headerFill, end - pos);
        this.#header.set(chunk.subarray(pos, pos + take), this.#headerFill);
        this.#headerFill += take;
        pos += take;
        if (this.#headerFill < HEADER_LENGTH) return;
        this.#headerFill = 0;
        this.#parse(this.#header, 0);
      }
      if (this.#type !== FrameType.Data) {
        this.#onFrame(this.#type, this.#flags, this.#streamId, this.#length, undefined);
      } else if (this.#length === 0) {
        this.#onFrame(this.#type, this.#flags, this.#streamId, 0, EMPTY);
      } else if (end - pos >= this.#length) {
        const view = chunk.subarray(pos, pos + this.#length);
        pos += this.#length;
        this.#onFrame(this.#type, this.#flags, this.#streamId, this.#length, view);
      } else {
        this.#remaining = this.#length;
        this.#pieceFlags = this.#flags & ~Flag.FIN;
      }
    }
  }

  #parse(bytes: Uint8Array, at: number): void {
    const version = bytes[at]!;
    const type = bytes[at + 1]!;
    if (version !== PROTOCOL_VERSION) {
      throw new ProtocolError(`Invalid frame: unsupported protocol version ${version}`);
    }
    if (type > FrameType.GoAway) throw new ProtocolError(`Invalid frame: unknown type ${type}`);
    this.#type = type;
    this.#flags = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    this.#streamId = readUint32(bytes, at + 4);
    this.#length = readUint32(bytes, at + 8);
    if (type === FrameType.Data && this.#length > this.#maxPayload) {
      throw new ProtocolError(
        `Invalid frame: data length ${this.#length} exceeds the largest window ${this.#maxPayload}`,
      );
    }
  }
}
