import { type LogLevel, resolveSessionConfig, type SessionConfig } from './config.ts';
import { FrameDecoder } from './decoder.ts';
import {
  ProtocolError,
  RemoteGoAwayError,
  SessionClosedError,
  SessionDrainingError,
  StreamOpenTimeoutError,
  StreamRefusedError,
  UnknownStreamError,
  WindowExceededError,
} from './errors.ts';
import { Flag, FrameType, GoAwayCode, INITIAL_STREAM_WINDOW, SESSION_STREAM_ID } from './frame.ts';
import { FrameWriter } from './frame-writer.ts';
import { OpenDeadlines } from './open-deadlines.ts';
import { type Stream, type StreamHost, TunnelStream } from './stream.ts';
import { StreamTable } from './stream-table.ts';
import type { FrameTransport } from './transport.ts';

type Timer = ReturnType<typeof setTimeout>;
interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

const noop = () => {};
/** spec.md "StreamID Field": stream ids are u32. */
const MAX_STREAM_ID = 0xffffffff;

/**
 * A yamux session (hashicorp/yamux spec.md) over a message transport. The transport's
 * inbound messages are fed to `receive()`; its end is reported with `transportClosed()`.
 */
export class Session {
  /** Agent side: opens odd stream ids. */
  static client(transport: FrameTransport, config?: Partial<SessionConfig>): Session {
    return new Session(transport, true, resolveSessionConfig(config));
  }

  /** Server side: opens even stream ids. */
  static server(transport: FrameTransport, config?: Partial<SessionConfig>): Session {
    return new Session(transport, false, resolveSessionConfig(config));
  }

  /** Settles once, when the session closes; the value says why (undefined = clean). */
  readonly closed: Promise<Error | undefined>;
  /** Resolves when the peer sends GoAway; pending forever otherwise. */
  readonly remoteGoAway: Promise<GoAwayCode>;

  readonly #transport: FrameTransport;
  readonly #config: SessionConfig;
  readonly #isClient: boolean;
  readonly #writer: FrameWriter;
  readonly #decoder: FrameDecoder;
  readonly #host: StreamHost;
  readonly #streams = new StreamTable();
  #nextId: number;
  #highestPeerId = 0;
  #refusedUnwanted = false;
  #acceptQueue: TunnelStream[] = [];
  #trimScheduled = false;
  #acceptHead = 0;
  #acceptWaiters: Waiter<Stream>[] = [];
  #idleWaiters: (() => void)[] = [];
  readonly #opens: OpenDeadlines;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #livenessTimer: Timer | undefined;
  #pingId = 0;
  #pingSentAt = 0;
  #ping: (Waiter<number> & { promise: Promise<number> }) | undefined;
  #rtt: number | undefined;
  #lastInboundAt = Date.now();
  #closedFlag = false;
  #closeReason: Error | undefined;
  /** GoAway code sent on close for a reason that is not a ProtocolError. */
  #failureCode = GoAwayCode.Normal;
  #transportGone = false;
  #goneAway = false;
  #draining = false;
  #resolveClosed!: (reason: Error | undefined) => void;
  #resolveRemoteGoAway!: (code: GoAwayCode) => void;

  private constructor(transport: FrameTransport, isClient: boolean, config: SessionConfig) {
    this.#transport = transport;
    this.#config = config;
    this.#isClient = isClient;
    this.#nextId = isClient ? 1 : 2;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.remoteGoAway = new Promise((resolve) => {
      this.#resolveRemoteGoAway = resolve;
    });
    this.#writer = new FrameWriter(
      transport,
      config.maxMessageSize,
      config.writeStallTimeout,
      (error) => {
        const detail = error.message.charAt(0).toLowerCase() + error.message.slice(1);
        this.#fail(new SessionClosedError(`Session closed: ${detail}`, { cause: error }));
      },
    );
    this.#decoder = new FrameDecoder(this.#onFrame, config.maxWindow);
    this.#opens = new OpenDeadlines(config.streamOpenTimeout, (stream) =>
      this.#openExpired(stream),
    );
    const session = this;
    const writer = this.#writer;
    this.#host = {
      maxWindow: config.maxWindow,
      get rtt() {
        return session.#rtt;
      },
      sendControl: (type, flags, id, length) => writer.control(type, flags, id, length),
      wantsToWrite: (stream) => writer.ready(stream),
      streamFinished: (stream) => this.#streamFinished(stream),
    };
    if (config.heartbeatInterval > 0) {
      this.#heartbeatTimer = setInterval(this.#heartbeat, config.heartbeatInterval);
      this.#heartbeat(); // measures the RTT early, which window auto-tuning needs
    }
    if (config.heartbeatTimeout > 0) {
      this.#livenessTimer = setTimeout(this.#checkLiveness, config.heartbeatTimeout);
    }
  }

  get isClosed(): boolean {
    return this.#closedFlag;
  }
  /** The peer sent GoAway. */
  get goneAway(): boolean {
    return this.#goneAway;
  }
  /** This side sent GoAway. */
  get draining(): boolean {
    return this.#draining;
  }
  /** Latest ping round trip in ms. */
  get rtt(): number | undefined {
    return this.#rtt;
  }
  get streamCount(): number {
    return this.#streams.size;
  }
  /** Date.now() of the last inbound message. */
  get lastInboundAt(): number {
    return this.#lastInboundAt;
  }
  /** Timers this session holds (heartbeat, liveness, open timeout, write stall); 0 once closed. */
  get timerCount(): number {
    return (
      (this.#heartbeatTimer !== undefined ? 1 : 0) +
      (this.#livenessTimer !== undefined ? 1 : 0) +
      (this.#opens.hasTimer ? 1 : 0) +
      (this.#writer.hasTimer ? 1 : 0)
    );
  }

  /** Feeds one inbound transport message. Never throws: violations close the session. */
  receive(message: Uint8Array | string): void {
    if (this.#closedFlag) return;
    this.#lastInboundAt = Date.now();
    if (typeof message === 'string') {
      this.#fail(new ProtocolError('Invalid message: text message on a binary tunnel'));
      return;
    }
    try {
      this.#decoder.push(message);
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** The transport went away; nothing more can be sent. */
  transportClosed(reason?: Error): void {
    if (this.#closedFlag) return;
    this.#transportGone = true;
    const clean = (this.#goneAway || this.#draining) && this.#streams.size === 0;
    this.close(
      reason ?? (clean ? undefined : new SessionClosedError('Session closed: transport closed')),
    );
  }

  /** Opens a stream: the SYN goes out at once and data may follow before the ACK (spec.md). */
  open(): Stream {
    if (this.#closedFlag) throw new SessionClosedError('Cannot open stream: session is closed');
    if (this.#goneAway) throw new RemoteGoAwayError('Cannot open stream: peer sent GoAway');
    if (this.#draining) throw new SessionDrainingError('Cannot open stream: session is draining');
    if (this.#streams.size >= this.#config.maxStreams) {
      throw new RangeError(`Cannot open stream: ${this.#config.maxStreams} streams already open`);
    }
    if (this.#nextId > MAX_STREAM_ID)
      throw new RangeError('Cannot open stream: stream ids exhausted');
    const id = this.#nextId;
    this.#nextId += 2;
    const stream = new TunnelStream(this.#host, id, false, this.#config.initialWindow);
    this.#streams.set(id, stream);
    // SYN rides on a WindowUpdate carrying any window beyond the wire initial, as hashicorp does.
    this.#writer.control(
      FrameType.WindowUpdate,
      Flag.SYN,
      id,
      this.#config.initialWindow - INITIAL_STREAM_WINDOW,
    );
    if (this.#config.streamOpenTimeout > 0) this.#opens.track(stream);
    return stream;
  }

  /** The next inbound stream; its ACK is sent now. Rejects once the session is closed. */
  accept(): Promise<Stream> {
    while (this.#acceptHead < this.#acceptQueue.length) {
      const stream = this.#acceptQueue[this.#acceptHead]!;
      this.#acceptQueue[this.#acceptHead++] = undefined as unknown as TunnelStream;
      if (this.#acceptHead === this.#acceptQueue.length) {
        this.#acceptQueue = [];
        this.#acceptHead = 0;
      }
      if (stream.isDone) continue;
      this.#acknowledge(stream);
      return Promise.resolve(stream);
    }
    if (this.#closedFlag) return Promise.reject(this.#closedError());
    return new Promise((resolve, reject) => this.#acceptWaiters.push({ resolve, reject }));
  }

  /** Round trip in ms. One ping is in flight at a time; concurrent callers share it. */
  ping(signal?: AbortSignal): Promise<number> {
    if (this.#closedFlag) return Promise.reject(this.#closedError());
    let ping = this.#ping;
    if (ping === undefined) {
      let waiter!: Waiter<number>;
      const promise = new Promise<number>((resolve, reject) => {
        waiter = { resolve, reject };
      });
      promise.catch(noop);
      ping = { ...waiter, promise };
      this.#ping = ping;
      this.#pingId = (this.#pingId + 1) >>> 0;
      this.#pingSentAt = performance.now();
      this.#writer.control(FrameType.Ping, Flag.SYN, SESSION_STREAM_ID, this.#pingId);
    }
    if (signal === undefined) return ping.promise;
    const shared = ping.promise;
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      shared.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** Sends GoAway: the peer must open nothing new; existing streams continue. */
  goAway(code: GoAwayCode = GoAwayCode.Normal): void {
    if (this.#closedFlag || this.#draining) return;
    this.#draining = true;
    this.#writer.control(FrameType.GoAway, 0, SESSION_STREAM_ID, code);
  }

  /** GoAway, wait until no streams remain, then close; on abort, close at once. */
  async shutdown(signal?: AbortSignal): Promise<void> {
    if (this.#closedFlag) return;
    this.goAway();
    if (this.#streams.size > 0) {
      await new Promise<void>((resolve) => {
        const onAbort = () =>
          this.close(
            new SessionClosedError('Session closed: shutdown aborted', { cause: signal?.reason }),
          );
        this.#idleWaiters.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
        if (signal?.aborted) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    this.close();
  }

  /** Hard close: everything pending fails at once with SessionClosedError (cause = reason). */
  close(reason?: Error): void {
    if (this.#closedFlag) return;
    this.#closedFlag = true;
    this.#closeReason = reason;
    clearInterval(this.#heartbeatTimer);
    clearTimeout(this.#livenessTimer);
    this.#heartbeatTimer = this.#livenessTimer = undefined;
    this.#opens.stop();
    this.#acceptQueue = [];
    if (this.#transportGone) {
      this.#writer.stop();
    } else {
      const code = reason instanceof ProtocolError ? reason.code : this.#failureCode;
      if (!this.#draining || code !== GoAwayCode.Normal) {
        this.#writer.control(FrameType.GoAway, 0, SESSION_STREAM_ID, code);
      }
      this.#writer.finish();
      try {
        this.#transport.close(
          reason === undefined ? 1000 : code === GoAwayCode.ProtocolError ? 1002 : 1011,
        );
      } catch {
        // already closed: nothing to release
      }
    }
    const error = this.#closedError(reason);
    for (const stream of this.#streams.values()) stream.fail(error);
    for (const waiter of this.#acceptWaiters.splice(0)) waiter.reject(error);
    this.#ping?.reject(error);
    this.#ping = undefined;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
    this.#resolveClosed(reason);
  }

  // ---- inbound frames -------------------------------------------------------------------------

  readonly #onFrame = (
    type: FrameType,
    flags: number,
    id: number,
    length: number,
    payload: Uint8Array | undefined,
  ): void => {
    if (this.#closedFlag) return;
    if (type === FrameType.Data || type === FrameType.WindowUpdate) {
      this.#onStreamFrame(type, flags, id, length, payload);
    } else if (type === FrameType.Ping) {
      if (flags & Flag.SYN) {
        this.#writer.control(FrameType.Ping, Flag.ACK, SESSION_STREAM_ID, length);
      } else if (flags & Flag.ACK && this.#ping !== undefined && length === this.#pingId) {
        this.#rtt = performance.now() - this.#pingSentAt;
        const ping = this.#ping;
        this.#ping = undefined;
        ping.resolve(this.#rtt);
      }
    } else {
      this.#onGoAway(length);
    }
  };

  #onStreamFrame(
    type: FrameType,
    flags: number,
    id: number,
    length: number,
    payload: Uint8Array | undefined,
  ): void {
    let stream = this.#streams.get(id);
    if (stream === undefined) {
      if (flags & Flag.SYN) {
        stream = this.#incoming(id);
        if (stream === undefined) return;
      } else if (id !== SESSION_STREAM_ID && this.#wasOpened(id)) {
        return; // a stream we just closed or reset: late frames are normal (hashicorp drops them)
      } else {
        throw new UnknownStreamError(`Invalid frame: ${FrameType[type]} for unknown stream ${id}`);
      }
    } else if (flags & Flag.SYN) {
      throw new ProtocolError(`Invalid frame: duplicate SYN for stream ${id}`);
    }
    if (flags & Flag.RST) {
      // ACK|RST: taken, then reset. Read as a refusal it would be retried elsewhere, though
      // the peer may have acted on it (hashicorp never sends it; other yamux peers may).
      if (flags & Flag.ACK) stream.established();
      stream.remoteReset();
      return;
    }
    stream.established();
    if (type === FrameType.WindowUpdate) {
      if (length > 0) stream.growSendWindow(length);
    } else if (!stream.receiveData(payload!)) {
      throw new WindowExceededError(
        `Invalid frame: ${length} data bytes exceed the receive window of stream ${id}`,
      );
    }
    if (flags & Flag.FIN) stream.remoteFin();
  }

  #incoming(id: number): TunnelStream | undefined {
    if ((id & 1) === (this.#isClient ? 1 : 0) || id === SESSION_STREAM_ID) {
      throw new ProtocolError(`Invalid frame: peer opened stream ${id} with our id parity`);
    }
    // Ids need not arrive in order: hashicorp's OpenStream (Piko's server) takes an id, then
    // the calling goroutine sends its SYN, so two concurrent opens can put SYN 4 before
    // SYN 2. Like hashicorp, only a SYN for a stream that is open is an error (above).
    if (id > this.#highestPeerId) this.#highestPeerId = id;
    let refusal: string | undefined;
    let level: 'debug' | 'warn' = 'warn';
    if (!this.#config.acceptStreams) {
      // A peer that should not open streams: RST at once, nothing is kept for it. One
      // warning per session, so a peer that keeps trying cannot flood the log.
      refusal = 'this side accepts no streams';
      if (this.#refusedUnwanted) level = 'debug';
      this.#refusedUnwanted = true;
    } else if (this.#draining) {
      refusal = 'session is draining';
      level = 'debug';
    } else if (this.#streams.size >= this.#config.maxStreams) refusal = 'too many streams';
    if (refusal !== undefined) {
      this.#log(level, `Refused inbound stream ${id}: ${refusal}`);
      this.#writer.control(FrameType.WindowUpdate, Flag.RST, id, 0);
      return undefined;
    }
    const stream = new TunnelStream(this.#host, id, true, INITIAL_STREAM_WINDOW);
    this.#streams.set(id, stream);
    const waiter = this.#acceptWaiters.shift();
    if (waiter !== undefined) {
      this.#acknowledge(stream);
      waiter.resolve(stream);
    } else {
      this.#acceptQueue.push(stream);
      // The backlog is checked once the application had its turn, not frame by frame: one
      // message can carry hundreds of SYNs (frames are coalesced), all decoded before an
      // accept() loop runs again. Refusing them there failed bursts a prompt acceptor takes
      // in microseconds (10 000 requests through one agent: half got 502).
      if (
        !this.#trimScheduled &&
        this.#acceptQueue.length - this.#acceptHead > this.#config.acceptBacklog
      ) {
        this.#trimScheduled = true;
        setImmediate(this.#trimBacklog);
      }
    }
    return stream;
  }

  /** Refuses (RST before ACK) what is still waiting beyond the accept backlog, newest first. */
  readonly #trimBacklog = (): void => {
    this.#trimScheduled = false;
    if (this.#closedFlag) return;
    const keep = this.#acceptHead + this.#config.acceptBacklog;
    if (this.#acceptQueue.length <= keep) return;
    const excess = this.#acceptQueue.splice(keep);
    for (const stream of excess) {
      if (stream.isDone) continue;
      this.#log('warn', `Refused inbound stream ${stream.id}: accept backlog exceeded`);
      this.#writer.control(FrameType.WindowUpdate, Flag.RST, stream.id, 0);
      stream.fail(new StreamRefusedError(`Stream ${stream.id} refused: accept backlog exceeded`));
    }
  };

  #onGoAway(code: number): void {
    if (!this.#goneAway) {
      this.#goneAway = true;
      this.#resolveRemoteGoAway(code as GoAwayCode);
    }
    if (code === GoAwayCode.Normal) {
      this.#log('info', 'Peer sent GoAway: no new streams will be opened');
      return;
    }
    const name = GoAwayCode[code] ?? `code ${code}`;
    this.#log('warn', `Peer sent GoAway(${name}): closing the session`);
    this.close(new SessionClosedError(`Session closed: peer sent GoAway(${name})`));
  }

  /** Whether `id` belongs to a stream that existed, so late frames for it are tolerated. */
  #wasOpened(id: number): boolean {
    const ours = (id & 1) === (this.#isClient ? 1 : 0);
    return ours ? id < this.#nextId : id <= this.#highestPeerId;
  }

  // ---- helpers --------------------------------------------------------------------------------

  #acknowledge(stream: TunnelStream): void {
    const extra = this.#config.initialWindow - INITIAL_STREAM_WINDOW;
    stream.growReceiveWindow(extra);
    this.#writer.control(FrameType.WindowUpdate, Flag.ACK, stream.id, extra);
  }

  #streamFinished(stream: TunnelStream): void {
    this.#streams.delete(stream.id);
    if (this.#streams.size === 0 && this.#idleWaiters.length > 0) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }

  #openExpired(stream: TunnelStream): void {
    const ms = this.#config.streamOpenTimeout;
    this.#log('warn', `Stream ${stream.id} got no ACK within ${ms} ms: resetting it`);
    this.#writer.control(FrameType.WindowUpdate, Flag.RST, stream.id, 0);
    stream.fail(
      new StreamOpenTimeoutError(
        `Cannot open stream ${stream.id}: no ACK from peer within ${ms} ms`,
      ),
    );
  }

  readonly #heartbeat = (): void => {
    if (this.#ping === undefined) this.ping().catch(noop);
  };

  /** One timer re-armed lazily: an inbound message only stamps a time, it never touches a timer. */
  readonly #checkLiveness = (): void => {
    this.#livenessTimer = undefined;
    const timeout = this.#config.heartbeatTimeout;
    const idle = Date.now() - this.#lastInboundAt;
    if (idle >= timeout) {
      this.#log('warn', `No frame from peer for ${timeout} ms: closing the session`);
      this.close(new SessionClosedError(`Session closed: no frame from peer for ${timeout} ms`));
    } else {
      this.#livenessTimer = setTimeout(this.#checkLiveness, timeout - idle);
    }
  };

  /** Closes on a failure of ours or the peer's; a non-protocol failure sends GoAway(InternalError). */
  #fail(error: Error): void {
    const protocol = error instanceof ProtocolError;
    this.#log(protocol ? 'warn' : 'error', `Closing session: ${error.message}`);
    if (!protocol) this.#failureCode = GoAwayCode.InternalError;
    this.close(error);
  }

  #closedError(reason = this.#closeReason): SessionClosedError {
    if (reason === undefined) return new SessionClosedError('Session closed');
    if (reason instanceof SessionClosedError)
      return new SessionClosedError(reason.message, { cause: reason });
    return new SessionClosedError(`Session closed: ${reason.message}`, { cause: reason });
  }

  #log(level: LogLevel, message: string): void {
    try {
      this.#config.onLog?.(level, message);
    } catch {
      // a failing logger must not break the session
    }
  }
}
