/**
 * The agent's pool of upstream HTTP/1.1 connections and its retry policy.
 *
 * @module
 */
export { defaultPoolConfig, type PoolConfig } from './config.ts';
export { UpstreamError, type UpstreamErrorCode } from './errors.ts';
export type { RequestOptions, UpstreamResponse } from './exchange.ts';
export { type Origin, parseOrigin } from './origin.ts';
export { type PoolStats, UpstreamPool } from './pool.ts';
export type { OutgoingRequest } from './request.ts';
