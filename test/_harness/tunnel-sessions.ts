import { concatBytes } from '../../src/http1/index.ts';
import {
  FrameDecoder,
  type FrameTransport,
  type FrameType,
  type LogLevel,
  Session,
  type SessionConfig,
} from '../../src/tunnel/index.ts';
import { type PipeEnd, type PipeOptions, pipePair } from './pipe-pair.ts';

export interface LogLine {
  level: LogLevel;
  message: string;
}

export interface SessionPair {
  client: Session;
  server: Session;
  clientEnd: PipeEnd;
  serverEnd: PipeEnd;
  clientLog: LogLine[];
  serverLog: LogLine[];
  /** Closes both sessions (idempotent). */
  close(): void;
}

/** Connects a session to a pipe end: messages in, close in. */
export function attach(session: Session, end: PipeEnd): void {
  end.onMessage = (message) => session.receive(message);
  end.onClose = () => session.transportClosed();
}

/** A client and a server session over an in-memory pipe pair. */
export function sessionPair(
  clientConfig: Partial<SessionConfig> = {},
  serverConfig: Partial<SessionConfig> = {},
  pipe: PipeOptions = {},
): SessionPair {
  const [clientEnd, serverEnd] = pipePair(pipe);
  const clientLog: LogLine[] = [];
  const serverLog: LogLine[] = [];
  const client = Session.client(clientEnd, {
    onLog: (level, message) => clientLog.push({ level, message }),
    ...clientConfig,
  });
  const server = Session.server(serverEnd, {
    onLog: (level, message) => serverLog.push({ level, message }),
    ...serverConfig,
  });
  attach(client, clientEnd);
  attach(server, serverEnd);
  return {
    client,
    server,
    clientEnd,
    serverEnd,
    clientLog,
    serverLog,
    close() {
      client.close();
      server.close();
    },
  };
}

/** A transport that records every message sent, for raw-frame tests. */
export class RecordingTransport implements FrameTransport {
  readonly messages: Uint8Array[] = [];
  closedWith: number | undefined;
  send(bytes: Uint8Array): boolean {
    this.messages.push(bytes);
    return true;
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
  close(code?: number): void {
    this.closedWith = code ?? 1000;
  }
  /** All bytes sent so far, concatenated. */
  bytes(): Uint8Array {
    const total = this.messages.reduce((n, m) => n + m.length, 0);
    const out = new Uint8Array(total);
    let pos = 0;
    for (const m of this.messages) {
      out.set(m, pos);
      pos += m.length;
    }
    return out;
  }
}

/** Polls `condition` until true or `timeoutMs` passes (then throws). */
export async function waitFor(
  condition: () => boolean,
  timeoutMs = 2000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Reads a readable to the end and returns all bytes. */
export async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const reader = readable.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
  return concatBytes(chunks);
}

/** Deterministic pseudo-random bytes. */
export function patternBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** The frame headers in `bytes` (payloads left out). */
export function frames(
  bytes: Uint8Array,
): { type: FrameType; flags: number; id: number; length: number }[] {
  const out: { type: FrameType; flags: number; id: number; length: number }[] = [];
  new FrameDecoder((type, flags, id, length) => {
    out.push({ type, flags, id, length });
  }).push(bytes);
  return out;
}
