/**
 * Finds the end of a message head in a ByteBuffer, reading more as needed. Scans each
 * byte once across chunks (it resumes where it stopped), enforces the size limits while
 * scanning, and decodes the head to a string only once, when it is complete.
 *
 * Line endings are strict: every line must end in CRLF. RFC 9112 §2.2 lets a recipient
 * accept a bare LF, but tether never does, so the parser and anything behind it cannot
 * disagree about where a line ends; a bare LF is an error.
 *
 * @module
 */
import type { ByteBuffer } from './byte-buffer.ts';
import { latin1 } from './chars.ts';
import { protocolError, type Side } from './http-error.ts';
import type { Http1Limits } from './types.ts';

/** A complete head: its text and, for each line except the final empty one, its end (CR). */
export interface RawHead {
  text: string;
  /** `lines[2k]` is the start and `lines[2k+1]` the end (exclusive, at CR) of line k. */
  lines: number[];
}

/** Where a scan of a head stopped: it resumes there when more input has arrived. */
export interface HeadScan {
  readonly lines: number[];
  lineStart: number;
  scanned: number;
  skipped: number;
}

/** `scanHead` needs more input. */
export const MORE = Symbol('more input needed');

export function newHeadScan(): HeadScan {
  return { lines: [], lineStart: 0, scanned: 0, skipped: 0 };
}

/**
 * Reads one head. Returns null on a clean end of input before any byte of it (only for
 * requests; RFC 9112 §2.2 leading empty lines are skipped and count towards the limit).
 * With `trailers`, reads a trailer section instead (RFC 9112 §7.1.2): field lines up to
 * an empty line, which may come first. `scan` continues one that `scanHead` began.
 */
export async function readHead(
  buf: ByteBuffer,
  limits: Http1Limits,
  side: Side,
  trailers = false,
  scan: HeadScan = newHeadScan(),
): Promise<RawHead | null> {
  for (;;) {
    const head = scanHead(buf, limits, side, trailers, scan);
    if (head !== MORE) return head;
    if (!(await buf.fill())) {
      if (trailers) throw incompleteBody(side);
      if (buf.length === 0 && side === 'request') return null;
      if (buf.length === 0) {
        throw protocolError(
          side,
          502,
          'empty-response',
          'Invalid response: connection closed before any byte of the response',
        );
      }
      throw protocolError(
        side,
        400,
        'incomplete-head',
        'Invalid message head: input ended before the end of the head',
      );
    }
  }
}

/**
 * Scans what is buffered, without waiting: the head once it is complete (consumed), or
 * MORE. Throws HttpError on bad input or a limit passed. Most heads arrive in one read, so
 * this usually finishes at once, and callers skip the async loop above.
 */
export function scanHead(
  buf: ByteBuffer,
  limits: Http1Limits,
  side: Side,
  trailers: boolean,
  scan: HeadScan,
): RawHead | typeof MORE {
  const lines = scan.lines;
  let lf = buf.indexOfLf(scan.scanned);
  while (lf !== -1) {
    const lineStart = scan.lineStart;
    if (lf === lineStart || buf.at(lf - 1) !== 13) {
      throw protocolError(side, 400, 'bare-lf', 'Invalid message head: bare LF line ending');
    }
    const lineEnd = lf - 1;
    if (lineEnd - lineStart > limits.maxLineBytes)
      throw lineTooLong(side, lines.length === 0 && !trailers);
    if (lineEnd === lineStart) {
      if (lines.length > 0 || trailers) {
        const size = lf + 1;
        if (size + scan.skipped > limits.maxHeadBytes) throw headTooLarge(side);
        const text = latin1(buf.store, buf.start, buf.start + lineStart);
        buf.consume(size);
        return { text, lines };
      }
      if (side === 'response') {
        throw protocolError(side, 400, 'bad-status-line', 'Invalid status line: empty line');
      }
      // An empty line before the request line (RFC 9112 §2.2): skip it.
      buf.consume(2);
      scan.skipped += 2;
      if (scan.skipped > limits.maxHeadBytes) throw headTooLarge(side);
      scan.lineStart = 0;
      scan.scanned = 0;
    } else {
      lines.push(lineStart, lineEnd);
      if (lines.length > 2 * (limits.maxHeaders + (trailers ? 0 : 1))) {
        throw protocolError(
          side,
          431,
          'too-many-headers',
          'Invalid message head: too many header fields',
        );
      }
      scan.lineStart = lf + 1;
      scan.scanned = scan.lineStart;
    }
    lf = buf.indexOfLf(scan.scanned);
  }
  scan.scanned = buf.length;
  // A line still waiting for its LF may hold a CR as its last byte: allow one more byte.
  // Checked first: a read can bring more than the whole head may hold, and an overlong
  // request line must still get its 414, whatever the size of the read.
  if (buf.length - scan.lineStart > limits.maxLineBytes + 1) {
    throw lineTooLong(side, lines.length === 0 && !trailers);
  }
  if (buf.length + scan.skipped > limits.maxHeadBytes) throw headTooLarge(side);
  return MORE;
}

/** The input ended inside a body. */
export function incompleteBody(side: Side) {
  return protocolError(
    side,
    400,
    'incomplete-body',
    'Invalid message body: input ended before the end of the body',
  );
}

function headTooLarge(side: Side) {
  return protocolError(side, 431, 'head-too-large', 'Invalid message head: head too large');
}

function lineTooLong(side: Side, firstLine: boolean) {
  // RFC 9112 §3: a request-target longer than the server will parse MUST get 414.
  if (firstLine && side === 'request') {
    return protocolError(
      side,
      414,
      'uri-too-long',
      'Invalid request line: request target too long',
    );
  }
  return protocolError(side, 431, 'line-too-long', 'Invalid message head: line too long');
}
