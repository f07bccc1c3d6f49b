/**
 * WebSocket framing (RFC 6455) for tether's own HTTP/1.1 server: the proxy port terminates
 * TCP-over-WebSocket connections itself, so it needs frames, not a runtime WebSocket.
 *
 * @module
 */
export {
  acceptKey,
  isValidKey,
  type WebSocketBytesOptions,
  webSocketBytes,
} from './byte-stream.ts';
export {
  CloseCode,
  closePayload,
  encodeFrame,
  type Frame,
  FrameDecoder,
  Opcode,
  WebSocketProtocolError,
} from './frame.ts';
export { ServerWebSocketConn, type ServerWebSocketOptions } from './server-conn.ts';
