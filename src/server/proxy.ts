import {
  ByteReader,
  getHeader,
  HttpError,
  type IncomingRequest,
  isBodiless,
  isIdempotent,
  type OutgoingResponse,
  type ResponseHead,
  requestFraming,
  responseFraming,
  serializeRequestHead,
  stripHopByHop,
  tunnelHopLimits,
  upgradedDuplex,
  writeBody,
} from '../http1/index.ts';
import type { Logger } from '../log/index.ts';
import type { ChunkWriter } from '../streams/index.ts';
import { type Stream, StreamRefusedError } from '../tunnel/index.ts';
import type { AgentUpstream } from './agent-upstream.ts';
import { endpointFromRequest, isValidEndpointId } from './endpoint.ts';
import { type ProxyErrorCode, proxyError } from './errors.ts';
import { forwardHead, isUpgradeRequest } from './forward-head.ts';
import { IdleWatch, watched } from './idle-watch.ts';
import type { Inflight } from './inflight.ts';
import type { Registry } from './registry.ts';
import { pipeBoth, relay } from './relay.ts';
import { handleTcpRoute, isTcpRoute } from './tcp-route.ts';

export interface ProxyOptions {
  readonly registry: Registry;
  readonly inflight: Inflight;
  readonly log: Logger;
  /** Time to the response head for plain HTTP, ms; 0 = off (DESIGN.md rule 2). */
  readonly timeout: number;
  /** No bytes either way on a plain HTTP exchange for this long cuts it; 0 = off. */
  readonly httpIdleTimeout: number;
  /** The same for upgraded WebSocket and TCP streams; 0 = off. */
  readonly upgradeIdleTimeout: number;
}

type Attempt = { kind: 'retry'; why: string } | { kind: 'response'; response: OutgoingResponse };

/**
 * The proxy port's request handler: route to an endpoint, carry the request over one
 * tunnel stream, hand back the agent's response. A stream the agent refused (RST before
 * ACK: it never saw the request) is retried on the endpoint's next agent, so an agent
 * that is leaving never costs a client its request.
 */
export function createProxyHandler(options: ProxyOptions) {
  const { registry, log } = options;
  return async function handle(req: IncomingRequest): Promise<OutgoingResponse> {
    if (isTcpRoute(req.head.target)) return handleTcpRoute(req, options);
    // RFC 9110 §9.3.6: a 2xx would turn the connection into a tunnel nobody serves.
    if (req.head.method === 'CONNECT') return proxyError('connect-unsupported');
    const endpoint = endpointFromRequest(req.head);
    if (endpoint === undefined) return proxyError('missing-endpoint');
    if (!isValidEndpointId(endpoint)) return proxyError('invalid-endpoint');
    const upgrade = isUpgradeRequest(req.head);
    const framing = requestFraming(req.head);
    const headBytes = serializeRequestHead(forwardHead(req, framing, upgrade));
    const started = performance.now();
    const access = {
      method: req.head.method,
      host: getHeader(req.head.headers, 'host'),
      path: req.head.target,
      endpoint,
    };

    // Agents already tried for this request; made only for a second attempt.
    let first: AgentUpstream | undefined;
    let tried: Set<AgentUpstream> | undefined;
    for (;;) {
      if (first !== undefined && tried === undefined) tried = new Set([first]);
      const agent = registry.select(endpoint, tried);
      if (!agent) {
        const code: ProxyErrorCode = first !== undefined ? 'upstream-unreachable' : 'no-upstream';
        log.info('request', { ...access, status: 502, error: code, durationMs: elapsed(started) });
        return proxyError(code);
      }
      if (tried === undefined) first = agent;
      else tried.add(agent);
      let stream: Stream;
      try {
        stream = agent.open();
      } catch {
        continue; // GoAway or close raced the selection: nothing was sent.
      }
      const attempt = await exchange(
        req,
        stream,
        headBytes,
        framing,
        upgrade,
        options,
        // One line per request: fields listed out, no spreads (an undefined error is left out).
        (status, bytes, error) =>
          log.info('request', {
            method: access.method,
            host: access.host,
            path: access.path,
            endpoint,
            status,
            bytes,
            durationMs: elapsed(started),
            agent: agent.remoteAddress,
            error: error || undefined,
          }),
      );
      if (attempt.kind === 'retry') {
        log.debug('request never reached the agent, trying the next one', {
          endpoint,
          agent: agent.remoteAddress,
          why: attempt.why,
        });
        continue;
      }
      return attempt.response;
    }
  };
}

async function exchange(
  req: IncomingRequest,
  stream: Stream,
  headBytes: Uint8Array,
  framing: ReturnType<typeof requestFraming>,
  upgrade: boolean,
  options: ProxyOptions,
  logDone: (status: number, bytes: number, error?: string) => void,
): Promise<Attempt> {
  const work = options.inflight.begin('http', (reason) => fail(reason));
  let bytesOut = 0;
  let failed: Error | undefined;
  const watch = new IdleWatch(options.httpIdleTimeout, () => fail(new IdleError()));
  const fail = (reason: Error) => {
    if (failed) return;
    failed = reason;
    stream.reset();
  };
  // The client is watched without making req.signal (its runtime object cost the server
  // about 1.8 µs per small request on Bun). The watch stays: it never fires once the response
  // is done, and removing a listener was 4 % of the server's busy time on small requests
  // (Bun). One left by an attempt that was retried can still fire; it only resets that
  // attempt's own stream, which has ended already.
  const finish = () => {
    watch.stop();
    work.done();
  };
  const onClientGone = () => fail(new Error('client went away'));
  req.watchAbort(onClientGone);

  const reader = new ByteReader(stream.reader());
  // A request without body (Content-Length: 0 included) or upgrade is all head: it leaves
  // with FIN, in one frame, and the agent's read side ends at once. Such a head is a whole
  // request, so it never waits for the ACK, and a lost stream is retried only when the
  // request is idempotent. Otherwise the writer stays for body or upgrade.
  const bodiless = isBodiless(framing);
  const ended = bodiless && !upgrade;
  // An upgrade without a body writes its head through the stream's own writer, and after a
  // 101 the relay goes on with it: no WritableStream per chunk of a WebSocket.
  const direct = upgrade && bodiless ? stream.writer() : undefined;
  const writer: ChunkWriter | WritableStreamDefaultWriter<Uint8Array> | undefined = ended
    ? undefined
    : (direct ?? stream.writable.getWriter());
  try {
    // --proxy.timeout is the upstream's time to answer: it starts once the whole request
    // is sent, so a slow upload is never cut by it.
    let headTimer: ReturnType<typeof setTimeout> | undefined;
    let headArrived = false;
    const startHeadTimer = () => {
      if (!upgrade && options.timeout > 0 && !headArrived && !failed) {
        headTimer = setTimeout(() => fail(new TimeoutError()), options.timeout);
      }
    };
    // A whole head leaves with FIN and no promise: a stream that fails shows it on the
    // read of the response head below.
    if (writer === undefined) stream.endWith(headBytes);
    else await writer.write(headBytes);
    if (bodiless) startHeadTimer();
    else {
      // Only send the body once the agent has taken the stream: a stream it refused, or
      // whose session died before the ACK, has consumed none of the client's body and is
      // retried on the next agent.
      const ack = await ackOutcome(stream);
      if (ack !== 'acked') return retry(`stream ${ack} before the request body was sent`);
      // Request body bytes count as traffic too: an upload that is still flowing is not
      // idle, however long the response takes to start.
      void writeBody(writer!, req.body.pipeThrough(watched(watch, () => {})), framing)
        .then(() => {
          watch.touch();
          startHeadTimer();
        })
        .catch((error) => fail(error as Error));
    }

    let head: ResponseHead;
    try {
      // The agent added Connection and framing to a head it had checked: allow for them.
      head = await reader.readResponseHead(tunnelHopLimits);
      while (head.status >= 100 && head.status < 200 && head.status !== 101) {
        // Interim answers such as 103 Early Hints go on to the client as they come (as Go's
        // ReverseProxy, so Piko, does); 100 Continue is the client loop's own.
        watch.touch();
        if (head.status !== 100) {
          await req.informational({ ...head, headers: stripHopByHop(head.headers) });
        }
        head = await reader.readResponseHead(tunnelHopLimits);
      }
    } finally {
      headArrived = true;
      clearTimeout(headTimer);
    }
    watch.touch();

    if (head.status === 101 && upgrade) {
      work.change('upgraded');
      watch.stop();
      logDone(101, 0);
      return {
        kind: 'response',
        response: {
          head: { ...head, headers: head.headers },
          body: null,
          abandon: () => {
            stream.reset();
            finish();
          },
          upgrade: async (client) => {
            const upgradeWatch = new IdleWatch(options.upgradeIdleTimeout, () => stream.reset());
            if (writer instanceof WritableStreamDefaultWriter) writer.releaseLock();
            const tunnel = upgradedDuplex(reader, {
              get writable() {
                return stream.writable;
              },
              ...(direct !== undefined && { writer: () => direct }),
            });
            await pipeBoth(client, tunnel, upgradeWatch);
            upgradeWatch.stop();
            finish();
          },
        },
      };
    }

    const bodyFraming = responseFraming(head, req.head.method);
    const headers = stripHopByHop(head.headers);
    if (bodyFraming.kind === 'length') headers.push(['Content-Length', String(bodyFraming.length)]);
    const finalHead: ResponseHead = { ...head, minor: 1, headers };
    // A small response usually arrives whole with its head: hand it on as bytes, no body
    // stream to relay.
    const whole = reader.takeBufferedBody(bodyFraming);
    if (whole !== null) {
      writer?.close().catch(() => {});
      logDone(head.status, whole.length);
      finish();
      const body = bodyFraming.kind === 'none' ? null : whole;
      return { kind: 'response', response: { head: finalHead, body } };
    }
    const body = relay(reader.body(bodyFraming), {
      chunk: (n) => {
        bytesOut += n;
        watch.touch();
      },
      end: () => {
        writer?.close().catch(() => {});
        logDone(head.status, bytesOut);
        finish();
      },
      error: (error) => {
        fail(error instanceof Error ? error : new Error(String(error)));
        logDone(head.status, bytesOut, failed?.message);
        finish();
      },
    });
    return { kind: 'response', response: { head: finalHead, body } };
  } catch (error) {
    if (failed === undefined) {
      // The stream has failed, so `accepted` has settled; never wait on it here.
      const ack = await Promise.race([
        ackOutcome(stream),
        new Promise<'pending'>((r) => setTimeout(r, 0, 'pending')),
      ]);
      // Refused: the agent never read it. Lost (the session died before the ACK): the
      // agent may have read the head, so only an idempotent request may go elsewhere.
      if (
        ack === 'refused' ||
        (ack === 'lost' && isIdempotent(req.head.method, req.head.headers))
      ) {
        return retry(`stream ${ack} before any response`);
      }
    }
    stream.reset();
    finish();
    if (failed instanceof TimeoutError) {
      logDone(504, 0, 'upstream timeout');
      return { kind: 'response', response: proxyError('upstream-timeout') };
    }
    const why =
      failed?.message ?? (error instanceof HttpError ? error.message : (error as Error).message);
    // Only the idle limit is a 504; a reset, a broken body or a bad answer is a 502.
    const code: ProxyErrorCode =
      failed instanceof IdleError && !req.signal.aborted ? 'upstream-idle' : 'upstream-unreachable';
    const response = proxyError(code);
    logDone(response.head.status, 0, why);
    return { kind: 'response', response };
  }

  function retry(why: string): Attempt {
    finish();
    return { kind: 'retry', why };
  }
}

class TimeoutError extends Error {
  override name = 'TimeoutError';
  constructor() {
    super('no response head within the proxy timeout');
  }
}

class IdleError extends Error {
  override name = 'IdleError';
  constructor() {
    super('no bytes either way for the idle limit');
  }
}

/**
 * How the agent answered the stream's open: ACK; RST before ACK (`refused`: it never read
 * the stream); or nothing before the stream or session failed (`lost`).
 */
function ackOutcome(stream: Stream): Promise<'acked' | 'refused' | 'lost'> {
  return stream.accepted.then(
    () => 'acked' as const,
    (error) => (error instanceof StreamRefusedError ? ('refused' as const) : ('lost' as const)),
  );
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
