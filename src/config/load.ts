import * as v from 'valibot';
import { parse as parseYaml } from 'yaml';
import { schemaOf, type ValueOf } from './kinds.ts';
import type { SettingsDef } from './settings.ts';

/** Settings resolved into typed values, keyed by their flag name (`proxy.bind-addr`). */
export type Config<S extends SettingsDef> = { readonly [K in keyof S]: ValueOf<S[K]['kind']> };

/** Bad configuration from the user: the CLI prints the message and exits 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface ConfigSources {
  /** Parsed command-line flags by setting key; other keys are ignored. */
  readonly flags?: Readonly<Record<string, unknown>>;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** YAML text of the config file, and its path for messages. */
  readonly file?: { readonly path: string; readonly text: string };
  /** Top-level YAML keys that are not settings but are returned raw (e.g. `listeners`). */
  readonly extraFileKeys?: readonly string[];
}

export interface Loaded<S extends SettingsDef> {
  readonly config: Config<S>;
  /** Raw values of `extraFileKeys` found in the file (env-expanded). */
  readonly extra: Readonly<Record<string, unknown>>;
}

/** `proxy.bind-addr` → `TETHER_PROXY_BIND_ADDR`. */
export function envName(key: string): string {
  return `TETHER_${key.replace(/[.-]/g, '_').toUpperCase()}`;
}

/**
 * Resolves every setting from flags, then `TETHER_*` environment variables, then the YAML
 * file, then the default (first found wins), validating each once. All problems are
 * collected and reported together, each naming the key, where it came from and what was
 * expected.
 */
export function loadConfig<S extends SettingsDef>(defs: S, sources: ConfigSources): Loaded<S> {
  const problems: string[] = [];
  const fromFile: Record<string, unknown> = {};
  const extra: Record<string, unknown> = {};
  if (sources.file) {
    const { path, text } = sources.file;
    let doc: unknown;
    try {
      doc = parseYaml(expandEnv(text, sources.env ?? {}, path));
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`Cannot read config file ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (doc !== null && doc !== undefined) {
      if (typeof doc !== 'object' || Array.isArray(doc)) {
        throw new ConfigError(
          `Cannot read config file ${path}: expected a mapping at the top level`,
        );
      }
      flatten(
        doc as Record<string, unknown>,
        '',
        defs,
        sources.extraFileKeys ?? [],
        fromFile,
        extra,
        problems,
        path,
      );
    }
  }

  const config: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(defs)) {
    const flag = sources.flags?.[key];
    const env = sources.env?.[envName(key)];
    let raw: unknown;
    let origin: string;
    if (flag !== undefined && flag !== '') {
      raw = flag;
      origin = `--${key}`;
    } else if (env !== undefined && env !== '') {
      raw = env;
      origin = envName(key);
    } else if (key in fromFile) {
      raw = fromFile[key];
      origin = sources.file?.path ?? 'config file';
    } else if (def.default !== undefined) {
      raw = def.default;
      origin = 'default';
    } else {
      config[key] = undefined;
      continue;
    }
    const result = v.safeParse(schemaOf(def.kind), raw);
    if (result.success) config[key] = result.output;
    else problems.push(`${key} (from ${origin}): ${result.issues[0]?.message ?? 'invalid'}`);
  }
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return { config: config as Config<S>, extra };
}

/** `${VAR}` and `${VAR:-default}`; `$$` is a literal `$`. An unset VAR without default is an error. */
export function expandEnv(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  path: string,
): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (match, name, fallback) => {
      if (match === '$$') return '$';
      const value = env[name as string];
      if (value !== undefined && value !== '') return value;
      if (fallback !== undefined) return fallback as string;
      throw new ConfigError(
        `Cannot read config file ${path}: environment variable ${name} is not set`,
      );
    },
  );
}

function flatten(
  node: Record<string, unknown>,
  prefix: string,
  defs: SettingsDef,
  extraKeys: readonly string[],
  out: Record<string, unknown>,
  extra: Record<string, unknown>,
  problems: string[],
  path: string,
): void {
  for (const [rawKey, value] of Object.entries(node)) {
    const key = prefix + rawKey.replace(/_/g, '-');
    if (prefix === '' && extraKeys.includes(rawKey)) {
      extra[rawKey] = value;
    } else if (key in defs) {
      out[key] = value;
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const known = Object.keys(defs).some((k) => k.startsWith(`${key}.`));
      if (known)
        flatten(value as Record<string, unknown>, `${key}.`, defs, [], out, extra, problems, path);
      else problems.push(`${key} (from ${path}): unknown setting`);
    } else {
      problems.push(`${key} (from ${path}): unknown setting`);
    }
  }
}
