/**
 * Byte-stream plumbing shared by the server, the agent and `tether forward`.
 *
 * @module
 */
export { type PumpOptions, pump, pumpBoth } from './pump.ts';
