import {
  type BodyFraming,
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
  const headers: HeaderList = stripHopByHop(req.head.headers).filter(([name]) => {
    const n = name.toLowerCase();
    return n !== 'content-length' && n !== 'x-piko-forward';
  });
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
  const host = getHeader(req.head.headers, 'host');
  const xff = getHeader(req.head.headers, 'x-forwarded-for');
  setHeader(headers, 'X-Forwarded-For', xff ? `${xff}, ${client}` : client);
  if (getHeader(headers, 'x-forwarded-proto') === undefined)
    headers.push(['X-Forwarded-Proto', 'http']);
  if (host !== undefined && getHeader(headers, 'x-forwarded-host') === undefined) {
    headers.push(['X-Forwarded-Host', host]);
  }
  // RFC 7239 §4: IPv6 addresses are quoted and bracketed.
  const forNode = client.includes(':') ? `"[${client}]"` : client;
  const element = `for=${forNode};proto=http${host ? `;host="${host.replace(/["\\]/g, '')}"` : ''}`;
  const prior = getHeader(req.head.headers, 'forwarded');
  setHeader(headers, 'Forwarded', prior ? `${prior}, ${element}` : element);
  return { method: req.head.method, target: req.head.target, minor: 1, headers };
}

function setHeader(headers: HeaderList, name: string, value: string): void {
  const lower = name.toLowerCase();
  for (let i = headers.length - 1; i >= 0; i--) {
    if (headers[i]![0].toLowerCase() === lower) headers.splice(i, 1);
  }
  headers.push([name, value]);
}
