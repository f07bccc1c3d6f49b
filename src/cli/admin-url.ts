import { parseDuration } from '../config/index.ts';
import { CliError } from './errors.ts';

export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:8002';

/** `--admin-url`: a URL, or `host:port` / `:port` / a port for http on that address. */
export function adminUrl(text: unknown): URL {
  const raw = typeof text === 'string' && text !== '' ? text : DEFAULT_ADMIN_URL;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw)
    ? raw
    : /^\d+$/.test(raw)
      ? `http://127.0.0.1:${raw}`
      : `http://${raw.startsWith(':') ? `127.0.0.1${raw}` : raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(
      `Invalid --admin-url ${JSON.stringify(raw)}: expected e.g. ${DEFAULT_ADMIN_URL}`,
      2,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(
      `Invalid --admin-url ${JSON.stringify(raw)}: expected http:// or https://`,
      2,
    );
  }
  return url;
}

/** An admin path under the URL (which may carry a path prefix of its own). */
export function adminPath(base: URL, path: string): URL {
  const dir = base.pathname.endsWith('/') ? base.href : `${base.href}/`;
  return new URL(path.replace(/^\//, ''), dir);
}

/** `--timeout`: a duration such as `6m`; 0 is refused (it would mean "forever"). */
export function timeoutMs(text: unknown, fallback: string): number {
  const raw = typeof text === 'string' && text !== '' ? text : fallback;
  const ms = parseDuration(raw);
  if (ms === undefined || ms <= 0) {
    throw new CliError(
      `Invalid --timeout ${JSON.stringify(raw)}: expected a duration such as 6m or 90s`,
      2,
    );
  }
  return ms;
}

/** Why a request to the admin port failed, in one phrase. */
export function unreachable(url: URL, error: unknown): CliError {
  const cause =
    error instanceof Error ? (error.cause instanceof Error ? error.cause : error) : undefined;
  const detail = cause?.message ?? String(error);
  return new CliError(`Cannot reach the admin port at ${url.origin}: ${detail}`, 1, {
    cause: error,
  });
}
