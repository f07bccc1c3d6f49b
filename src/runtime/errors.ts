/**
 * Turns the runtimes' socket errors (Bun: `code` such as `ECONNREFUSED`; Deno: error
 * classes such as `ConnectionRefused`) into one readable message.
 *
 * @module
 */

const reasons: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ConnectionRefused: 'connection refused',
  ECONNRESET: 'connection reset',
  ConnectionReset: 'connection reset',
  ETIMEDOUT: 'timed out',
  TimedOut: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_NONAME: 'host not found',
  NotFound: 'host not found',
  EADDRINUSE: 'address in use',
  AddrInUse: 'address in use',
  EADDRNOTAVAIL: 'address not available',
  AddrNotAvailable: 'address not available',
  EACCES: 'permission denied',
  PermissionDenied: 'permission denied',
  NotCapable: 'permission denied',
};

/** A short reason for a socket error: `connection refused`, or the runtime's own message. */
export function describeSocketError(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === 'string' && reasons[code]) return reasons[code];
    if (typeof name === 'string' && reasons[name]) return reasons[name];
    if (typeof message === 'string' && message !== '') return message;
  }
  return String(error);
}

/** `Cannot connect to 127.0.0.1:1: connection refused`, with the runtime error as cause. */
export function connectError(host: string, port: number, cause: unknown): Error {
  return new Error(`Cannot connect to ${hostPort(host, port)}: ${describeSocketError(cause)}`, {
    cause,
  });
}

/** `Cannot listen on 127.0.0.1:80: address in use`, with the runtime error as cause. */
export function listenError(host: string, port: number, cause: unknown): Error {
  return new Error(`Cannot listen on ${hostPort(host, port)}: ${describeSocketError(cause)}`, {
    cause,
  });
}

/** A direct write after the writable was closed (TcpConnection.write). */
export function writeEndedError(): Error {
  return new Error('Cannot write: the connection was closed for writing (FIN sent)');
}

export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The reason an AbortSignal carries, or a standard AbortError when it has none. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}
