export type UpstreamErrorCode =
  | 'connect-failed'
  | 'reused-connection-closed'
  | 'upstream-closed'
  | 'bad-response'
  | 'aborted'
  | 'pool-full'
  | 'pool-closed';

/** A request could not be forwarded upstream; `status` is what a proxy answers (502). */
export class UpstreamError extends Error {
  readonly code: UpstreamErrorCode;
  readonly status: number;
  constructor(code: UpstreamErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UpstreamError';
    this.code = code;
    this.status = 502;
  }
}
