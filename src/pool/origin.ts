import type { TlsClientOptions } from '../runtime/index.ts';

/** Where upstream connections go: scheme, host and port (plus TLS settings for https). */
export interface Origin {
  readonly protocol: 'http:' | 'https:';
  readonly host: string;
  readonly port: number;
  readonly tls?: TlsClientOptions;
}

const USAGE = 'expected a port, host:port, http://host[:port] or https://host[:port]';

/**
 * Parses an upstream address the way Piko's agent does: a bare port means localhost,
 * `host:port` means http, a URL gives the scheme (default ports 80 and 443).
 */
export function parseOrigin(addr: string): Origin {
  const text = addr.trim();
  if (/^\d+$/.test(text))
    return { protocol: 'http:', host: 'localhost', port: checkPort(addr, text) };
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
  let url: URL;
  try {
    url = new URL(hasScheme ? text : `http://${text}`);
  } catch (cause) {
    throw new TypeError(`Invalid upstream address "${addr}": ${USAGE}`, { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`Invalid upstream address "${addr}": scheme must be http or https`);
  }
  if (
    url.username ||
    url.password ||
    url.search ||
    url.hash ||
    (url.pathname !== '/' && url.pathname !== '')
  ) {
    throw new TypeError(`Invalid upstream address "${addr}": ${USAGE}`);
  }
  if (!hasScheme && url.port === '') {
    throw new TypeError(`Invalid upstream address "${addr}": ${USAGE}`);
  }
  if (url.hostname === '') throw new TypeError(`Invalid upstream address "${addr}": ${USAGE}`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : checkPort(addr, url.port);
  return { protocol: url.protocol, host, port };
}

function checkPort(addr: string, text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(`Invalid upstream address "${addr}": port must be 1-65535`);
  }
  return port;
}

/** Identity of an origin in the pool: connections are shared only within one key. */
export function originKey(origin: Origin): string {
  const base = `${origin.protocol}//${origin.host}:${origin.port}`;
  return origin.protocol === 'https:' && origin.tls
    ? `${base} ${JSON.stringify(origin.tls)}`
    : base;
}
