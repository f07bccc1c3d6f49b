import { readUint32 } from './codec.ts';
import { ProtocolError } from './errors.ts';
import { FrameType, HEADER_LENGTH, PROTOCOL_VERSION } from './frame.ts';

/**
 * Called once per complete frame. `payload` is set for Data frames only (spec.md: the other
 * types carry their value in the length field) and may be a view into the inbound message.
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
 * A payload that lies inside one chunk is passed on as a view, without copying.
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
  #payload: Uint8Array | undefined;
  #payloadFill = 0;
  /** Length of a Data payload none of whose bytes has arrived yet; 0 when there is none. */
  #awaiting = 0;

  /** `maxPayload` bounds the memory one Data frame may claim before its window is checked. */
  constructor(onFrame: FrameHandler, maxPayload = 0xffffffff) {
    this.#onFrame = onFrame;
    this.#maxPayload = maxPayload;
  }

  /** True when no partial frame is buffered. */
  get idle(): boolean {
    return this.#headerFill === 0 && this.#payload === undefined && this.#awaiting === 0;
  }

  /** Feeds one chunk; throws ProtocolError on a bad version, type or size. */
  push(chunk: Uint8Array): void {
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      const awaiting = this.#awaiting;
      if (awaiting > 0) {
        this.#awaiting = 0;
        if (end - pos >= awaiting) {
          // The payload came whole in the chunk after its header, as Piko agents send every
          // Data frame (header and payload are two WebSocket messages): a view, not a copy.
          const view = chunk.subarray(pos, pos + awaiting);
          pos += awaiting;
          this.#onFrame(this.#type, this.#flags, this.#streamId, awaiting, view);
          continue;
        }
        this.#payload = new Uint8Array(awaiting);
        this.#payloadFill = 0;
      }
      const payload = this.#payload;
      if (payload !== undefined) {
        const take = Math.min(payload.length - this.#payloadFill, end - pos);
        payload.set(chunk.subarray(pos, pos + take), this.#payloadFill);
        this.#payloadFill += take;
        pos += take;
        if (this.#payloadFill === payload.length) {
          this.#payload = undefined;
          this.#onFrame(this.#type, this.#flags, this.#streamId, this.#length, payload);
        }
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
      } else if (pos === end) {
        this.#awaiting = this.#length;
      } else {
        this.#payload = new Uint8Array(this.#length);
        this.#payloadFill = 0;
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
