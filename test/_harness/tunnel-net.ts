import type { Socket } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';
import type { FrameTransport, Session } from '../../src/tunnel/index.ts';

/** A TCP socket as the tunnel's message transport (each write is one "message"). */
export function socketTransport(socket: Socket): FrameTransport {
  return {
    send: (bytes) => socket.write(bytes),
    drained: () =>
      new Promise<void>((resolve) => {
        if (!socket.writableNeedDrain || socket.destroyed) return resolve();
        const done = () => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.on('drain', done);
        socket.on('close', done);
      }),
    close: () => {
      socket.end();
    },
  };
}

/** Feeds the socket's bytes to the session and reports its end. */
export function attachSocket(session: Session, socket: Socket): void {
  // Copied: the session may keep views into a message, and a runtime may reuse read buffers.
  socket.on('data', (data: Buffer) => session.receive(new Uint8Array(data)));
  socket.on('close', () => session.transportClosed());
  socket.on('error', () => {});
}

/**
 * Re-chunks a byte stream at yamux frame boundaries, one frame per chunk.
 *
 * yamux-js 0.2.0 (`lib/session.js` `_transform`) assumes every chunk it is given starts with
 * a header and holds whole frames: a header split across two chunks is dropped (`return cb()`
 * when fewer than 12 bytes), and a Data payload split across chunks is discarded and the next
 * chunk's bytes are taken as the payload instead. Over real TCP, frames straddle read
 * boundaries constantly, so without this adapter yamux-js corrupts or loses data at any load.
 * The adapter sits only in front of yamux-js; tether's own decoder reads the raw TCP bytes.
 */
export class FrameAligner extends Transform {
  #pending: Buffer = Buffer.alloc(0);

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let buffer = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    while (buffer.length >= 12) {
      const payload = buffer[1] === 0 ? buffer.readUInt32BE(8) : 0;
      const total = 12 + payload;
      if (buffer.length < total) break;
      this.push(buffer.subarray(0, total));
      buffer = buffer.subarray(total);
    }
    this.#pending = buffer;
    done();
  }
}
