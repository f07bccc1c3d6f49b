import type { ChunkReader, ChunkWriter } from '../streams/index.ts';
import { StreamRefusedError, StreamResetError } from './errors.ts';
import { Flag, FrameType, INITIAL_STREAM_WINDOW } from './frame.ts';

/** One multiplexed stream: a pair of web streams with yamux flow control underneath. */
export interface Stream {
  readonly id: number;
  /** Ends on the peer's FIN; errors on RST or session close. Cancelling it resets the stream. */
  readonly readable: ReadableStream<Uint8Array>;
  /**
   * The same bytes as `readable` without building a ReadableStream (made lazily, so a
   * stream read only this way never has one): for the per-request hot path. Either this
   * or `readable`, not both.
   */
  reader(): ChunkReader;
  /** close() sends FIN (half-close), abort() sends RST; never exceeds the peer's window. */
  readonly writable: WritableStream<Uint8Array>;
  /**
   * The same writes as `writable` without building a WritableStream, for relays that write
   * every chunk. One write at a time, through this or an unlocked `writable`.
   */
  writer(): ChunkWriter;
  /**
   * Writes `chunk` and half-closes: FIN rides on the last Data frame, so a whole message
   * and its end leave in one frame. Only while `writable` is unlocked and nothing is
   * being written; resolves once the bytes are on their way.
   */
  end(chunk: Uint8Array): Promise<void>;
  /**
   * `end()` without a promise, for a caller that learns of a failure elsewhere (the read
   * side errors, `onClosed` runs): a promise per small request on each side showed in its
   * cost. A stream that has failed already ignores it.
   */
  endWith(chunk: Uint8Array): void;
  /** Resolves on ACK (or any frame from the peer); rejects on RST before ACK or open timeout. */
  readonly accepted: Promise<void>;
  /** Sends RST now; both halves error. */
  reset(): void;
  /** Both directions finished or reset; never rejects. */
  readonly closed: Promise<void>;
  /**
   * Runs `fn` (in a microtask) once both directions are finished or the stream is reset:
   * what `closed.then(fn)` does, without making the promise.
   */
  onClosed(fn: () => void): void;
}

/** What a stream needs from its session; implemented by Session. */
export interface StreamHost {
  readonly maxWindow: number;
  /** Latest RTT in ms, if measured. */
  readonly rtt: number | undefined;
  sendControl(type: FrameType, flags: number, streamId: number, length: number): void;
  /** The stream has a pending chunk and send window: schedule it on the writer. */
  wantsToWrite(stream: TunnelStream): void;
  /** Both directions are done or the stream was reset: forget it. */
  streamFinished(stream: TunnelStream): void;
}

const noop = () => {};

/** A write waiting for window; the session's writer takes bytes from it directly. */
interface PendingWrite {
  chunk: Uint8Array;
  offset: number;
  /** FIN goes with the last byte of this chunk. */
  fin: boolean;
  resolve: () => void;
  reject: (error: Error) => void;
}

type ReadResult = Awaited<ReturnType<ChunkReader['read']>>;

/** What received chunks are handed to: a ReadableStream controller or a DirectReader. */
interface ReadSink {
  enqueue(chunk: Uint8Array): void;
  close(): void;
  error(error: Error): void;
}

export class TunnelStream implements Stream {
  readonly id: number;

  /** Bytes the peer still lets us send (spec.md "Flow Control"). */
  sendWindow = INITIAL_STREAM_WINDOW;
  /** The chunk being written, if any; read by the session's writer. */
  pending: PendingWrite | undefined;
  /** In the session's ready queue. */
  queued = false;
  /** performance.now() deadline for the ACK; 0 once acknowledged. */
  openDeadline = 0;

  readonly #host: StreamHost;
  /** Bytes the peer may still send: recvMax - buffered - unacknowledged. */
  #recvWindow = INITIAL_STREAM_WINDOW;
  #recvMax: number;
  #unacked = 0;
  #epochStart = 0;
  #buffer: Uint8Array[] = [];
  #bufferHead = 0;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #reader: ReadSink | undefined;
  #direct: DirectReader | undefined;
  #writer: WritableStreamDefaultController | undefined;
  #readWaiting = false;
  #readerClosed = false;
  #remoteFin = false;
  #localFin = false;
  #acked: boolean;
  #error: Error | undefined;
  #done = false;
  /**
   * `accepted` and `closed` are made on first use, from the state below: most streams end
   * without anyone asking, and two promises with their executors per stream on each side
   * showed in the cost of a small request.
   */
  #refused: Error | undefined;
  #accepted: Promise<void> | undefined;
  #settleAccepted: ((error?: Error) => void) | undefined;
  #closed: Promise<void> | undefined;
  #onClosed: (() => void)[] | undefined;

  constructor(host: StreamHost, id: number, inbound: boolean, recvMax: number) {
    this.#host = host;
    this.id = id;
    this.#recvMax = recvMax;
    this.#recvWindow = recvMax;
    this.#acked = inbound;
  }

  get accepted(): Promise<void> {
    if (this.#accepted !== undefined) return this.#accepted;
    // Refused is final: an ACK after the failure changes nothing, as with a settled promise.
    if (this.#refused !== undefined) this.#accepted = Promise.reject(this.#refused);
    else if (this.#acked) this.#accepted = Promise.resolve();
    else {
      this.#accepted = new Promise<void>((resolve, reject) => {
        this.#settleAccepted = (error) => (error === undefined ? resolve() : reject(error));
      });
    }
    this.#accepted.catch(noop);
    return this.#accepted;
  }

  get closed(): Promise<void> {
    this.#closed ??= this.#done
      ? Promise.resolve()
      : new Promise<void>((resolve) => this.onClosed(resolve));
    return this.#closed;
  }

  onClosed(fn: () => void): void {
    if (this.#done) queueMicrotask(fn);
    else if (this.#onClosed === undefined) this.#onClosed = [fn];
    else this.#onClosed.push(fn);
  }

  // Both web streams are made on first use: building them is a measurable part of a
  // small request, and the hot path reads through reader() and writes through end().
  get readable(): ReadableStream<Uint8Array> {
    if (this.#readable !== undefined) return this.#readable;
    if (this.#direct !== undefined) {
      throw new TypeError('Cannot get readable: the stream is read through reader()');
    }
    this.#readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#reader = controller;
          if (this.#error) controller.error(this.#error);
        },
        pull: () => this.#pull(),
        cancel: () => this.reset(),
      },
      // Nothing is pulled ahead: the queue below holds what arrived, and a window update
      // is earned only when the reader takes a chunk.
      { highWaterMark: 0 },
    );
    return this.#readable;
  }

  reader(): ChunkReader {
    if (this.#readable !== undefined || this.#direct !== undefined) {
      throw new TypeError('Cannot read stream: it already has a reader');
    }
    const direct = new DirectReader(
      () => this.#pull(),
      () => this.reset(),
    );
    this.#direct = direct;
    this.#reader = direct;
    if (this.#error) direct.error(this.#error);
    return direct;
  }

  get writable(): WritableStream<Uint8Array> {
    this.#writable ??= new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#writer = controller;
        if (this.#error) controller.error(this.#error);
      },
      write: (chunk) => this.#write(chunk),
      close: () => this.#finish(),
      abort: () => this.reset(),
    });
    return this.#writable;
  }

  writer(): ChunkWriter {
    // A write settles once the session's writer took its bytes, as the writable's does.
    return {
      write: (chunk) => this.#write(chunk),
      close: () => {
        if (this.#error) return Promise.reject(this.#error);
        const pending = this.pending;
        if (pending === undefined) {
          this.#finish();
          return Promise.resolve();
        }
        // A write still waits for window: FIN rides on its last bytes.
        pending.fin = true;
        const { resolve, reject } = pending;
        return new Promise<void>((closed, failed) => {
          pending.resolve = () => {
            resolve();
            closed();
          };
          pending.reject = (error) => {
            reject(error);
            failed(error);
          };
        });
      },
      abort: () => {
        this.reset();
        return Promise.resolve();
      },
    };
  }

  /** Received data not yet read, in bytes. */
  get bufferedBytes(): number {
    let total = 0;
    for (let i = this.#bufferHead; i < this.#buffer.length; i++) total += this.#buffer[i]!.length;
    return total;
  }

  /** Current receive window size (grows with auto-tuning). */
  get receiveWindow(): number {
    return this.#recvMax;
  }

  get isDone(): boolean {
    return this.#done;
  }

  /** Advertises `extra` bytes of receive window beyond the wire initial (in SYN/ACK). */
  growReceiveWindow(extra: number): void {
    this.#recvMax += extra;
    this.#recvWindow += extra;
  }

  reset(): void {
    if (this.#done) return;
    this.#host.sendControl(FrameType.WindowUpdate, Flag.RST, this.id, 0);
    this.fail(new StreamResetError(`Stream ${this.id} was reset locally`));
  }

  // ---- called by the session -------------------------------------------------------------

  /** ACK or any frame from the peer: the stream is established. */
  established(): void {
    if (this.#acked) return;
    this.#acked = true;
    this.openDeadline = 0;
    this.#settleAccepted?.();
    this.#settleAccepted = undefined;
  }

  /** Returns false when `payload` exceeds the receive window (a protocol violation). */
  receiveData(payload: Uint8Array): boolean {
    const n = payload.length;
    if (n > this.#recvWindow) return false;
    if (n === 0 || this.#done || this.#remoteFin) return true;
    this.#recvWindow -= n;
    if (this.#readWaiting) {
      this.#readWaiting = false;
      this.#reader!.enqueue(payload);
      this.#consumed(n);
    } else {
      // The window bounds the bytes kept, not what a view keeps alive: a small frame that
      // shared a message with others (frames are coalesced into messages of up to 1 MiB)
      // would hold the whole message while nobody reads. Such views are copied; a payload
      // that is most of its buffer (large frames, Piko's own-message payloads) is not.
      this.#buffer.push(
        payload.byteLength * 2 < payload.buffer.byteLength ? payload.slice() : payload,
      );
    }
    return true;
  }

  growSendWindow(delta: number): void {
    if (this.#done) return;
    const wasBlocked = this.sendWindow === 0;
    this.sendWindow += delta;
    if (wasBlocked && this.pending !== undefined && this.sendWindow > 0) {
      this.#host.wantsToWrite(this);
    }
  }

  remoteFin(): void {
    if (this.#remoteFin || this.#done) return;
    this.#remoteFin = true;
    if (this.#readWaiting && this.#bufferHead === this.#buffer.length) {
      this.#readWaiting = false;
      this.#closeReader();
    }
    if (this.#localFin) this.#finished();
  }

  remoteReset(): void {
    if (this.#done) return;
    if (!this.#acked) {
      this.fail(new StreamRefusedError(`Cannot open stream ${this.id}: refused by peer`));
    } else {
      this.fail(new StreamResetError(`Stream ${this.id} was reset by peer`));
    }
  }

  /**
   * Moves `n` bytes of the pending write onto the wire (the caller copies them). True when
   * that frame must carry FIN: the last bytes of an `end()`.
   */
  sent(n: number): boolean {
    const pending = this.pending!;
    this.sendWindow -= n;
    pending.offset += n;
    if (pending.offset !== pending.chunk.length) return false;
    this.pending = undefined;
    pending.resolve();
    if (!pending.fin) return false;
    this.#localFin = true;
    if (this.#remoteFin) this.#finished();
    return true;
  }

  end(chunk: Uint8Array): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    // A TypeError thrown by #queueEnd rejects this promise.
    return new Promise<void>((resolve, reject) => this.#queueEnd(chunk, resolve, reject));
  }

  endWith(chunk: Uint8Array): void {
    if (!this.#error) this.#queueEnd(chunk, noop, noop);
  }

  /** `chunk` with FIN (FIN alone when it is empty); TypeError while written or closed. */
  #queueEnd(chunk: Uint8Array, resolve: () => void, reject: (error: Error) => void): void {
    if (this.#writable?.locked || this.pending !== undefined || this.#localFin) {
      throw new TypeError('Cannot end stream: it is being written or closed');
    }
    if (chunk.length === 0) {
      this.#finish();
      resolve();
      return;
    }
    this.pending = { chunk, offset: 0, fin: true, resolve, reject };
    if (this.sendWindow > 0) this.#host.wantsToWrite(this);
  }

  /** Ends the stream with `error` on both halves; no frame is sent. */
  fail(error: Error): void {
    if (this.#done) return;
    this.#error = error;
    this.#buffer = [];
    this.#bufferHead = 0;
    if (!this.#acked && this.#refused === undefined) {
      this.#refused = error;
      this.#settleAccepted?.(error);
      this.#settleAccepted = undefined;
    }
    if (!this.#readerClosed) {
      this.#readerClosed = true;
      this.#reader?.error(error);
    }
    this.#writer?.error(error);
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
    this.#finished();
  }

  // ---- internals ---------------------------------------------------------------------------

  #pull(): void {
    if (this.#bufferHead < this.#buffer.length) {
      const chunk = this.#buffer[this.#bufferHead]!;
      this.#buffer[this.#bufferHead++] = undefined as unknown as Uint8Array;
      if (this.#bufferHead === this.#buffer.length) {
        this.#buffer.length = 0;
        this.#bufferHead = 0;
      }
      this.#reader!.enqueue(chunk);
      this.#consumed(chunk.length);
      if (this.#remoteFin && this.#bufferHead === this.#buffer.length) this.#closeReader();
    } else if (this.#remoteFin) {
      this.#closeReader();
    } else if (!this.#done) {
      this.#readWaiting = true;
    }
  }

  /**
   * The reader took `n` bytes: return them to the peer's window, batched like hashicorp
   * (stream.go sendWindowUpdate: only once the delta reaches half the window). When a whole
   * window is used up within a few RTTs, double it (go-yamux auto-tuning, capped at maxWindow).
   */
  #consumed(n: number): void {
    this.#unacked += n;
    if (this.#remoteFin || this.#done || this.#unacked < this.#recvMax / 2) return;
    const now = performance.now();
    let delta = this.#unacked;
    const rtt = this.#host.rtt;
    if (
      rtt !== undefined &&
      this.#recvMax < this.#host.maxWindow &&
      now - this.#epochStart < rtt * 4
    ) {
      const grown = Math.min(this.#recvMax * 2, this.#host.maxWindow);
      delta += grown - this.#recvMax;
      this.#recvMax = grown;
    }
    this.#epochStart = now;
    this.#unacked = 0;
    this.#recvWindow += delta;
    this.#host.sendControl(FrameType.WindowUpdate, 0, this.id, delta);
  }

  #closeReader(): void {
    if (this.#readerClosed) return;
    this.#readerClosed = true;
    this.#reader!.close();
  }

  #write(chunk: Uint8Array): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#localFin || this.pending?.fin) {
      return Promise.reject(new TypeError('Cannot write to stream: it was ended'));
    }
    if (!(chunk instanceof Uint8Array)) {
      return Promise.reject(new TypeError('Cannot write to stream: chunk is not a Uint8Array'));
    }
    if (chunk.length === 0) return Promise.resolve();
    if (this.pending !== undefined) {
      return Promise.reject(new TypeError('Cannot write to stream: a write is already pending'));
    }
    return new Promise<void>((resolve, reject) => {
      this.pending = { chunk, offset: 0, fin: false, resolve, reject };
      if (this.sendWindow > 0) this.#host.wantsToWrite(this);
    });
  }

  #finish(): void {
    if (this.#done || this.#localFin) return;
    this.#localFin = true;
    // FIN rides on a WindowUpdate, as hashicorp sends it; all data was flushed before close().
    this.#host.sendControl(FrameType.WindowUpdate, Flag.FIN, this.id, 0);
    if (this.#remoteFin) this.#finished();
  }

  #finished(): void {
    if (this.#done) return;
    this.#done = true;
    const hooks = this.#onClosed;
    this.#onClosed = undefined;
    // A microtask later, as a `closed.then()` callback ran: not inside the session's frame
    // handling, and after what the same turn's code does on seeing the stream end.
    if (hooks !== undefined) for (const fn of hooks) queueMicrotask(fn);
    this.#host.streamFinished(this);
  }
}

const doneResult: ReadResult = { done: true, value: undefined };

/**
 * A reader with the semantics of a ReadableStream's (with highWaterMark 0) and none of its
 * machinery: one read at a time, each asking the stream for one chunk.
 */
class DirectReader implements ChunkReader, ReadSink {
  readonly #pull: () => void;
  readonly #cancel: () => void;
  #resolve: ((result: ReadResult) => void) | undefined;
  #reject: ((error: Error) => void) | undefined;
  #closed = false;
  #error: Error | undefined;

  constructor(pull: () => void, cancel: () => void) {
    this.#pull = pull;
    this.#cancel = cancel;
  }

  read(): Promise<ReadResult> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#closed) return Promise.resolve(doneResult);
    if (this.#resolve !== undefined) {
      return Promise.reject(new TypeError('Cannot read stream: a read is already pending'));
    }
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      this.#pull();
    });
  }

  cancel(): Promise<void> {
    if (!this.#closed && !this.#error) this.#cancel();
    return Promise.resolve();
  }

  releaseLock(): void {}

  enqueue(chunk: Uint8Array): void {
    const resolve = this.#resolve;
    this.#resolve = undefined;
    this.#reject = undefined;
    resolve?.({ done: false, value: chunk });
  }

  close(): void {
    this.#closed = true;
    const resolve = this.#resolve;
    this.#resolve = undefined;
    this.#reject = undefined;
    resolve?.(doneResult);
  }

  error(error: Error): void {
    if (this.#closed) return;
    this.#error = error;
    const reject = this.#reject;
    this.#resolve = undefined;
    this.#reject = undefined;
    reject?.(error);
  }
}
