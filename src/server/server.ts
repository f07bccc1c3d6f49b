import { createAdminApp } from '../admin/index.ts';
import type { Config, serverSettings } from '../config/index.ts';
import { formatAddress } from '../config/index.ts';
import { serveHttp1 } from '../http1/index.ts';
import type { Logger } from '../log/index.ts';
import { type Listener, runtime } from '../runtime/index.ts';
import { serverAdminState } from './admin.ts';
import { Drain, type DrainPhase } from './drain.ts';
import { Inflight } from './inflight.ts';
import { createProxyHandler } from './proxy.ts';
import { Registry } from './registry.ts';
import { createTunnelHandler } from './tunnel-listener.ts';

/**
 * An agent's handshake must start within this and its head arrive within this again
 * (connections that send nothing, or slowly, hold a socket and a buffer).
 */
const UPSTREAM_HEAD_TIMEOUT_MS = 10_000;

export type ServerConfig = Config<typeof serverSettings>;

export interface ServerHandle {
  readonly proxyPort: number;
  readonly upstreamPort: number;
  readonly adminPort: number;
  readonly registry: Registry;
  readonly inflight: Inflight;
  readonly drainState: Drain;
  /** Settles once every port is closed, whatever stopped the server (signal, POST /drain). */
  readonly stopped: Promise<void>;
  /** The drain sequence (idempotent); resolves once drained and every port is closed. */
  drain(): Promise<void>;
  /** Stops at once: in-flight work cut, listeners closed, every agent session closed. */
  close(): Promise<void>;
}

/**
 * Starts the three ports in order (admin first so /ready can say "starting", proxy last)
 * and returns once all listen.
 */
export async function startServer(
  config: ServerConfig,
  log: Logger,
  onPhase?: (phase: DrainPhase) => void,
): Promise<ServerHandle> {
  const registry = new Registry();
  const inflight = new Inflight();
  let ready = false;
  let proxy: Listener | undefined;
  // Aborted at drain step 3: idle client connections close, busy ones end after their response.
  const stopRequests = new AbortController();
  const drain = new Drain({
    registry,
    inflight,
    log: log.child('drain'),
    quietPeriod: config['drain.quiet-period'],
    quietPeriodMax: config['drain.quiet-period-max'],
    gracePeriod: config['drain.grace-period'],
    stopAccepting: async () => {
      stopRequests.abort();
      await proxy?.close();
    },
    ...(onPhase ? { onPhase } : {}),
  });
  const draining = () => drain.draining;
  let finished: Promise<void> | undefined;

  const adminAddr = config['admin.bind-addr'];
  const adminApp = createAdminApp(
    serverAdminState({
      registry,
      inflight,
      drainState: drain,
      listening: () => ready,
      // The answer to POST /drain ends when draining does; closing the ports (including
      // this admin port, which waits for that answer) follows it.
      drain: () => {
        void handle.drain();
        return drain.start();
      },
    }),
  );
  const admin = await runtime.serve({ ...adminAddr, fetch: adminApp.fetch });

  const upstreamAddr = config['upstream.bind-addr'];
  const upstreamLog = log.child('upstream');
  const tunnelHandler = createTunnelHandler({
    registry,
    log: upstreamLog,
    token: config['upstream.token'],
    draining,
    session: {
      heartbeatInterval: config['tunnel.heartbeat-interval'],
      heartbeatTimeout: config['tunnel.heartbeat-timeout'],
    },
  });
  // tether's own engine, not the runtime's HTTP server: only it hands over the connection
  // after a 101, which the byte-stream transport needs (docs/transport.md).
  const upstream = await runtime.listen(upstreamAddr, (conn) => {
    serveHttp1(conn, tunnelHandler, {
      // A connection that sends nothing is dropped after this too (Bun.serve's idle
      // timeout did that before); one handshake per connection: a refused agent reconnects.
      keepAlive: { mode: 'timeout', ms: UPSTREAM_HEAD_TIMEOUT_MS },
      closing: () => true,
      headTimeout: UPSTREAM_HEAD_TIMEOUT_MS,
      onError: (error) => upstreamLog.debug('agent connection error', { error: error as Error }),
    }).catch((error) => upstreamLog.debug('agent connection ended', { error: error as Error }));
  });

  const proxyAddr = config['proxy.bind-addr'];
  const proxyLog = log.child('proxy');
  const proxyHandler = createProxyHandler({
    registry,
    inflight,
    log: proxyLog,
    timeout: config['proxy.timeout'],
    httpIdleTimeout: config['proxy.http-idle-timeout'],
    upgradeIdleTimeout: config['proxy.upgrade-idle-timeout'],
  });
  const handler: typeof proxyHandler = (req) => {
    drain.noteRequest();
    return proxyHandler(req);
  };
  const keepAlive = config['proxy.idle-timeout'];
  proxy = await runtime.listen(proxyAddr, (conn) => {
    serveHttp1(conn, handler, {
      keepAlive,
      headTimeout: config['proxy.read-header-timeout'],
      // While draining, each response ends its connection so clients move on.
      closing: draining,
      drainSignal: stopRequests.signal,
      onError: (error) => proxyLog.debug('client connection error', { error: error as Error }),
    }).catch((error) => proxyLog.debug('client connection ended', { error: error as Error }));
  });
  ready = true;
  log.info('tether server ready', {
    proxy: formatAddress({ host: proxyAddr.host, port: proxy.port }),
    upstream: formatAddress({ host: upstreamAddr.host, port: upstream.port }),
    admin: formatAddress({ host: adminAddr.host, port: admin.port }),
  });

  let markStopped!: () => void;
  const stopped = new Promise<void>((resolve) => {
    markStopped = resolve;
  });
  let closing: Promise<void> | undefined;
  const closeAll = () => {
    closing ??= (async () => {
      await Promise.all([proxy?.close(), upstream.close()]);
      for (const agent of registry.all()) agent.session.close(new Error('server stopped'));
      // Let a streaming POST /drain answer finish before the admin port goes.
      await admin.shutdown();
      markStopped();
    })();
    return closing;
  };
  const handle: ServerHandle = {
    proxyPort: proxy.port,
    upstreamPort: upstream.port,
    adminPort: admin.port,
    registry,
    inflight,
    drainState: drain,
    stopped,
    drain() {
      finished ??= drain.start().then(closeAll);
      return finished;
    },
    async close() {
      drain.force();
      inflight.abortAll(new Error('server stopped at once'));
      await closeAll();
    },
  };
  return handle;
}
