import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineError, parseLineInto, PRECISIONS, SeriesCache, type LineOptions, type LineSink } from '../../src/server/line-protocol.js';
import { LineBytesParser } from '../../src/server/line-bytes.js';
import type { PointFieldType } from '../../src/server/points.js';
import { rng as random } from '../../bench/rng.js';
import { floatText, line } from './line-corpus.js';

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

test('integers of 1 to 30 digits (leading zeros, signs, a stray byte) as int, uint and timestamp: the string parser\'s values and errors', () => {
  const r = random(19);
  const lines: string[] = [];
  for (let n = 1; n <= 30; n++) {
    for (let k = 0; k < 6; k++) {
      let digits = '';
      for (let d = 0; d < n; d++) digits += String(Math.floor(r() * 10));
      if (k === 1) digits = `0${digits.slice(1)}`;
      if (k === 2) digits = '9'.repeat(n);
      const bad = k === 3 ? `${digits.slice(0, n >> 1)}x${digits.slice(n >> 1)}` : digits;
      lines.push(`m a=${bad}i 1`, `m a=-${bad}i 1`, `m a=${bad}u 1`, `m a=1i ${bad}`, `m a=1i -${bad}`);
    }
  }
  lines.push('m a=1i 9223372036854775807', 'm a=1i -9223372036854775808', 'm a=1i 9223372036854775808', 'm a=18446744073709551616u 1');
  const parser = compare(lines, { unitNs: 1n, now: NOW });
  compare(lines, { unitNs: 0n, now: NOW });
  assert.ok(parser.deferred < lines.length / 2, `${parser.deferred} of ${lines.length} lines deferred`);
});
