/**
 * HTTP/1.1 codec benchmark: tether's parser against http-parser-js on the same inputs, in
 * the same run. Not a test.
 *
 *   npx bun scripts/bench-http1.ts        npx deno run -A scripts/bench-http1.ts
 *
 * Measures: request head parse (messages/s), response head parse (messages/s), head
 * serialization (messages/s, tether only: the reference has no serializer), chunked body
 * decoding (MB/s). Messages are parsed as a keep-alive stream (many messages back to back
 * in 64 KiB reads), which is how a connection feeds the parser.
 */
import { Buffer } from 'node:buffer';
import { HTTPParser } from 'http-parser-js';
import { ByteReader, serializeRequestHead, serializeResponseHead } from '../src/http1/index.ts';

const requestHead =
  'GET /api/v1/items/12345?include=owner,tags&sort=-created HTTP/1.1\r\n' +
  'Host: api.example.com\r\n' +
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n' +
  'Accept: application/json, text/plain, */*\r\n' +
  'Accept-Language: en-US,en;q=0.5\r\n' +
  'Accept-Encoding: gzip, deflate, br\r\n' +
  'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.abc\r\n' +
  'Cookie: session=3f2a9c; theme=dark\r\n' +
  'X-Request-Id: 9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d\r\n' +
  'Connection: keep-alive\r\n\r\n';
const responseHead =
  'HTTP/1.1 200 OK\r\n' +
  'Date: Sat, 21 Nov 2026 10:00:00 GMT\r\n' +
  'Content-Type: application/json; charset=utf-8\r\n' +
  'Content-Length: 0\r\n' +
  'Cache-Control: private, max-age=0, no-cache\r\n' +
  'ETag: W/"5e-1a2b3c4d"\r\n' +
  'Vary: Accept-Encoding, Origin\r\n' +
  'Set-Cookie: session=3f2a9c; Path=/; HttpOnly; Secure\r\n' +
  'X-Request-Id: 9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d\r\n' +
  'Keep-Alive: timeout=5\r\n\r\n';

const encoder = new TextEncoder();
const minMs = 1000;

/** `count` copies of `message` as 64 KiB reads. */
function stream(message: string, count: number): Uint8Array[] {
  const all = encoder.encode(message.repeat(count));
  const out: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += 65536) out.push(all.subarray(i, i + 65536));
  return out;
}

function source(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      const next = chunks[i++];
      if (next === undefined) c.close();
      else c.enqueue(next);
    },
  });
}

/** Runs `round` (which processes `perRound` units) until `minMs` passed; units per second. */
async function rate(round: () => Promise<void> | void, perRound: number): Promise<number> {
  for (let i = 0; i < 3; i++) await round();
  let units = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    await round();
    units += perRound;
    elapsed = performance.now() - start;
  }
  return (units / elapsed) * 1000;
}

const batch = 2000;

async function tetherHeads(kind: 'request' | 'response', chunks: Uint8Array[]) {
  const reader = new ByteReader(source(chunks));
  let n = 0;
  if (kind === 'request') {
    while ((await reader.readRequestHead()) !== null) n++;
  } else {
    for (let i = 0; i < batch; i++) {
      await reader.readResponseHead();
      n++;
    }
  }
  if (n !== batch) throw new Error(`parsed ${n} of ${batch}`);
}

function referenceHeads(kind: 'request' | 'response', buffers: Buffer[]) {
  const parser = new HTTPParser(kind === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE);
  let n = 0;
  parser[HTTPParser.kOnHeadersComplete] = () => {
    n++;
  };
  for (const b of buffers) {
    const r = parser.execute(b);
    if (r instanceof Error) throw r;
  }
  if (n !== batch) throw new Error(`reference parsed ${n} of ${batch}`);
}

function chunkedBody(totalBytes: number, chunkSize: number): Uint8Array[] {
  const data = new Uint8Array(chunkSize).fill(120);
  const head = encoder.encode(`${chunkSize.toString(16)}\r\n`);
  const one = new Uint8Array(head.length + chunkSize + 2);
  one.set(head);
  one.set(data, head.length);
  one.set([13, 10], head.length + chunkSize);
  const count = totalBytes / chunkSize;
  const all = new Uint8Array(one.length * count + 5);
  for (let i = 0; i < count; i++) all.set(one, i * one.length);
  all.set(encoder.encode('0\r\n\r\n'), one.length * count);
  const out: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += 65536) out.push(all.subarray(i, i + 65536));
  return out;
}

async function main() {
  const runtimeName = 'Bun' in globalThis ? 'bun' : 'deno';
  const rows: [string, number, number | undefined, string][] = [];

  const reqChunks = stream(requestHead, batch);
  const reqBuffers = reqChunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength));
  rows.push([
    `request head parse (${requestHead.length} B, 10 fields)`,
    await rate(() => tetherHeads('request', reqChunks), batch),
    await rate(() => referenceHeads('request', reqBuffers), batch),
    'msg/s',
  ]);

  const resChunks = stream(responseHead, batch);
  const resBuffers = resChunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength));
  rows.push([
    `response head parse (${responseHead.length} B, 9 fields)`,
    await rate(() => tetherHeads('response', resChunks), batch),
    await rate(() => referenceHeads('response', resBuffers), batch),
    'msg/s',
  ]);

  const parsedReq = (await new ByteReader(
    source([encoder.encode(requestHead)]),
  ).readRequestHead())!;
  const parsedRes = await new ByteReader(source([encoder.encode(responseHead)])).readResponseHead();
  rows.push([
    'request head serialize',
    await rate(() => {
      for (let i = 0; i < batch; i++) serializeRequestHead(parsedReq);
    }, batch),
    undefined,
    'msg/s',
  ]);
  rows.push([
    'response head serialize',
    await rate(() => {
      for (let i = 0; i < batch; i++) serializeResponseHead(parsedRes);
    }, batch),
    undefined,
    'msg/s',
  ]);

  const total = 32 * 1024 * 1024;
  for (const chunkSize of [16384, 1024]) {
    const body = chunkedBody(total, chunkSize);
    const resHead = encoder.encode('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
    const bodyBuffers = [resHead, ...body].map((c) =>
      Buffer.from(c.buffer, c.byteOffset, c.byteLength),
    );
    rows.push([
      `chunked decode (${chunkSize} B chunks)`,
      await rate(async () => {
        const reader = new ByteReader(source(body));
        const r = reader.body({ kind: 'chunked' }).getReader();
        let n = 0;
        for (;;) {
          const { done, value } = await r.read();
          if (done) break;
          n += value.length;
        }
        if (n !== total) throw new Error(`decoded ${n}`);
      }, total / 1e6),
      await rate(() => {
        const parser = new HTTPParser(HTTPParser.RESPONSE);
        let n = 0;
        parser[HTTPParser.kOnBody] = (_b: Buffer, _s: number, len: number) => {
          n += len;
        };
        for (const b of bodyBuffers) parser.execute(b);
        if (n !== total) throw new Error(`reference decoded ${n}`);
      }, total / 1e6),
      'MB/s',
    ]);
  }

  console.log(`\nHTTP/1.1 codec on ${runtimeName}: tether vs http-parser-js 0.5.10\n`);
  const pad = (s: string, n: number) => s.padEnd(n);
  const num = (v: number | undefined) =>
    v === undefined ? '-' : v >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1);
  console.log(
    `${pad('case', 42)}${pad('tether', 14)}${pad('reference', 14)}${pad('ratio', 8)}unit`,
  );
  for (const [name, ours, ref, unit] of rows) {
    const ratio = ref === undefined ? '-' : `${(ours / ref).toFixed(2)}x`;
    console.log(`${pad(name, 42)}${pad(num(ours), 14)}${pad(num(ref), 14)}${pad(ratio, 8)}${unit}`);
  }
  // Connection-pool benchmarks belong to src/pool: see scripts/bench-pool.ts.
}

await main();
