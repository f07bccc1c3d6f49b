/**
 * Turns a complete head (see read-head.ts) into a RequestHead or ResponseHead, validating
 * every byte: these checks are tether's defence against request smuggling, so anything
 * the grammar of RFC 9112 does not allow is an error, never a guess.
 *
 * @module
 */
import { FIELD_VCHAR, isValidHost, TCHAR } from './chars.ts';
import { protocolError, type Side } from './http-error.ts';
import type { RawHead } from './read-head.ts';
import { splitAbsoluteTarget } from './target.ts';
import type { HeaderList, RequestHead, ResponseHead } from './types.ts';

/** Parses the field lines `lines[from…]` of `head` (RFC 9112 §5). */
export function parseFields(head: RawHead, from: number, side: Side): HeaderList {
  const { text, lines } = head;
  const headers: HeaderList = [];
  for (let k = from; k < lines.length; k += 2) {
    const s = lines[k]!;
    const e = lines[k + 1]!;
    const first = text.charCodeAt(s);
    if (first === 32 || first === 9) {
      // RFC 9112 §5.2: obs-fold is rejected, not unfolded.
      throw protocolError(side, 400, 'obs-fold', 'Invalid header field: obsolete line folding');
    }
    let colon = s;
    while (colon < e && TCHAR[text.charCodeAt(colon)] === 1) colon++;
    if (colon === e || text.charCodeAt(colon) !== 58) {
      let ws = colon;
      while (ws < e && isOws(text.charCodeAt(ws))) ws++;
      if (colon > s && ws > colon && text.charCodeAt(ws) === 58) {
        // RFC 9112 §5.1: whitespace between name and colon MUST be rejected.
        throw protocolError(
          side,
          400,
          'space-before-colon',
          'Invalid header field: whitespace before colon',
        );
      }
      throw protocolError(side, 400, 'invalid-header', 'Invalid header field: bad field name');
    }
    if (colon === s) {
      throw protocolError(side, 400, 'invalid-header', 'Invalid header field: empty field name');
    }
    let vs = colon + 1;
    let ve = e;
    while (vs < ve && isOws(text.charCodeAt(vs))) vs++;
    while (ve > vs && isOws(text.charCodeAt(ve - 1))) ve--;
    for (let i = vs; i < ve; i++) {
      const c = text.charCodeAt(i);
      if (FIELD_VCHAR[c] !== 1) throw badValue(side, c);
    }
    headers.push([text.slice(s, colon), text.slice(vs, ve)]);
  }
  return headers;
}

/** Parses a request head (RFC 9112 §3) and checks Host (§3.2). */
export function parseRequestHead(head: RawHead): RequestHead {
  const { text, lines } = head;
  const s = lines[0]!;
  const e = lines[1]!;
  const sp1 = text.indexOf(' ', s);
  const sp2 = sp1 === -1 ? -1 : text.indexOf(' ', sp1 + 1);
  if (sp1 === -1 || sp2 === -1 || sp2 >= e) {
    throw protocolError('request', 400, 'bad-request-line', 'Invalid request line');
  }
  if (sp1 === s) throw protocolError('request', 400, 'invalid-method', 'Invalid request method');
  for (let i = s; i < sp1; i++) {
    if (TCHAR[text.charCodeAt(i)] !== 1) {
      throw protocolError('request', 400, 'invalid-method', 'Invalid request method');
    }
  }
  const method = text.slice(s, sp1);
  const target = text.slice(sp1 + 1, sp2);
  if (!isValidTarget(method, target)) {
    throw protocolError('request', 400, 'invalid-target', 'Invalid request target');
  }
  const absolute = splitAbsoluteTarget(method, target);
  // The authority of an absolute-form target stands in for Host (RFC 9112 §3.2.2), so it is
  // held to the same grammar; userinfo is an error (RFC 9110 §4.2.4), and so is an empty host.
  if (
    absolute !== undefined &&
    (absolute.authority === '' ||
      absolute.authority.charCodeAt(0) === 58 ||
      !isValidHost(absolute.authority))
  ) {
    throw protocolError('request', 400, 'invalid-target', 'Invalid request target: bad authority');
  }
  const minor = parseVersion(text, sp2 + 1, e, 'request');
  const headers = parseFields(head, 2, 'request');
  let hosts = 0;
  for (const [name, value] of headers) {
    if (name.length !== 4 || name.toLowerCase() !== 'host') continue;
    hosts++;
    // Routing reads Host: a value that is not an authority is refused, not guessed at.
    if (!isValidHost(value)) {
      throw protocolError('request', 400, 'invalid-host', 'Invalid request: bad Host value');
    }
  }
  if (hosts > 1)
    throw protocolError('request', 400, 'multiple-host', 'Invalid request: several Host fields');
  if (hosts === 0 && minor === 1) {
    throw protocolError('request', 400, 'missing-host', 'Invalid request: no Host field');
  }
  return { method, target, minor, headers };
}

/** Parses a response head (RFC 9112 §4). */
export function parseResponseHead(head: RawHead): ResponseHead {
  const { text, lines } = head;
  const s = lines[0]!;
  const e = lines[1]!;
  // "HTTP/1.1 200" followed by " reason" or nothing: tolerate a missing reason phrase.
  if (
    e - s < 12 ||
    text.charCodeAt(s + 8) !== 32 ||
    (e - s > 12 && text.charCodeAt(s + 12) !== 32)
  ) {
    throw protocolError('response', 502, 'bad-status-line', 'Invalid status line');
  }
  const minor = parseVersion(text, s, s + 8, 'response');
  let status = 0;
  for (let i = s + 9; i < s + 12; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9)
      throw protocolError('response', 502, 'bad-status-line', 'Invalid status code');
    status = status * 10 + d;
  }
  if (status < 100) throw protocolError('response', 502, 'bad-status-line', 'Invalid status code');
  const reason = e - s > 12 ? text.slice(s + 13, e) : '';
  for (let i = 0; i < reason.length; i++) {
    if (FIELD_VCHAR[reason.charCodeAt(i)] !== 1) throw badValue('response', reason.charCodeAt(i));
  }
  return { status, reason, minor, headers: parseFields(head, 2, 'response') };
}

/** `HTTP/1.0` or `HTTP/1.1` at [s, e); other well-formed versions are 505 (RFC 9110 §15.6.6). */
function parseVersion(text: string, s: number, e: number, side: Side): 0 | 1 {
  if (e - s === 8 && text.startsWith('HTTP/', s) && text.charCodeAt(s + 6) === 46) {
    const major = text.charCodeAt(s + 5);
    const minor = text.charCodeAt(s + 7);
    if (major === 49 && (minor === 48 || minor === 49)) return minor === 48 ? 0 : 1;
    if (major >= 48 && major <= 57 && minor >= 48 && minor <= 57) {
      throw protocolError(side, 505, 'unsupported-version', 'Unsupported HTTP version');
    }
  }
  throw protocolError(side, 400, 'invalid-version', 'Invalid HTTP version');
}

/**
 * RFC 9112 §3.2: origin-form (`/…`), absolute-form (`scheme://…`), authority-form (CONNECT
 * only) or asterisk-form (OPTIONS only). Only visible ASCII is allowed.
 */
function isValidTarget(method: string, target: string): boolean {
  if (target.length === 0) return false;
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 32 || c >= 127) return false;
  }
  if (method === 'CONNECT') return target[0] !== '/' && target.includes(':');
  if (target === '*') return method === 'OPTIONS';
  if (target[0] === '/') return true;
  return isAbsoluteUri(target);
}

function isAbsoluteUri(target: string): boolean {
  const colon = target.indexOf(':');
  if (colon < 1) return false;
  for (let i = 0; i < colon; i++) {
    const c = target.charCodeAt(i) | 0x20;
    const alpha = c >= 97 && c <= 122;
    if (!alpha && (i === 0 || !isSchemeChar(target.charCodeAt(i)))) return false;
  }
  return target.startsWith('//', colon + 1);
}

function isSchemeChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46;
}

function isOws(c: number): boolean {
  return c === 32 || c === 9;
}

function badValue(side: Side, c: number) {
  if (c === 13) return protocolError(side, 400, 'bare-cr', 'Invalid header field: bare CR');
  const what = c === 0 ? 'NUL' : `control character 0x${c.toString(16)}`;
  return protocolError(side, 400, 'invalid-header', `Invalid header field: ${what} in value`);
}
