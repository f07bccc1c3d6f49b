import { createHash } from 'node:crypto';
import type { Duplex } from '../runtime/index.ts';
import {
  CloseCode,
  closePayload,
  encodeFrame,
  FrameDecoder,
  frameHeader,
  Opcode,
  WebSocketProtocolError,
} from './frame.ts';

/**
 * Unmasked payloads from this size on are written after their own header instead of copied
 * into one frame: a second write costs less than the copy (measured at 64 KiB and up).
 */
const UNCOPIED_FROM = 64 * 1024;

// RFC 6455 §1.3: the GUID appended to Sec-WebSocket-Key.
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key (§4.2.2). */
export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

/** True when a request's key is a well-formed 16-byte nonce in base64 (§4.1). */
export function isValidKey(key: string | undefined): key is string {
  return key !== undefined && /^[A-Za-z0-9+/]{22}==$/.test(key);
}

export interface WebSocketBytesOptions {
  /** Largest frame payload accepted from the peer (default 16 MiB). */
  readonly maxPayload?: number;
  /** We are the server (peer frames masked, ours not) or the client. */
  readonly role: 'server' | 'client';
  readonly onClose?: (code: number, reason: string) => void;
}

/**
 * Turns a WebSocket connection (after the handshake) into a plain byte stream: the
 * payloads of binary messages in, each written chunk out as a binary message. This is
 * what TCP over WebSocket needs; message boundaries carry no meaning. Pings are answered,
 * a text message or any protocol violation closes the socket with the RFC's code.
 *
 * A Close frame is a half-close, like a TCP FIN: closing the writable sends Close and keeps
 * reading; a Close from the peer ends the readable while our writable still sends, and is
 * answered when our writable closes (RFC 6455 §5.5.1 lets an endpoint delay its Close until
 * its data is sent). Echoing at once would drop the bytes the other side still owes, e.g.
 * an echo server's answer to the last bytes a client sent before its FIN.
 */
export function webSocketBytes(conn: Duplex, options: WebSocketBytesOptions): Duplex {
  const mask = options.role === 'client';
  const decoder = new FrameDecoder({
    expectMasked: options.role === 'server',
    maxPayload: options.maxPayload ?? 16 * 1024 * 1024,
  });
  const writer = conn.writable.getWriter();
  const reader = conn.readable.getReader();
  let closeSent = false;
  let closeReceived = false;
  let peerClose: { code: number; reason: string } | undefined;
  let finished = false;

  const finish = (code: number, reason: string) => {
    if (finished) return;
    finished = true;
    options.onClose?.(code, reason);
    writer.close().catch(() => {});
  };
  const sendClose = async (code: number, reason: string) => {
    if (closeSent) return;
    closeSent = true;
    await writer.write(encodeFrame(Opcode.Close, closePayload(code, reason), mask)).catch(() => {});
  };

  const readable = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const { done, value } = await reader
          .read()
          .catch((): ReadableStreamReadResult<Uint8Array> => ({ done: true, value: undefined }));
        if (done) {
          if (!closeReceived) controller.error(new Error('WebSocket closed without a close frame'));
          else controller.close();
          finish(closeReceived ? CloseCode.Normal : CloseCode.Abnormal, '');
          return;
        }
        let frames: ReturnType<FrameDecoder['push']>;
        try {
          frames = decoder.push(value);
        } catch (error) {
          const e = error as WebSocketProtocolError;
          await sendClose(e.code ?? CloseCode.ProtocolError, e.message);
          controller.error(e);
          finish(e.code, e.message);
          return;
        }
        let delivered = false;
        for (const frame of frames) {
          switch (frame.opcode) {
            case Opcode.Binary:
            case Opcode.Continuation:
              if (frame.payload.length > 0) {
                controller.enqueue(frame.payload);
                delivered = true;
              }
              break;
            case Opcode.Text: {
              const e = new WebSocketProtocolError(
                'Cannot carry text messages: this endpoint is binary',
                CloseCode.Unsupported,
              );
              await sendClose(e.code, e.message);
              controller.error(e);
              finish(e.code, e.message);
              return;
            }
            case Opcode.Ping:
              if (!closeSent)
                await writer.write(encodeFrame(Opcode.Pong, frame.payload, mask)).catch(() => {});
              break;
            case Opcode.Pong:
              break;
            case Opcode.Close: {
              closeReceived = true;
              const code =
                frame.payload.length >= 2
                  ? (frame.payload[0]! << 8) | frame.payload[1]!
                  : CloseCode.NoStatus;
              peerClose = { code, reason: new TextDecoder().decode(frame.payload.subarray(2)) };
              controller.close();
              // Our Close already went out: both directions are done. Otherwise the Close
              // is answered when our writable closes (see above).
              if (closeSent) finish(code, peerClose.reason);
              return;
            }
          }
        }
        if (delivered) return;
      }
    },
    cancel() {
      void sendClose(CloseCode.GoingAway, '').then(() => finish(CloseCode.GoingAway, ''));
      reader.cancel().catch(() => {});
    },
  });

  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      if (closeSent) throw new Error('Cannot write: WebSocket is closing');
      if (!mask && chunk.length >= UNCOPIED_FROM) {
        // The header, then the payload as it is: copying it behind the header into a fresh
        // (zero-filled) frame cost the server a fifth of its CPU per GiB sent.
        writer.write(frameHeader(Opcode.Binary, chunk.length)).catch(() => {});
        await writer.write(chunk);
        return;
      }
      await writer.write(encodeFrame(Opcode.Binary, chunk, mask));
    },
    async close() {
      const code = peerClose?.code ?? CloseCode.Normal;
      await sendClose(code === CloseCode.NoStatus ? CloseCode.Normal : code, '');
      if (closeReceived) finish(peerClose?.code ?? CloseCode.Normal, peerClose?.reason ?? '');
    },
    async abort() {
      await sendClose(CloseCode.GoingAway, 'stream aborted');
      finish(CloseCode.GoingAway, 'stream aborted');
    },
  });

  return { readable, writable };
}
