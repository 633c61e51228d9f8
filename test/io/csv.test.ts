import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { compress as zstdCompress } from 'zstd-napi';
import { Type } from 'apache-arrow';
import { InputError, UsageError } from '../../src/errors.js';
import { csvBytes } from '../../src/io/import.js';
import { readCsv } from '../../src/io/csv/reader.js';
import { parseFloatBytes, parseIsoBytes } from '../../src/io/csv/values.js';
import { constant, isoNs, NS, pieces, randomSizes, readText, rejection, rng, rowsOf } from './helpers.js';

test('quoted fields: delimiters, embedded newlines, doubled quotes, CRLF, BOM', async () => {
  const text = '\ufefftime,host,note,v\r\n'
    + '2026-01-01T00:00:00Z,"a,1","line1\r\nline2",1.5\r\n'
    + '2026-01-01T00:00:01Z,b,"say ""hi""",2\r\n'
    + '2026-01-01T00:00:02Z,"",,\r\n';
  const { rows, schema } = await readText(text, { tags: ['host'] });
  assert.deepEqual(schema.tags, ['host']);
  assert.deepEqual(schema.fields.map((f) => [f.name, f.type]), [['note', 'utf8'], ['v', 'float64']]);
  assert.deepEqual(rows, [
    { time: isoNs('2026-01-01T00:00:00Z'), host: 'a,1', note: 'line1\r\nline2', v: 1.5 },
    { time: isoNs('2026-01-01T00:00:01Z'), host: 'b', note: 'say "hi"', v: 2 },
    { time: isoNs('2026-01-01T00:00:02Z'), host: '', note: null, v: null },
  ]);
});

test('each delimiter is detected from the header line, or given', async () => {
  for (const d of [',', ';', '\t', '|']) {
    const text = ['time', 'host', 'v'].join(d) + '\n' + ['1700000000', 'h,1', '2.5'].join(d) + '\n';
    const quoted = d === ',' ? text.replace('h,1', '"h,1"') : text;
    const { rows } = await readText(quoted);
    assert.deepEqual(rows, [{ time: 1_700_000_000n * NS, host: 'h,1', v: 2.5 }], `delimiter ${JSON.stringify(d)}`);
    const given = await readText(quoted, { delimiter: d === '\t' ? '\\t' : d });
    assert.deepEqual(given.rows, rows);
  }
  assert.ok((await rejection(readText('time,v\n1,2\n', { delimiter: '::' }))) instanceof UsageError);
  assert.ok((await rejection(readText('time,v\n1,2\n', { delimiter: '"' }))) instanceof UsageError);
});

test('header row vs the columns option', async () => {
  const body = '2026-01-01T00:00:00Z,a,1\n2026-01-01T00:00:10Z,b,2\n';
  const { rows, schema } = await readText(body, { columns: ['time', 'host', 'v'] });
  assert.equal(schema.time, 'time');
  assert.deepEqual(rows.map((r) => [r.host, r.v]), [['a', 1n], ['b', 2n]]);
  const withHeader = await readText(`ts,host,v\n${body}`);
  assert.equal(withHeader.schema.time, 'ts');
  assert.equal(withHeader.rows.length, 2);
});

test('timestamp formats: ISO with Z and offsets, space-separated with 9 fraction digits, dates, epoch units by magnitude', async () => {
  const iso = [
    ['2026-03-04T05:06:07Z', isoNs('2026-03-04T05:06:07Z')],
    ['2026-03-04T05:06:07.123+02:00', isoNs('2026-03-04T03:06:07.123Z')],
    ['2026-03-04T05:06:07-0530', isoNs('2026-03-04T10:36:07Z')],
    ['2026-03-04T05:06:07+05', isoNs('2026-03-04T00:06:07Z')],
    ['2026-03-04 05:06:07.123456789', isoNs('2026-03-04T05:06:07Z') + 123_456_789n],
    ['2026-03-04T05:06', isoNs('2026-03-04T05:06:00Z')],
    ['2026-03-04', isoNs('2026-03-04T00:00:00Z')],
    ['1960-01-01T00:00:00.5Z', isoNs('1960-01-01T00:00:00Z') + 500_000_000n],
  ] as const;
  const { rows } = await readText(`time,v\n${iso.map(([t], k) => `${t},${k}`).join('\n')}\n`);
  assert.deepEqual(rows.map((r) => r.time), iso.map(([, ns]) => ns));
  const epochs: [string, bigint][] = [
    ['1767225600', 1_767_225_600n * NS],
    ['1767225600123', 1_767_225_600_123n * 1_000_000n],
    ['1767225600123456', 1_767_225_600_123_456n * 1_000n],
    ['1767225600123456789', 1_767_225_600_123_456_789n],
  ];
  for (const [text, ns] of epochs) {
    const r = await readText(`ts,v\n${text},1\n`);
    assert.equal(r.rows[0]!.time ?? r.rows[0]!.ts, ns, text);
  }
  const given = await readText('ts,v\n5,1\n', { timeFormat: 'ms' });
  assert.equal(given.rows[0]!.ts, 5_000_000n);
  // A table in ms holds whole milliseconds (also before 1970); a finer instant is an error
  // naming the cell, never floored (issue 12; test/table/time-precision.test.ts).
  const ms = await readText('time,v\n1969-12-31T23:59:59.999Z,1\n2026-01-01T00:00:00.0010Z,2\n', { timeUnit: 'ms' });
  assert.deepEqual(ms.rows.map((r) => r.time), [-1n, 1_767_225_600_001n]);
  await assert.rejects(readText('time,v\n1969-12-31T23:59:59.9995Z,1\n', { timeUnit: 'ms' }),
    (e: unknown) => e instanceof InputError && /in\.csv:2:1 \(column time\): expected a time in whole ms .*got "1969-12-31T23:59:59\.9995Z"/.test((e as Error).message));
  assert.equal(ms.batches[0]!.schema.fields[0]!.type.toString(), 'Timestamp<MILLISECOND>');
  // A time column found by its values when no column has a time name.
  const byValue = await readText('when,v\n2026-01-01T00:00:00Z,1\n');
  assert.equal(byValue.schema.time, 'when');
});

test('type inference (int64 → float64 → bool → utf8 tag) and overrides', async () => {
  const text = 'time,i,f,b,s,e\n'
    + '1700000000,1,1.5,true,x,\n'
    + '1700000001,-2,2,FALSE,y,\n'
    + '1700000002,,1e3,,z,\n';
  const { rows, schema } = await readText(text);
  assert.deepEqual(schema.tags, ['s']);
  assert.deepEqual(schema.fields.map((f) => [f.name, f.type]), [['i', 'int64'], ['f', 'float64'], ['b', 'bool'], ['e', 'float64']]);
  assert.deepEqual(rows.map((r) => [r.i, r.f, r.b, r.s, r.e]), [[1n, 1.5, true, 'x', null], [-2n, 2, false, 'y', null], [null, 1000, null, 'z', null]]);
  const over = await readText(text, { schema: { i: 'float64', s: 'utf8', b: 'string' } });
  assert.deepEqual(over.schema.tags, ['b']);
  assert.deepEqual(over.schema.fields.map((f) => [f.name, f.type]), [['i', 'float64'], ['f', 'float64'], ['s', 'utf8'], ['e', 'float64']]);
  assert.equal(over.batches[0]!.getChild('i')!.type.typeId, Type.Float);
  // An unquoted empty cell of a tag is null (a quoted one, "", would be the empty string).
  assert.deepEqual(over.rows.map((r) => r.b), ['true', 'FALSE', null]);
  const tags = await readText(text, { tags: ['i'] });
  assert.deepEqual(tags.schema.tags, ['i']);
  assert.deepEqual(tags.schema.fields.map((f) => f.name), ['f', 'b', 's', 'e']);
  const uint = await readText('time,u\n1,18446744073709551615\n', { schema: { u: 'uint64' }, timeFormat: 's' });
  assert.equal(uint.rows[0]!.u, 18446744073709551615n);
  assert.ok((await rejection(readText(text, { schema: { nope: 'int64' } }))) instanceof UsageError);
  assert.ok((await rejection(readText(text, { schema: { i: 'decimal' } }))) instanceof UsageError);
});

test('float parsing from bytes is bit-identical to Number(text)', () => {
  const seed = 0x5eed01;
  console.log(`seed ${seed}`);
  const random = rng(seed);
  const cases = ['0', '-0', '0.1', '1.7976931348623157e308', '5e-324', '123456789012345678', '0.30000000000000004', '1.', '.5', '-.5', '+3.25',
    '9007199254740993', '1234567.8901234567', '0.000000000000000000001', '-Infinity', '1e5', '1E-7', '00012.50'];
  for (let k = 0; k < 20_000; k++) {
    const digits = 1 + Math.floor(random() * 19);
    let s = '';
    for (let d = 0; d < digits; d++) s += Math.floor(random() * 10);
    const dot = Math.floor(random() * (digits + 1));
    s = `${random() < 0.3 ? '-' : ''}${s.slice(0, dot)}.${s.slice(dot)}`;
    if (s.endsWith('.') && random() < 0.5) s = s.slice(0, -1);
    if (s === '.' || s === '-.') s = '0';
    cases.push(s);
  }
  for (const s of cases) {
    const b = Buffer.from(s);
    assert.ok(Object.is(parseFloatBytes(b, 0, b.length), Number(s)), s);
  }
  for (const bad of ['abc', '1.2.3', '1e', '--1', '0x10', '']) {
    const b = Buffer.from(bad);
    assert.ok(Number.isNaN(parseFloatBytes(b, 0, b.length)), bad);
  }
  // inf/nan spellings (as DuckDB and pandas write them) are values, not errors.
  for (const [text, value] of [['inf', Infinity], ['-inf', -Infinity], ['NaN', NaN]] as const) {
    const t = Buffer.from(text);
    assert.ok(Object.is(parseFloatBytes(t, 0, t.length), value), text);
  }
  const b = Buffer.from('2026-02-29T00:00:00Z');
  assert.equal(parseIsoBytes(b, 0, b.length), null);
});

test('long layout is pivoted to one row per series × time', async () => {
  const text = 'time,host,field,value\n'
    + '2026-01-01T00:00:00Z,a,cpu,1.5\n'
    + '2026-01-01T00:00:00Z,a,mem,10\n'
    + '2026-01-01T00:00:00Z,b,cpu,2.5\n'
    + '2026-01-01T00:00:10Z,a,mem,11\n'
    + '2026-01-01T00:00:10Z,a,cpu,3.5\n'
    + '2026-01-01T00:00:10Z,a,disk,7\n';
  const t0 = isoNs('2026-01-01T00:00:00Z');
  const expected = [
    { time: t0, host: 'a', cpu: 1.5, mem: 10, disk: null },
    { time: t0, host: 'b', cpu: 2.5, mem: null, disk: null },
    { time: t0 + 10n * NS, host: 'a', cpu: 3.5, mem: 11, disk: 7 },
  ];
  const opts = { layout: 'long' as const, fieldColumn: 'field', valueColumn: 'value', schema: { cpu: 'float64', mem: 'float64', disk: 'float64' } };
  const { rows, schema } = await readText(text, opts);
  assert.deepEqual(schema.tags, ['host']);
  assert.deepEqual(schema.fields.map((f) => [f.name, f.type]), [['cpu', 'float64'], ['mem', 'float64'], ['disk', 'float64']]);
  assert.deepEqual(rows.map((r) => ({ time: r.time, host: r.host, cpu: r.cpu, mem: r.mem, disk: r.disk ?? null })), expected);
  // Batches of 1 series × time: the cut happens only before a new key, so none is split.
  const small = await readText(text, { ...opts, batchRows: 1 });
  assert.equal(small.batches.length, 3);
  assert.deepEqual(small.rows.map((r) => ({ time: r.time, host: r.host, cpu: r.cpu ?? null, mem: r.mem ?? null, disk: r.disk ?? null })), expected);
  assert.deepEqual(small.rowStarts, [0, 2, 3]);
  const missing = await rejection(readText(text, { layout: 'long', fieldColumn: 'field' }));
  assert.ok(missing instanceof UsageError);
  const bad = await rejection(readText(`${text}2026-01-01T00:00:20Z,a,cpu,x\n`, opts));
  assert.equal(bad.message, 'in.csv:8:4 (column value): expected float64, got "x"');
});

test('gzip and zstd inputs, by extension and by magic (stdin)', async () => {
  const text = 'time,host,v\n2026-01-01T00:00:00Z,a,1.25\n2026-01-01T00:00:10Z,b,2.5\n';
  const expected = (await readText(text)).rows;
  const read = async (name: string, bytes: Buffer) => {
    const counter = { bytes: 0 };
    const out: unknown[] = [];
    const raw = Readable.from(pieces(bytes, constant(7)));
    for await (const b of readCsv(csvBytes(name, counter, raw), name)) out.push(...rowsOf([b.batch]));
    assert.equal(counter.bytes, bytes.length);
    return out;
  };
  assert.deepEqual(await read('x.csv.gz', gzipSync(text)), expected);
  assert.deepEqual(await read('-', gzipSync(text)), expected);
  assert.deepEqual(await read('x.csv.zst', zstdCompress(Buffer.from(text))), expected);
  assert.deepEqual(await read('-', zstdCompress(Buffer.from(text))), expected);
  assert.deepEqual(await read('-', Buffer.from(text)), expected);
  const corrupt = await rejection(read('x.csv.gz', Buffer.concat([gzipSync(text).subarray(0, 20), Buffer.alloc(20, 7)])));
  assert.ok(corrupt instanceof InputError);
  assert.match(corrupt.message, /^x\.csv\.gz: corrupt gzip data/);
});

/** A small file with every tokenizer state near every byte position. */
const TRICKY = '\ufefftime;host;note;v\r\n'
  + '2026-01-01T00:00:00Z;"a;b";"x\r\ny";1.5\r\n'
  + '2026-01-01T00:00:00Z;"";"""";\r\n'
  + '\r\n'
  + '2026-01-01T00:00:01.5Z;c;"";-2e-3\n'
  + '2026-01-01T00:00:02Z;"d""e";plain;+7\r'
  + '2026-01-01T00:00:03Z;f;"ends with quote""";8';

test('chunk boundaries at every byte position, 1-byte and random pieces give identical results', async () => {
  const bytes = Buffer.from(TRICKY);
  // Types fixed, so a plan from a head cut anywhere sees the same schema.
  const fixed = { tags: ['host'], schema: { note: 'utf8', v: 'float64' } };
  const reference = await readText(bytes, { ...fixed });
  assert.equal(reference.rows.length, 5);
  assert.deepEqual(reference.rows.map((r) => r.note), ['x\r\ny', '"', '', 'plain', 'ends with quote"']);
  assert.deepEqual(reference.rows.map((r) => r.host), ['a;b', '', 'c', 'd"e', 'f']);
  assert.deepEqual(reference.rows.map((r) => r.v), [1.5, null, -0.002, 7, 8]);
  for (let cut = 1; cut < bytes.length; cut++) {
    assert.deepEqual((await readText(bytes, { ...fixed, planBytes: 1 }, [cut])).rows, reference.rows, `cut at ${cut}`);
  }
  assert.deepEqual((await readText(bytes, { ...fixed, planBytes: 1 }, constant(1))).rows, reference.rows, '1-byte pieces');
  const seed = Number(process.env.QUIVER_SEED ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`seed ${seed} (rerun with QUIVER_SEED=${seed})`);
  const random = rng(seed);
  for (let k = 0; k < 200; k++) {
    const planBytes = 1 + Math.floor(random() * bytes.length);
    const batchRows = 1 + Math.floor(random() * 4);
    const out = await readText(bytes, { ...fixed, planBytes, batchRows }, randomSizes(random, 12));
    assert.deepEqual(out.rows, reference.rows, `seed ${seed} round ${k}`);
  }
});

test('adjacent tag columns are interned per series span, quoted or not, across batches', async () => {
  const text = 'time,h,r,v\n'
    + '2026-01-01T00:00:00Z,"a",b,1\n'
    + '2026-01-01T00:00:00Z,a",b,2\n'
    + '2026-01-01T00:00:00Z,"a"",b",c,3\n'
    + '2026-01-01T00:00:10Z,"a",b,4\n'
    + '2026-01-01T00:00:10Z,a",b,5\n'
    + '2026-01-01T00:00:10Z,"a"",b",c,6\n'
    + '2026-01-01T00:00:10Z,a,"b",7\n';
  const expected = [['a', 'b'], ['a"', 'b'], ['a",b', 'c'], ['a', 'b'], ['a"', 'b'], ['a",b', 'c'], ['a', 'b']];
  for (const batchRows of [1, 2, 3, 100]) {
    const { rows } = await readText(text, { tags: ['h', 'r'], schema: { v: 'int64' }, batchRows });
    assert.deepEqual(rows.map((r) => [r.h, r.r]), expected, `batchRows ${batchRows}`);
    assert.deepEqual(rows.map((r) => r.v), [1n, 2n, 3n, 4n, 5n, 6n, 7n]);
  }
});

test('bad input: exact file:line:column (column name) errors', async () => {
  const head = 'time,host,usage_user,n\n2026-01-01T00:00:00Z,a,1,1\n';
  const cases: [string, string][] = [
    [`${head}2026-01-01T00:00:10Z,a,abc,2\n`, 'cpu.csv:3:3 (column usage_user): expected float64, got "abc"'],
    [`${head}2026-01-01T00:00:10Z,a,1,2.5\n`, 'cpu.csv:3:4 (column n): expected int64, got "2.5"'],
    [`${head}2026-01-01T00:00:10Z,a,1\n`, 'cpu.csv:3:4 (column n): expected 4 fields, got 3'],
    [`${head}2026-01-01T00:00:10Z,a,1,2,9\n`, 'cpu.csv:3:5: expected 4 fields, got 5'],
    [`${head}2026-13-01T00:00:10Z,a,1,2\n`, 'cpu.csv:3:1 (column time): expected an ISO-8601 timestamp, got "2026-13-01T00:00:10Z"'],
    [`${head}"2026-01-01T00:00:10Z",a,"x\ny",2\n2026-01-01T00:00:20Z,a,zz,2\n`, 'cpu.csv:3:3 (column usage_user): expected float64, got "x\\ny"'],
    [`${head}2026-01-01T00:00:10Z,a,"1,2\n2026-01-01T00:00:20Z,a,1,2\n`, 'cpu.csv:3:3 (column usage_user): unterminated quoted field (no closing quote before the end of the input)'],
    [`${head}2026-01-01T00:00:10Z,"a"x,1,2\n`, 'cpu.csv:3:2 (column host): expected a delimiter or a line end after the closing quote, got "x"'],
  ];
  for (const [text, message] of cases) {
    for (const sizes of [[], constant(5)]) {
      const error = await rejection(readText(text, { tags: ['host'], schema: { usage_user: 'float64', n: 'int64' } }, sizes, undefined, 'cpu.csv'));
      assert.ok(error instanceof InputError, message);
      assert.equal(error.message, message);
    }
  }
  const epoch = await rejection(readText('ts,v\n1700000000,1\n17000x0000,2\n', { timeFormat: 's' }, [], undefined, 'e.csv'));
  assert.equal(epoch.message, 'e.csv:3:1 (column ts): expected epoch seconds, got "17000x0000"');
  const empty = await rejection(readText('', {}, [], undefined, 'e.csv'));
  assert.equal(empty.message, 'e.csv: empty file (expected a header row)');
  const noTime = await rejection(readText('a,b\nx,1\n', {}, [], undefined, 'n.csv'));
  assert.equal(noTime.message, 'n.csv: no time column (columns: a, b; name one with --time)');
});

test('maxErrors skips bad rows and reports each with its line', async () => {
  const text = 'time,v\n2026-01-01T00:00:00Z,1\nbad,2\n2026-01-01T00:00:10Z,x\n2026-01-01T00:00:20Z,3\n';
  const rejects: { line: number; reason: string; text: string; bytes: Uint8Array }[] = [];
  const { rows, rowStarts } = await readText(text, { maxErrors: 2, onReject: (r) => rejects.push(r), batchRows: 1, schema: { v: 'int64' } });
  assert.deepEqual(rows.map((r) => r.v), [1n, 3n]);
  assert.deepEqual(rowStarts, [0, 3]);
  assert.deepEqual(rejects, [
    { line: 3, reason: 'in.csv:3:1 (column time): expected an ISO-8601 timestamp, got "bad"', text: 'bad,2', bytes: new Uint8Array(Buffer.from('bad,2')) },
    { line: 4, reason: 'in.csv:4:2 (column v): expected int64, got "x"', text: '2026-01-01T00:00:10Z,x', bytes: new Uint8Array(Buffer.from('2026-01-01T00:00:10Z,x')) },
  ]);
  const over = await rejection(readText(text, { maxErrors: 1, schema: { v: 'int64' } }));
  assert.equal(over.message, 'in.csv:4:2 (column v): expected int64, got "x"');
});
