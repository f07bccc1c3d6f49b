import type { Logger } from '../log/index.ts';
import type { Inflight } from './inflight.ts';
import type { Registry } from './registry.ts';

export type DrainPhase = 'serving' | 'quiet' | 'closing' | 'waiting' | 'drained';

export interface DrainOptions {
  readonly registry: Registry;
  readonly inflight: Inflight;
  readonly log: Logger;
  /** Keep serving this long after the last new request (restarted by each), ms. */
  readonly quietPeriod: number;
  /** …but never longer than this from the start of the drain, ms. */
  readonly quietPeriodMax: number;
  /** How long in-flight work may take once new work is refused, ms. */
  readonly gracePeriod: number;
  /** Step 3: stop accepting new client connections and requests (listeners closed, idle connections ended). */
  readonly stopAccepting: () => Promise<void>;
  /** Told about each phase (sd_notify, logs). */
  readonly onPhase?: (phase: DrainPhase) => void;
}

export interface DrainProgress {
  readonly phase: DrainPhase;
  readonly inflight: Readonly<Record<string, number>>;
  readonly agents: number;
  readonly elapsedMs: number;
}

/**
 * The server's drain sequence (DESIGN.md "Drain"): readiness fails at once; new requests
 * are still served through a quiet period that each new request restarts (capped), so
 * load balancers see us leave first; then agents get GoAway and listeners close; then
 * in-flight work has the grace period to finish before what is left is cut with a clear
 * reason. Idempotent: a second call joins the first.
 */
export class Drain {
  readonly #options: DrainOptions;
  #phase: DrainPhase = 'serving';
  #started = 0;
  #lastRequest = 0;
  #promise: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(options: DrainOptions) {
    this.#options = options;
  }

  get phase(): DrainPhase {
    return this.#phase;
  }

  get draining(): boolean {
    return this.#phase !== 'serving';
  }

  /** Called for every new client request, so the quiet period restarts. */
  noteRequest(): void {
    this.#lastRequest = Date.now();
  }

  progress(): DrainProgress {
    return {
      phase: this.#phase,
      inflight: this.#options.inflight.counts(),
      agents: this.#options.registry.agentCount,
      elapsedMs: this.#started ? Date.now() - this.#started : 0,
    };
  }

  /** Starts the drain if not started; resolves once drained. */
  start(): Promise<void> {
    this.#promise ??= this.#run();
    return this.#promise;
  }

  /** Skip waiting: cut in-flight work now (a second SIGINT). */
  force(): void {
    this.#options.inflight.abortAll(new Error('server stopped at once by operator'));
    this.#wake?.();
  }

  async #run(): Promise<void> {
    const { log, inflight, registry } = this.#options;
    this.#started = Date.now();
    this.#lastRequest = this.#started;
    this.#set('quiet');
    log.info('drain started: /ready now answers 503; still serving during the quiet period', {
      quietPeriodMs: this.#options.quietPeriod,
      capMs: this.#options.quietPeriodMax,
    });
    await this.#quietPeriod();

    this.#set('closing');
    // Stop taking requests before telling agents to go: after its GoAway the server can
    // open no stream to an agent, so a request accepted in between would get a 502.
    await this.#options.stopAccepting();
    for (const agent of registry.all()) agent.session.goAway();
    log.info('drain: agents told to go away, new connections refused; waiting for in-flight work', {
      inflight: inflight.total,
      graceMs: this.#options.gracePeriod,
    });

    this.#set('waiting');
    const graceOver = await this.#sleepUnless(inflight.idle(), this.#options.gracePeriod);
    if (graceOver && inflight.total > 0) {
      log.warn('drain: grace period over, cutting what is left', { inflight: inflight.counts() });
      inflight.abortAll(
        new Error(`server drained: grace period of ${this.#options.gracePeriod} ms is over`),
      );
    }
    for (const agent of registry.all()) agent.session.close(new Error('server drained'));
    this.#set('drained');
    log.info('drain complete', { elapsedMs: Date.now() - this.#started });
  }

  async #quietPeriod(): Promise<void> {
    const { quietPeriod, quietPeriodMax } = this.#options;
    const cap = this.#started + quietPeriodMax;
    for (;;) {
      const until = Math.min(this.#lastRequest + quietPeriod, cap);
      const wait = until - Date.now();
      if (wait <= 0) return;
      if (await this.#sleepUnless(undefined, wait)) continue;
      return; // forced
    }
  }

  /** Waits `ms` or until `event` settles or force(); true when the time ran out. */
  #sleepUnless(event: Promise<void> | undefined, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(true), ms);
      const finish = (timedOut: boolean) => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve(timedOut);
      };
      this.#wake = () => finish(false);
      event?.then(() => finish(false));
    });
  }

  #set(phase: DrainPhase): void {
    this.#phase = phase;
    this.#options.onPhase?.(phase);
  }
}
