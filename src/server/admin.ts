import { Hono } from 'hono';
import type { DrainProgress } from './drain.ts';
import type { Inflight } from './inflight.ts';
import type { Registry } from './registry.ts';

export interface AdminState {
  readonly registry: Registry;
  readonly inflight: Inflight;
  /** Serving and not draining. */
  ready(): boolean;
  draining(): boolean;
  /** Starts the drain (idempotent); resolves when drained. */
  drain(): Promise<void>;
  progress(): DrainProgress;
}

const PROGRESS_INTERVAL_MS = 1000;

/** The admin port: health, readiness, status and drain for operators, LBs and systemd. */
export function createAdminApp(state: AdminState) {
  const app = new Hono();
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/ready', (c) =>
    state.ready()
      ? c.json({ status: 'ready' })
      : c.json({ status: state.draining() ? 'draining' : 'starting' }, 503),
  );
  app.get('/status', (c) => c.json(status(state)));
  // Starts the drain and streams progress as JSON lines until drained; calling it again
  // joins the drain in progress. `tether drain` is the client of this.
  app.post('/drain', () => {
    const drained = state.drain();
    let timer: ReturnType<typeof setInterval> | undefined;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const line = (extra: object = {}) =>
          controller.enqueue(
            new TextEncoder().encode(`${JSON.stringify({ ...state.progress(), ...extra })}\n`),
          );
        line();
        timer = setInterval(line, PROGRESS_INTERVAL_MS);
        drained.then(
          () => {
            clearInterval(timer);
            line({ phase: 'drained' });
            controller.close();
          },
          (error: Error) => {
            clearInterval(timer);
            line({ error: error.message });
            controller.close();
          },
        );
      },
      cancel() {
        clearInterval(timer);
      },
    });
    return new Response(body, { status: 202, headers: { 'content-type': 'application/x-ndjson' } });
  });
  app.notFound((c) =>
    c.json({ error: 'not found: try /health, /ready, /status or POST /drain' }, 404),
  );
  return app;
}

export function status(state: AdminState) {
  const endpoints: Record<string, unknown[]> = {};
  for (const [id, agents] of state.registry.entries())
    endpoints[id] = agents.map((a) => a.toJSON());
  return {
    ready: state.ready(),
    draining: state.draining(),
    agents: state.registry.agentCount,
    inflight: state.inflight.counts(),
    endpoints,
  };
}
