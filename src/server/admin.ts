import type { AdminState } from '../admin/index.ts';
import type { Drain } from './drain.ts';
import type { Inflight } from './inflight.ts';
import type { Registry } from './registry.ts';

export interface ServerAdminOptions {
  readonly registry: Registry;
  readonly inflight: Inflight;
  readonly drainState: Drain;
  /** All ports listen. */
  listening(): boolean;
  /** Starts the drain (idempotent); resolves once drained. */
  drain(): Promise<void>;
}

/** The server's side of the admin port: readiness, drain and /status from its state. */
export function serverAdminState(options: ServerAdminOptions): AdminState {
  const { registry, inflight, drainState } = options;
  return {
    ready: () => options.listening() && !drainState.draining,
    draining: () => drainState.draining,
    drain: options.drain,
    progress: () => ({ ...drainState.progress() }),
    status: () => {
      const endpoints: Record<string, unknown[]> = {};
      for (const [id, agents] of registry.entries()) endpoints[id] = agents.map((a) => a.toJSON());
      return {
        role: 'server',
        ready: options.listening() && !drainState.draining,
        draining: drainState.draining,
        phase: drainState.phase,
        agents: registry.agentCount,
        inflight: inflight.counts(),
        endpoints,
      };
    },
  };
}
