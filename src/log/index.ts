/**
 * Logging through consola: readable text on a terminal, plain text elsewhere, syslog
 * priorities under journald, or JSON lines.
 *
 * @module
 */
export {
  createLogger,
  type Fields,
  type LogFormat,
  type Logger,
  type LoggerOptions,
  type LogLevel,
} from './logger.ts';
