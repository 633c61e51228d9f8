import { existsSync, statSync } from 'node:fs';
import { jsonRatio, jsonTimeRange } from '../json.js';
import type { Command, CommandContext } from '../context.js';
import { formatBytes, formatCount, formatTimestamp, renderTable } from '../text.js';
import { UsageError } from '../../errors.js';
import type { ChunkFooter } from '../../format/index.js';
import type { ChunkManager } from '../../chunk-manager/chunk-manager.js';
import { perTable } from './tables.js';
import { describeManifest } from '../../table/manifest.js';

/**
 * A chunk's footer, from a file or the store. The chunk reader (and the codecs its footer
 * may need) load here, so that the store and table views start without them.
 */
async function chunkFooter(source: { file: string } | { store: ChunkManager; key: string; bytes: number }): Promise<ChunkFooter> {
  const [{ openChunk }, { fileSource, storeSource }] = await Promise.all([import('../../format/index.js'), import('../sources.js')]);
  return (await openChunk('file' in source ? fileSource(source.file) : storeSource(source.store, source.key, source.bytes))).footer;
}

export const inspectCommand: Command = {
  usage: `Usage: quiver inspect [TABLE [CHUNK]] [--versions]
       quiver inspect FILE.qvr

  no argument   the tables of the store
  TABLE         the table's chunks: rows, time range, raw and stored bytes, ratio
  TABLE --versions  the retained versions: when, which operation (create, append, import,
                    compact, alter, and those of later features: delete, retention, rollup),
                    chunks, rows, bytes, the change against the version before, in words
  TABLE CHUNK   one chunk (its key, or a unique part of it): columns with encodings,
                codecs, bytes, ratios and stats, lineage
  FILE.qvr      a chunk file on disk

Without TABLE, a table that cannot be read is reported with its error (stderr; under --json
as its "error") and the others are listed; exit 1 if any failed.`,
  options: { versions: { type: 'boolean' } },
  async run(ctx, values, positionals) {
    if (positionals.length > 2) throw new UsageError('inspect takes at most TABLE and CHUNK');
    const [name, chunk] = positionals;
    if (name && !chunk && name.endsWith('.qvr') && existsSync(name) && statSync(name).isFile()) {
      if (values.store !== undefined) throw new UsageError(`--store does not apply to inspect ${name}: it reads the chunk file itself`);
      if (values.versions) throw new UsageError('--versions takes a TABLE, not a chunk file');
      return inspectChunk(ctx, name, await chunkFooter({ file: name }));
    }
    const db = await ctx.catalog();
    if (!name) {
      const results = await perTable(ctx, 'inspect', await db.tables(), async (table) => {
        const d = await db.describe(table);
        return { table, rows: d.rows, chunks: d.chunks, rawBytes: d.rawBytes, bytes: d.bytes, ratio: jsonRatio(d.rawBytes, d.bytes), version: d.version, ...jsonTimeRange(d.timeMin, d.timeMax, d.schema.timeUnit) };
      });
      const rows = results.flatMap((r) => ('value' in r ? [r.value] : [])).map((t) => ({ table: t.table, rows: t.rows, chunks: t.chunks, from: t.timeMin ?? '-', to: t.timeMax ?? '-', rawBytes: t.rawBytes, bytes: t.bytes, ratio: ratio(t.rawBytes, t.bytes) }));
      const tables = results.map((r) => ('value' in r ? r.value : { table: r.table, error: r.error }));
      ctx.emit({ store: ctx.flags.store, tables }, () => `store ${ctx.flags.store}\n` + renderTable(rows));
      return results.some((r) => 'error' in r) ? 1 : 0;
    }
    const manifest = await db.manifest(name); // a table that does not exist is an error here
    if (values.versions) {
      if (chunk) throw new UsageError('--versions takes a TABLE, not a chunk');
      const versions = await db.versions(name);
      const signed = (n: number, text = String(n)) => (n > 0 ? `+${text}` : n < 0 ? `-${text.replace(/^-/, '')}` : '0');
      ctx.emit({ table: name, versions }, () => `table ${name}: ${versions.length} retained version(s)\n` + renderTable(versions.map(({ change, summary, ...v }) => ({
        ...v, bytes: formatBytes(v.bytes), 'Δrows': signed(change.rows), 'Δchunks': signed(change.chunks), 'Δbytes': signed(change.bytes, formatBytes(Math.abs(change.bytes))), change: summary,
      }))));
      return 0;
    }
    const entries = manifest.chunks;
    if (!chunk) {
      const d = describeManifest(manifest);
      const rows = entries.map((e) => ({ chunk: e.key, rows: e.rows, from: iso(e.timeMin, d.schema.timeUnit), to: iso(e.timeMax, d.schema.timeUnit), rawBytes: e.rawBytes, bytes: e.bytes, ratio: ratio(e.rawBytes, e.bytes) }));
      const { timeMin, timeMax, ...described } = d;
      const json = {
        table: { ...described, ratio: jsonRatio(d.rawBytes, d.bytes), ...jsonTimeRange(timeMin, timeMax, d.schema.timeUnit) },
        chunks: entries.map(({ timeMin: lo, timeMax: hi, ...e }) => ({ ...e, ratio: jsonRatio(e.rawBytes, e.bytes), ...jsonTimeRange(lo, hi, d.schema.timeUnit) })),
      };
      ctx.emit(json, () => [
        `table ${name}: ${formatCount(d.rows)} rows in ${d.chunks} chunk(s), version ${d.version}`,
        `  time ${iso(d.timeMin, d.schema.timeUnit)} .. ${iso(d.timeMax, d.schema.timeUnit)} (stored in ${d.schema.timeUnit}), tags ${d.schema.tags.join(',') || '-'}`,
        `  fields ${d.schema.fields.map((f) => `${f.name}:${f.type}`).join(', ') || '-'}`,
        `  ${formatBytes(d.rawBytes)} raw → ${formatBytes(d.bytes)} stored (${ratio(d.rawBytes, d.bytes)}×), ${bytesPerValue(d.bytes, d.rows, d.schema.fields.length)}`,
        '',
        renderTable(rows),
      ].join('\n'));
      return 0;
    }
    const matches = entries.filter((e) => e.key === chunk || e.key.includes(chunk));
    if (matches.length !== 1) {
      throw new UsageError(matches.length === 0 ? `no chunk of ${name} matches ${JSON.stringify(chunk)}` : `${matches.length} chunks of ${name} match ${JSON.stringify(chunk)}; give more of the key`);
    }
    const entry = matches[0]!;
    return inspectChunk(ctx, entry.key, await chunkFooter({ store: db.store, key: entry.key, bytes: entry.bytes }));
  },
};

const PER_SECOND = { s: 1n, ms: 1_000n, us: 1_000_000n, ns: 1_000_000_000n } as const;

/** A stored time (decimal string in the table unit) as ISO-8601 for people. */
function iso(value: string | null | undefined, unit: keyof typeof PER_SECOND): string {
  if (value === null || value === undefined) return '-';
  try {
    return formatTimestamp(BigInt(value), PER_SECOND[unit]);
  } catch {
    // Beyond what a Date can show (±275,000 years; possible in a table stored in seconds).
    return `${value} ${unit} since the epoch`;
  }
}

function ratio(raw: number, stored: number): string {
  return stored > 0 ? (raw / stored).toFixed(2) : '-';
}

function bytesPerValue(bytes: number, rows: number, fields: number): string {
  return rows > 0 && fields > 0 ? `${(bytes / (rows * fields)).toFixed(3)} bytes per field value` : '';
}

function inspectChunk(ctx: CommandContext, name: string, footer: ChunkFooter): number {
  const columns = footer.columns.map((c) => ({
    column: c.name,
    role: c.role,
    type: c.type,
    codec: c.codecLevel !== undefined ? `${c.codec}(${c.codecLevel})` : c.codec,
    encodings: [...new Set(c.pages.map((p) => p.encoding))].join(' | '),
    pages: c.pages.length,
    nulls: c.nullCount,
    rawBytes: c.rawBytes,
    bytes: c.storedBytes,
    ratio: ratio(c.rawBytes, c.storedBytes),
    bitsPerValue: footer.rowCount > 0 ? ((8 * c.storedBytes) / footer.rowCount).toFixed(2) : '-',
    min: c.min,
    max: c.max,
  }));
  const raw = footer.columns.reduce((s, c) => s + c.rawBytes, 0);
  const stored = footer.columns.reduce((s, c) => s + c.storedBytes, 0);
  const json = {
    chunk: name, rows: footer.rowCount, rawBytes: raw, bytes: stored, ratio: jsonRatio(raw, stored), ...jsonTimeRange(footer.timeMin, footer.timeMax, footer.timeUnit),
    columns: columns.map((c) => ({ ...c, ratio: jsonRatio(c.rawBytes, c.bytes), bitsPerValue: footer.rowCount > 0 ? (8 * c.bytes) / footer.rowCount : null })),
    footer,
  };
  ctx.emit(json, () => [
    `chunk ${name}`,
    `  format v${footer.formatVersion} by ${footer.writer}, ${formatCount(footer.rowCount)} rows in ${footer.pageRowStarts.length - 1} page(s), sorted by series: ${footer.sortedBySeries}`,
    `  time ${iso(footer.timeMin, footer.timeUnit)} .. ${iso(footer.timeMax, footer.timeUnit)} (${footer.timeUnit}), ${formatBytes(raw)} raw → ${formatBytes(stored)} (${ratio(raw, stored)}×)`,
    ...footer.lineage.map((l) => `  from ${l.source} rows ${l.rowStart}..${l.rowEnd}`),
    '',
    renderTable(columns),
  ].join('\n'));
  return 0;
}
