import {
  type BodyFraming,
  connectionTokens,
  equalsLower,
  getHeader,
  type HeaderList,
  type IncomingRequest,
  type RequestHead,
  splitAbsoluteTarget,
  stripHopByHop,
} from '../http1/index.ts';

/**
 * True when the client asks to switch protocols (RFC 9110 §7.8): Upgrade present and
 * `upgrade` among the tokens of all Connection lines together, in an HTTP/1.1 request (a
 * server MUST ignore Upgrade in HTTP/1.0).
 */
export function isUpgradeRequest(head: RequestHead): boolean {
  if (head.minor !== 1 || getHeader(head.headers, 'upgrade') === undefined) return false;
  return connectionTokens(head.headers).has('upgrade');
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
  // RFC 9112 §3.2.2: an absolute-form target's authority replaces the Host received, and
  // the stream carries the target in origin-form, as an origin server expects it.
  const absolute = splitAbsoluteTarget(req.head.method, req.head.target);
  let host = absolute?.authority;
  let xff: string | undefined;
  let prior: string | undefined;
  let hasProto = false;
  let hasForwardedHost = false;
  for (const field of stripHopByHop(req.head.headers)) {
    const name = field[0];
    if (name.length === 4 && equalsLower(name, 'host')) {
      if (absolute !== undefined) continue;
      host ??= field[1];
    } else if (name.length === 9 && equalsLower(name, 'forwarded')) {
      // Repeated lines are one comma-separated list (RFC 9110 §5.3): keep them all.
      prior = prior === undefined ? field[1] : `${prior}, ${field[1]}`;
      continue;
    } else if (name.length === 14 && equalsLower(name, 'content-length')) continue;
    else if (name.length === 14 && equalsLower(name, 'x-piko-forward')) continue;
    else if (name.length === 15 && equalsLower(name, 'x-forwarded-for')) {
      // A proxy in front may add its own line (HAProxy's `option forwardfor` does): keep all.
      xff = xff === undefined ? field[1] : `${xff}, ${field[1]}`;
      continue;
    } else if (name.length === 17 && equalsLower(name, 'x-forwarded-proto')) hasProto = true;
    else if (name.length === 16 && equalsLower(name, 'x-forwarded-host')) hasForwardedHost = true;
    headers.push(field);
  }
  // The target's authority goes first. Only an HTTP/1.0 request can come without either;
  // the stream carries HTTP/1.1, which must have a Host, empty when the request names no
  // authority (RFC 9112 §3.2). The agent then sends its upstream's.
  if (absolute !== undefined || host === undefined) headers.unshift(['Host', host ?? '']);
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
  if (host && !hasForwardedHost) headers.push(['X-Forwarded-Host', host]);
  // RFC 7239 §4: IPv6 addresses are quoted and bracketed.
  const forNode = client.includes(':') ? `"[${client}]"` : client;
  const element = `for=${forNode};proto=http${host ? `;host="${quotable(host)}"` : ''}`;
  headers.push(['Forwarded', prior ? `${prior}, ${element}` : element]);
  const target = absolute?.originForm ?? req.head.target;
  return { method: req.head.method, target, minor: 1, headers };
}

/** `host` without the characters a quoted-string cannot hold unescaped (RFC 9110 §5.6.4). */
function quotable(host: string): string {
  return host.includes('"') || host.includes('\\') ? host.replace(/["\\]/g, '') : host;
}
