import { timingSafeEqual } from 'node:crypto';
import { getHeader, type HeaderList } from '../http1/index.ts';

/**
 * The bearer token of a request: `x-piko-authorization` first (so it can differ from the
 * application's own Authorization, piko#180), then `Authorization`.
 */
export function bearerToken(headers: HeaderList): string | undefined {
  const value = getHeader(headers, 'x-piko-authorization') ?? getHeader(headers, 'authorization');
  if (!value) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return m?.[1];
}

/** Compares tokens in constant time. */
export function tokenMatches(given: string, expected: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
