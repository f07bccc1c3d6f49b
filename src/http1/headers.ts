/**
 * Header-list helpers: lookup, Connection tokens, persistence (RFC 9112 §9.3), hop-by-hop
 * fields (RFC 9110 §7.6.1), Keep-Alive hints and idempotency.
 *
 * @module
 */
import type { HeaderList, RequestHead, ResponseHead } from './types.ts';

/**
 * `name` equals `lower` (already lower case) ignoring ASCII case, without allocating: header
 * lookups run a dozen times per proxied request, and `toLowerCase()` per field showed up as
 * the agent's largest JavaScript cost (about 10 % of its busy time).
 */
export function equalsLower(name: string, lower: string): boolean {
  const n = name.length;
  if (n !== lower.length) return false;
  for (let i = 0; i < n; i++) {
    let c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) c |= 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * `s` without leading and trailing SP and HTAB, the only whitespace HTTP has (RFC 9110
 * §5.6.3). Not `trim()`: heads are decoded as latin1, and `trim()` also drops U+00A0 (byte
 * 0xA0), so `Content-Length: \xa05` would read as 5 where other parsers reject it.
 */
export function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isOwsChar(s.charCodeAt(start))) start++;
  while (end > start && isOwsChar(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

function isOwsChar(c: number): boolean {
  return c === 32 || c === 9;
}

/** The first value of `name` (case-insensitive), or undefined. */
export function getHeader(headers: HeaderList, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (let i = 0; i < headers.length; i++) {
    const field = headers[i]!;
    if (equalsLower(field[0], lower)) return field[1];
  }
  return undefined;
}

/** Every value of `name` (case-insensitive), in order. */
export function getHeaders(headers: HeaderList, name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (let i = 0; i < headers.length; i++) {
    const field = headers[i]!;
    if (equalsLower(field[0], lower)) out.push(field[1]);
  }
  return out;
}

/** Lower-cased, comma-separated tokens of every `name` field, empty elements dropped. */
export function listTokens(headers: HeaderList, name: string): string[] {
  return tokensOf(getHeaders(headers, name));
}

/** Lower-cased, comma-separated tokens of field `values`, empty elements dropped. */
export function tokensOf(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    for (const part of value.split(',')) {
      const token = trimOws(part).toLowerCase();
      if (token !== '') out.push(token);
    }
  }
  return out;
}

/** Lower-cased tokens of all Connection fields. */
export function connectionTokens(headers: HeaderList): Set<string> {
  return new Set(listTokens(headers, 'connection'));
}

/**
 * Whether the connection stays open after this message (RFC 9112 §9.3): `close` ends it;
 * HTTP/1.1 persists by default; HTTP/1.0 only with `keep-alive`.
 */
export function isPersistent(head: RequestHead | ResponseHead): boolean {
  // Runs for every message on both hops: no token list unless there is a Connection field.
  let keepAlive = false;
  for (const [name, value] of head.headers) {
    if (!equalsLower(name, 'connection')) continue;
    // The usual single token, without splitting or lower-casing anything.
    if (equalsLower(value, 'close')) return false;
    if (equalsLower(value, 'keep-alive')) {
      keepAlive = true;
      continue;
    }
    for (const part of value.split(',')) {
      const token = trimOws(part).toLowerCase();
      if (token === 'close') return false;
      if (token === 'keep-alive') keepAlive = true;
    }
  }
  return head.minor === 1 || keepAlive;
}

// RFC 9110 §7.6.1 names Connection, Proxy-Connection, Keep-Alive, TE, Transfer-Encoding and
// Upgrade; Trailer describes this hop's chunked encoding (RFC 9110 §6.6.2).
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'transfer-encoding',
  'upgrade',
  'trailer',
]);

/**
 * The fields without hop-by-hop ones: those above plus every field named in Connection.
 * Callers re-add Connection/Upgrade for an upgrade.
 */
export function stripHopByHop(headers: HeaderList): HeaderList {
  const named = namedInConnection(headers);
  const out: HeaderList = [];
  for (let i = 0; i < headers.length; i++) {
    const field = headers[i]!;
    const name = field[0];
    if (isHopByHopName(name)) continue;
    if (named?.has(name.toLowerCase())) continue;
    out.push(field);
  }
  return out;
}

/**
 * One of the names in `hopByHop`, by length first: no lower-cased copy of each name (this
 * runs on four heads per proxied request, and lower-casing every name of a length in the
 * set, such as User-Agent or X-Forwarded-Host, was most of its cost).
 */
export function isHopByHopName(name: string): boolean {
  switch (name.length) {
    case 2:
      return equalsLower(name, 'te');
    case 7:
      return equalsLower(name, 'upgrade') || equalsLower(name, 'trailer');
    case 10:
      return equalsLower(name, 'connection') || equalsLower(name, 'keep-alive');
    case 16:
      return equalsLower(name, 'proxy-connection');
    case 17:
      return equalsLower(name, 'transfer-encoding');
    default:
      return false;
  }
}

/**
 * Field names listed in Connection beyond the hop-by-hop ones every proxy drops anyway,
 * or null: `Connection: close` or `keep-alive` (nearly every message that has one) needs
 * no set.
 */
function namedInConnection(headers: HeaderList): Set<string> | null {
  let named: Set<string> | null = null;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    if (!equalsLower(name, 'connection')) continue;
    // The usual single token, without splitting or lower-casing anything.
    if (equalsLower(value, 'close') || equalsLower(value, 'keep-alive')) continue;
    for (const part of value.split(',')) {
      const token = trimOws(part).toLowerCase();
      if (token === '' || hopByHop.has(token)) continue;
      named ??= new Set();
      named.add(token);
    }
  }
  return named;
}

const idempotentMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/**
 * RFC 9110 §9.2.2 idempotent methods, or a request marked with Idempotency-Key /
 * X-Idempotency-Key (the rule Go's transport uses for replaying requests).
 */
export function isIdempotent(method: string, headers: HeaderList): boolean {
  if (idempotentMethods.has(method)) return true;
  return (
    getHeader(headers, 'idempotency-key') !== undefined ||
    getHeader(headers, 'x-idempotency-key') !== undefined
  );
}

/**
 * `Keep-Alive: timeout=N, max=M` (RFC 2068 §19.7.1.1), in seconds and requests. Names are
 * case-insensitive and values may be quoted; anything not a non-negative integer is
 * ignored, as are unknown parameters. The first valid occurrence of each parameter wins.
 */
export function parseKeepAlive(value: string | null | undefined): {
  timeout?: number;
  max?: number;
} {
  const out: { timeout?: number; max?: number } = {};
  if (!value) return out;
  for (const part of value.split(/[,;]/)) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = trimOws(part.slice(0, eq)).toLowerCase();
    if (name !== 'timeout' && name !== 'max') continue;
    let raw = trimOws(part.slice(eq + 1));
    if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"'))
      raw = trimOws(raw.slice(1, -1));
    if (raw.length === 0 || raw.length > 15 || !isDigits(raw)) continue;
    if (out[name] === undefined) out[name] = Number(raw);
  }
  return out;
}

function isDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
