/**
 * Byte-stream and cancellation plumbing shared by the server, the agent and `tether forward`.
 *
 * @module
 */
export type { ChunkReader } from './chunk-reader.ts';
export { type PumpOptions, pump, pumpBoth } from './pump.ts';
export { type AbortWatch, RequestAbort, signalWatch } from './request-abort.ts';
