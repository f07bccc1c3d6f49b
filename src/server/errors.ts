import { type HeaderList, type ResponseHead, reasonPhrase } from '../http1/index.ts';

/** Machine-readable codes sent in the `tether-error` header with every error we generate. */
export type ProxyErrorCode =
  | 'missing-endpoint'
  | 'invalid-endpoint'
  | 'no-upstream'
  | 'upstream-unreachable'
  | 'upstream-timeout'
  | 'upstream-idle'
  | 'draining'
  | 'bad-request'
  | 'connect-unsupported';

/** Piko's error texts and statuses (notes/piko.md), with our code header added. */
export const PROXY_ERRORS: Record<ProxyErrorCode, { status: number; message: string }> = {
  'missing-endpoint': { status: 400, message: 'missing endpoint id' },
  'invalid-endpoint': { status: 400, message: 'invalid endpoint id' },
  'no-upstream': { status: 502, message: 'no available upstreams' },
  'upstream-unreachable': { status: 502, message: 'upstream unreachable' },
  'upstream-timeout': { status: 504, message: 'upstream timeout' },
  'upstream-idle': { status: 504, message: 'upstream idle timeout' },
  draining: { status: 503, message: 'server is draining' },
  'bad-request': { status: 400, message: 'bad request' },
  'connect-unsupported': {
    status: 501,
    message:
      'CONNECT is not supported: tether routes requests to endpoints, it is not a forward proxy',
  },
};

/** A JSON `{"error": …}` response head and body. */
export function jsonError(
  status: number,
  message: string,
  code?: string,
  extra: HeaderList = [],
): { head: ResponseHead; body: Uint8Array } {
  const body = new TextEncoder().encode(`${JSON.stringify({ error: message })}\n`);
  const headers: HeaderList = [
    ['content-type', 'application/json'],
    ['content-length', String(body.length)],
  ];
  if (code) headers.push(['tether-error', code]);
  headers.push(...extra);
  return { head: { status, reason: reasonPhrase(status) || 'Error', minor: 1, headers }, body };
}

export function proxyError(code: ProxyErrorCode, detail?: string) {
  const { status, message } = PROXY_ERRORS[code];
  return jsonError(status, detail ? `${message}: ${detail}` : message, code);
}
