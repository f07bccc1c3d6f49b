import {
  type BodyFraming,
  equalsLower,
  getHeader,
  type HeaderList,
  type IncomingRequest,
  type RequestHead,
  stripHopByHop,
} from '../http1/index.ts';

/** True when the client asks to switch protocols (RFC 9110 §7.8). */
export function isUpgradeRequest(head: RequestHead): boolean {
  const upgrade = getHeader(head.headers, 'upgrade');
  const connection = getHeader(head.headers, 'connection');
  return (
    upgrade !== undefined &&
    connection !== undefined &&
    /(^|[\s,])upgrade($|[\s,])/i.test(connection)
  );
}

/**
 * The head tether writes onto a tunnel stream: hop-by-hop headers removed (RFC 9110
 * §7.6.1), one request per stream so `Connection: close` (Piko writes the same), the
 * Piko marker, forwarding headers, and framing that matches how the body will be written.
 */
export function forwardHead(
  req: IncomingRequest,
  framing: BodyFraming,
  upgrade: boolean,
): RequestHead {
  // One pass over the fields (this runs for every request): drop what is replaced below
  // and note what the forwarding headers need.
  const headers: HeaderList = [];
  let host: string | undefined;
  let xff: string | undefined;
  let prior: string | undefined;
  let hasProto = false;
  let hasForwardedHost = false;
  for (const field of stripHopByHop(req.head.headers)) {
    const name = field[0];
    if (name.length === 4 && equalsLower(name, 'host')) host ??= field[1];
    else if (name.length === 9 && equalsLower(name, 'forwarded')) {
      prior ??= field[1];
      continue;
    } else if (name.length === 14 && equalsLower(name, 'content-length')) continue;
    else if (name.length === 14 && equalsLower(name, 'x-piko-forward')) continue;
    else if (name.length === 15 && equalsLower(name, 'x-forwarded-for')) {
      xff ??= field[1];
      continue;
    } else if (name.length === 17 && equalsLower(name, 'x-forwarded-proto')) hasProto = true;
    else if (name.length === 16 && equalsLower(name, 'x-forwarded-host')) hasForwardedHost = true;
    headers.push(field);
  }
  if (upgrade) {
    headers.push(
      ['Connection', 'Upgrade'],
      ['Upgrade', getHeader(req.head.headers, 'upgrade') ?? ''],
    );
  } else {
    headers.push(['Connection', 'close']);
  }
  if (framing.kind === 'length') headers.push(['Content-Length', String(framing.length)]);
  else if (framing.kind === 'chunked') headers.push(['Transfer-Encoding', 'chunked']);
  headers.push(['x-piko-forward', 'true']);

  const client = req.remoteAddress;
  headers.push(['X-Forwarded-For', xff ? `${xff}, ${client}` : client]);
  if (!hasProto) headers.push(['X-Forwarded-Proto', 'http']);
  if (host !== undefined && !hasForwardedHost) headers.push(['X-Forwarded-Host', host]);
  // RFC 7239 §4: IPv6 addresses are quoted and bracketed.
  const forNode = client.includes(':') ? `"[${client}]"` : client;
  const element = `for=${forNode};proto=http${host ? `;host="${host.replace(/["\\]/g, '')}"` : ''}`;
  headers.push(['Forwarded', prior ? `${prior}, ${element}` : element]);
  return { method: req.head.method, target: req.head.target, minor: 1, headers };
}
