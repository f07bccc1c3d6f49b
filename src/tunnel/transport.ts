/**
 * The message transport a session runs on. A `WebSocketConn` from `src/runtime/types.ts`
 * satisfies it structurally; inbound messages are fed to `Session.receive()`.
 */
export interface FrameTransport {
  /** Sends ONE binary message; false => await `drained()` before sending more. */
  send(bytes: Uint8Array): boolean;
  drained(): Promise<void>;
  /** True when send() is done with the array once it returns: it may be reused. */
  readonly sendCopies?: boolean;
  /**
   * Messages are plain bytes on one stream (no framing): two sends arrive as their
   * concatenation, so a large payload may go in a send of its own after its header.
   */
  readonly byteStream?: boolean;
  close(code?: number, reason?: string): void;
}

/** How a transport's end reads in logs: WebSocket close codes, or a byte stream's FIN. */
export function closedMessage(transport: string, code: number, reason: string): string {
  if (transport !== 'websocket') {
    return code === 1006 ? `${transport} connection failed` : `${transport} connection closed`;
  }
  return `WebSocket closed (${code}${reason ? ` ${reason}` : ''})`;
}
