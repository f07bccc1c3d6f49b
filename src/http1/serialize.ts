/**
 * Head serializers. Names and values are checked (token / field-value grammar) so that a
 * header taken from elsewhere can never inject a line; heads are encoded byte per char
 * (latin1: every char the grammar allows is below 256).
 *
 * One pass writes and checks each char into a buffer sized exactly beforehand: no template
 * string to flatten and encode, no second copy (twice as fast as that on Bun, about 0.3 µs
 * less per head; a proxied request serializes four).
 *
 * @module
 */
import { FIELD_VCHAR, TCHAR } from './chars.ts';
import type { HeaderList, RequestHead, ResponseHead } from './types.ts';

const CR = 13;
const LF = 10;
const SP = 32;
const COLON = 58;

export function serializeRequestHead(head: RequestHead): Uint8Array {
  const { method, target } = head;
  if (method.length === 0) throw new TypeError('Cannot serialize head: empty method');
  // "GET" SP target SP "HTTP/1.x" CRLF fields CRLF
  const out = new Uint8Array(method.length + target.length + 12 + fieldsLength(head.headers));
  let at = putChecked(out, 0, method, TCHAR, 'method');
  out[at++] = SP;
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 32 || c >= 127) throw new TypeError('Cannot serialize request head: invalid target');
    out[at++] = c;
  }
  out[at++] = SP;
  putFieldSection(out, putVersion(out, at, head.minor), head.headers);
  return out;
}

export function serializeResponseHead(head: ResponseHead): Uint8Array {
  const { status, reason } = head;
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new RangeError(`Cannot serialize response head: invalid status ${status}`);
  }
  // "HTTP/1.x" SP 3DIGIT SP reason CRLF fields CRLF
  const out = new Uint8Array(15 + reason.length + fieldsLength(head.headers));
  let at = putVersion(out, 0, head.minor);
  out[at++] = SP;
  out[at++] = 48 + Math.floor(status / 100);
  out[at++] = 48 + (Math.floor(status / 10) % 10);
  out[at++] = 48 + (status % 10);
  out[at++] = SP;
  at = putChecked(out, at, reason, FIELD_VCHAR, 'reason phrase');
  putFieldSection(out, at, head.headers);
  return out;
}

/** Bytes of the field lines (`name: value` CRLF each) and the empty line after them. */
function fieldsLength(headers: HeaderList): number {
  let n = 2;
  for (let i = 0; i < headers.length; i++) {
    const field = headers[i]!;
    n += field[0].length + field[1].length + 4;
  }
  return n;
}

/** The CRLF ending the start line, the field lines, and the empty line ending the head. */
function putFieldSection(out: Uint8Array, at: number, headers: HeaderList): void {
  out[at++] = CR;
  out[at++] = LF;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    if (name.length === 0) throw new TypeError('Cannot serialize head: empty header name');
    at = putChecked(out, at, name, TCHAR, 'header name');
    out[at++] = COLON;
    out[at++] = SP;
    at = putChecked(out, at, value, FIELD_VCHAR, name);
    out[at++] = CR;
    out[at++] = LF;
  }
  out[at++] = CR;
  out[at] = LF;
}

/** "HTTP/1.x" (RFC 9112 §2.3). */
function putVersion(out: Uint8Array, at: number, minor: number): number {
  if (minor !== 0 && minor !== 1) throw new RangeError(`Cannot serialize head: HTTP/1.${minor}`);
  out[at++] = 72; // H
  out[at++] = 84; // T
  out[at++] = 84; // T
  out[at++] = 80; // P
  out[at++] = 47; // /
  out[at++] = 49; // 1
  out[at++] = 46; // .
  out[at++] = 48 + minor;
  return at;
}

/** Writes `s` byte per char, each char allowed by `table` (token or field-value chars). */
function putChecked(
  out: Uint8Array,
  at: number,
  s: string,
  table: Uint8Array,
  what: string,
): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (table[c] !== 1) {
      throw new TypeError(
        table === TCHAR
          ? `Cannot serialize head: invalid ${what}`
          : `Cannot serialize head: invalid value for ${what}`,
      );
    }
    out[at++] = c;
  }
  return at;
}
