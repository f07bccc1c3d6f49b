/**
 * The Bun adapter.
 *
 * @module
 */

import { bunServe } from './bun-serve.ts';
import { bunConnect, bunListen } from './bun-tcp.ts';
import { bunSendUnixDatagram } from './bun-unix-datagram.ts';
import { onProcessSignal } from './signals.ts';
import { connectTcpWebSocket } from './tcp-websocket-client.ts';
import type { Runtime, TlsClientOptions } from './types.ts';
import { connectWebSocket, type WebSocketClientPlatform } from './websocket-client.ts';

function tlsOptions(tls: TlsClientOptions | undefined) {
  if (!tls) return undefined;
  return {
    ...(tls.ca !== undefined && { ca: tls.ca }),
    ...(tls.serverName !== undefined && { serverName: tls.serverName }),
    ...(tls.insecureSkipVerify && { rejectUnauthorized: false }),
  };
}

const webSocketClient: WebSocketClientPlatform = {
  // A client masks every message into a new frame (RFC 6455 §5.3): the array is not kept.
  sendCopies: true,
  create(url, protocols, headers, tls) {
    const tlsInit = tlsOptions(tls);
    // Bun's WebSocket takes headers and TLS options in a non-standard init object.
    const init = { headers, protocols, ...(tlsInit && { tls: tlsInit }) };
    return { ws: new WebSocket(url, init as unknown as string[]) };
  },
  fetchInit(tls) {
    const tlsInit = tlsOptions(tls);
    return { init: tlsInit ? ({ tls: tlsInit } as RequestInit) : {} };
  },
};

export const bunRuntime: Runtime = {
  name: 'bun',
  version: Bun.version,
  connect: bunConnect,
  listen: bunListen,
  serve: bunServe,
  // Bun's own client cannot offer another protocol: the byte-stream offer goes over TCP.
  connectWebSocket: (url, options) =>
    options.offerByteStream
      ? connectTcpWebSocket(bunConnect, url, options)
      : connectWebSocket(webSocketClient, url, options),
  onSignal: onProcessSignal,
  sendUnixDatagram: bunSendUnixDatagram,
};
