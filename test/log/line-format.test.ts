import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteLines } from '../../src/log/byte-lines.ts';
import { type Line, textLine, writeTextLine } from '../../src/log/line-format.ts';

/** The text format as it was written before lines were rendered as bytes. */
function reference(o: Line, journald: boolean): string {
  const level = { debug: 'DEBUG', info: 'INFO ', warn: 'WARN ', error: 'ERROR' }[o.type];
  const syslog = { debug: 7, info: 6, warn: 4, error: 3 }[o.type];
  let line = journald ? `<${syslog}>` : `${new Date(o.time).toISOString()} ${level} `;
  if (o.tag) line += `[${o.tag}] `;
  line += o.message;
  for (const k in o.fields ?? {}) {
    const v = o.fields![k];
    if (v === undefined) continue;
    const s = typeof v === 'string' ? v : v instanceof Error ? v.message : JSON.stringify(v);
    line += ` ${k}=${/[\s"=]/.test(s) ? JSON.stringify(s) : s}`;
  }
  return line;
}

function rendered(lines: [Line, boolean][]): string {
  const out = new ByteLines();
  for (const [o, journald] of lines) {
    writeTextLine(out, o, journald);
    out.endLine();
  }
  return new TextDecoder().decode(out.take());
}

// Characters where quoting, escaping or UTF-8 change: controls, space, quote, '=', DEL,
// U+0085 and U+00A0 (whitespace to `\s` or not), latin1, U+1680 and U+2028 (whitespace),
// U+FEFF, CJK, an astral pair and lone surrogates.
const alphabet = [
  'a',
  'Z',
  '/',
  ':',
  '\t',
  '\n',
  '\x00',
  '\x1f',
  ' ',
  '"',
  '=',
  '\\',
  '\x7f',
  '\x85',
  '\xa0',
  'é',
  '\u1680',
  '\u2028',
  '\ufeff',
  '漢',
  '😀',
  '\ud800',
  '\udfff',
];

/** A deterministic pseudo-random generator (mulberry32): the same strings on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('writeTextLine - bytes equal the UTF-8 of the string format for every kind of value', () => {
  const next = random(6);
  const pick = () => alphabet[Math.floor(next() * alphabet.length)]!;
  const word = () => Array.from({ length: Math.floor(next() * 6) }, pick).join('');
  const values = [
    0,
    -0,
    42,
    -1.5,
    1e21,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    true,
    null,
    [1, 'a b'],
    { k: 'v' },
    new Error('upstream "closed"'),
  ];
  const lines: [Line, boolean][] = [];
  for (let i = 0; i < 2000; i++) {
    const fields: Record<string, unknown> = { path: word(), n: values[i % values.length] };
    if (i % 3 === 0) fields.skipped = undefined;
    lines.push([
      {
        type: (['debug', 'info', 'warn', 'error'] as const)[i % 4]!,
        tag: i % 5 === 0 ? '' : 'proxy',
        message: word() || 'request',
        fields: i % 7 === 0 ? undefined : fields,
        time: 1_700_000_000_000 + i,
      },
      i % 11 === 0,
    ]);
  }
  const expected = lines.map(([o, j]) => `${reference(o, j)}\n`).join('');
  assert.equal(rendered(lines), new TextDecoder().decode(new TextEncoder().encode(expected)));
  for (const [o, j] of lines) assert.equal(textLine(o, j), reference(o, j));
});

test('ByteLines - a dropped line leaves the ended ones; take() starts over; a huge line fits', () => {
  const out = new ByteLines();
  out.text('first');
  out.endLine();
  out.text('half of a line that failed');
  out.dropLine();
  out.text('instead');
  out.endLine();
  assert.equal(out.lines, 2);
  assert.equal(new TextDecoder().decode(out.take()), 'first\ninstead\n');
  assert.equal(out.lines, 0);
  const huge = `${'x'.repeat(3 * 1024 * 1024)}é`;
  out.text(huge);
  out.endLine();
  const bytes = out.take();
  assert.equal(bytes.length, huge.length + 2);
  assert.equal(new TextDecoder().decode(bytes), `${huge}\n`);
  out.text('after');
  out.endLine();
  assert.equal(new TextDecoder().decode(out.take()), 'after\n');
});
