import { getHeader, type RequestHead, trimOws } from '../http1/index.ts';

/** Endpoint ids: what Piko accepts, bounded so a hostile header cannot bloat the registry. */
const ENDPOINT_ID = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/;

export function isValidEndpointId(id: string): boolean {
  return ENDPOINT_ID.test(id);
}

/**
 * The endpoint a client request is for (DESIGN.md "Routing"): the `x-piko-endpoint` or
 * `x-tether-endpoint` header, else the first label of a Host that has a dot and is not
 * an IP address. Undefined when neither names one.
 */
export function endpointFromRequest(head: RequestHead): string | undefined {
  const header =
    getHeader(head.headers, 'x-piko-endpoint') ?? getHeader(head.headers, 'x-tether-endpoint');
  if (header !== undefined) return trimOws(header) || undefined;
  const host = getHeader(head.headers, 'host');
  if (!host) return undefined;
  const name = host.startsWith('[') ? '' : host.replace(/:\d+$/, '');
  if (!name.includes('.') || /^\d+(\.\d+){3}$/.test(name)) return undefined;
  return name.slice(0, name.indexOf('.')) || undefined;
}
