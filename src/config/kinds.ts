import * as v from 'valibot';
import { type Address, parseAddress } from './address.ts';
import { parseDuration } from './duration.ts';

/**
 * The kinds of value a setting can hold. Each turns what a user wrote (a flag or
 * environment string, or a YAML scalar) into a typed value, or says what it expected.
 */
export type Kind =
  | { readonly type: 'string' }
  | { readonly type: 'secret' }
  | { readonly type: 'bool' }
  | { readonly type: 'int'; readonly min: number; readonly max: number }
  | { readonly type: 'duration' }
  | { readonly type: 'address' }
  | { readonly type: 'optional-address' }
  | { readonly type: 'url' }
  | { readonly type: 'enum'; readonly values: readonly string[] }
  /** Keep-alive towards clients: off, none (no idle limit), or an idle duration > 0. */
  | { readonly type: 'keep-alive' };

export type KeepAliveSetting =
  | { mode: 'off' }
  | { mode: 'timeout'; ms: number }
  | { mode: 'forever' };

export type ValueOf<K extends Kind> = K extends { type: 'string' | 'secret' | 'url' }
  ? string
  : K extends { type: 'bool' }
    ? boolean
    : K extends { type: 'int' | 'duration' }
      ? number
      : K extends { type: 'address' }
        ? Address
        : K extends { type: 'optional-address' }
          ? Address | null
          : K extends { type: 'enum'; values: readonly (infer E)[] }
            ? E
            : K extends { type: 'keep-alive' }
              ? KeepAliveSetting
              : never;

const scalar = v.union([v.string(), v.number(), v.boolean()], 'expected a single value');

function refine<T>(parse: (s: string) => T | undefined, expected: string) {
  return v.pipe(
    scalar,
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const out = parse(String(dataset.value));
      if (out === undefined) {
        addIssue({ message: `expected ${expected}, got ${JSON.stringify(dataset.value)}` });
        return NEVER;
      }
      return out;
    }),
  );
}

/** The valibot schema for a kind; issue messages say what was expected. */
export function schemaOf(kind: Kind): v.GenericSchema<unknown, unknown> {
  switch (kind.type) {
    case 'string':
    case 'secret':
      return refine((s) => s, 'a string');
    case 'bool':
      return refine(
        (s) =>
          ['true', '1', 'yes'].includes(s)
            ? true
            : ['false', '0', 'no'].includes(s)
              ? false
              : undefined,
        'true or false',
      );
    case 'int':
      return refine((s) => {
        const n = /^-?\d+$/.test(s.trim()) ? Number(s) : Number.NaN;
        return Number.isSafeInteger(n) && n >= kind.min && n <= kind.max ? n : undefined;
      }, `a whole number from ${kind.min} to ${kind.max}`);
    case 'duration':
      return refine(parseDuration, 'a duration like 500ms, 20s, 15m or 1h (0 = off)');
    case 'address':
      return refine((s) => parseAddress(s), 'an address like :8000, 127.0.0.1:8000 or [::1]:8000');
    case 'optional-address':
      return refine(
        (s) => (s === '' || s === 'off' ? null : parseAddress(s)),
        'an address like 127.0.0.1:5000, or off',
      );
    case 'url':
      return refine((s) => {
        try {
          const u = new URL(s);
          return ['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol) ? s : undefined;
        } catch {
          return undefined;
        }
      }, 'an http(s) URL like http://127.0.0.1:8001');
    case 'enum':
      return refine(
        (s) => (kind.values.includes(s) ? s : undefined),
        `one of ${kind.values.join(', ')}`,
      );
    case 'keep-alive':
      return refine((s): KeepAliveSetting | undefined => {
        if (s === 'off') return { mode: 'off' };
        if (s === 'none') return { mode: 'forever' };
        const ms = parseDuration(s);
        return ms !== undefined && ms > 0 ? { mode: 'timeout', ms } : undefined;
      }, "a duration like 620s, 'off' (no keep-alive) or 'none' (no idle limit); 0 is ambiguous and refused");
  }
}
