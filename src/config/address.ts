export interface Address {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses a bind or dial address: `:8000` (all interfaces), `8000`, `host:8000`,
 * `[::1]:8000`. Returns undefined when it is not one.
 */
export function parseAddress(text: string, defaultHost = '0.0.0.0'): Address | undefined {
  const s = text.trim();
  let host: string;
  let portText: string;
  if (/^\d+$/.test(s)) {
    host = defaultHost;
    portText = s;
  } else if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0 || s[end + 1] !== ':') return undefined;
    host = s.slice(1, end);
    portText = s.slice(end + 2);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0 || s.indexOf(':') !== colon) return undefined;
    host = s.slice(0, colon) || defaultHost;
    portText = s.slice(colon + 1);
  }
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535 || host.length === 0 || /[\s/]/.test(host)) return undefined;
  return { host, port };
}

/** `host:port`, bracketing IPv6 literals. */
export function formatAddress(address: Address): string {
  return address.host.includes(':')
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}
