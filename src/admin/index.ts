/**
 * The admin port shared by server and agent: /health, /ready, /status and POST /drain
 * (NDJSON progress until drained).
 *
 * @module
 */
export { type AdminState, createAdminApp } from './app.ts';
