/**
 * The tunnel core: yamux (hashicorp/yamux spec.md) over a message transport such as a
 * WebSocket, with streams as web streams and real flow control. The session is what the
 * keep-alive engine runs on: heartbeats, dead-peer detection, GoAway and drain.
 *
 * @module
 */
export { decodeHeader, encodeHeader, writeHeader } from './codec.ts';
export {
  defaultSessionConfig,
  type LogLevel,
  resolveSessionConfig,
  type SessionConfig,
} from './config.ts';
export { FrameDecoder, type FrameHandler } from './decoder.ts';
export {
  ProtocolError,
  RemoteGoAwayError,
  SessionClosedError,
  SessionDrainingError,
  StreamOpenTimeoutError,
  StreamRefusedError,
  StreamResetError,
  UnknownStreamError,
  WindowExceededError,
} from './errors.ts';
export {
  Flag,
  type FrameHeader,
  FrameType,
  GoAwayCode,
  HEADER_LENGTH,
  INITIAL_STREAM_WINDOW,
  PROTOCOL_VERSION,
} from './frame.ts';
export { EARLY_FLUSH_FRAMES } from './frame-writer.ts';
export { Session } from './session.ts';
export type { Stream } from './stream.ts';
export { closedMessage, type FrameTransport } from './transport.ts';
