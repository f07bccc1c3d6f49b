/** Character classes of RFC 9110 §5.6.2 (token) and §5.5 (field values), as lookup tables. */

const tcharList = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** TCHAR[c] === 1 when the code unit `c` may appear in a token (method, field name). */
export const TCHAR = new Uint8Array(256);
for (let i = 0; i < tcharList.length; i++) TCHAR[tcharList.charCodeAt(i)] = 1;

/**
 * FIELD_VCHAR[c] === 1 when `c` may appear inside a field value: VCHAR, SP, HTAB and
 * obs-text (RFC 9110 §5.5). Excludes every other CTL, including NUL, CR, LF and DEL.
 */
export const FIELD_VCHAR = new Uint8Array(256);
for (let i = 0x20; i < 0x7f; i++) FIELD_VCHAR[i] = 1;
for (let i = 0x80; i < 0x100; i++) FIELD_VCHAR[i] = 1;
FIELD_VCHAR[9] = 1;

/** True when `s` is a non-empty token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (TCHAR[s.charCodeAt(i)] !== 1) return false;
  return true;
}

/** True when `s` is a valid field value (no CTL but HTAB, no char above 0xFF). */
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (FIELD_VCHAR[s.charCodeAt(i)] !== 1) return false;
  return true;
}

const utf8 = new TextDecoder();

/** Bytes as a latin1 string: one code unit per byte, exact for obs-text. */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  // Fast path: for pure ASCII, UTF-8 decoding is latin1 decoding, and native. Any byte
  // above 0x7F either joins a multi-byte sequence (the string gets shorter) or becomes
  // U+FFFD, so this check is exact.
  const fast = utf8.decode(bytes.subarray(start, end));
  if (fast.length === end - start && !fast.includes('\uFFFD')) return fast;
  let out = '';
  for (let i = start; i < end; i += 8192) {
    const stop = Math.min(end, i + 8192);
    out += String.fromCharCode.apply(null, bytes.subarray(i, stop) as unknown as number[]);
  }
  return out;
}
