/**
 * sd_notify for Deno: one datagram on an AF_UNIX socket through libc via `Deno.dlopen`.
 * Needs `--allow-ffi`; without it (or off Linux) this returns false.
 *
 * @module
 */

import { deno } from './deno-api.ts';
import { AF_UNIX, SOCK_CLOEXEC, SOCK_DGRAM, unixAddress } from './unix-address.ts';

type Libc = ReturnType<typeof deno.dlopen>;
let libc: Libc | null | undefined;

function openLibc(): Libc | null {
  try {
    return deno.dlopen('libc.so.6', {
      socket: { parameters: ['i32', 'i32', 'i32'], result: 'i32' },
      sendto: { parameters: ['i32', 'buffer', 'usize', 'i32', 'buffer', 'u32'], result: 'isize' },
      close: { parameters: ['i32'], result: 'i32' },
    });
  } catch {
    // NotCapable without --allow-ffi, or no glibc.
    return null;
  }
}

export function denoSendUnixDatagram(path: string, message: string): boolean {
  const address = unixAddress(path);
  if (!address) return false;
  if (libc === undefined) libc = openLibc();
  if (!libc) return false;
  const { socket, sendto, close } = libc.symbols as Record<string, (...args: unknown[]) => unknown>;
  const bytes = new TextEncoder().encode(message);
  const fd = socket!(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) as number;
  if (fd < 0) return false;
  try {
    const sent = sendto!(fd, bytes, BigInt(bytes.byteLength), 0, address.bytes, address.length);
    return Number(sent) === bytes.byteLength;
  } finally {
    close!(fd);
  }
}
