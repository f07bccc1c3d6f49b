/**
 * The Deno adapter.
 *
 * @module
 */

import { deno } from './deno-api.ts';
import { denoConnect, denoListen } from './deno-tcp.ts';
import type { Runtime } from './types.ts';

const notYet = (): never => {
  throw new Error('Cannot do that yet: not implemented');
};

export const denoRuntime: Runtime = {
  name: 'deno',
  version: deno.version.deno,
  connect: denoConnect,
  listen: denoListen,
  serve: notYet,
  connectWebSocket: notYet,
  onSignal: notYet,
  sendUnixDatagram: () => false,
};
