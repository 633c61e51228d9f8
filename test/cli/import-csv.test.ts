// The import command's CSV options: --schema parsing, --invalid-utf8, --rejects checks, the
// summary's duplicate and replacement counts; prototype-like names in --schema, --where,
// --agg and as a command name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './in-process.js';
import { schemaOption } from '../../src/cli/commands/import.js';
import { UsageError } from '../../src/errors.js';

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-cli-csv-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

const at = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();

test('--schema: prototype-like names, a name with a colon, commas inside parentheses; a column named twice is a usage error', async () => {
  const parsed = schemaOption('__proto__:int64, constructor:float64,a:b:utf8,d:decimal(10,2)')!;
  assert.equal(Object.getPrototypeOf(parsed), null);
  assert.deepEqual(Object.entries(parsed), [['__proto__', 'int64'], ['constructor', 'float64'], ['a:b', 'utf8'], ['d', 'decimal(10,2)']]);
  assert.throws(() => schemaOption('a:int64,a:float64'), (e: unknown) => e instanceof UsageError && /names "a" twice/.test((e as Error).message));
  assert.throws(() => schemaOption('a'), UsageError);
  assert.throws(() => schemaOption(':int64'), UsageError);
  await withDir(async (dir) => {
    const store = join(dir, 'store');
    const csv = join(dir, 'p.csv');
    writeFileSync(csv, `time,constructor,__proto__,toString\n${at(0)},h1,1,2\n${at(1)},h2,3,4\n`);
    const imp = await runCli(store, 'import', csv, '--table', 't', '--schema', 'constructor:string,__proto__:float64,toString:int64', '--no-progress', '--json');
    assert.equal(imp.code, 0, imp.out);
    const out = join(dir, 'out.csv');
    const scan = await runCli(store, 'scan', 't', '--where', 'constructor=h2', '--format', 'csv', '--out', out);
    assert.equal(scan.code, 0, scan.out);
    assert.equal(readFileSync(out, 'utf8'), `time,constructor,__proto__,toString\n${at(1).replace('.000', '')},h2,3,4\n`);
    const query = await runCli(store, 'query', 't', '--agg', 'max:__proto__,sum:toString', '--format', 'csv', '--out', out);
    assert.equal(query.code, 0, query.out);
    assert.match(readFileSync(out, 'utf8'), /\n[^\n]*,3,6\n$/);
    const command = await runCli(store, 'constructor');
    assert.equal(command.code, 2);
    assert.match(command.out, /unknown command "constructor"/);
  });
});

test('--rejects into a folder that does not exist is a usage error before the import starts; --rejects needs --max-errors', async () => {
  await withDir(async (dir) => {
    const store = join(dir, 'store');
    const csv = join(dir, 'bad.csv');
    writeFileSync(csv, `time,v\n${at(0)},1\n${at(1)},x\n${at(2)},3\n`);
    const missing = join(dir, 'no', 'such', 'r.csv');
    const r = await runCli(store, 'import', csv, '--table', 't', '--schema', 'v:float64', '--max-errors', '1', '--rejects', missing, '--no-progress');
    assert.equal(r.code, 2, r.out);
    assert.equal(r.out.split('\n')[0], `quiver import: --rejects ${missing}: the folder ${join(dir, 'no', 'such')} does not exist (it is not created; make it first or name another file)`);
    assert.equal((await runCli(store, 'tables', '--json')).out.trim(), '[]');
    const folder = await runCli(store, 'import', csv, '--table', 't', '--schema', 'v:float64', '--max-errors', '1', '--rejects', dir, '--no-progress');
    assert.equal(folder.code, 2, folder.out);
    assert.match(folder.out, /is a folder; name a file/);
    const alone = await runCli(store, 'import', csv, '--table', 't', '--rejects', join(dir, 'r.csv'), '--no-progress');
    assert.equal(alone.code, 2, alone.out);
    assert.match(alone.out, /--rejects names the file where rows skipped by --max-errors go: give --max-errors N too/);
    // The rejects file keeps the row's bytes as they were (here not UTF-8).
    writeFileSync(csv, Buffer.concat([Buffer.from(`time,v\n${at(0)},1\n`), Buffer.from([0xff, 0x2c, 0x32, 0x0a]), Buffer.from(`${at(2)},"3"\n`)]));
    const ok = await runCli(store, 'import', csv, '--table', 't', '--max-errors', '1', '--rejects', join(dir, 'r.csv'), '--no-progress');
    assert.equal(ok.code, 0, ok.out);
    const rejects = readFileSync(join(dir, 'r.csv'));
    const row = Buffer.from([0x22, 0xff, 0x2c, 0x32, 0x22, 0x0a]);
    assert.ok(rejects.subarray(rejects.length - row.length).equals(row), `the raw row, quoted, ends the rejects file: ${rejects.toString('latin1')}`);
  });
});

test('--invalid-utf8 replace and long-layout duplicates are counted in the summary', async () => {
  await withDir(async (dir) => {
    const store = join(dir, 'store');
    const csv = join(dir, 'u.csv');
    writeFileSync(csv, Buffer.concat([Buffer.from(`time,host,v\n${at(0)},a`), Buffer.from([0xff]), Buffer.from(`,1\n${at(1)},b,2\n`)]));
    const refused = await runCli(store, 'import', csv, '--table', 't', '--no-progress');
    assert.equal(refused.code, 1);
    assert.match(refused.out, /u\.csv:2:2 \(column host\): expected UTF-8 text, got "a\uFFFD"; byte 2 of the cell \(0xff\) is not valid UTF-8/);
    assert.equal(existsSync(join(store, 't')), false);
    const bad = await runCli(store, 'import', csv, '--table', 't', '--invalid-utf8', 'drop', '--no-progress');
    assert.equal(bad.code, 2, bad.out);
    const replaced = await runCli(store, 'import', csv, '--table', 't', '--invalid-utf8', 'replace', '--no-progress');
    assert.equal(replaced.code, 0, replaced.out);
    assert.match(replaced.out, /\n {2}1 value\(s\) with invalid UTF-8 stored with U\+FFFD in its place \(--invalid-utf8 replace\)\n/);
    const json = await runCli(store, 'import', csv, '--table', 't2', '--invalid-utf8', 'replace', '--json', '--no-progress');
    assert.equal(JSON.parse(json.out).invalidUtf8Replaced, 1);
    const long = join(dir, 'l.csv');
    writeFileSync(long, `time,host,field,value\n${at(0)},a,cpu,1\n${at(0)},a,cpu,2\n${at(0)},a,mem,3\n`);
    const dup = await runCli(store, 'import', long, '--table', 'l', '--layout', 'long', '--field-column', 'field', '--value-column', 'value', '--no-progress');
    assert.equal(dup.code, 0, dup.out);
    assert.match(dup.out, /imported 2 rows/);
    assert.match(dup.out, /\n {2}1 row\(s\) of a \(series, time\) already written; 1 duplicate \(series, time, field\) value\(s\) replaced the earlier values \(policy last\)\n/);
    const kept = await runCli(store, 'import', long, '--table', 'k', '--duplicates', 'keep', '--layout', 'long', '--field-column', 'field', '--value-column', 'value', '--no-progress');
    assert.equal(kept.code, 0, kept.out);
    assert.match(kept.out, /\n {2}1 row\(s\) of a \(series, time\) already written; 1 duplicate \(series, time, field\) value\(s\) kept as rows of their own \(policy keep\)\n/);
  });
});
