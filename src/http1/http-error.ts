/**
 * A malformed or unacceptable HTTP/1.1 message. `status` is what to answer (400, 431, 501,
 * 505 towards a client; 502 when an upstream sent it); `code` is a stable machine-readable
 * name such as `te-and-cl` or `head-too-large`.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
  }
}

/** Which peer produced the message being parsed: decides 4xx (client) or 502 (upstream). */
export type Side = 'request' | 'response';

/** An HttpError for `side`: `requestStatus` towards a client, always 502 for an upstream. */
export function protocolError(
  side: Side,
  requestStatus: number,
  code: string,
  message: string,
): HttpError {
  return new HttpError(side === 'response' ? 502 : requestStatus, code, message);
}
