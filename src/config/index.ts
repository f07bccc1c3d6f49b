/**
 * Configuration: one table of settings per command, resolved from flags, `TETHER_*`
 * environment variables and a YAML file (in that order of precedence), validated once.
 *
 * @module
 */
export { type Address, formatAddress, parseAddress } from './address.ts';
export { formatDuration, parseDuration } from './duration.ts';
export type { KeepAliveSetting, Kind } from './kinds.ts';
export {
  type Config,
  ConfigError,
  type ConfigSources,
  envName,
  expandEnv,
  type Loaded,
  loadConfig,
} from './load.ts';
export { settingsTable } from './reference.ts';
export {
  agentSettings,
  forwardSettings,
  type SettingDef,
  type SettingsDef,
  serverSettings,
} from './settings.ts';
