import type { AgentUpstream } from './agent-upstream.ts';

/**
 * Which agents serve which endpoint, and round-robin selection among those still
 * routable. Removal is idempotent: a session that ends after a GoAway is removed once
 * (Piko's double RemoveConn bug corrupted its counts).
 */
export class Registry {
  readonly #endpoints = new Map<string, AgentUpstream[]>();
  readonly #cursor = new Map<string, number>();

  add(upstream: AgentUpstream): void {
    const list = this.#endpoints.get(upstream.endpointId);
    if (list) list.push(upstream);
    else this.#endpoints.set(upstream.endpointId, [upstream]);
  }

  remove(upstream: AgentUpstream): void {
    const list = this.#endpoints.get(upstream.endpointId);
    if (!list) return;
    const i = list.indexOf(upstream);
    if (i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) {
      this.#endpoints.delete(upstream.endpointId);
      this.#cursor.delete(upstream.endpointId);
    }
  }

  /** The next available agent for the endpoint, skipping `exclude`; undefined if none. */
  select(endpointId: string, exclude?: ReadonlySet<AgentUpstream>): AgentUpstream | undefined {
    const list = this.#endpoints.get(endpointId);
    if (!list) return undefined;
    const start = this.#cursor.get(endpointId) ?? 0;
    for (let i = 0; i < list.length; i++) {
      const candidate = list[(start + i) % list.length]!;
      if (candidate.available && !exclude?.has(candidate)) {
        this.#cursor.set(endpointId, (start + i + 1) % list.length);
        return candidate;
      }
    }
    return undefined;
  }

  /** Every agent, by endpoint. */
  entries(): IterableIterator<[string, readonly AgentUpstream[]]> {
    return this.#endpoints.entries();
  }

  get agentCount(): number {
    let n = 0;
    for (const list of this.#endpoints.values()) n += list.length;
    return n;
  }

  all(): AgentUpstream[] {
    return [...this.#endpoints.values()].flat();
  }
}
