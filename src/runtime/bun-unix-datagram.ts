/**
 * sd_notify for Bun: one datagram on an AF_UNIX socket through libc via `bun:ffi`, which
 * also works inside a `bun build --compile` binary (runtime.md §8). No native addon.
 *
 * @module
 */

import { dlopen, FFIType, ptr } from 'bun:ffi';
import { AF_UNIX, SOCK_CLOEXEC, SOCK_DGRAM, unixAddress } from './unix-address.ts';

function openLibc() {
  return dlopen('libc.so.6', {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    sendto: {
      args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32],
      returns: FFIType.i64,
    },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
  });
}

let libc: ReturnType<typeof openLibc> | null | undefined;

export function bunSendUnixDatagram(path: string, message: string): boolean {
  const address = unixAddress(path);
  if (!address || process.platform !== 'linux') return false;
  if (libc === undefined) {
    try {
      libc = openLibc();
    } catch {
      libc = null;
    }
  }
  if (!libc) return false;
  const bytes = new TextEncoder().encode(message);
  const fd = libc.symbols.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  try {
    const sent = libc.symbols.sendto(
      fd,
      ptr(bytes.byteLength > 0 ? bytes : new Uint8Array(1)),
      bytes.byteLength,
      0,
      ptr(address.bytes),
      address.length,
    );
    return Number(sent) === bytes.byteLength;
  } finally {
    libc.symbols.close(fd);
  }
}
