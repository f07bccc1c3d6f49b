/**
 * Byte-stream and cancellation plumbing shared by the server, the agent and `tether forward`.
 *
 * @module
 */
// Defined by the runtime seam, which reads connections this way too.
export type { ChunkReader, ChunkWriter } from '../runtime/index.ts';
export { type PumpOptions, type PumpSide, pump, pumpBoth } from './pump.ts';
export { type AbortWatch, RequestAbort, signalWatch } from './request-abort.ts';
