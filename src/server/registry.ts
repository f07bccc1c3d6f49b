import type { AgentUpstream } from './agent-upstream.ts';

/**
 * Which agents serve which endpoint, and round-robin selection among those still
 * routable. Removal is idempotent: a session that ends after a GoAway is removed once
 * (Piko's double RemoveConn bug corrupted its counts).
 */
export class Registry {
  // One lookup per request: the endpoint's agents and its round-robin cursor together.
  readonly #endpoints = new Map<string, { agents: AgentUpstream[]; cursor: number }>();

  add(upstream: AgentUpstream): void {
    const entry = this.#endpoints.get(upstream.endpointId);
    if (entry) entry.agents.push(upstream);
    else this.#endpoints.set(upstream.endpointId, { agents: [upstream], cursor: 0 });
  }

  remove(upstream: AgentUpstream): void {
    const entry = this.#endpoints.get(upstream.endpointId);
    if (!entry) return;
    const i = entry.agents.indexOf(upstream);
    if (i < 0) return;
    entry.agents.splice(i, 1);
    if (entry.agents.length === 0) this.#endpoints.delete(upstream.endpointId);
  }

  /** The next available agent for the endpoint, skipping `exclude`; undefined if none. */
  select(endpointId: string, exclude?: ReadonlySet<AgentUpstream>): AgentUpstream | undefined {
    const entry = this.#endpoints.get(endpointId);
    if (!entry) return undefined;
    const list = entry.agents;
    const start = entry.cursor % list.length;
    for (let i = 0; i < list.length; i++) {
      const candidate = list[(start + i) % list.length]!;
      if (candidate.available && !exclude?.has(candidate)) {
        entry.cursor = (start + i + 1) % list.length;
        return candidate;
      }
    }
    return undefined;
  }

  /** Every agent, by endpoint. */
  *entries(): IterableIterator<[string, readonly AgentUpstream[]]> {
    for (const [id, entry] of this.#endpoints) yield [id, entry.agents];
  }

  get agentCount(): number {
    let n = 0;
    for (const entry of this.#endpoints.values()) n += entry.agents.length;
    return n;
  }

  all(): AgentUpstream[] {
    return [...this.#endpoints.values()].flatMap((entry) => entry.agents);
  }
}
