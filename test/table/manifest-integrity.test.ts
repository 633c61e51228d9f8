import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import type { ChunkManager } from '../../src/chunk-manager/chunk-manager.js';
import { openStore } from '../../src/chunk-manager/url.js';
import { encodeManifest, manifestKey, MANIFEST_BYTES_MAX, type Manifest } from '../../src/table/manifest.js';
import { verifyTable } from '../../src/table/verify.js';
import { CorruptManifestError } from '../../src/errors.js';
import { runCli } from '../cli/in-process.js';

// Manifests: a checksum, full validation on read (CorruptManifestError naming key and field),
// and verify comparing every entry with its chunk's footer.
const T0 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;
const KEY2 = manifestKey('m', 2);

/** Table m: tags host, dc; fields usage (float64), n (int64); 2 chunks over 2 days; version 2. */
async function table(store: ChunkManager = new MemoryChunkManager()) {
  const db = await Quiver.open(store);
  const t = await db.createTable('m', { tags: ['host', 'dc'], fields: [{ name: 'usage', type: 'float64' }, { name: 'n', type: 'int64' }] });
  await t.append(Array.from({ length: 400 }, (_, i) => ({ time: T0 + (i % 2) * DAY + i * 1000, host: `h${i % 4}`, dc: i % 3 ? 'eu' : 'us', usage: i * 0.25, n: BigInt(i) })));
  await t.flush();
  assert.equal(t.version, 2);
  assert.equal((await t.chunks()).length, 2);
  return { store, db, t };
}

/** The manifest's JSON text without its checksum member. */
async function body(store: ChunkManager, key = KEY2): Promise<string> {
  const text = new TextDecoder().decode(await store.get(key));
  const m = /,"checksum":"crc32:[0-9a-f]{8}"\}$/.exec(text);
  assert.ok(m, 'a manifest ends with its checksum');
  return `${text.slice(0, m.index)}}`;
}

/** Writes `text` as the manifest with a correct checksum (an edit that also fixed the checksum). */
async function putChecked(store: ChunkManager, text: string, key = KEY2): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  const sum = crc32(bytes).toString(16).padStart(8, '0');
  await store.put(key, new TextEncoder().encode(`${text.slice(0, -1)},"checksum":"crc32:${sum}"}`));
}

async function edit(store: ChunkManager, fn: (m: Record<string, any>) => void): Promise<void> {
  const m = JSON.parse(await body(store));
  fn(m);
  await putChecked(store, JSON.stringify(m));
}

/** Reading the latest version fails with a CorruptManifestError naming the key and `field`. */
async function rejects(store: ChunkManager, field: string | RegExp): Promise<void> {
  const db = await Quiver.open(store);
  await assert.rejects(db.table('m'), (e: unknown) => {
    assert.ok(e instanceof CorruptManifestError, `expected CorruptManifestError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    assert.equal(e.key, KEY2);
    if (typeof field === 'string') assert.equal(e.field, field, e.message);
    else assert.match(e.field, field, e.message);
    assert.ok(e.message.includes(KEY2));
    return true;
  });
}

test('a manifest ends with a CRC-32 checksum: a changed byte, a truncation, a stripped checksum are CorruptManifestError', async () => {
  const { store } = await table();
  const good = await store.get(KEY2);
  // Same length, one digit of a number changed: valid JSON, valid fields, wrong checksum.
  const text = new TextDecoder().decode(good);
  const at = text.indexOf('"rows":') + 7;
  const flipped = new TextEncoder().encode(text.slice(0, at) + (text[at] === '1' ? '2' : '1') + text.slice(at + 1));
  await store.put(KEY2, flipped);
  await rejects(store, 'checksum');
  for (const cut of [1, 10, Math.floor(good.length / 2), good.length - 1]) {
    await store.put(KEY2, good.subarray(0, cut));
    await rejects(store, '');
  }
  await store.put(KEY2, good);
  await store.put(KEY2, new TextEncoder().encode(await body(store)));
  await rejects(store, 'checksum');
  await store.put(KEY2, good);
  assert.equal((await (await Quiver.open(store)).table('m')).version, 2);
});

test('format 1 manifests (before checksums) are read and reported unchecked by verify; the next commit writes a checksum', async () => {
  const { store } = await table();
  const legacy = JSON.parse(await body(store));
  legacy.format = 1;
  await store.put(KEY2, new TextEncoder().encode(JSON.stringify(legacy)));
  const db = await Quiver.open(store);
  const t = await db.table('m');
  assert.equal((await t.query({})).numRows, 400);
  const check = await verifyTable(store, 'm');
  assert.ok(check.ok, JSON.stringify(check));
  assert.deepEqual(check.manifests.map((m) => [m.version, m.checksum]), [[2, 'absent'], [1, 'ok']]);
  const cli = await withDir(async (dir) => {
    const local = await openStore(dir);
    for (const k of await store.list('m/')) await local.put(k, await store.get(k));
    await local.close();
    return runCli(dir, 'verify');
  });
  assert.equal(cli.code, 0, cli.out);
  assert.match(cli.out, /1 manifest\(s\) without a checksum/);
  await t.append([{ time: T0, host: 'x', dc: 'eu', usage: 1, n: 1n }]);
  await t.flush();
  assert.match(new TextDecoder().decode(await store.get(manifestKey('m', 3))), /"format":2.*,"checksum":"crc32:[0-9a-f]{8}"\}$/);
  // A format 1 manifest read back in is still legacy, but a format 2 one without checksum is corrupt.
  legacy.format = 2;
  await store.put(KEY2, new TextEncoder().encode(JSON.stringify(legacy)));
  await assert.rejects(db.table('m').then((x) => x.query({ version: 2 })), (e: unknown) => e instanceof CorruptManifestError && e.field === 'checksum');
});

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-manifest-'));
  try { return await fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

test('every malformed field is a CorruptManifestError naming it (no TypeError, BigInt SyntaxError, RangeError or usage error)', async () => {
  const { store } = await table();
  const cases: [string, (m: Record<string, any>) => void, string | RegExp][] = [
    ['wrong table', (m) => { m.table = 'other'; }, 'table'],
    ['wrong version', (m) => { m.version = 3; }, 'version'],
    ['non-monotonic parent', (m) => { m.parent = 5; }, 'parent'],
    ['format unknown', (m) => { m.format = 99; }, 'format'],
    ['committedAt not a time', (m) => { m.committedAt = 'yesterday'; }, 'committedAt'],
    ['field type unknown', (m) => { m.schema.fields[0].type = 'float128'; }, 'schema.fields[0].type'],
    ['a column twice', (m) => { m.schema.fields[1].name = 'usage'; }, 'schema'],
    ['partition option unknown', (m) => { m.options.partition = 'week'; }, 'options.partition'],
    ['rowsPerChunkMax zero', (m) => { m.options.rowsPerChunkMax = 0; }, 'options.rowsPerChunkMax'],
    ['chunk key with ..', (m) => { m.chunks[0].key = `m/chunks/${m.chunks[0].partition}/../../x.qvr`; }, 'chunks[0].key'],
    ['chunk key of another table', (m) => { m.chunks[0].key = m.chunks[0].key.replace(/^m\//, 'other/'); }, 'chunks[0].key'],
    ['chunk key of another partition', (m) => { m.chunks[0].key = m.chunks[1].key.replace('.qvr', 'x.qvr'); }, 'chunks[0].key'],
    ['chunk key outside chunks/', (m) => { m.chunks[0].key = 'm/_manifest/00000000000000000001.json'; }, 'chunks[0].key'],
    ['duplicated chunk', (m) => { m.chunks.push(m.chunks[0]); }, 'chunks[2].key'],
    ['partition not a date', (m) => { m.chunks[0].partition = '2026-02-30'; m.chunks[0].key = m.chunks[0].key.replace(/chunks\/[^/]+\//, 'chunks/2026-02-30/'); }, 'chunks[0].partition'],
    ['rows huge', (m) => { m.chunks[0].rows = 2 ** 60; }, 'chunks[0].rows'],
    ['rows negative', (m) => { m.chunks[0].rows = -1; }, 'chunks[0].rows'],
    ['rows fractional', (m) => { m.chunks[0].rows = 1.5; }, 'chunks[0].rows'],
    ['bytes zero', (m) => { m.chunks[0].bytes = 0; }, 'chunks[0].bytes'],
    ['timeMin not a number', (m) => { m.chunks[0].timeMin = 'abc'; }, 'chunks[0].timeMin'],
    ['timeMin beyond int64', (m) => { m.chunks[0].timeMin = '99999999999999999999'; }, 'chunks[0].timeMin'],
    ['timeMin after timeMax', (m) => { m.chunks[0].timeMin = String(BigInt(m.chunks[0].timeMax) + 1n); }, 'chunks[0].timeMin'],
    ['createdAt not a time', (m) => { m.chunks[0].createdAt = '2026-13-45T99:00:00Z'; }, 'chunks[0].createdAt'],
    ['tag values of an unknown tag', (m) => { m.chunks[0].tagValues.rack = ['r1']; }, 'chunks[0].tagValues["rack"]'],
    ['tag value a number', (m) => { m.chunks[0].tagValues.host = [1]; }, 'chunks[0].tagValues["host"][0]'],
    ['tag value twice', (m) => { m.chunks[0].tagValues.host = ['h0', 'h0']; }, 'chunks[0].tagValues["host"][1]'],
    ['bloom not base64', (m) => { m.chunks[0].tagBlooms = { host: '!!!' }; }, 'chunks[0].tagBlooms["host"]'],
    ['stats of an unknown column', (m) => { m.chunks[0].columns.ghost = m.chunks[0].columns.usage; }, 'chunks[0].columns["ghost"]'],
    ['float stat a string', (m) => { m.chunks[0].columns.usage.min = '1'; }, 'chunks[0].columns["usage"].min'],
    ['int stat not decimal', (m) => { m.chunks[0].columns.n.max = '1e5'; }, 'chunks[0].columns["n"].max'],
    ['nullCount above rows', (m) => { m.chunks[0].columns.n.nullCount = m.chunks[0].rows + 1; }, 'chunks[0].columns["n"].nullCount'],
    ['lineage rowEnd before rowStart', (m) => { m.chunks[0].lineage = [{ source: 'f', rowStart: 5, rowEnd: 1 }]; }, 'chunks[0].lineage[0].rowEnd'],
    ['walMarks seq negative', (m) => { m.walMarks = { a: -1 }; }, 'walMarks["a"]'],
    ['__proto__ tag values', (m) => { m.chunks[0].tagValues = JSON.parse('{"__proto__": ["x"]}'); }, 'chunks[0].tagValues["__proto__"]'],
  ];
  const good = await store.get(KEY2);
  for (const [what, fn, field] of cases) {
    await store.put(KEY2, good);
    await edit(store, fn);
    await rejects(store, field).catch((e: Error) => { throw new Error(`${what}: ${e.message}`); });
  }
  // Numbers JSON.stringify cannot write: 1e400 (Infinity), and over-long digit runs.
  for (const [raw, field] of [['1e400', 'chunks[0].rows'], ['123456789012345678901234567890', 'chunks[0].rows']] as const) {
    await store.put(KEY2, good);
    await putChecked(store, (await body(store)).replace(/"rows":\d+/, `"rows":${raw}`));
    await rejects(store, field);
  }
  // Every field of the manifest and of a chunk entry, replaced by each wrong JSON type.
  await store.put(KEY2, good);
  const base = JSON.parse(await body(store));
  const paths: string[][] = [
    ...Object.keys(base).map((k) => [k]),
    ...Object.keys(base.schema).map((k) => ['schema', k]),
    ...Object.keys(base.options).map((k) => ['options', k]),
    ...Object.keys(base.chunks[0]).map((k) => ['chunks', '0', k]),
    ...Object.keys(base.chunks[0].columns.usage).map((k) => ['chunks', '0', 'columns', 'usage', k]),
  ];
  const wrong = [null, true, 7.5, 'x', [], {}];
  let checked = 0;
  for (const path of paths) {
    for (const value of wrong) {
      const m = JSON.parse(JSON.stringify(base));
      let o = m;
      for (const p of path.slice(0, -1)) o = o[p];
      const last = path[path.length - 1]!;
      if (JSON.stringify(o[last]) === JSON.stringify(value)) continue;
      // Values a valid manifest may hold there: null stats, empty lists and maps, any text.
      if ((value === null || typeof value === 'number') && (last === 'min' || last === 'max')) continue;
      if (Array.isArray(value) && ['chunks', 'lineage', 'tags', 'fields'].includes(last)) continue;
      if (JSON.stringify(value) === '{}' && ['tagValues', 'columns', 'walMarks'].includes(last)) continue;
      if (typeof value === 'string' && ['operation', 'time'].includes(last)) continue;
      o[last] = value;
      await putChecked(store, JSON.stringify(m));
      const db = await Quiver.open(store);
      await assert.rejects(db.table('m'), (e: unknown) => {
        assert.ok(e instanceof CorruptManifestError, `${path.join('.')} = ${JSON.stringify(value)}: ${(e as Error)?.name}: ${(e as Error)?.message}`);
        return true;
      }, `${path.join('.')} = ${JSON.stringify(value)} was accepted`);
      checked++;
    }
  }
  assert.ok(checked > 150, `${checked} wrong-type cases`);
});

test('a manifest over the size limit is refused from its size, before it is downloaded', async () => {
  const { store } = await table();
  let gets = 0;
  const big = new Uint8Array(MANIFEST_BYTES_MAX + 1);
  const counting: ChunkManager = Object.assign(Object.create(store) as ChunkManager, {
    size: async (key: string) => (key === KEY2 ? big.length : store.size(key)),
    get: async (key: string) => { if (key === KEY2) gets++; return store.get(key); },
  });
  const db = await Quiver.open(counting);
  await assert.rejects(db.table('m'), (e: unknown) => e instanceof CorruptManifestError && e.key === KEY2 && /exceed/.test(e.message));
  assert.equal(gets, 0, 'the manifest was not downloaded');
});

test('the CLI reports a corrupt manifest as a data error (exit 1), never as a usage error (exit 2)', async () => {
  await withDir(async (dir) => {
    const local = await openStore(dir);
    await table(local);
    const m = JSON.parse(await body(local));
    m.chunks[0].key = `m/chunks/${m.chunks[0].partition}/../../etc.qvr`;
    await putChecked(local, JSON.stringify(m));
    for (const args of [['scan', 'm'], ['inspect', 'm'], ['verify', 'm'], ['query', 'm', '--agg', 'count:usage']]) {
      const r = await runCli(dir, ...args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.out}`);
      assert.match(r.out, /corrupt manifest m\/_manifest\/00000000000000000002\.json.*chunks\[0\]\.key/);
    }
  });
});

test('verify compares every manifest entry with its chunk footer and reports every mismatch', async () => {
  const { store } = await table();
  const good = await store.get(KEY2);
  const verify = async () => (await (await Quiver.open(store)).table('m')).verify();
  assert.ok((await verify()).every((c) => c.ok));
  const cases: [string, (m: Record<string, any>) => void, RegExp][] = [
    ['field type float64 → int64', (m) => { m.schema.fields[0].type = 'int64'; m.chunks.forEach((c: any) => { c.columns.usage.min = '0'; c.columns.usage.max = '1'; }); }, /column "usage" is a float64 field, the table's a int64 field/],
    ['renamed field', (m) => { m.schema.fields[0].name = 'use'; m.chunks.forEach((c: any) => { c.columns.use = c.columns.usage; delete c.columns.usage; }); }, /column "usage" \(float64\) is not in the table's schema/],
    ['timeMin raised', (m) => { m.chunks[0].timeMin = String(BigInt(m.chunks[0].timeMin) + 1000n); }, /timeMin is "\d+" in the manifest, "\d+" in the chunk/],
    ['a tag value dropped', (m) => { m.chunks[0].tagValues.host = m.chunks[0].tagValues.host.slice(1); }, /tagValues\["host"\]/],
    ['rows', (m) => { m.chunks[1].rows -= 1; }, /rows is \d+ in the manifest, \d+ in the chunk/],
    ['bytes', (m) => { m.chunks[1].bytes += 1; }, /bytes is \d+ in the manifest, \d+ in the chunk/],
    ['column stats', (m) => { m.chunks[1].columns.n.max = '100000'; }, /columns\["n"\]\.max/],
    ['column nulls', (m) => { m.chunks[1].columns.usage.nullCount = 1; }, /columns\["usage"\]\.nullCount/],
    ['lineage', (m) => { m.chunks[1].lineage = [{ source: 'elsewhere.csv', rowStart: 0, rowEnd: 10 }]; }, /lineage/],
  ];
  for (const [what, fn, pattern] of cases) {
    await store.put(KEY2, good);
    await edit(store, fn);
    const chunks = await verify();
    assert.equal(chunks.every((c) => c.ok), false, `${what}: verify said ok`);
    const errors = chunks.flatMap((c) => c.errors ?? []);
    assert.ok(errors.some((e) => pattern.test(e)), `${what}: ${JSON.stringify(errors)}`);
    assert.ok(errors.every((e) => /^manifest version 2: /.test(e)), JSON.stringify(errors));
  }
  // Several mismatches of one entry are all reported.
  await store.put(KEY2, good);
  await edit(store, (m) => { m.chunks[0].rows += 1; m.chunks[0].timeMax = String(BigInt(m.chunks[0].timeMax) - 1n); m.chunks[0].columns.usage.max = 0.5; });
  const several = (await verify()).find((c) => !c.ok)!;
  assert.equal(several.errors!.length, 3, JSON.stringify(several.errors));
});

test('columns and tags named __proto__, constructor, toString are ordinary names in manifests', async () => {
  const store = new MemoryChunkManager();
  const db = await Quiver.open(store);
  const t = await db.createTable('p', { tags: ['__proto__', 'constructor'], fields: [{ name: 'toString', type: 'float64' }, { name: 'hasOwnProperty', type: 'int64' }] });
  // An object literal's __proto__ key sets the prototype: the rows get it with defineProperty.
  const plain = Array.from({ length: 600 }, (_, i) => {
    const o: Record<string, unknown> = { time: T0 + i, constructor: `c${i}`, toString: i / 2, hasOwnProperty: BigInt(i) };
    Object.defineProperty(o, '__proto__', { value: `a${i % 3}`, enumerable: true, writable: true, configurable: true });
    return o;
  });
  await t.append(plain as never);
  await t.flush();
  const [entry] = await t.chunks();
  assert.deepEqual(Object.keys(entry!.tagValues), ['__proto__'], 'constructor has 600 values: a bloom filter, no list');
  const again = await (await Quiver.open(store)).table('p');
  const [reloaded] = await again.chunks();
  assert.deepEqual([...reloaded!.tagValues['__proto__']!].sort(), ['a0', 'a1', 'a2']);
  assert.equal(Object.getPrototypeOf(reloaded!.tagValues), null);
  assert.equal(typeof reloaded!.tagBlooms!['constructor'], 'string');
  const where = Object.defineProperty({}, '__proto__', { value: 'a1', enumerable: true }) as Record<string, string>;
  assert.equal((await again.query({ where })).numRows, 200);
  assert.equal((await again.query({ where: { constructor: 'c7' } })).numRows, 1);
  assert.ok((await verifyTable(store, 'p')).ok);
  assert.equal(({} as Record<string, unknown>)['a1'], undefined, 'Object.prototype untouched');
});

test('one bad table: tables, inspect and verify report it with its error, list the others, exit 1', async () => {
  await withDir(async (dir) => {
    const local = await openStore(dir);
    const db = await Quiver.open(local);
    for (const name of ['a', 'b', 'c']) {
      const t = await db.createTable(name, { tags: ['h'] });
      await t.append([{ time: T0, h: 'x', v: 1 }, { time: T0 + 1, h: 'y', v: 2 }]);
      await t.flush();
    }
    const key = manifestKey('b', 2);
    const text = new TextDecoder().decode(await local.get(key));
    await local.put(key, new TextEncoder().encode(text.replace('"rows":2', '"rows":3')));
    for (const command of ['tables', 'inspect', 'verify']) {
      const human = await runCli(dir, command);
      assert.equal(human.code, 1, `${command}: ${human.out}`);
      assert.match(human.out, /\bb\b[^]*corrupt manifest b\/_manifest\/00000000000000000002\.json.*checksum/, command);
      assert.match(human.out, /\ba\b/, command);
      assert.match(human.out, /\bc\b/, command);
      const json = await runCli(dir, command, '--json');
      assert.equal(json.code, 1);
      const parsed = JSON.parse(json.out);
      const list: { table: string; error?: string; bad?: { key: string; error: string }[] }[] = Array.isArray(parsed) ? parsed : parsed.tables;
      assert.deepEqual(list.map((t) => t.table), ['a', 'b', 'c'], command);
      // verify reports each bad object of the table (here its latest manifest); the others the table's error.
      assert.match(command === 'verify' ? list[1]!.bad![0]!.error : list[1]!.error!, /corrupt manifest .*checksum/, command);
      assert.equal(list[0]!.error, undefined);
      assert.equal(list[2]!.error, undefined);
    }
    await db.close();
  });
});
