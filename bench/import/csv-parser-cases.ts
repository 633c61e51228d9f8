/**
 * csv-spectrum-style edge cases for the parser comparison (csv-parsers.ts): each input has a
 * header `time,a,b` and the expected (a, b) of each row, or 'error' where the right answer is
 * to stop with an error rather than return something else. A cell that is empty unquoted is
 * null, `""` the empty string (RFC 4180 practice, as DuckDB and pandas read it: our rule).
 * Ours reads through readCsv (a, b typed utf8); the libraries through their streaming APIs
 * as in the speed runs (csv-parser-child.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCsv } from '../../src/io/csv/reader.js';
import { csvBytes } from '../../src/io/csv/bytes.js';
import { PARSERS, libraryRows, type ParserName } from './csv-parser-child.js';

type Cell = string | null;
interface Case { name: string; bytes: Buffer; expect: Cell[][] | 'error' }

const T = '2026-01-01T00:00:00Z';
const text = (s: string) => Buffer.from(s, 'utf8');

export const CASES: Case[] = [
  { name: 'quoted newline', bytes: text(`time,a,b\n${T},"x\ny",1\n`), expect: [['x\ny', '1']] },
  { name: 'quoted CRLF inside a cell', bytes: text(`time,a,b\r\n${T},"x\r\ny",1\r\n`), expect: [['x\r\ny', '1']] },
  { name: 'escaped (doubled) quotes', bytes: text(`time,a,b\n${T},"he said ""hi""",1\n`), expect: [['he said "hi"', '1']] },
  { name: 'delimiter inside quotes', bytes: text(`time,a,b\n${T},"x,y",1\n`), expect: [['x,y', '1']] },
  { name: 'CRLF line ends', bytes: text(`time,a,b\r\n${T},1,2\r\n${T},3,4\r\n`), expect: [['1', '2'], ['3', '4']] },
  { name: 'UTF-8 BOM', bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text(`time,a,b\n${T},1,2\n`)]), expect: [['1', '2']] },
  { name: 'no line end after the last row', bytes: text(`time,a,b\n${T},1,2`), expect: [['1', '2']] },
  { name: 'empty vs quoted-empty cell', bytes: text(`time,a,b\n${T},,""\n`), expect: [[null, '']] },
  { name: 'ragged rows (too few, too many fields)', bytes: text(`time,a,b\n${T},1\n${T},1,2,3\n`), expect: 'error' },
  { name: 'invalid UTF-8 (0xFF)', bytes: Buffer.concat([text(`time,a,b\n${T},`), Buffer.from([0xff]), text(',1\n')]), expect: 'error' },
  { name: 'unterminated quote at the end', bytes: text(`time,a,b\n${T},"x,1\n`), expect: 'error' },
  { name: 'multi-byte UTF-8', bytes: text(`time,a,b\n${T},héllo ✓ 𝄞,1\n`), expect: [['héllo ✓ 𝄞', '1']] },
];

async function rowsOf(parser: ParserName, file: string): Promise<Cell[][]> {
  const out: Cell[][] = [];
  if (parser === 'quiver') {
    for await (const b of readCsv(csvBytes(file, { bytes: 0 }), file, { tags: [], schema: { a: 'utf8', b: 'utf8' } })) {
      const a = b.batch.getChild('a');
      const c = b.batch.getChild('b');
      for (let i = 0; i < b.batch.numRows; i++) out.push([a?.get(i) ?? null, c?.get(i) ?? null]);
    }
    return out;
  }
  let header = true;
  await libraryRows(parser, file, (row) => { if (header) header = false; else out.push(row.slice(1)); });
  return out;
}

/** The markdown table: one row per case, ✓ or ✗ (with what came back) per parser. */
export async function edgeCaseTable(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-csv-cases-'));
  const lines = [`| case | ${PARSERS.join(' | ')} |`, `|---|${PARSERS.map(() => '---').join('|')}|`];
  const right = new Map<ParserName, number>(PARSERS.map((p) => [p, 0]));
  try {
    for (const [k, c] of CASES.entries()) {
      const file = join(dir, `case${k}.csv`);
      writeFileSync(file, c.bytes);
      const cells: string[] = [];
      for (const p of PARSERS) {
        let got: Cell[][] | 'error';
        try { got = await rowsOf(p, file); } catch { got = 'error'; }
        const ok = JSON.stringify(got) === JSON.stringify(c.expect);
        if (ok) right.set(p, (right.get(p) ?? 0) + 1);
        cells.push(ok ? '✓' : `✗ ${JSON.stringify(got).replaceAll('|', '\\|')}`);
      }
      lines.push(`| ${c.name} | ${cells.join(' | ')} |`);
    }
    lines.push(`| **right** | ${PARSERS.map((p) => `${right.get(p)}/${CASES.length}`).join(' | ')} |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return lines.join('\n');
}
