import type { agentSettings, Config } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import { UpstreamPool } from '../pool/index.ts';
import { AgentListener } from './listener.ts';
import type { ListenerSpec } from './listeners.ts';

export type AgentConfig = Config<typeof agentSettings>;

export type AgentPhase = 'serving' | 'draining' | 'drained';

export interface AgentProgress {
  readonly phase: AgentPhase;
  /** Streams the agent is still serving. */
  readonly inflight: { readonly streams: number };
  /** Tunnel sessions still open (a draining one stays open until its streams end). */
  readonly sessions: number;
  readonly elapsedMs: number;
}

export interface AgentHandle {
  readonly listeners: readonly AgentListener[];
  /** Settles when every listener has stopped; rejects when the server refused one for good. */
  readonly done: Promise<void>;
  /** Resolves once every listener has connected at least once (sd_notify READY=1). */
  readonly ready: Promise<void>;
  readonly phase: AgentPhase;
  progress(): AgentProgress;
  /**
   * GoAway everywhere, finish in-flight streams within the grace period, then close.
   * Idempotent: a second call joins the first.
   */
  drain(graceMs: number): Promise<void>;
  close(): Promise<void>;
}

// No event marks a listener's first connection; this poll only runs until it happens.
const READY_POLL_MS = 50;

/** Starts one listener per spec, sharing one upstream connection pool. */
export function startAgent(
  config: AgentConfig,
  specs: readonly ListenerSpec[],
  log: Logger,
  ca?: string,
): AgentHandle {
  const pool = new UpstreamPool({
    idleTimeoutNoHint: config['http-client.idle-conn-timeout'],
    maxIdlePerOrigin: config['http-client.max-idle-conns'],
    maxConnsPerOrigin: config['http-client.max-conns'],
    connectTimeout: config['http-client.dial-timeout'],
  });
  const listeners = specs.map(
    (spec) =>
      new AgentListener({
        endpoint: spec.endpoint,
        target: spec.target,
        connectUrl: config['connect.url'],
        token: config['connect.token'],
        transport: config['connect.transport'],
        ca,
        session: {
          heartbeatInterval: config['tunnel.heartbeat-interval'],
          heartbeatTimeout: config['tunnel.heartbeat-timeout'],
        },
        pool,
        dialTimeout: config['http-client.dial-timeout'],
        log: log.child(spec.endpoint),
      }),
  );
  const done = Promise.all(listeners.map((l) => l.run())).then(() => {});
  done.catch(() => {
    for (const l of listeners) l.close();
  });
  let phase: AgentPhase = 'serving';
  let drainStarted = 0;
  let draining: Promise<void> | undefined;

  const ready = new Promise<void>((resolve, reject) => {
    const seen = new Set<AgentListener>();
    const timer = setInterval(() => {
      for (const l of listeners) if (l.connected) seen.add(l);
      if (seen.size === listeners.length) {
        clearInterval(timer);
        resolve();
      } else if (phase !== 'serving') {
        clearInterval(timer);
        reject(new Error('Agent stopped before every listener connected'));
      }
    }, READY_POLL_MS);
    done.catch(() => {}).finally(() => clearInterval(timer));
  });
  ready.catch(() => {});

  return {
    listeners,
    done,
    ready,
    get phase() {
      return phase;
    },
    progress() {
      let streams = 0;
      let sessions = 0;
      for (const l of listeners) {
        streams += l.inflight;
        sessions += l.sessions.size;
      }
      return {
        phase,
        inflight: { streams },
        sessions,
        elapsedMs: drainStarted ? Date.now() - drainStarted : 0,
      };
    },
    drain(graceMs) {
      draining ??= (async () => {
        phase = 'draining';
        drainStarted = Date.now();
        const signal = AbortSignal.timeout(Math.max(0, graceMs));
        await Promise.all(listeners.map((l) => l.drain(signal)));
        await pool.close();
        phase = 'drained';
      })();
      return draining;
    },
    async close() {
      phase = 'drained';
      for (const l of listeners) l.close();
      await pool.close();
    },
  };
}
