import type { ArgsDef } from 'citty';
import { envName, type SettingsDef } from '../config/index.ts';

/**
 * citty argument definitions for a settings table. Flags carry no citty default: the
 * default lives in the table, below environment variables and the config file.
 */
export function argsFor(settings: SettingsDef): ArgsDef {
  const args: ArgsDef = {
    'config.path': {
      type: 'string',
      description: 'YAML config file (flags and TETHER_* variables override it)',
    },
  };
  for (const [key, def] of Object.entries(settings)) {
    const dflt = def.default === undefined ? '' : ` (default ${def.default || '""'})`;
    args[key] = { type: 'string', description: `${def.help}${dflt} [${envName(key)}]` };
  }
  return args;
}

/** The setting values given as flags, by key. */
export function flagsFrom(
  args: Record<string, unknown>,
  settings: SettingsDef,
): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  for (const key of Object.keys(settings)) {
    const value = args[key];
    if (value !== undefined) flags[key] = Array.isArray(value) ? value.at(-1) : value;
  }
  return flags;
}
