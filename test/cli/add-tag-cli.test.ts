import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { runCli } from './in-process.js';

const T0 = Date.UTC(2026, 0, 1);
const lines = (text: string) => text.trim().split('\n');

test('quiver alter --add-tag: scan, query --by, export CSV, inspect --versions and verify see old rows with the null tag', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-addtag-cli-'));
  try {
    let db = await Quiver.open(dir);
    let cpu = await db.createTable('cpu', { timeUnit: 'ms', tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
    await cpu.append([{ time: T0, host: 'a', v: 1 }, { time: T0 + 1000, host: 'b', v: 2 }]);
    await cpu.flush();
    await db.close();
    const altered = await runCli(dir, 'alter', 'cpu', '--add-tag', 'region');
    assert.equal(altered.code, 0, altered.out);
    assert.match(altered.out, /altered cpu \(version 3\): added tag region\n  tags host, region/);
    const refused = await runCli(dir, 'alter', 'cpu', '--add-tag', 'v');
    assert.equal(refused.code === 0, false, refused.out);
    assert.match(refused.out, /cannot add tag v: a field v exists/);
    db = await Quiver.open(dir);
    cpu = await db.table('cpu');
    await cpu.append([{ time: T0 + 500, host: 'a', region: 'eu', v: 3 }]);
    await cpu.flush();
    await db.close();

    const out = join(dir, 'all.csv');
    const exported = await runCli(dir, 'export', 'cpu', '--out', out, '--order', 'series');
    assert.equal(exported.code, 0, exported.out);
    const [header, ...rows] = lines(readFileSync(out, 'utf8'));
    assert.equal(header, 'time,host,region,v');
    // Each series in time order; the order of series follows the chunks (those sharing no series are not merged).
    assert.deepEqual(rows.sort(), ['2026-01-01T00:00:00.5Z,a,eu,3', '2026-01-01T00:00:00Z,a,,1', '2026-01-01T00:00:01Z,b,,2']);
    const nulls = join(dir, 'nulls.csv');
    const scan = await runCli(dir, 'scan', 'cpu', '--where', 'region=\\N', '--out', nulls);
    assert.equal(scan.code, 0, scan.out);
    assert.deepEqual(lines(readFileSync(nulls, 'utf8')), ['time,host,region,v', '2026-01-01T00:00:00Z,a,,1', '2026-01-01T00:00:01Z,b,,2']);
    const by = join(dir, 'by.csv');
    const query = await runCli(dir, 'query', 'cpu', '--agg', 'sum:v', '--by', 'region', '--out', by);
    assert.equal(query.code, 0, query.out);
    assert.deepEqual(lines(readFileSync(by, 'utf8')).slice(1).map((l) => l.split(',').slice(1).join(',')), ['eu,3', ',3']);
    const versions = await runCli(dir, 'inspect', 'cpu', '--versions');
    assert.match(versions.out, /alter .*added tag region/);
    const verify = await runCli(dir, 'verify', 'cpu');
    assert.equal(verify.code, 0, verify.out);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('quiver import --append --tags naming a new tag adds it; the file\'s rows carry it, earlier rows read it as null', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-addtag-import-'));
  try {
    writeFileSync(join(dir, 'a.csv'), 'time,host,v\n2026-01-01T00:00:00Z,a,1\n');
    writeFileSync(join(dir, 'b.csv'), 'time,host,dc,v\n2026-01-01T00:00:01Z,a,"",2\n2026-01-01T00:00:02Z,b,x,3\n');
    let r = await runCli(dir, 'import', join(dir, 'a.csv'), '--table', 'cpu', '--tags', 'host');
    assert.equal(r.code, 0, r.out);
    r = await runCli(dir, 'import', join(dir, 'b.csv'), '--table', 'cpu', '--append', '--tags', 'dc');
    assert.equal(r.code === 0, false, r.out);
    assert.match(r.out, /--tags dc leaves out tags of cpu \(its tags: host\)/);
    // A failed import leaves the table unchanged: no tag added, no row (the tag lands with the rows).
    writeFileSync(join(dir, 'bad.csv'), 'time,host,dc,v\n2026-01-01T00:00:01Z,a,x,2\n2026-01-01T00:00:02Z,b,x,oops\n');
    r = await runCli(dir, 'import', join(dir, 'bad.csv'), '--table', 'cpu', '--append', '--tags', 'host,dc');
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /bad\.csv:3/);
    const db = await Quiver.open(dir);
    try {
      const cpu = await db.table('cpu');
      assert.deepEqual(cpu.schema.tags, ['host'], 'the failed imports added no tag');
      assert.equal(cpu.currentManifest.version, 1, 'nor any version');
    } finally { await db.close(); }
    r = await runCli(dir, 'import', join(dir, 'b.csv'), '--table', 'cpu', '--append', '--tags', 'host,dc');
    assert.equal(r.code, 0, r.out);
    const out = join(dir, 'out.csv');
    r = await runCli(dir, 'scan', 'cpu', '--out', out);
    assert.equal(r.code, 0, r.out);
    // "" is the empty string, distinct from the null tag of the row imported before dc existed.
    assert.deepEqual(lines(readFileSync(out, 'utf8')), ['time,host,dc,v', '2026-01-01T00:00:00Z,a,,1', '2026-01-01T00:00:01Z,a,"",2', '2026-01-01T00:00:02Z,b,x,3']);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
