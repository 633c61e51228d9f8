import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineError, parseLineInto, PRECISIONS, SeriesCache, type LineOptions, type LineSink } from '../../src/server/line-protocol.js';
import { LineBytesParser } from '../../src/server/line-bytes.js';
import type { PointFieldType } from '../../src/server/points.js';
import { rng as random } from '../../bench/rng.js';

// The byte parser (the server's path) against the string parser (the reference): on random
// valid and invalid lines, the same rows (series, fields with their types and exact values,
// time) and the same errors (message and column), line by line.

const NOW = 1_700_000_000_123_456_789n;

type Outcome = { skipped: true } | { error: string; column: number } | { measurement: string; tags: string; fields: [string, PointFieldType, unknown][]; time: bigint; line: number };

/** Records what a parser hands its sink for one line (a refused line keeps nothing, as LineColumns). */
class Recorder implements LineSink {
  private measurement = '';
  private tags = '';
  private fields: [string, PointFieldType, unknown][] = [];
  outcome?: Outcome;
  series(s: { measurement: string; tags: readonly (readonly [string, string])[] }): void {
    this.measurement = s.measurement;
    this.tags = JSON.stringify(s.tags);
    this.fields = [];
  }
  field(name: string, type: PointFieldType, value: number | bigint | string | boolean): void { this.fields.push([name, type, value]); }
  end(time: bigint, line: number): void { this.outcome = { measurement: this.measurement, tags: this.tags, fields: this.fields, time, line }; }
}

function run(parse: (sink: LineSink) => boolean): Outcome {
  const sink = new Recorder();
  try {
    if (!parse(sink)) return { skipped: true };
  } catch (error) {
    if (!(error instanceof LineError)) throw error;
    return { error: error.message, column: error.column };
  }
  return sink.outcome!;
}

/** Both parsers on each line (one body buffer, lines at offsets as the splitter hands them): identical outcomes. */
function compare(lines: string[], options: LineOptions): LineBytesParser {
  const bytes = new LineBytesParser(options);
  const cache = new SeriesCache();
  // Lines placed in one buffer, as the splitter hands them (offsets into a larger body).
  const body = Buffer.from(lines.join('\n'));
  let at = 0;
  lines.forEach((text, k) => {
    const length = Buffer.byteLength(text);
    const expected = run((sink) => parseLineInto(text, k + 1, options, sink, cache));
    const got = run((sink) => bytes.parse(body, at, at + length, k + 1, sink));
    assert.deepStrictEqual(got, expected, `line ${k + 1}: ${JSON.stringify(text)}`);
    at += length + 1;
  });
  return bytes;
}

/** Float texts: shortest, 17 digits, exponent forms, subnormals, extremes, signed zeros, long digit strings. */
function floatText(r: () => number): string {
  const view = new DataView(new ArrayBuffer(8));
  const pick = Math.floor(r() * 12);
  view.setUint32(0, Math.floor(r() * 2 ** 32));
  view.setUint32(4, Math.floor(r() * 2 ** 32));
  let x = view.getFloat64(0);
  if (!Number.isFinite(x)) x = 1.5;
  const small = (r() - 0.5) * 10 ** Math.floor(r() * 12 - 4);
  switch (pick) {
    case 0: return String(x).replace('+', '');
    case 1: return x.toPrecision(17).replace('+', '');
    case 2: return x.toExponential(Math.floor(r() * 20)).replace('+', r() < 0.5 ? '+' : '');
    case 3: return String(small);
    case 4: return small.toFixed(Math.floor(r() * 18));
    case 5: return ['5e-324', '4.9406564584124654e-324', '2.2250738585072014e-308', '2.225073858507201e-308', '1e308', '1.7976931348623157e308', '1.7976931348623159e308', '1e309', '-1e308'][Math.floor(r() * 9)]!;
    case 6: return ['-0', '0', '-0.0', '0e999', '-0e-5', '.5', '1.', '-.5', '1.e5', '.e5', '1e', '1e+', '00012.500', '9007199254740993', '123456789012345678901234567890', '0.1e-400'][Math.floor(r() * 16)]!;
    case 7: return `${Math.floor(r() * 1e6)}e${Math.floor(r() * 60 - 30)}`;
    case 8: return `${'9'.repeat(1 + Math.floor(r() * 20))}.${'9'.repeat(Math.floor(r() * 20))}`;
    case 9: return `0.${'0'.repeat(Math.floor(r() * 30))}${Math.floor(r() * 1e9)}`;
    case 10: return (Math.round(r() * 10000) / 100).toString();
    default: return String(Math.floor((r() - 0.5) * 2 ** 53));
  }
}

function intText(r: () => number): string {
  const pick = Math.floor(r() * 6);
  if (pick === 0) return ['9223372036854775807', '-9223372036854775808', '9223372036854775808', '-9223372036854775809', '0', '-0', '007'][Math.floor(r() * 7)]!;
  if (pick === 1) return String(BigInt.asIntN(64, BigInt(Math.floor(r() * 2 ** 32)) << BigInt(Math.floor(r() * 40))));
  if (pick === 2) return '1'.repeat(1 + Math.floor(r() * 30));
  return String(Math.floor((r() - 0.5) * 10 ** Math.floor(r() * 16)));
}

function uintText(r: () => number): string {
  const pick = Math.floor(r() * 4);
  if (pick === 0) return ['18446744073709551615', '18446744073709551616', '0', '-1', '99999999999999999999'][Math.floor(r() * 5)]!;
  return String(Math.floor(r() * 10 ** Math.floor(r() * 20)));
}

const PLAIN_PARTS = ['cpu', 'host', 'a', 'é', 'usage', 'f', 'mem', '€', 'g', 'b'];
const NAME_PARTS = [...PLAIN_PARTS, 'x y', 'r,s', 'k=v', '\\', 't\tab', '"q"'];

/** A name with the escapes a writer adds (`escapes`: the characters escaped where it appears). */
function name(r: () => number, escapes: string): string {
  let s = '';
  const parts = 1 + Math.floor(r() * 2);
  const from = r() < 0.92 ? PLAIN_PARTS : NAME_PARTS;
  for (let k = 0; k < parts; k++) s += from[Math.floor(r() * from.length)];
  let out = '';
  for (const c of s) out += escapes.includes(c) ? `\\${c}` : c;
  return out;
}

function fieldValue(r: () => number): string {
  const pick = Math.floor(r() * 9);
  if (pick <= 2) return floatText(r);
  if (pick === 3) return `${intText(r)}i`;
  if (pick === 4) return `${uintText(r)}u`;
  if (pick === 5) return ['t', 'T', 'true', 'True', 'TRUE', 'f', 'F', 'false', 'False', 'FALSE', 'tRUE', 'yes'][Math.floor(r() * 12)]!;
  if (pick === 6) return `"${['', 'plain', 'a,b=c d', 'ü\n€', 'q\\"x', 'back\\\\slash', 'kept \\n'][Math.floor(r() * 7)]}"`;
  if (pick === 7) return floatText(r);
  return String(Math.floor(r() * 100));
}

function stamp(r: () => number): string {
  const pick = Math.floor(r() * 6);
  if (pick === 0) return '';
  if (pick === 1) return ` ${['9223372036854775807', '-9223372036854775808', '9223372036854775808', '1700000000', '1700000000000', '-0', '00017', '99999999999999999999999999'][Math.floor(r() * 8)]}`;
  return ` ${1_700_000_000_000_000_000n + BigInt(Math.floor(r() * 1e12))}`;
}

/** A line: mostly valid, sometimes mutated (characters inserted, deleted, swapped for protocol characters). */
function line(r: () => number): string {
  let s = name(r, ', \\');
  const tags = Math.floor(r() * 4);
  for (let k = 0; k < tags; k++) s += `,${name(r, ',= \\')}=${name(r, ',= \\')}`;
  s += r() < 0.05 ? '\t' : ' ';
  const fields = 1 + Math.floor(r() * 4);
  for (let k = 0; k < fields; k++) s += `${k ? ',' : ''}${name(r, ',= \\')}=${fieldValue(r)}`;
  s += stamp(r);
  if (r() < 0.05) s = `  ${s}  `;
  if (r() < 0.03) s = `# ${s}`;
  if (r() < 0.25) {
    const chars = [...s];
    const edits = 1 + Math.floor(r() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(r() * (chars.length + 1));
      const op = Math.floor(r() * 3);
      const c = [',', ' ', '=', '\\', '"', '\t', 'i', 'u', '-', '.', 'e', '0', 'x'][Math.floor(r() * 13)]!;
      if (op === 0) chars.splice(at, 0, c);
      else if (op === 1) chars.splice(at, 1);
      else chars[at] = c;
    }
    s = chars.join('');
  }
  return s.replaceAll('\n', r() < 0.5 ? '\n' : ' ');
}

test('the byte parser gives the string parser\'s rows and errors on random valid and invalid lines, at every precision', () => {
  const r = random(20261204);
  const options: LineOptions[] = [
    { unitNs: 1n, now: NOW }, { unitNs: 0n, now: NOW }, { unitNs: PRECISIONS.v1.s, now: NOW - (NOW % PRECISIONS.v1.s) },
    { unitNs: PRECISIONS.v1.h, now: NOW }, { unitNs: PRECISIONS.v1.u, now: NOW },
  ];
  let deferred = 0;
  let lines = 0;
  for (const o of options) {
    // Lines of one body repeat their series and timestamps (the byte parser's caches).
    const body = Array.from({ length: 4000 }, () => line(r));
    for (let k = 0; k < body.length; k += 7) body[k] = body[Math.floor(r() * body.length)]!;
    deferred += compare(body, o).deferred;
    lines += body.length;
  }
  // Both paths were exercised: many lines taken from bytes, many left to the string parser.
  assert.ok(deferred > lines / 10 && deferred < lines * 0.9, `${deferred} of ${lines} lines deferred`);
});

test('the byte parser reads every float text as Number(text) does, bit for bit (random and edge values)', () => {
  const r = random(7);
  const texts = Array.from({ length: 20000 }, () => floatText(r));
  texts.push('0.1', '0.3', '123456789012345', '1234567890123456', '12345678901234567', '1e22', '1e23', '1e-22', '1e-23', '9007199254740992', '9007199254740993',
    '2.2250738585072011e-308', '1.7976931348623157e+308', '4.9e-324', '2.4703282292062328e-324', '2.4703282292062327e-324');
  const lines = texts.map((t) => `m v=${t} 1`);
  const parser = compare(lines, { unitNs: 1n, now: NOW });
  for (const t of texts) {
    if (!/^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(t) || !Number.isFinite(Number(t))) continue;
    const sink = new Recorder();
    new LineBytesParser({ unitNs: 1n, now: NOW }).parse(Buffer.from(`m v=${t} 1`), 0, Buffer.byteLength(`m v=${t} 1`), 1, sink);
    const value = (sink.outcome as { fields: [string, string, number][] }).fields[0]![2];
    assert.ok(Object.is(value, Number(t)), `${t}: ${value} is not ${Number(t)}`);
  }
  assert.ok(parser.deferred < texts.length, 'some floats are read from their bytes');
});

test('the common line shapes are read from bytes (the string parser is not asked)', () => {
  const lines = [
    'cpu,host=a,region=eu usage=12.5,idle=87.25,procs=301i,free=18446744073709551615u,up=true,note="ok, fine" 1767225600000000000',
    'cpu,host=b,region=eu usage=-0,idle=1e-5,procs=-9223372036854775808i,free=0u,up=F,note="" 1767225600000000000',
    'cpu,host=é,region=€ usage=99.99,idle=.5 1767225610000000000',
    'mem free=1i',
    '# a comment',
    '',
  ];
  const parser = compare(lines, { unitNs: 1n, now: NOW });
  assert.equal(parser.deferred, 0);
});
