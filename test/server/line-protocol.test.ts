import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineError, parseLine, PRECISIONS } from '../../src/server/line-protocol.js';
import { LineSplitter, type SplitLine } from '../../src/server/line-split.js';

const NOW = 1_700_000_000_123_456_789n;
const ns = { unitNs: 1n, now: NOW };

function parse(text: string, options = ns) {
  return parseLine(text, 1, options);
}

function refused(text: string, pattern: RegExp, options = ns): void {
  assert.throws(() => parse(text, options), (error: unknown) => error instanceof LineError && pattern.test(error.message), text);
}

test('a line with every field type, tags and a timestamp', () => {
  const p = parse('cpu,host=a,region=eu f=1.5,i=-3i,u=7u,s="x y",b=t 1700000000000000001')!;
  assert.equal(p.measurement, 'cpu');
  assert.deepEqual(p.tags, [['host', 'a'], ['region', 'eu']]);
  assert.deepEqual(p.fields, [
    { name: 'f', type: 'float64', value: 1.5 }, { name: 'i', type: 'int64', value: -3n }, { name: 'u', type: 'uint64', value: 7n },
    { name: 's', type: 'utf8', value: 'x y' }, { name: 'b', type: 'bool', value: true },
  ]);
  assert.equal(p.time, 1700000000000000001n);
});

test('escapes: measurement, tag keys and values, field keys, string values', () => {
  const p = parse('my\\,meas\\ ure,ta\\=g\\ k=v\\,1\\ x\\=y fi\\,el\\=d\\ k="a\\"b\\\\c,d e=f" 1')!;
  assert.equal(p.measurement, 'my,meas ure');
  assert.deepEqual(p.tags, [['ta=g k', 'v,1 x=y']]);
  assert.deepEqual(p.fields, [{ name: 'fi,el=d k', type: 'utf8', value: 'a"b\\c,d e=f' }]);
  // \\ is one backslash everywhere; a backslash before anything else is kept as written.
  const q = parse('a\\\\b\\x,t\\\\=v\\q f="x\\ny\\\\" 1')!;
  assert.equal(q.measurement, 'a\\b\\x');
  assert.deepEqual(q.tags, [['t\\', 'v\\q']]);
  assert.deepEqual(q.fields, [{ name: 'f', type: 'utf8', value: 'x\\ny\\' }]);
  // "=" in a measurement is a plain character; a quote in a key is too.
  const r = parse('a=b,t"=v"x f"k=1i 1')!;
  assert.equal(r.measurement, 'a=b');
  assert.deepEqual(r.tags, [['t"', 'v"x']]);
  assert.deepEqual(r.fields, [{ name: 'f"k', type: 'int64', value: 1n }]);
});

test('booleans in every spelling, and nothing else', () => {
  for (const t of ['t', 'T', 'true', 'True', 'TRUE']) assert.equal(parse(`m b=${t} 1`)!.fields[0]!.value, true);
  for (const f of ['f', 'F', 'false', 'False', 'FALSE']) assert.equal(parse(`m b=${f} 1`)!.fields[0]!.value, false);
  refused('m b=tRUE 1', /invalid value "tRUE"/);
  refused('m b=yes 1', /invalid value/);
});

test('integers and unsigned integers at and beyond their ranges', () => {
  assert.equal(parse('m v=9223372036854775807i 1')!.fields[0]!.value, 9223372036854775807n);
  assert.equal(parse('m v=-9223372036854775808i 1')!.fields[0]!.value, -9223372036854775808n);
  refused('m v=9223372036854775808i 1', /out of the int64 range/);
  refused('m v=-9223372036854775809i 1', /out of the int64 range/);
  assert.equal(parse('m v=18446744073709551615u 1')!.fields[0]!.value, 18446744073709551615n);
  assert.equal(parse('m v=0u 1')!.fields[0]!.value, 0n);
  refused('m v=18446744073709551616u 1', /out of the uint64 range/);
  refused('m v=-1u 1', /is negative/);
  refused('m v=1.5i 1', /invalid value/);
});

test('floats parse to the nearest double: every double printed shortest comes back bit for bit', () => {
  const view = new DataView(new ArrayBuffer(8));
  let seed = 12345;
  for (let i = 0; i < 5000; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    view.setUint32(0, seed);
    seed = (seed * 1103515245 + 12345) >>> 0;
    view.setUint32(4, seed);
    const x = view.getFloat64(0);
    if (!Number.isFinite(x)) continue;
    const v = parse(`m v=${String(x).replace('+', '')} 1`)!.fields[0]!.value as number;
    assert.ok(Object.is(v, x), `${x} came back as ${v}`);
  }
  assert.ok(Object.is(parse('m v=-0 1')!.fields[0]!.value, -0));
  assert.equal(parse('m v=.5 1')!.fields[0]!.value, 0.5);
  assert.equal(parse('m v=1. 1')!.fields[0]!.value, 1);
  assert.equal(parse('m v=1E3 1')!.fields[0]!.value, 1000);
  assert.equal(parse('m v=5e-324 1')!.fields[0]!.value, 5e-324);
  refused('m v=1e400 1', /out of the float64 range/);
  refused('m v=NaN 1', /invalid value "NaN"/);
  refused('m v=Inf 1', /invalid value/);
  refused('m v=1.2.3 1', /invalid value/);
});

test('timestamps at every precision, exact at ns, int64 range checked', () => {
  assert.equal(parse('m v=1 1700000000123456789')!.time, 1700000000123456789n);
  assert.equal(parse('m v=1 -1')!.time, -1n);
  assert.equal(parse('m v=1 9223372036854775807')!.time, 9223372036854775807n);
  refused('m v=1 9223372036854775808', /out of range/);
  const v1 = PRECISIONS.v1;
  assert.equal(parse('m v=1 3', { unitNs: v1.h, now: NOW })!.time, 3n * 3_600_000_000_000n);
  assert.equal(parse('m v=1 3', { unitNs: v1.m, now: NOW })!.time, 180_000_000_000n);
  assert.equal(parse('m v=1 3', { unitNs: v1.s, now: NOW })!.time, 3_000_000_000n);
  assert.equal(parse('m v=1 3', { unitNs: v1.ms, now: NOW })!.time, 3_000_000n);
  assert.equal(parse('m v=1 3', { unitNs: v1.u, now: NOW })!.time, 3_000n);
  refused('m v=1 9223372037', /out of range/, { unitNs: v1.s, now: NOW });
  assert.equal(parse('m v=1 9223372036', { unitNs: v1.s, now: NOW })!.time, 9223372036_000_000_000n);
  // v3 auto: the unit from the magnitude.
  const auto = { unitNs: PRECISIONS.v3.auto, now: NOW };
  assert.equal(parse('m v=1 1700000000', auto)!.time, 1700000000_000_000_000n);
  assert.equal(parse('m v=1 1700000000123', auto)!.time, 1700000000123_000_000n);
  assert.equal(parse('m v=1 1700000000123456', auto)!.time, 1700000000123456_000n);
  assert.equal(parse('m v=1 1700000000123456789', auto)!.time, 1700000000123456789n);
  // Without a timestamp: the request's time.
  assert.equal(parse('m v=1')!.time, NOW);
  assert.equal(parse('m v=1   ')!.time, NOW);
  refused('m v=1 12.5', /invalid timestamp/);
  refused('m v=1 1 2', /unexpected text after the timestamp/);
});

test('malformed lines name what is wrong; blank and comment lines are skipped', () => {
  assert.equal(parse(''), null);
  assert.equal(parse('   '), null);
  assert.equal(parse('# a comment, with "quotes" and = signs'), null);
  refused('cpu', /missing fields/);
  refused('cpu ', /missing fields/);
  refused(',t=v f=1', /missing measurement/);
  refused('cpu,t= f=1', /tag "t" has an empty value/);
  refused('cpu,t f=1', /tag "t" has no "=value"/);
  refused('cpu,=v f=1', /missing tag key/);
  refused('cpu,t=a,t=b f=1', /tag "t" appears twice/);
  refused('cpu f=1,f=2', /field "f" appears twice/);
  refused('cpu f= 1', /field "f" has no value/);
  refused('cpu f 1', /field "f" has no "=value"/);
  refused('cpu f="abc 1', /no closing quote/);
  refused('cpu f="a"x 1', /unexpected "x" after field "f"/);
  refused('cpu f=1,', /missing field key/);
});

function splitAll(chunks: Buffer[], max = 1 << 20): SplitLine[] {
  const s = new LineSplitter(max);
  const out: SplitLine[] = [];
  for (const c of chunks) out.push(...s.push(c));
  out.push(...s.end());
  return out;
}

test('the splitter: line numbers, CRLF, newlines inside strings, any chunking', () => {
  const body = Buffer.from('a f=1 1\r\n\nb s="x\ny" 2\n# c "open\nc,t=\\ x f="q\\"\n" 3\nd f=1');
  const whole = splitAll([body]);
  assert.deepEqual(whole, [
    { line: 1, text: 'a f=1 1' }, { line: 2, text: '' }, { line: 3, text: 'b s="x\ny" 2' },
    { line: 5, text: '# c "open' }, { line: 6, text: 'c,t=\\ x f="q\\"\n" 3' }, { line: 8, text: 'd f=1' },
  ]);
  // Byte by byte (multi-byte characters split too) gives the same lines.
  const bytes = [...body].map((b) => Buffer.from([b]));
  assert.deepEqual(splitAll(bytes), whole);
  const utf = Buffer.from('m,t=é s="ü\n€" 1\n');
  assert.deepEqual(splitAll([...utf].map((b) => Buffer.from([b]))), [{ line: 1, text: 'm,t=é s="ü\n€" 1' }]);
});

test('the splitter: an unclosed string at the end, a too-long line, invalid UTF-8 are that line\'s error; the next lines still parse', () => {
  const out = splitAll([Buffer.from('a f=1 1\nb s="open 2\nc f=1 3\n')]);
  assert.deepEqual(out.map((l) => [l.line, 'error' in l ? l.error : l.text]), [[1, 'a f=1 1'], [2, 'string field value has no closing quote'], [3, 'c f=1 3']]);
  const long = splitAll([Buffer.from('a f=1 1\n'), Buffer.from(`b f="${'x'.repeat(100)}`), Buffer.from(`${'y'.repeat(100)}" 2\nc f=1 3\n`)], 64);
  assert.deepEqual(long.map((l) => [l.line, 'error' in l ? l.error : l.text]), [[1, 'a f=1 1'], [2, 'line longer than 64 bytes'], [3, 'c f=1 3']]);
  const bad = splitAll([Buffer.concat([Buffer.from('a f=1 1\nb s="'), Buffer.from([0xff, 0xfe]), Buffer.from('" 2\nc f=1 3')])]);
  assert.deepEqual(bad.map((l) => [l.line, 'error' in l ? l.error : l.text]), [[1, 'a f=1 1'], [2, 'invalid UTF-8'], [3, 'c f=1 3']]);
});
