import type { agentSettings, Config } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import { UpstreamPool } from '../pool/index.ts';
import { AgentListener } from './listener.ts';
import type { ListenerSpec } from './listeners.ts';

export type AgentConfig = Config<typeof agentSettings>;

export interface AgentHandle {
  readonly listeners: readonly AgentListener[];
  /** Settles when every listener has stopped; rejects when the server refused one for good. */
  readonly done: Promise<void>;
  /** GoAway everywhere, finish in-flight streams within the grace period, then close. */
  drain(graceMs: number): Promise<void>;
  close(): Promise<void>;
}

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
  return {
    listeners,
    done,
    async drain(graceMs) {
      const signal = graceMs > 0 ? AbortSignal.timeout(graceMs) : undefined;
      await Promise.all(listeners.map((l) => l.drain(signal)));
      await pool.close();
    },
    async close() {
      for (const l of listeners) l.close();
      await pool.close();
    },
  };
}
