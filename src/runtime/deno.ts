/**
 * The Deno adapter.
 *
 * @module
 */

import { deno } from './deno-api.ts';
import { denoServe } from './deno-serve.ts';
import { denoConnect, denoListen } from './deno-tcp.ts';
import { denoSendUnixDatagram } from './deno-unix-datagram.ts';
import type { Runtime, SignalName, TlsClientOptions } from './types.ts';
import { connectWebSocket, type WebSocketClientPlatform } from './websocket-client.ts';

/** An HTTP client trusting the extra CA (Deno has no per-request TLS options). */
function httpClient(tls: TlsClientOptions | undefined) {
  return tls?.ca !== undefined ? deno.createHttpClient({ caCerts: [tls.ca] }) : undefined;
}

const webSocketClient: WebSocketClientPlatform = {
  create(url, protocols, headers, tls) {
    const client = httpClient(tls);
    // Deno's WebSocket takes headers and an HTTP client in a non-standard init object.
    const init = { headers, protocols, ...(client && { client }) };
    return {
      ws: new WebSocket(url, init as unknown as string[]),
      ...(client && { dispose: () => client.close() }),
    };
  },
  fetchInit(tls) {
    const client = httpClient(tls);
    if (!client) return { init: {} };
    return { init: { client } as RequestInit, dispose: () => client.close() };
  },
};

function onSignal(signal: SignalName, listener: () => void): () => void {
  const handler = () => listener();
  deno.addSignalListener(signal, handler);
  return () => deno.removeSignalListener(signal, handler);
}

export const denoRuntime: Runtime = {
  name: 'deno',
  version: deno.version.deno,
  connect: denoConnect,
  listen: denoListen,
  serve: denoServe,
  connectWebSocket: (url, options) => connectWebSocket(webSocketClient, url, options),
  onSignal,
  sendUnixDatagram: denoSendUnixDatagram,
};
