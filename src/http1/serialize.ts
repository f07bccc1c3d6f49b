/**
 * Head serializers. Names and values are checked (token / field-value grammar) so that a
 * header taken from elsewhere can never inject a line; heads are encoded byte per char.
 *
 * @module
 */
import { FIELD_VCHAR, TCHAR } from './chars.ts';
import type { HeaderList, RequestHead, ResponseHead } from './types.ts';

const encoder = new TextEncoder();

export function serializeRequestHead(head: RequestHead): Uint8Array {
  checkToken(head.method, 'method');
  for (let i = 0; i < head.target.length; i++) {
    const c = head.target.charCodeAt(i);
    if (c <= 32 || c >= 127) throw new TypeError('Cannot serialize request head: invalid target');
  }
  const text = `${head.method} ${head.target} HTTP/1.${head.minor}\r\n${fieldLines(head.headers)}\r\n`;
  return encode(text);
}

export function serializeResponseHead(head: ResponseHead): Uint8Array {
  if (!Number.isInteger(head.status) || head.status < 100 || head.status > 999) {
    throw new RangeError(`Cannot serialize response head: invalid status ${head.status}`);
  }
  checkValue(head.reason, 'reason phrase');
  const text = `HTTP/1.${head.minor} ${head.status} ${head.reason}\r\n${fieldLines(head.headers)}\r\n`;
  return encode(text);
}

function fieldLines(headers: HeaderList): string {
  let out = '';
  for (const [name, value] of headers) {
    checkToken(name, 'header name');
    checkValue(value, name);
    out += `${name}: ${value}\r\n`;
  }
  return out;
}

function checkToken(s: string, what: string): void {
  if (s.length === 0) throw new TypeError(`Cannot serialize head: empty ${what}`);
  for (let i = 0; i < s.length; i++) {
    if (TCHAR[s.charCodeAt(i)] !== 1) throw new TypeError(`Cannot serialize head: invalid ${what}`);
  }
}

function checkValue(s: string, what: string): void {
  for (let i = 0; i < s.length; i++) {
    if (FIELD_VCHAR[s.charCodeAt(i)] !== 1) {
      throw new TypeError(`Cannot serialize head: invalid value for ${what}`);
    }
  }
}

/** latin1 encoding; TextEncoder (UTF-8) is exact, and fastest, when all chars are ASCII. */
function encode(text: string): Uint8Array {
  const out = encoder.encode(text);
  if (out.length === text.length) return out;
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}
