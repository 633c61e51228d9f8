import type { CommandEntry } from '../context.js';

/**
 * The command registry: one line per command, its name, its one-line summary (`quiver
 * --help`) and how to load it. A command's module (and all it imports: Arrow, codecs,
 * decoders, workers) is loaded only when that command runs or its `--help` is asked, so the
 * light commands start light: `quiver --help`, `--version`, `tables` and `inspect` load no
 * Arrow and no codec. `quiver --help`, the dispatcher and the shell completion scripts are
 * all derived from this list (help lists commands alphabetically). A new command is its file
 * plus one line here (docs/extending.md).
 */
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  alter: { summary: 'drop, rename or widen fields of a table (one commit; chunks are not rewritten)', load: async () => (await import('./alter.js')).alterCommand },
  compact: { summary: 'merge small chunks (from streaming writes or small imports) into full ones', load: async () => (await import('./compact.js')).compactCommand },
  completion: { summary: 'print a shell completion script (bash or zsh)', load: async () => (await import('./completion.js')).completionCommand },
  copy: { summary: 'copy tables between stores (backup/restore, local ↔ cloud), verifying on arrival', load: async () => (await import('./copy.js')).copyCommand },
  delete: { summary: 'delete rows of a time range and/or tag filter (one commit; compact and vacuum free the space)', load: async () => (await import('./delete.js')).deleteCommand },
  drop: { summary: 'delete a table and all its chunks', load: async () => (await import('./drop.js')).dropCommand },
  export: { summary: 'write a table (or a time range of it) to Parquet: one file, or one per partition', load: async () => (await import('./export.js')).exportCommand },
  import: { summary: 'import CSV, Parquet or Arrow files into a table (all or nothing)', load: async () => (await import('./import.js')).importCommand },
  inspect: { summary: 'what is in the store, a table, or a chunk (rows, time ranges, bytes, encodings, ratios)', load: async () => (await import('./inspect.js')).inspectCommand },
  query: { summary: 'aggregate a table: time buckets, group by tags, count/sum/min/max/mean/…', load: async () => (await import('./query.js')).queryCommand },
  report: { summary: 'write a self-contained HTML page of plots about a table', load: async () => (await import('./report.js')).reportCommand },
  retention: { summary: 'show or set how long a table keeps its rows (expired rows vanish, their chunks are dropped)', load: async () => (await import('./retention.js')).retentionCommand },
  rollup: { summary: 'create, list, refresh or drop rollup tables (downsampled aggregates kept up to date)', load: async () => (await import('./rollup.js')).rollupCommand },
  scan: { summary: 'read rows of a table: time range, tag and field filters, projection', load: async () => (await import('./scan.js')).scanCommand },
  serve: { summary: 'serve writes (InfluxDB line protocol) and queries over HTTP', load: async () => (await import('./serve.js')).serveCommand },
  sql: { summary: 'run SQL on DuckDB over the store\'s tables (DuckDB is an optional dependency)', load: async () => (await import('./sql.js')).sqlCommand },
  tables: { summary: 'list the tables of the store', load: async () => (await import('./tables.js')).tablesCommand },
  vacuum: { summary: 'expire old table versions and delete chunk files nothing references any more', load: async () => (await import('./vacuum.js')).vacuumCommand },
  verify: { summary: 'check every manifest and chunk of tables: checksums, pages, entries against footers; exit 1 naming each problem', load: async () => (await import('./verify.js')).verifyCommand },
  wal: { summary: 'check write-ahead logs, or salvage the intact frames of a damaged one', load: async () => (await import('./wal.js')).walCommand },
};
