import type { HeaderList } from '../../src/http1/index.ts';
import { type Origin, parseOrigin, type UpstreamPool } from '../../src/pool/index.ts';
import type { RequestAbort } from '../../src/streams/index.ts';

export interface Sent {
  status: number;
  headers: HeaderList;
  body: Uint8Array;
  text: string;
}

export interface SendOptions {
  headers?: HeaderList;
  body?: Uint8Array | ReadableStream<Uint8Array> | null;
  bodyLength?: number;
  id?: string;
  signal?: AbortSignal;
  abort?: RequestAbort;
}

/** One request through the pool, body read to its end. */
export async function send(
  pool: UpstreamPool,
  origin: Origin | string,
  method: string,
  target: string,
  options: SendOptions = {},
): Promise<Sent> {
  const o = typeof origin === 'string' ? parseOrigin(origin) : origin;
  const headers: HeaderList = [['Host', `${o.host}:${o.port}`], ...(options.headers ?? [])];
  if (options.id !== undefined) headers.push(['X-Request-Id', options.id]);
  const res = await pool.request(
    o,
    {
      method,
      target,
      headers,
      body: options.body ?? null,
      ...(options.bodyLength === undefined ? {} : { bodyLength: options.bodyLength }),
    },
    {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.abort ? { abort: options.abort } : {}),
    },
  );
  const body = new Uint8Array(await new Response(res.body).arrayBuffer());
  return {
    status: res.head.status,
    headers: res.head.headers,
    body,
    text: new TextDecoder().decode(body),
  };
}

export function header(sent: Sent, name: string): string | undefined {
  return sent.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

/** The body the harness upstreams send for `n` bytes. */
export function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = 97 + (i % 26);
  return b;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
