// Random and adversarial inputs: mutations of valid messages must either parse or fail
// with HttpError — never another exception, never a hang — within bounded time.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ByteReader, HttpError, requestFraming, responseFraming } from '../../src/http1/index.ts';
import { bytes, readAll, streamOf } from './helpers.ts';

/** mulberry32: a small seeded PRNG so that a failure can be replayed. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const interesting = bytes('\r\n:; \t\x000-9afAFxX,"=\x7f\x80\xff');

const requests = [
  'POST /a?b=c HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n' +
    '4;e=1\r\nabcd\r\n0\r\nT: v\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n',
  'PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello' +
    'GET /y HTTP/1.0\r\n\r\n',
];
const responses = [
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnop',
];

function mutate(input: Uint8Array, rnd: () => number): Uint8Array {
  const out = Array.from(input);
  const edits = 1 + Math.floor(rnd() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rnd() * (out.length + 1));
    const pick = () => interesting[Math.floor(rnd() * interesting.length)]!;
    switch (Math.floor(rnd() * 5)) {
      case 0:
        out[at] = pick();
        break;
      case 1:
        out.splice(at, 0, pick());
        break;
      case 2:
        out.splice(at, 1 + Math.floor(rnd() * 3));
        break;
      case 3:
        out[at] = Math.floor(rnd() * 256);
        break;
      default: {
        const from = Math.floor(rnd() * out.length);
        out.splice(at, 0, ...out.slice(from, from + Math.floor(rnd() * 20)));
      }
    }
  }
  return Uint8Array.from(out);
}

/** Random chunking of the input. */
function chunks(input: Uint8Array, rnd: () => number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < input.length; ) {
    const n = 1 + Math.floor(rnd() * 40);
    out.push(input.subarray(i, i + n));
    i += n;
  }
  return out;
}

async function parseRequests(parts: Uint8Array[]) {
  const reader = new ByteReader(streamOf(...parts));
  for (let i = 0; i < 10; i++) {
    const head = await reader.readRequestHead();
    if (head === null) return;
    await readAll(reader.body(requestFraming(head)));
  }
}

async function parseResponses(parts: Uint8Array[]) {
  const reader = new ByteReader(streamOf(...parts));
  for (let i = 0; i < 10; i++) {
    if (reader.bufferedBytes === 0 && (await reader.waitReadable()) === 'eof') return;
    const head = await reader.readResponseHead();
    await readAll(reader.body(responseFraming(head, 'GET')));
  }
}

async function run(label: string, inputs: string[], parse: (p: Uint8Array[]) => Promise<void>) {
  const rnd = prng(0x7e7 + label.length);
  const started = Date.now();
  let rejected = 0;
  const runs = 2500;
  for (let i = 0; i < runs; i++) {
    const input = mutate(bytes(inputs[i % inputs.length]!), rnd);
    try {
      await parse(chunks(input, rnd));
    } catch (err) {
      if (!(err instanceof HttpError)) {
        assert.fail(
          `run ${i}: ${String(err)} for input ${JSON.stringify(String.fromCharCode(...input))}`,
        );
      }
      rejected++;
    }
  }
  // Sanity: mutations do hit the error paths, and the whole run stays fast.
  assert.ok(rejected > runs / 10, `only ${rejected} of ${runs} mutations rejected`);
  assert.ok(Date.now() - started < 20_000, 'fuzz run took too long');
}

describe('http1 fuzz', () => {
  test('2500 mutated request streams: parse or HttpError, nothing else', { timeout: 30_000 }, () =>
    run('requests', requests, parseRequests),
  );
  test('2500 mutated response streams: parse or HttpError, nothing else', { timeout: 30_000 }, () =>
    run('responses', responses, parseResponses),
  );

  test('adversarial 1-byte chunks of a maximal head stay linear', { timeout: 30_000 }, async () => {
    const head = `GET / HTTP/1.1\r\nHost: h\r\n${'X: 1234567890\r\n'.repeat(98)}\r\n`;
    const started = Date.now();
    const parts = Array.from(bytes(head), (b) => Uint8Array.of(b));
    const parsed = await new ByteReader(streamOf(...parts)).readRequestHead();
    assert.equal(parsed?.headers.length, 99);
    assert.ok(Date.now() - started < 5_000);
  });
});
