import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { importFiles } from '../../src/io/import.js';
import { readCsvInWorker } from '../../src/io/csv/parse-worker.js';
import { randomSizes, readText, rng, rowsOf } from './helpers.js';

const TAG_VALUES = ['a', 'b,c', 'say "hi"', 'multi\nline', 'ünï ✓', ' padded ', ''];
const TEXT_VALUES = ['x', 'comma, inside', 'quote " inside', 'crlf\r\ninside', '日本語', '', null];

function quote(text: string, delimiter: string): string {
  return text.includes(delimiter) || /["\r\n]/.test(text) || text === '' ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A seeded CSV of every cell kind plus the values a correct reader must return. */
function randomCsv(seed: number, rows: number, delimiter: string) {
  const random = rng(seed);
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)]!;
  const eol = () => (random() < 0.5 ? '\n' : '\r\n');
  let text = `time${delimiter}host${delimiter}region${delimiter}f${delimiter}i${delimiter}b${delimiter}s${eol()}`;
  const expected: Record<string, unknown>[] = [];
  const t0 = Date.UTC(2026, 0, 1);
  for (let r = 0; r < rows; r++) {
    const ms = t0 + r * 1500 + Math.floor(random() * 1000);
    const ns = BigInt(ms) * 1_000_000n + BigInt(Math.floor(random() * 1e6));
    const iso = new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19);
    const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0');
    const offsetH = Math.floor(random() * 5) - 2;
    // The same instant written with a zone offset: shift the wall clock by the offset.
    const wall = new Date(Number(ns / 1_000_000n) + offsetH * 3_600_000).toISOString().slice(0, 19);
    const time = offsetH === 0 ? `${iso}.${fraction}Z` : `${wall}.${fraction}${offsetH > 0 ? '+' : '-'}0${Math.abs(offsetH)}:00`;
    const host = pick(TAG_VALUES);
    const region = pick(['eu', 'us', 'ap']);
    let fText = '';
    let f: number | null = null;
    const kind = random();
    if (kind < 0.1) { fText = ''; f = null; } else if (kind < 0.3) {
      fText = `${random() < 0.5 ? '-' : ''}${(random() * 10 ** Math.floor(random() * 8)).toExponential(Math.floor(random() * 16))}`;
      f = Number(fText);
    } else {
      fText = `${random() < 0.3 ? '-' : ''}${Math.floor(random() * 1e6)}.${Math.floor(random() * 1e6).toString().padStart(Math.floor(random() * 12), '0')}`;
      f = Number(fText);
    }
    const iBig = random() < 0.1 ? null : BigInt(Math.floor((random() - 0.5) * 2 ** 52)) * BigInt(Math.floor(random() * 2000) + 1);
    const b = random() < 0.1 ? null : random() < 0.5;
    const s = pick(TEXT_VALUES);
    const cells = [time, quote(host, delimiter), region, fText, iBig === null ? '' : String(iBig), b === null ? '' : String(b), s === null ? '' : quote(s, delimiter)];
    text += cells.join(delimiter) + eol();
    expected.push({ time: ns, host, region, f, i: iBig, b, s });
  }
  return { text, expected };
}

const OPTIONS = { tags: ['host', 'region'], schema: { f: 'float64', i: 'int64', b: 'bool', s: 'utf8' } };

test('seeded random CSVs: every cell kind, quoting, CRLF/LF, offsets; random pieces and batch sizes; inline, worker and through a table', async () => {
  const seed = Number(process.env.QUIVER_SEED ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`seed ${seed} (rerun with QUIVER_SEED=${seed})`);
  const random = rng(seed);
  const dir = mkdtempSync(join(tmpdir(), 'quiver-io-random-'));
  try {
    for (let round = 0; round < 4; round++) {
      const delimiter = [',', ';', '\t', '|'][round]!;
      const { text, expected } = randomCsv(seed + round, 1500, delimiter);
      const where = `seed ${seed} round ${round}`;
      const out = await readText(text, { ...OPTIONS, batchRows: 1 + Math.floor(random() * 700), planBytes: 1 + Math.floor(random() * 4096) }, randomSizes(random, 9000));
      assert.deepEqual(out.rows, expected, where);

      const file = join(dir, `r${round}.csv`);
      writeFileSync(file, text);
      const viaWorker = [];
      for await (const b of readCsvInWorker(file, { bytes: 0 }, { ...OPTIONS, batchRows: 500 })) viaWorker.push(b.batch);
      assert.deepEqual(rowsOf(viaWorker), expected, `${where} (worker)`);

      const db = await Quiver.open(new MemoryChunkManager());
      const summary = await importFiles(db, [file], { table: 't', ...OPTIONS });
      assert.equal(summary.rows, expected.length, where);
      const stored = rowsOf((await (await db.table('t')).query({})).batches).sort((a, b) => (a.time as bigint) < (b.time as bigint) ? -1 : 1);
      assert.deepEqual(stored, expected.map((e) => ({ ...e })), `${where} (stored)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
