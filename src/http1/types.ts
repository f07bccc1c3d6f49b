/** Header fields in wire order with their original case; repeated fields (Set-Cookie) stay separate. */
export type HeaderList = [name: string, value: string][];

/** A request head; `minor` is the `x` of `HTTP/1.x`. */
export interface RequestHead {
  method: string;
  target: string;
  minor: 0 | 1;
  headers: HeaderList;
}

/** A response head; `minor` is the `x` of `HTTP/1.x`. */
export interface ResponseHead {
  status: number;
  reason: string;
  minor: 0 | 1;
  headers: HeaderList;
}

/** Parser limits; exceeding one is an HttpError (431 towards a client, 502 towards an upstream). */
export interface Http1Limits {
  /** Whole head (start line, fields, final CRLF), also the bound for chunked trailers. */
  maxHeadBytes: number;
  /** Header fields per head (and trailer fields per body). */
  maxHeaders: number;
  /** Request/status line and each header line, without CRLF. */
  maxLineBytes: number;
  /** Chunk extensions of one chunk-size line. */
  maxChunkExtBytes: number;
  /** One chunk-size line, without CRLF. */
  maxChunkLineBytes: number;
}

export const defaultLimits: Http1Limits = Object.freeze({
  maxHeadBytes: 65536,
  maxHeaders: 100,
  maxLineBytes: 16384,
  maxChunkExtBytes: 1024,
  maxChunkLineBytes: 4096,
});

/**
 * Limits for heads read off a tunnel stream. The other tether process wrote them from a head
 * it had checked against `defaultLimits`, plus what that hop adds: forwarding and framing
 * fields (X-Forwarded-Host and Forwarded each repeat Host), and repeated X-Forwarded-For or
 * Forwarded lines joined into one line that may be as long as the head they came from
 * (worst case about 96 KiB of head and 82 KiB of line). Without the room a head at the limit
 * passed the first hop and was refused by the second (431 or 502) for fields tether added
 * itself. A Piko peer checks looser limits (Go: 1 MiB request heads), so between tether and
 * Piko a head above these is refused here.
 */
export const tunnelHopLimits: Http1Limits = Object.freeze({
  ...defaultLimits,
  maxHeadBytes: 2 * defaultLimits.maxHeadBytes,
  maxHeaders: defaultLimits.maxHeaders + 16,
  maxLineBytes: 2 * defaultLimits.maxHeadBytes,
});

/** How a message body is delimited (RFC 9112 §6.3); 'close' exists for responses only. */
export type BodyFraming =
  | { kind: 'none' }
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  | { kind: 'close' };
