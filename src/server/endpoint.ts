import { getHeader, type RequestHead, splitAbsoluteTarget, trimOws } from '../http1/index.ts';

/** Endpoint ids: what Piko accepts, bounded so a hostile header cannot bloat the registry. */
const ENDPOINT_ID = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/;

export function isValidEndpointId(id: string): boolean {
  return ENDPOINT_ID.test(id);
}

/**
 * The endpoint a client request is for (DESIGN.md "Routing"): the `x-piko-endpoint` or
 * `x-tether-endpoint` header, else the first label of the request's host (an
 * absolute-form target's authority, else Host) when it has a dot and is not an IP
 * address. Undefined when neither names one.
 */
export function endpointFromRequest(head: RequestHead): string | undefined {
  const header =
    getHeader(head.headers, 'x-piko-endpoint') ?? getHeader(head.headers, 'x-tether-endpoint');
  if (header !== undefined) return trimOws(header) || undefined;
  // An absolute-form target's authority replaces Host (RFC 9112 §3.2.2; Go, so Piko, too).
  const host =
    splitAbsoluteTarget(head.method, head.target)?.authority ?? getHeader(head.headers, 'host');
  if (!host) return undefined;
  const name = host.startsWith('[') ? '' : host.replace(/:\d+$/, '');
  if (!name.includes('.') || /^\d+(\.\d+){3}$/.test(name)) return undefined;
  return name.slice(0, name.indexOf('.')) || undefined;
}
