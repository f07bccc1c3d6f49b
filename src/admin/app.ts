import { Hono } from 'hono';

/** What the admin port needs from a server or an agent. */
export interface AdminState {
  /** Serving and not draining: load balancers may send work. */
  ready(): boolean;
  draining(): boolean;
  /** Starts the drain (idempotent); resolves when drained. */
  drain(): Promise<void>;
  /** One progress line of POST /drain: `phase`, `inflight`, and what is still connected. */
  progress(): Readonly<Record<string, unknown>>;
  /** GET /status. */
  status(): Readonly<Record<string, unknown>>;
}

const PROGRESS_INTERVAL_MS = 1000;
const encoder = new TextEncoder();

/**
 * The admin port of a server or an agent: health, readiness, status and drain, for
 * operators, load balancers and systemd. POST /drain starts the drain and streams progress
 * as JSON lines (one at once, then one a second) until `{"phase":"drained"}`; calling it
 * again joins the drain in progress. `tether drain` is its client.
 */
export function createAdminApp(state: AdminState) {
  const app = new Hono();
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/ready', (c) =>
    state.ready()
      ? c.json({ status: 'ready' })
      : c.json({ status: state.draining() ? 'draining' : 'starting' }, 503),
  );
  app.get('/status', (c) => c.json(state.status()));
  app.post('/drain', () => {
    const drained = state.drain();
    let timer: ReturnType<typeof setInterval> | undefined;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const line = (extra: object = {}) => {
          try {
            controller.enqueue(
              encoder.encode(`${JSON.stringify({ ...state.progress(), ...extra })}\n`),
            );
          } catch {
            // The client went away; the drain goes on without it.
            clearInterval(timer);
          }
        };
        line();
        timer = setInterval(line, PROGRESS_INTERVAL_MS);
        const end = (extra: object) => {
          clearInterval(timer);
          line(extra);
          try {
            controller.close();
          } catch {
            // Already cancelled by the client.
          }
        };
        drained.then(
          () => end({ phase: 'drained' }),
          (error: Error) => end({ error: error.message }),
        );
      },
      cancel() {
        clearInterval(timer);
      },
    });
    return new Response(body, {
      status: 202,
      headers: { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' },
    });
  });
  app.notFound((c) =>
    c.json({ error: 'not found: try /health, /ready, /status or POST /drain' }, 404),
  );
  return app;
}
