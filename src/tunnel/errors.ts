import { GoAwayCode } from './frame.ts';

/** The peer broke the yamux protocol; the session ends with GoAway(`code`). */
export class ProtocolError extends Error {
  readonly code: GoAwayCode;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ProtocolError';
    this.code = GoAwayCode.ProtocolError;
  }
}

/** The peer sent more Data than the stream's advertised receive window. */
export class WindowExceededError extends ProtocolError {
  override readonly name = 'WindowExceededError';
}

/** A frame named a stream that never existed (as opposed to one recently closed). */
export class UnknownStreamError extends ProtocolError {
  override readonly name = 'UnknownStreamError';
}

/** The session is closed; every pending operation fails with this (`cause` = why). */
export class SessionClosedError extends Error {
  override readonly name = 'SessionClosedError';
}

/** `open()` after the peer sent GoAway. */
export class RemoteGoAwayError extends Error {
  override readonly name = 'RemoteGoAwayError';
}

/** `open()` after this side sent GoAway. */
export class SessionDrainingError extends Error {
  override readonly name = 'SessionDrainingError';
}

/** RST arrived before ACK: the peer never processed the stream, so retrying elsewhere is safe. */
export class StreamRefusedError extends Error {
  override readonly name = 'StreamRefusedError';
}

/** No ACK (or any frame) for an opened stream within `streamOpenTimeout`; the peer may have seen it. */
export class StreamOpenTimeoutError extends Error {
  override readonly name = 'StreamOpenTimeoutError';
}

/** The stream was reset (RST) by either side after it was established. */
export class StreamResetError extends Error {
  override readonly name = 'StreamResetError';
}
