import type { TableSchema } from '../core/types.js';

/** Messages between `db.sql()` (main thread) and the DuckDB worker (duckdb-worker.ts). */

export interface SqlTable { name: string; schema: TableSchema }

export interface SqlRequest { query: string; tables: SqlTable[] }

/** Worker → main, on the worker's parent port. */
export type WorkerReply =
  | { type: 'scan'; id: number; table: string; columns: string[]; where: Record<string, string[]>; from?: string; to?: string }
  | { type: 'next'; id: number }
  | { type: 'batch'; ipc: Uint8Array; empty?: boolean }
  | { type: 'done' }
  | { type: 'error'; message: string; missing?: boolean };

/** Main → worker, on the dedicated port the worker reads synchronously. */
export interface ScanReply { id: number; ipc?: Uint8Array; done?: boolean; error?: string }
