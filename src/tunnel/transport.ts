/**
 * The message transport a session runs on. A `WebSocketConn` from `src/runtime/types.ts`
 * satisfies it structurally; inbound messages are fed to `Session.receive()`.
 */
export interface FrameTransport {
  /** Sends ONE binary message; false => await `drained()` before sending more. */
  send(bytes: Uint8Array): boolean;
  drained(): Promise<void>;
  close(code?: number, reason?: string): void;
}
