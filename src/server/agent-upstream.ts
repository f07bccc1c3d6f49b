import type { Session, Stream } from '../tunnel/index.ts';

let nextId = 1;

/** One connected agent session serving one endpoint (Piko's "upstream"). */
export class AgentUpstream {
  readonly id = nextId++;
  readonly connectedAt = new Date();
  #inflight = 0;

  constructor(
    readonly endpointId: string,
    readonly session: Session,
    readonly remoteAddress: string,
  ) {}

  /** Routable: connected, and neither side has said GoAway. */
  get available(): boolean {
    return !this.session.isClosed && !this.session.goneAway && !this.session.draining;
  }

  get inflight(): number {
    return this.#inflight;
  }

  /** Opens a stream to the agent; throws the tunnel's typed errors when it cannot. */
  open(): Stream {
    const stream = this.session.open();
    this.#inflight++;
    stream.onClosed(this.#streamClosed);
    return stream;
  }

  readonly #streamClosed = (): void => {
    this.#inflight--;
  };

  toJSON() {
    return {
      id: this.id,
      address: this.remoteAddress,
      connectedSince: this.connectedAt.toISOString(),
      rttMs: this.session.rtt === undefined ? null : Math.round(this.session.rtt * 100) / 100,
      inflightStreams: this.#inflight,
      draining: this.session.goneAway,
    };
  }
}
