/**
 * Signal listeners through `process.on`, which both runtimes provide (Deno through its
 * Node compatibility layer); the Deno adapter uses `Deno.addSignalListener` instead.
 *
 * @module
 */

import process from 'node:process';
import type { SignalName } from './types.ts';

export function onProcessSignal(signal: SignalName, listener: () => void): () => void {
  const handler = () => listener();
  process.on(signal, handler);
  return () => {
    process.off(signal, handler);
  };
}
