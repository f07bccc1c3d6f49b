/**
 * Message body length (RFC 9112 §6.3). Ambiguous framing is an error, never a guess:
 * Transfer-Encoding with Content-Length, differing Content-Lengths, and anything not
 * plainly valid are request-smuggling vectors.
 *
 * @module
 */
import { equalsLower, tokensOf, trimOws } from './headers.ts';
import { protocolError, type Side } from './http-error.ts';
import type { BodyFraming, RequestHead, ResponseHead } from './types.ts';

const none: BodyFraming = Object.freeze({ kind: 'none' });

/** No body bytes follow the head: no framing at all, or `Content-Length: 0`. */
export function isBodiless(framing: BodyFraming): boolean {
  return framing.kind === 'none' || (framing.kind === 'length' && framing.length === 0);
}

/** Request framing: chunked, Content-Length or no body (§6.3 items 3–6). */
export function requestFraming(head: RequestHead): BodyFraming {
  const framing = explicitFraming(head.headers, head.minor, 'request');
  if (framing === 'close') {
    // §6.3 item 4: a request whose final coding is not chunked has no reliable length.
    throw protocolError(
      'request',
      400,
      'te-not-chunked',
      'Invalid request: Transfer-Encoding does not end in chunked',
    );
  }
  return framing ?? none;
}

/**
 * Response framing for a response to `requestMethod` (§6.3 items 1–2, then as requests,
 * then close-delimited).
 */
export function responseFraming(head: ResponseHead, requestMethod: string): BodyFraming {
  const { status } = head;
  if (requestMethod === 'HEAD' || status < 200 || status === 204 || status === 304) return none;
  if (requestMethod === 'CONNECT' && status < 300) return none;
  const framing = explicitFraming(head.headers, head.minor, 'response');
  // §6.3 item 8 (no length): read to close. Item 4 is refused in explicitFraming.
  return framing === 'close' || framing === undefined ? { kind: 'close' } : framing;
}

function explicitFraming(
  headers: RequestHead['headers'],
  minor: 0 | 1,
  side: Side,
): BodyFraming | 'close' | undefined {
  // One pass over the fields, runs for every message on both hops: only names of length
  // 17 or 14 can match, and lists are made only for fields that are present.
  let te: string[] | undefined;
  let lengths: string[] | undefined;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    if (name.length === 17 && equalsLower(name, 'transfer-encoding')) {
      te ??= [];
      te.push(value);
    } else if (name.length === 14 && equalsLower(name, 'content-length')) {
      lengths ??= [];
      lengths.push(value);
    }
  }
  if (te !== undefined) {
    if (lengths !== undefined) {
      throw protocolError(
        side,
        400,
        'te-and-cl',
        'Invalid message: both Transfer-Encoding and Content-Length',
      );
    }
    const codings = tokensOf(te);
    if (minor === 0) {
      // §6.1: Transfer-Encoding in an HTTP/1.0 message means the framing is faulty.
      throw protocolError(
        side,
        400,
        'te-in-http10',
        'Invalid message: Transfer-Encoding in HTTP/1.0',
      );
    }
    const chunkedAt = codings.indexOf('chunked');
    const last = codings.length - 1;
    if (chunkedAt !== -1 && chunkedAt !== last) {
      // §6.1: chunked must be applied exactly once, and last.
      throw protocolError(
        side,
        400,
        'bad-te',
        'Invalid message: chunked is not the final transfer coding',
      );
    }
    if (chunkedAt === -1) {
      if (side === 'request') return 'close';
      // §6.3 item 4 would read such a response to the close, but tether forwards no coding
      // other than chunked: passing the bytes on without their coding would hand clients
      // content they cannot decode. A peer may use one only when asked (RFC 9110 §10.1.4),
      // and TE is hop-by-hop, so no request tether forwards asks.
      throw protocolError(
        side,
        501,
        'unsupported-te',
        `Unsupported transfer coding: ${codings[0] ?? '(empty)'}`,
      );
    }
    if (last > 0) {
      // Other codings under chunked: tether does not decode them (§6.1: 501 for requests).
      throw protocolError(
        side,
        501,
        'unsupported-te',
        `Unsupported transfer coding: ${codings[0]}`,
      );
    }
    return { kind: 'chunked' };
  }
  if (lengths === undefined) return undefined;
  let length: number | undefined;
  for (const value of lengths) {
    // The usual single value needs no split.
    for (const part of value.includes(',') ? value.split(',') : [value]) {
      const n = parseLength(trimOws(part));
      if (n === undefined) {
        throw protocolError(side, 400, 'bad-content-length', 'Invalid message: bad Content-Length');
      }
      if (length !== undefined && n !== length) {
        throw protocolError(
          side,
          400,
          'conflicting-content-length',
          'Invalid message: differing Content-Length values',
        );
      }
      length = n;
    }
  }
  return { kind: 'length', length: length! };
}

/** 1*DIGIT that fits a safe integer, else undefined. */
function parseLength(s: string): number | undefined {
  if (s.length === 0 || s.length > 15) return undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return Number(s);
}
