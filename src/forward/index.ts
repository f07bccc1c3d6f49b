/**
 * `tether forward`: local TCP ports that reach endpoints through the server's proxy port.
 *
 * @module
 */
export { DialError, type DialOptions, dialEndpoint } from './dial.ts';
export { type ForwardOptions, startForward } from './forward.ts';
