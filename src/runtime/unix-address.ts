/**
 * `struct sockaddr_un` bytes for sd_notify, shared by the Bun and Deno FFI senders.
 *
 * @module
 */

export const AF_UNIX = 1;
/** sun_path is 108 bytes on Linux (sys/un.h). */
const SUN_PATH_SIZE = 108;
export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = 0o2000000;

/**
 * The address and its length, or undefined when the path cannot be one. A leading `@`
 * names an abstract socket (sd_notify(3)): the name starts with a NUL byte instead.
 */
export function unixAddress(path: string): { bytes: Uint8Array; length: number } | undefined {
  const name = new TextEncoder().encode(path);
  if (name.length === 0 || name.length >= SUN_PATH_SIZE) return undefined;
  const bytes = new Uint8Array(2 + SUN_PATH_SIZE);
  new DataView(bytes.buffer).setUint16(0, AF_UNIX, true);
  bytes.set(name, 2);
  if (path.startsWith('@')) {
    bytes[2] = 0;
    return { bytes, length: 2 + name.length };
  }
  // Count the terminating NUL, as SUN_LEN does.
  return { bytes, length: 2 + name.length + 1 };
}
