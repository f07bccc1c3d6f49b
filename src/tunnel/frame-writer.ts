import { writeHeader } from './codec.ts';
import { Flag, type FrameType, HEADER_LENGTH } from './frame.ts';
import type { TunnelStream } from './stream.ts';
import type { FrameTransport } from './transport.ts';

/**
 * Largest Data frame taken from one stream per round while other streams wait, so busy
 * streams share a message fairly. A stream with no one waiting behind it sends what its
 * window and the message allow in one frame: the peer then reads, relays and writes one chunk
 * instead of eight (a 1 GiB download cost the server 16 500 socket writes with 64 KiB frames,
 * 2 200 without; its CPU per GiB fell by about a fifth).
 */
const MAX_DATA_FRAME = 64 * 1024;
/**
 * Control frames are tiny, but a peer that floods Pings while not reading could grow the
 * queue without end; past this many the session gives up (the transport is stalled anyway).
 */
const MAX_CONTROL_FRAMES = 262_144;
/**
 * Once this many frames are queued in one turn they leave at the end of the current
 * microtask instead of the turn: the peer starts on them while this process goes on reading
 * its other sockets. With one end-of-turn batch, each process of the chain (client, server,
 * agent, upstream) waited for the whole wave before it, and a quarter of 2 cores stayed
 * idle at c=32; 16 keeps batches large (a message per about 8 requests). Measured in
 * interleaved pairs: GET c=32 +8 to +26 % req/s, c=128 +18 to +21 %; 4 cost more CPU than it won.
 */
export const EARLY_FLUSH_FRAMES = 16;

/**
 * x86 string copies (`rep movsb`, which memmove uses for large sizes) run about 15 times
 * slower when the destination lies 1 to 15 bytes past the source modulo 4 KiB: the CPU
 * compares only the low 12 address bits to rule out overlap. A payload copied to just after
 * its 12-byte header, from the start of a page-aligned read buffer into a page-aligned
 * message buffer, hits that exactly (measured on Bun and Deno: 3 GB/s instead of 50 for a
 * 64 KiB copy). Large payloads are therefore placed so that they land this far, modulo a
 * page, past their source, assuming both buffers start on a page (large ones usually do; still
 * a multiple of 16 bytes when they only start on 16).
 */
const COPY_DISTANCE = 256;
const PAGE = 4096;
/** Payloads smaller than this are not worth aligning (memmove copies them with vector moves). */
const ALIGN_MIN = 16 * 1024;
/** On a byte stream, payloads from this size on are sent after their header, not copied. */
const UNCOPIED_FROM = 64 * 1024;

/**
 * One message buffer shared by every session of the process, for transports that are done
 * with an array when send() returns: no allocation or zero-fill per message (measured on a
 * 1 GiB download: agent CPU -17 %). JavaScript runs one send at a time, so sharing is safe.
 */
let scratch = new Uint8Array(0);

/**
 * The outgoing half of a session. Control frames (WindowUpdate, Ping, GoAway, RST/FIN) jump
 * ahead of data so heartbeats never starve behind a bulk transfer. Data is not queued here:
 * streams with a pending chunk and send window wait in a ready queue and are served round
 * robin, so memory is bounded by the peer's windows. Everything pending is coalesced into as
 * few messages as possible (up to `maxMessageSize`), flushed at the end of the event-loop
 * turn or as soon as EARLY_FLUSH_FRAMES are queued, and each payload byte is copied exactly
 * once, into the message.
 */
export class FrameWriter {
  readonly #transport: FrameTransport;
  readonly #maxMessage: number;
  readonly #stallTimeout: number;
  readonly #onFailure: (error: Error) => void;
  /** Pending control frames, four numbers each: type, flags, stream id, length. */
  #control: number[] = [];
  #controlHead = 0;
  #ready: TunnelStream[] = [];
  #readyHead = 0;
  #scheduled = false;
  /** Frames queued since the last flush, and whether an early flush is due. */
  #queued = 0;
  #early = false;
  #blocked = false;
  #stopped = false;
  #stallTimer: ReturnType<typeof setTimeout> | undefined;
  // Reused plan of one message's data frames.
  readonly #planStream: TunnelStream[] = [];
  readonly #planChunk: Uint8Array[] = [];
  readonly #planOffset: number[] = [];
  readonly #planLength: number[] = [];
  readonly #planFlags: number[] = [];
  /** A large last payload `#build` left out of its message, sent right after it uncopied. */
  #tail: Uint8Array | undefined;

  constructor(
    transport: FrameTransport,
    maxMessage: number,
    stallTimeout: number,
    onFailure: (error: Error) => void,
  ) {
    this.#transport = transport;
    this.#maxMessage = maxMessage;
    this.#stallTimeout = stallTimeout;
    this.#onFailure = onFailure;
  }

  get hasTimer(): boolean {
    return this.#stallTimer !== undefined;
  }

  /** Waiting for the transport to drain. */
  get blocked(): boolean {
    return this.#blocked;
  }

  control(type: FrameType, flags: number, streamId: number, length: number): void {
    if (this.#stopped) return;
    if (this.#control.length - this.#controlHead >= MAX_CONTROL_FRAMES * 4) {
      this.#onFailure(new Error('Cannot queue control frame: the peer is not reading'));
      return;
    }
    this.#control.push(type, flags, streamId, length);
    this.#schedule();
  }

  /** `stream` has a pending chunk and send window. */
  ready(stream: TunnelStream): void {
    if (this.#stopped || stream.queued) return;
    stream.queued = true;
    this.#ready.push(stream);
    this.#schedule();
  }

  /** Sends whatever control frames are queued, now, ignoring backpressure; then stops. */
  finish(): void {
    if (this.#stopped) return;
    this.#ready = [];
    this.#readyHead = 0;
    this.#blocked = false;
    this.#scheduled = false;
    this.#flush();
    this.stop();
  }

  /** Drops everything queued and clears the stall timer. */
  stop(): void {
    this.#stopped = true;
    this.#control = [];
    this.#controlHead = 0;
    for (let i = this.#readyHead; i < this.#ready.length; i++) this.#ready[i]!.queued = false;
    this.#ready = [];
    this.#readyHead = 0;
    if (this.#stallTimer !== undefined) clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
  }

  #schedule(): void {
    if (++this.#queued >= EARLY_FLUSH_FRAMES && !this.#early && !this.#blocked) {
      this.#early = true;
      queueMicrotask(this.#earlyFlush);
    }
    if (this.#scheduled || this.#blocked) return;
    this.#scheduled = true;
    // End of this event-loop turn, not of this microtask: a response head, its body (which
    // reaches us through several promise hops of web streams) and FIN then share one
    // message, and so do the frames of every stream served in the same turn. Measured:
    // 4 WebSocket sends per proxied GET became 2 on the agent. setImmediate exists in Bun
    // and Deno and costs about a microsecond.
    setImmediate(this.#flush);
  }

  readonly #earlyFlush = (): void => {
    this.#early = false;
    this.#send();
  };

  readonly #flush = (): void => {
    this.#scheduled = false;
    this.#send();
  };

  #send(): void {
    this.#queued = 0;
    while (!this.#blocked && !this.#stopped) {
      const message = this.#build();
      if (message === undefined) return;
      let accepted: boolean;
      try {
        accepted = this.#transport.send(message);
        const tail = this.#tail;
        if (tail !== undefined) {
          // Its header went out at the end of `message`: it must follow, backpressure or not.
          this.#tail = undefined;
          accepted = this.#transport.send(tail) && accepted;
        }
      } catch (error) {
        this.#onFailure(new Error('Cannot send frames: transport failed', { cause: error }));
        return;
      }
      if (!accepted) this.#block();
    }
  }

  #block(): void {
    this.#blocked = true;
    if (this.#stallTimeout > 0) {
      this.#stallTimer = setTimeout(() => {
        this.#stallTimer = undefined;
        this.#onFailure(new Error(`Transport did not drain for ${this.#stallTimeout} ms`));
      }, this.#stallTimeout);
    }
    this.#transport.drained().then(this.#drained, this.#drained);
  }

  readonly #drained = (): void => {
    if (this.#stallTimer !== undefined) clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    if (this.#stopped) return;
    this.#blocked = false;
    this.#flush();
  };

  /** Plans and fills one message; undefined when there is nothing to send. */
  #build(): Uint8Array | undefined {
    const max = this.#maxMessage;
    const controlFrames = (this.#control.length - this.#controlHead) >> 2;
    const controlCount = Math.min(controlFrames, Math.floor(max / HEADER_LENGTH));
    let size = controlCount * HEADER_LENGTH;
    let planned = 0;
    // Where the largest payload sits in the message and in its source.
    let bigLength = ALIGN_MIN - 1;
    let bigAt = 0;
    let bigSource = 0;
    // Data only once every control frame is out: a SYN must precede its stream's data.
    if (controlCount === controlFrames) {
      const ready = this.#ready;
      while (this.#readyHead < ready.length) {
        const room = max - size - HEADER_LENGTH;
        if (room <= 0) break;
        const stream = ready[this.#readyHead]!;
        ready[this.#readyHead++] = undefined as unknown as TunnelStream;
        const pending = stream.pending;
        if (pending === undefined || stream.sendWindow <= 0 || stream.isDone) {
          stream.queued = false;
          continue;
        }
        // Nobody behind it in the queue: no one to be fair to.
        const alone = this.#readyHead === ready.length;
        const n = Math.min(
          stream.sendWindow,
          pending.chunk.length - pending.offset,
          alone ? room : Math.min(room, MAX_DATA_FRAME),
        );
        this.#planStream[planned] = stream;
        this.#planChunk[planned] = pending.chunk;
        this.#planOffset[planned] = pending.offset;
        this.#planLength[planned] = n;
        this.#planFlags[planned] = stream.sent(n) ? Flag.FIN : 0;
        if (n > bigLength) {
          bigLength = n;
          bigAt = size + HEADER_LENGTH;
          bigSource = pending.chunk.byteOffset + this.#planOffset[planned]!;
        }
        planned++;
        size += HEADER_LENGTH + n;
        if (stream.pending !== undefined && stream.sendWindow > 0) ready.push(stream);
        else stream.queued = false;
      }
      if (this.#readyHead === ready.length) {
        ready.length = 0;
        this.#readyHead = 0;
      } else if (this.#readyHead > 1024 && this.#readyHead * 2 > ready.length) {
        ready.splice(0, this.#readyHead);
        this.#readyHead = 0;
      }
    }
    if (size === 0) return undefined;

    // On a byte stream a large last payload follows its header as a send of its own,
    // uncopied: two sends are one stream of bytes there, and the copy cost more.
    let tail: Uint8Array | undefined;
    if (this.#transport.byteStream === true && planned > 0) {
      const n = this.#planLength[planned - 1]!;
      if (n >= UNCOPIED_FROM) {
        const chunk = this.#planChunk[planned - 1]!;
        const offset = this.#planOffset[planned - 1]!;
        tail = offset === 0 && n === chunk.length ? chunk : chunk.subarray(offset, offset + n);
        size -= n;
        bigAt = 0;
      }
    }
    this.#tail = tail;

    const shift = bigAt === 0 ? 0 : (((COPY_DISTANCE + bigSource - bigAt) % PAGE) + PAGE) % PAGE;
    let message: Uint8Array;
    if (this.#transport.sendCopies === true) {
      if (scratch.length < shift + size) {
        scratch = new Uint8Array(Math.max(size, this.#maxMessage) + PAGE);
      }
      message = scratch.subarray(shift, shift + size);
    } else if (shift === 0) {
      message = new Uint8Array(size);
    } else {
      message = new Uint8Array(shift + size).subarray(shift);
    }
    let pos = 0;
    const control = this.#control;
    let c = this.#controlHead;
    for (let i = 0; i < controlCount; i++, c += 4, pos += HEADER_LENGTH) {
      writeHeader(message, pos, control[c]!, control[c + 1]!, control[c + 2]!, control[c + 3]!);
    }
    if (c === control.length) {
      control.length = 0;
      this.#controlHead = 0;
    } else if (c > 4096 && c * 2 > control.length) {
      control.splice(0, c);
      this.#controlHead = 0;
    } else {
      this.#controlHead = c;
    }
    const copied = tail === undefined ? planned : planned - 1;
    for (let i = 0; i < planned; i++) {
      const n = this.#planLength[i]!;
      const offset = this.#planOffset[i]!;
      writeHeader(message, pos, 0, this.#planFlags[i]!, this.#planStream[i]!.id, n);
      const chunk = this.#planChunk[i]!;
      if (i === copied) {
        pos += HEADER_LENGTH;
        this.#planStream[i] = undefined as unknown as TunnelStream;
        this.#planChunk[i] = undefined as unknown as Uint8Array;
        continue;
      }
      // A whole chunk (most small writes) needs no view of itself.
      message.set(
        offset === 0 && n === chunk.length ? chunk : chunk.subarray(offset, offset + n),
        pos + HEADER_LENGTH,
      );
      pos += HEADER_LENGTH + n;
      this.#planStream[i] = undefined as unknown as TunnelStream;
      this.#planChunk[i] = undefined as unknown as Uint8Array;
    }
    return message;
  }
}
