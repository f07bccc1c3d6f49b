/**
 * systemd integration: service units for `tether systemd`, and sd_notify (readiness,
 * status, watchdog, stopping) for the running server and agent.
 *
 * @module
 */
export { Notifier, type NotifierOptions } from './notifier.ts';
export { commandLine, quoteArg } from './quote.ts';
export { renderUnit, type UnitOptions } from './unit.ts';
