/**
 * Heads at the client-facing limits pass every hop. The server adds forwarding and framing
 * fields to each request (and joins repeated X-Forwarded-For and Forwarded lines into one),
 * the agent adds Connection and framing to each response: a head the first hop accepts
 * must not be refused by the next one for what tether itself added.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { defaultLimits } from '../../src/http1/index.ts';
import { stopAll } from '../_harness/process.ts';
import { type ServerProc, startAgent, startServer } from '../_harness/tether.ts';
import { rawExchange, splitResponse } from './_support.ts';

const MAX_FIELDS = defaultLimits.maxHeaders;
const MAX_LINE = defaultLimits.maxLineBytes;
const MAX_HEAD = defaultLimits.maxHeadBytes;

/**
 * A keep-alive upstream on raw TCP, so the test decides every byte of each response: it
 * answers each bodiless request with the fields `respond` gives for its target.
 */
function rawUpstream(respond: (target: string) => string[]) {
  const seen: string[] = [];
  const server: Server = createServer((socket: Socket) => {
    let pending = '';
    socket.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
        const head = pending.slice(0, end);
        pending = pending.slice(end + 4);
        seen.push(head);
        const target = head.slice(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
        socket.write(`HTTP/1.1 200 OK\r\n${respond(target).join('\r\n')}\r\n\r\nok`);
      }
    });
    socket.on('error', () => {});
  });
  return { server, seen };
}

/** `count` fields in all, Content-Length for the 2-byte body among them, no Connection. */
function responseFields(count: number): string[] {
  const fields = ['Content-Length: 2'];
  for (let i = fields.length; i < count; i++) fields.push(`X-R${i}: v`);
  return fields;
}

/**
 * Fields named `prefix`N that make a head of `startLines` (start line and fields) plus
 * them exactly `total` bytes long, final CRLF included.
 */
function fillTo(startLines: string[], prefix: string, total: number): string[] {
  const fields: string[] = [];
  const size = () => [...startLines, ...fields].join('\r\n').length + 4;
  while (total - size() > 1100) fields.push(`${prefix}${fields.length}: ${'f'.repeat(1000)}`);
  const name = `${prefix}${fields.length}: `;
  fields.push(`${name}${'f'.repeat(total - size() - 2 - name.length)}`);
  assert.equal(size(), total);
  return fields;
}

describe('heads at the limits pass every hop', () => {
  let server: ServerProc;
  const upstream = rawUpstream((target) => {
    if (target === '/many-fields') return responseFields(MAX_FIELDS);
    // 10 bytes under the head limit.
    if (target === '/big-head') {
      const start = ['HTTP/1.1 200 OK', 'Content-Length: 2'];
      return [...start.slice(1), ...fillTo(start, 'X-R', MAX_HEAD - 10)];
    }
    return ['Content-Length: 2'];
  });

  before(async () => {
    await new Promise<void>((r) => upstream.server.listen(0, '127.0.0.1', r));
    const address = upstream.server.address();
    assert.ok(address !== null && typeof address === 'object');
    server = await startServer();
    await startAgent(server, 'http', 'limits', String(address.port));
  });
  after(async () => {
    await stopAll();
    upstream.server.close();
  });

  /** The request line and fields every request here starts with. */
  function start(target: string): string[] {
    return [
      `GET ${target} HTTP/1.1`,
      'Host: limits.example.com',
      'x-piko-endpoint: limits',
      'Connection: close',
    ];
  }

  /** Sends `fields` after those and returns what the client got. */
  async function send(target: string, fields: string[]) {
    const head = [...start(target), ...fields];
    const res = await rawExchange(server.proxyPort, `${head.join('\r\n')}\r\n\r\n`);
    assert.equal(res.closed, true, 'the server closes after the answer');
    return splitResponse(res.data);
  }

  test(`a request with ${MAX_FIELDS} fields reaches the upstream with all of them`, async () => {
    const extra = Array.from({ length: MAX_FIELDS - 3 }, (_, i) => `X-Q${i}: ${i}`);
    const res = await send('/many-request-fields', extra);
    assert.match(res.status, /^HTTP\/1\.1 200 /, `got ${res.status}`);
    const seen = upstream.seen.find((h) => h.startsWith('GET /many-request-fields '));
    assert.ok(seen !== undefined, 'the upstream got the request');
    assert.equal(seen.match(/\r\nX-Q\d+: /g)?.length, MAX_FIELDS - 3);
  });

  test('a request head just under the size limit reaches the upstream', async () => {
    // 10 bytes under the limit before the server adds its own fields.
    const extra = fillTo(start('/big-request-head'), 'X-B', MAX_HEAD - 10);
    const res = await send('/big-request-head', extra);
    assert.match(res.status, /^HTTP\/1\.1 200 /, `got ${res.status}`);
    const seen = upstream.seen.find((h) => h.startsWith('GET /big-request-head '));
    assert.ok(seen !== undefined && seen.length > MAX_HEAD, 'the upstream got it, grown');
  });

  test('X-Forwarded-For lines joined into one longer than a line may be still pass', async () => {
    const part = Array.from({ length: 1200 }, (_, i) => `10.0.${i >> 8}.${i & 255}`).join(', ');
    assert.ok(part.length > MAX_LINE / 2 && part.length < MAX_LINE - 100);
    const res = await send('/joined', [`X-Forwarded-For: ${part}`, `X-Forwarded-For: ${part}`]);
    assert.match(res.status, /^HTTP\/1\.1 200 /, `got ${res.status}`);
    const seen = upstream.seen.find((h) => h.startsWith('GET /joined '));
    const xff = seen?.split('\r\n').filter((l) => /^x-forwarded-for:/i.test(l)) ?? [];
    assert.equal(xff.length, 1, 'one X-Forwarded-For line upstream');
    assert.ok((xff[0] ?? '').length > MAX_LINE, 'the joined line is longer than one line may be');
    assert.ok(xff[0]?.endsWith(`${part}, ${part}, 127.0.0.1`));
  });

  test(`a response with ${MAX_FIELDS} fields reaches the client with all of them`, async () => {
    const res = await send('/many-fields', []);
    assert.match(res.status, /^HTTP\/1\.1 200 /, `got ${res.status}`);
    assert.equal(res.fields.filter((f) => /^X-R\d+: /.test(f)).length, MAX_FIELDS - 1);
    assert.equal(res.body, 'ok');
  });

  test('a response head just under the size limit reaches the client', async () => {
    const res = await send('/big-head', []);
    assert.match(res.status, /^HTTP\/1\.1 200 /, `got ${res.status}`);
    assert.ok(res.fields.filter((f) => /^X-R\d+: /.test(f)).length > 60);
    assert.equal(res.body, 'ok');
  });

  test('one field over the limit is still refused at the door with 431', async () => {
    const extra = Array.from({ length: MAX_FIELDS - 2 }, (_, i) => `X-Q${i}: ${i}`);
    const res = await send('/too-many', extra);
    assert.match(res.status, /^HTTP\/1\.1 431 /, `got ${res.status}`);
    assert.equal(
      upstream.seen.some((h) => h.startsWith('GET /too-many ')),
      false,
      'nothing reached the upstream',
    );
  });
});
