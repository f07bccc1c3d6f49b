/**
 * The Deno adapter.
 *
 * @module
 */

import { deno } from './deno-api.ts';
import { denoServe } from './deno-serve.ts';
import { denoConnect, denoListen } from './deno-tcp.ts';
import { denoSendUnixDatagram } from './deno-unix-datagram.ts';
import { connectTcpWebSocket } from './tcp-websocket-client.ts';
import type { Runtime, SignalName } from './types.ts';

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
  // Not the global WebSocket: it leaves Nagle on (see tcp-websocket-client.ts).
  connectWebSocket: (url, options) => connectTcpWebSocket(denoConnect, url, options),
  onSignal,
  sendUnixDatagram: denoSendUnixDatagram,
};
