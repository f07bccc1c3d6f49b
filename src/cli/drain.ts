import { defineCommand } from 'citty';
import { formatDuration } from '../config/index.ts';
import { adminPath, adminUrl, DEFAULT_ADMIN_URL, timeoutMs, unreachable } from './admin-url.ts';
import { CliError } from './errors.ts';

const REPEAT_MS = 10_000;

interface ProgressLine {
  readonly phase?: string;
  readonly inflight?: Readonly<Record<string, number>>;
  readonly agents?: number;
  readonly sessions?: number;
  readonly elapsedMs?: number;
  readonly error?: string;
}

/**
 * `tether drain`: asks a server or an agent to drain (POST /drain on its admin port) and
 * follows the NDJSON progress until `{"phase":"drained"}`. Exit 0 once drained, 1 on
 * timeout, when nothing answers or when the answer ends early — so it fits `ExecStop=`
 * and a Kubernetes preStop hook. A second call joins the drain in progress.
 */
export default defineCommand({
  meta: {
    name: 'drain',
    description: 'Drain a running server or agent: stop taking new work, finish what is in flight',
  },
  args: {
    'admin-url': {
      type: 'string',
      description: `Admin address of the server or agent (default ${DEFAULT_ADMIN_URL})`,
    },
    timeout: {
      type: 'string',
      description: 'Give up waiting after this long; the drain goes on (default 6m)',
    },
    quiet: { type: 'boolean', description: 'Print only the outcome' },
  },
  async run({ args }) {
    const base = adminUrl(args['admin-url']);
    const limit = timeoutMs(args.timeout, '6m');
    const url = adminPath(base, '/drain');
    const signal = AbortSignal.timeout(limit);
    const started = performance.now();
    const timedOut = () =>
      new CliError(
        `Timed out after ${formatDuration(limit)} waiting for ${base.origin} to drain; the drain goes on there`,
        1,
      );
    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', signal });
    } catch (error) {
      if (signal.aborted) throw timedOut();
      throw unreachable(base, error);
    }
    if (!response.ok || !response.body) {
      const text = await response.text().catch(() => '');
      throw new CliError(
        `Cannot drain ${base.origin}: POST /drain answered ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
        1,
      );
    }
    let last = '';
    let lastPrinted = 0;
    try {
      for await (const line of lines(response.body)) {
        let progress: ProgressLine;
        try {
          progress = JSON.parse(line) as ProgressLine;
        } catch {
          continue; // Not ours; the next line may be.
        }
        if (progress.error)
          throw new CliError(`Drain of ${base.origin} failed: ${progress.error}`, 1);
        if (progress.phase === 'drained') {
          const s = ((performance.now() - started) / 1000).toFixed(1);
          console.log(`drained ${base.origin} (waited ${s} s)`);
          return;
        }
        // A line when something changed, else one every few seconds to show it is alive.
        const text = describe(progress);
        const now = performance.now();
        if (!args.quiet && (text !== last || now - lastPrinted >= REPEAT_MS)) {
          console.log(`${text}; ${((now - started) / 1000).toFixed(0)} s`);
          lastPrinted = now;
        }
        last = text;
      }
    } catch (error) {
      if (error instanceof CliError) throw error;
      if (signal.aborted) throw timedOut();
      throw new CliError(
        `Lost the drain progress from ${base.origin}: ${(error as Error).message}`,
        1,
        { cause: error },
      );
    }
    if (signal.aborted) throw timedOut();
    throw new CliError(`${base.origin} ended the drain progress before it was drained`, 1);
  },
});

/** `draining (quiet): in flight http=3 upgraded=1 tcp=0; agents connected 2; 4.0 s` */
export function describe(p: ProgressLine): string {
  const phase = p.phase ?? 'unknown';
  const parts = [phase === 'draining' ? phase : `draining (${phase})`];
  const inflight = Object.entries(p.inflight ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  if (inflight) parts.push(`in flight ${inflight}`);
  if (p.agents !== undefined) parts.push(`agents connected ${p.agents}`);
  if (p.sessions !== undefined) parts.push(`sessions open ${p.sessions}`);
  return parts.join('; ');
}

async function* lines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) yield line;
      nl = buffered.indexOf('\n');
    }
  }
  if (buffered.trim()) yield buffered.trim();
}
