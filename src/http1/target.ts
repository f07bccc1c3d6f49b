/**
 * An absolute-form request target (RFC 9112 §3.2.2), as a proxy must read it: the
 * authority replaces any Host the request carried, and the rest goes on in origin-form.
 */
export interface AbsoluteTarget {
  /** `host[:port]` from the target (userinfo, if any, included: the parser refuses it). */
  readonly authority: string;
  /** Path and query, `/` when the target has neither (`*` for OPTIONS, §3.2.4). */
  readonly originForm: string;
}

/** The parts of `target` when it is in absolute-form, else undefined. */
export function splitAbsoluteTarget(method: string, target: string): AbsoluteTarget | undefined {
  if (target.charCodeAt(0) === 47 || target === '*' || method === 'CONNECT') return undefined;
  const scheme = target.indexOf('://');
  if (scheme < 1) return undefined;
  let end = scheme + 3;
  while (end < target.length) {
    const c = target.charCodeAt(end);
    if (c === 47 || c === 63 || c === 35) break; // '/', '?', '#' end the authority
    end++;
  }
  const rest = target.slice(end);
  const originForm =
    rest === ''
      ? method === 'OPTIONS'
        ? '*'
        : '/'
      : rest.charCodeAt(0) === 47
        ? rest
        : `/${rest}`;
  return { authority: target.slice(scheme + 3, end), originForm };
}
