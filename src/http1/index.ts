/**
 * tether's HTTP/1.1 engine: message heads and bodies over web byte streams, in both
 * directions, with strict RFC 9112 framing (the request-smuggling defences), limits, header
 * rules, and a server loop with three-state keep-alive.
 *
 * @module
 */
export { ByteReader, type HandedOver } from './byte-reader.ts';
export { concatBytes } from './concat.ts';
export { isBodiless, requestFraming, responseFraming } from './framing.ts';
export {
  connectionTokens,
  equalsLower,
  getHeader,
  getHeaders,
  isIdempotent,
  isPersistent,
  listTokens,
  parseKeepAlive,
  stripHopByHop,
  trimOws,
} from './headers.ts';
export { HttpError } from './http-error.ts';
export { serializeRequestHead, serializeResponseHead } from './serialize.ts';
export { serveHttp1 } from './serve.ts';
export { reasonPhrase } from './serve-response.ts';
export type {
  IncomingRequest,
  KeepAlive,
  OutgoingResponse,
  ServeHttp1Options,
  UpgradedClient,
} from './serve-types.ts';
export { type AbsoluteTarget, splitAbsoluteTarget } from './target.ts';
export {
  type BodyFraming,
  defaultLimits,
  type HeaderList,
  type Http1Limits,
  type RequestHead,
  type ResponseHead,
  tunnelHopLimits,
} from './types.ts';
export { type UpgradedDuplex, type UpgradeSink, upgradedDuplex } from './upgraded-duplex.ts';
export { chunkedEncoder, writeBody } from './write-body.ts';
