import { readFileSync } from 'node:fs';
import { type Loaded, loadConfig, type SettingsDef } from '../config/index.ts';
import { flagsFrom } from './args.ts';
import { CliError } from './errors.ts';

/** Resolves a command's settings from its flags, the environment and `--config.path`. */
export function loadFromArgs<S extends SettingsDef>(
  settings: S,
  args: Record<string, unknown>,
  rawArgs: readonly string[],
  extraFileKeys: readonly string[] = [],
): Loaded<S> {
  rejectUnknownFlags(settings, rawArgs);
  const env = process.env;
  const path = (args['config.path'] as string | undefined) || env.TETHER_CONFIG_PATH;
  const file = readConfigFile(path);
  return loadConfig(settings, {
    flags: flagsFrom(args, settings),
    env,
    ...(file ? { file } : {}),
    extraFileKeys,
  });
}

/** citty ignores flags it does not know; a typo must not silently fall back to a default. */
function rejectUnknownFlags(settings: SettingsDef, rawArgs: readonly string[]): void {
  for (const arg of rawArgs) {
    if (arg === '--') break;
    if (!arg.startsWith('--')) continue;
    const name = arg.slice(2).split('=')[0]!;
    if (name === 'config.path' || name in settings) continue;
    throw new CliError(`Unknown flag --${name}; see --help for the flags this command takes`, 2);
  }
}

/** The `--config.path` file's text, or undefined without a path; exit 2 when unreadable. */
export function readConfigFile(
  path: string | undefined,
): { path: string; text: string } | undefined {
  if (!path) return undefined;
  try {
    return { path, text: readFileSync(path, 'utf8') };
  } catch (error) {
    throw new CliError(`Cannot read config file ${path}: ${(error as Error).message}`, 2, {
      cause: error,
    });
  }
}
