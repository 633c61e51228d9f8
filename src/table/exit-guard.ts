import { writeSync } from 'node:fs';

/**
 * Rows appended without a write-ahead log live only in the process until a flush. So that a
 * script that appends and simply ends does not lose them silently:
 *
 * - on `beforeExit` (the event loop ran dry: a script's natural end) every table with
 *   unflushed rows and no WAL is flushed, as close() would;
 * - on `exit` (also reached by process.exit(), or when that flush failed) each table still
 *   holding unflushed rows gets a warning on stderr naming it and the rows lost.
 *
 * Neither runs on a signal's default action (SIGINT, SIGTERM) or a crash: the rows are then
 * lost without a word. Only `flush()` / `close()`, or a WAL (`Quiver.open(…, { wal })`), make
 * rows durable. Tables with a WAL are left alone: their rows are replayed on the next open.
 */
export interface Guarded {
  readonly name: string;
  readonly pendingRows: number;
  readonly logged: boolean;
  flush(): Promise<void>;
}

const tables = new Set<Guarded>();
let installed = false;

/** Watches a table that holds unflushed rows (idempotent). */
export function guardUnflushed(table: Guarded): void {
  tables.add(table);
  if (installed) return;
  installed = true;
  process.on('beforeExit', () => void flushAll());
  process.on('exit', warnAll);
}

/** The table holds nothing unflushed any more (flushed, or dropped). */
export function unguard(table: Guarded): void {
  tables.delete(table);
}

async function flushAll(): Promise<void> {
  for (const table of [...tables]) {
    tables.delete(table);
    if (table.logged || table.pendingRows === 0) continue;
    const rows = table.pendingRows;
    try {
      await table.flush();
    } catch (error) {
      warn(`flushing ${rows} unflushed row(s) of table ${table.name} at exit failed (${(error as Error).message}); they are lost`);
    }
  }
}

function warnAll(): void {
  for (const table of tables) {
    if (table.logged || table.pendingRows === 0) continue;
    warn(`${table.pendingRows} row(s) appended to table ${table.name} were never flushed and are lost (call flush() or close() before exiting, or open with a write-ahead log)`);
  }
}

function warn(message: string): void {
  try { writeSync(2, `quiver: warning: ${message}\n`); } catch { /* stderr closed: nothing to tell */ }
}
