/**
 * The Bun adapter.
 *
 * @module
 */

import { bunConnect, bunListen } from './bun-tcp.ts';
import type { Runtime } from './types.ts';

const notYet = (): never => {
  throw new Error('Cannot do that yet: not implemented');
};

export const bunRuntime: Runtime = {
  name: 'bun',
  version: Bun.version,
  connect: bunConnect,
  listen: bunListen,
  serve: notYet,
  connectWebSocket: notYet,
  onSignal: notYet,
  sendUnixDatagram: () => false,
};
