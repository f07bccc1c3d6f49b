/**
 * The yamux protocol in types: hashicorp/yamux spec.md, "Framing".
 *
 * @module
 */

/** Message types (spec.md "Type field"). */
export enum FrameType {
  /** Data for a stream; the length is the number of payload bytes that follow. */
  Data = 0,
  /** Grows the receiver's window by the length field; may carry SYN/ACK/FIN/RST. */
  WindowUpdate = 1,
  /** Measures RTT and keeps the session alive; the length is an opaque value echoed back. */
  Ping = 2,
  /** Terminates the session; the length is a GoAwayCode. */
  GoAway = 3,
}

/** Header flags (spec.md "Flag field"). */
export enum Flag {
  /** Starts a new stream; may ride on Data or WindowUpdate; a Ping request. */
  SYN = 1,
  /** Acknowledges a new stream; a Ping reply. */
  ACK = 2,
  /** Half-closes the stream in the sender's direction. */
  FIN = 4,
  /** Resets the stream at once. */
  RST = 8,
}

/** GoAway error codes (spec.md "GoAway" section). */
export enum GoAwayCode {
  Normal = 0,
  ProtocolError = 1,
  InternalError = 2,
}

/** spec.md "Framing": the version field is always 0. */
export const PROTOCOL_VERSION = 0;
/** spec.md "Framing": version u8, type u8, flags u16, stream id u32, length u32. */
export const HEADER_LENGTH = 12;
/** spec.md "Flow Control": every stream starts with a 256 KiB window in each direction. */
export const INITIAL_STREAM_WINDOW = 256 * 1024;
/** spec.md "StreamID Field": the session itself (Ping, GoAway) uses stream id 0. */
export const SESSION_STREAM_ID = 0;

export interface FrameHeader {
  readonly version: number;
  readonly type: FrameType;
  readonly flags: number;
  readonly streamId: number;
  readonly length: number;
}
