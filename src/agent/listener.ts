import type { Logger } from '../log/index.ts';
import type { Origin, UpstreamPool } from '../pool/index.ts';
import { runtime, WebSocketHandshakeError } from '../runtime/index.ts';
import { closedMessage, Session, type SessionConfig, type Stream } from '../tunnel/index.ts';
import { Backoff, sleep } from './backoff.ts';
import { forwardHttpStream } from './http-forwarder.ts';
import { forwardTcpStream } from './tcp-forwarder.ts';

export type ListenerTarget =
  | { readonly protocol: 'http'; readonly origin: Origin }
  | { readonly protocol: 'tcp'; readonly host: string; readonly port: number };

export interface ListenerOptions {
  readonly endpoint: string;
  readonly target: ListenerTarget;
  /** The server's upstream port, http(s)://host:port. */
  readonly connectUrl: string;
  readonly token: string | undefined;
  /** 'auto' offers tether-yamux/1 ahead of WebSocket (docs/transport.md). */
  readonly transport: 'auto' | 'websocket';
  readonly ca: string | undefined;
  readonly session: Partial<SessionConfig>;
  readonly pool: UpstreamPool;
  readonly dialTimeout: number;
  readonly log: Logger;
}

/** The server refused us for good (401, or another status Piko treats as final). */
export class FatalConnectError extends Error {
  override name = 'FatalConnectError';
}

// Piko retries these statuses and network errors; any other refusal is final.
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

/**
 * One endpoint listener: keeps one tunnel to the server open (reconnecting with backoff),
 * serves each stream the server opens, and drains on request. On a GoAway from the server
 * it connects the replacement first and lets the old session finish (make before break).
 */
export class AgentListener {
  readonly #options: ListenerOptions;
  readonly #sessions = new Set<Session>();
  readonly #stop = new AbortController();
  #inflight = 0;
  /** Cleared once a server refused the offer itself: it is older than the byte stream. */
  #offerByteStream: boolean;
  #transport: string | undefined;

  constructor(options: ListenerOptions) {
    this.#options = options;
    this.#offerByteStream = options.transport === 'auto';
  }

  get connected(): boolean {
    for (const s of this.#sessions) if (!s.isClosed && !s.goneAway && !s.draining) return true;
    return false;
  }

  /** What the latest session runs on: `tether-yamux/1` or `websocket` (docs/transport.md). */
  get transport(): string | undefined {
    return this.#transport;
  }

  get inflight(): number {
    return this.#inflight;
  }

  get sessions(): ReadonlySet<Session> {
    return this.#sessions;
  }

  /** Runs until drained or closed; rejects with FatalConnectError when the server refuses us. */
  async run(): Promise<void> {
    const { log, endpoint } = this.#options;
    const backoff = new Backoff();
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      let session: Session;
      try {
        session = await this.#connect();
      } catch (error) {
        if (stop.aborted) break;
        if (this.#offerByteStream && refusedOffer(error)) {
          // A server or proxy that takes only `Upgrade: websocket` and refuses a list (426 from
          // tether servers before the byte stream, 400 from strict WebSocket servers): offer
          // WebSocket alone, at once. Only a refusal of that is final.
          this.#offerByteStream = false;
          log.info('server refused the tether-yamux/1 offer: using WebSocket', {
            endpoint,
            error: serverMessage(error),
          });
          continue;
        }
        if (
          error instanceof WebSocketHandshakeError &&
          error.status !== undefined &&
          !RETRYABLE.has(error.status)
        ) {
          throw new FatalConnectError(
            `Cannot connect endpoint ${endpoint}: ${serverMessage(error)}`,
            { cause: error },
          );
        }
        const delay = backoff.next();
        log.warn('cannot connect to server, retrying', {
          endpoint,
          retryInMs: delay,
          error: error as Error,
        });
        await sleep(delay, stop);
        continue;
      }
      backoff.reset();
      // The next connection offers the byte stream again: a server replaced since (the usual
      // reason for a disconnect or a GoAway) may take it now.
      this.#offerByteStream = this.#options.transport === 'auto';
      const outcome = await Promise.race([
        session.closed.then((reason) => ({ goAway: false, reason })),
        session.remoteGoAway.then(() => ({ goAway: true, reason: undefined })),
      ]);
      if (stop.aborted) break;
      if (outcome.goAway) {
        // Make before break: the loop connects the replacement now; the old session
        // finishes its streams and closes on its own.
        log.info('server sent GoAway: reconnecting, old session finishes its streams', {
          endpoint,
        });
        session.shutdown().catch(() => {});
        continue;
      }
      const delay = backoff.next();
      log.warn('disconnected from server, reconnecting', {
        endpoint,
        reason: outcome.reason?.message ?? 'closed',
        retryInMs: delay,
      });
      await sleep(delay, stop);
    }
  }

  /**
   * GoAway on every session (the server routes nothing new here), wait for in-flight
   * streams until `signal` aborts, then close.
   */
  async drain(signal?: AbortSignal): Promise<void> {
    this.#stop.abort();
    await Promise.all([...this.#sessions].map((s) => s.shutdown(signal)));
  }

  close(): void {
    this.#stop.abort();
    for (const s of this.#sessions) s.close(new Error('agent stopped'));
  }

  async #connect(): Promise<Session> {
    const { connectUrl, endpoint, token, ca, log } = this.#options;
    const url = new URL(`piko/v1/upstream/${encodeURIComponent(endpoint)}`, withSlash(connectUrl));
    url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:';
    let session: Session | undefined;
    const early: (Uint8Array | string)[] = [];
    // The connection may end before the session exists (bytes that came with the 101).
    let closedEarly: Error | undefined;
    let transport = 'websocket';
    const ws = await runtime.connectWebSocket(url.href, {
      offerByteStream: this.#offerByteStream,
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      ...(ca ? { tls: { ca } } : {}),
      signal: this.#stop.signal,
      handlers: {
        message(_ws, data) {
          if (session) session.receive(data);
          else early.push(data);
        },
        close(_ws, code, reason) {
          const why = new Error(closedMessage(transport, code, reason));
          if (session) session.transportClosed(why);
          else closedEarly = why;
        },
      },
    });
    transport = ws.upgrade ?? 'websocket';
    this.#transport = transport;
    session = Session.client(ws, {
      ...this.#options.session,
      onLog: (level, message) => log[level](message, { endpoint }),
    });
    for (const data of early) session.receive(data);
    if (closedEarly) session.transportClosed(closedEarly);
    this.#sessions.add(session);
    const opened = session;
    session.closed.then(() => this.#sessions.delete(opened));
    log.info('connected to server', { endpoint, url: url.origin, transport });
    void this.#accept(session);
    return session;
  }

  async #accept(session: Session): Promise<void> {
    for (;;) {
      let stream: Stream;
      try {
        stream = await session.accept();
      } catch {
        return;
      }
      this.#inflight++;
      this.#serve(stream).finally(() => this.#inflight--);
    }
  }

  #serve(stream: Stream): Promise<void> {
    const { target, pool, log, dialTimeout } = this.#options;
    const done =
      target.protocol === 'http'
        ? forwardHttpStream(stream, target.origin, pool, log)
        : forwardTcpStream(stream, target, dialTimeout, log);
    return done.catch((error) => {
      log.warn('stream failed', { error: error as Error });
      stream.reset();
    });
  }
}

/**
 * A refusal that may be of the offer itself rather than of this agent: any 4xx but the
 * retried ones and 401/403 (wrong token), or a 101 to something else than was offered.
 */
function refusedOffer(error: unknown): error is WebSocketHandshakeError {
  if (!(error instanceof WebSocketHandshakeError) || error.status === undefined) return false;
  const s = error.status;
  return s === 101 || (s >= 400 && s < 500 && s !== 401 && s !== 403 && !RETRYABLE.has(s));
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

function serverMessage(error: WebSocketHandshakeError): string {
  try {
    const parsed = JSON.parse(error.body) as { error?: unknown };
    if (typeof parsed.error === 'string') return `server answered ${error.status}: ${parsed.error}`;
  } catch {
    // Not JSON: fall through.
  }
  return `server answered ${error.status}${error.body ? `: ${error.body.slice(0, 200)}` : ''}`;
}
