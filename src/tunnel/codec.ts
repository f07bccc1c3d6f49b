import { type FrameHeader, type FrameType, HEADER_LENGTH, PROTOCOL_VERSION } from './frame.ts';

/** Writes one header at `offset` (big-endian, spec.md "Framing"); no allocation. */
export function writeHeader(
  target: Uint8Array,
  offset: number,
  type: FrameType,
  flags: number,
  streamId: number,
  length: number,
): void {
  target[offset] = PROTOCOL_VERSION;
  target[offset + 1] = type;
  target[offset + 2] = flags >>> 8;
  target[offset + 3] = flags & 0xff;
  target[offset + 4] = streamId >>> 24;
  target[offset + 5] = (streamId >>> 16) & 0xff;
  target[offset + 6] = (streamId >>> 8) & 0xff;
  target[offset + 7] = streamId & 0xff;
  target[offset + 8] = length >>> 24;
  target[offset + 9] = (length >>> 16) & 0xff;
  target[offset + 10] = (length >>> 8) & 0xff;
  target[offset + 11] = length & 0xff;
}

/** Encodes a header into a fresh 12-byte array. */
export function encodeHeader(
  header: Omit<FrameHeader, 'version'> & { version?: number },
): Uint8Array {
  const bytes = new Uint8Array(HEADER_LENGTH);
  writeHeader(bytes, 0, header.type, header.flags, header.streamId, header.length);
  if (header.version !== undefined) bytes[0] = header.version;
  return bytes;
}

/** Reads a u32 big-endian at `offset`. */
export function readUint32(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset]! << 24) |
      (bytes[offset + 1]! << 16) |
      (bytes[offset + 2]! << 8) |
      bytes[offset + 3]!) >>>
    0
  );
}

/** Decodes the header at `offset`; does not validate version or type. */
export function decodeHeader(bytes: Uint8Array, offset = 0): FrameHeader {
  if (bytes.length - offset < HEADER_LENGTH) {
    throw new RangeError(
      `Cannot decode header: need ${HEADER_LENGTH} bytes, got ${bytes.length - offset}`,
    );
  }
  return {
    version: bytes[offset]!,
    type: bytes[offset + 1]! as FrameType,
    flags: (bytes[offset + 2]! << 8) | bytes[offset + 3]!,
    streamId: readUint32(bytes, offset + 4),
    length: readUint32(bytes, offset + 8),
  };
}
