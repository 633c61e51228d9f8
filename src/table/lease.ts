/**
 * Writer leases: how a writer with chunk files written but not yet committed (an import, a
 * flush, a compaction) tells vacuum not to collect them as orphans.
 *
 *   <table>/_leases/<lease id>.json   {"format":1,"table","id","since","renewedAt","expiresAt","ttlMs","host","pid"}
 *
 * - A Table keeps at most one lease object at a time (LeaseKeeper). Each write operation
 *   `begin()`s before it writes its first chunk and `end()`s after its commit (or failure);
 *   the lease's `since` is the start of the oldest operation in flight. Chunk ids start with
 *   their write time (table.ts chunkId), from the same clock as `since`, so "written by this
 *   writer while its lease held" is "id time ≥ since".
 * - The lease is written before the operation's first chunk, rewritten every ttl/3 while
 *   operations are in flight (`since` moves up as old ones finish), and deleted at the first
 *   refresh that finds none (or by `close()`): a streaming writer costs one request per ttl/3,
 *   not two per flush.
 * - A writer that dies stops refreshing: its lease expires `ttlMs` after the last refresh and
 *   vacuum then ignores it (and deletes the object).
 * - Before a commit the writer checks its own lease (`check()`): if its last refresh is more
 *   than ttlMs old, vacuum may have taken it for dead, so the commit is refused
 *   (LeaseLostError) rather than risk naming a deleted chunk; otherwise the lease is renewed
 *   when older than ttl/3, so it outlives the chunk check and the manifest put by ≥ 2/3 ttl.
 *
 * Vacuum (vacuum.ts) lists chunks, then reads the leases, then loads the manifests, so a
 * chunk it lists is either committed by the time it loads the manifests or covered by a
 * lease it has read. Clocks of different machines may differ by up to LEASE_CLOCK_SKEW_MS.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ChunkManager } from '../chunk-manager/chunk-manager.js';
import { NotFoundError, QuiverError } from '../errors.js';

export const LEASE_DIR = '_leases';
/** Default lease lifetime without a refresh. */
export const LEASE_TTL_MS = 10 * 60_000;
/** Tolerated clock difference between a writer and a vacuum (and clock steps of one machine). */
export const LEASE_CLOCK_SKEW_MS = 60_000;
const LEASE_FORMAT = 1;
/** Largest lease object read (a damaged one must not exhaust memory). */
const LEASE_BYTES_MAX = 64 * 1024;

export interface LeaseRecord {
  format: number;
  table: string;
  id: string;
  /** Epoch ms (writer's clock): chunks this writer may still commit were written at or after it. */
  since: number;
  renewedAt: number;
  /** Epoch ms (writer's clock) after which the lease is dead unless refreshed. */
  expiresAt: number;
  ttlMs: number;
  host: string;
  pid: number;
}

/** A commit refused because the writer's lease lapsed (it may have been taken for dead). */
export class LeaseLostError extends QuiverError {
  override name = 'LeaseLostError';
}

export function leaseKey(table: string, id: string): string {
  return `${table}/${LEASE_DIR}/${id}.json`;
}

/** One write operation in flight: end() it after its commit or failure. */
export interface LeaseHold {
  end(options?: { release?: boolean }): Promise<void>;
}

/** The lease of one Table object (see the module comment). */
export class LeaseKeeper {
  private readonly ops = new Map<number, number>();
  private nextOp = 0;
  private id?: string;
  private renewedAt = 0;
  private timer?: NodeJS.Timeout;
  /** Lease writes and deletes, one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly store: ChunkManager, private readonly table: string, readonly ttlMs = LEASE_TTL_MS, private readonly clock: () => number = Date.now) {
    if (!(Number.isSafeInteger(ttlMs) && ttlMs >= 3)) throw new QuiverError(`lease ttl must be an integer number of ms ≥ 3, got ${ttlMs}`);
  }

  /** Registers an operation that will write chunks (call before its first chunk). */
  begin(): LeaseHold {
    const op = this.nextOp++;
    this.ops.set(op, this.clock());
    let ended = false;
    return {
      end: async (options = {}) => {
        if (ended) return;
        ended = true;
        this.ops.delete(op);
        if (options.release && this.ops.size === 0) await this.close();
      },
    };
  }

  /** Makes sure the lease object exists (before a chunk is put). */
  ensure(): Promise<void> {
    return this.serial(async () => {
      if (this.id === undefined || this.clock() - this.renewedAt > this.ttlMs / 3) await this.write();
    });
  }

  /**
   * Before a commit: throws LeaseLostError when the lease was not refreshed for a whole ttl
   * (vacuum may have collected this writer's chunks), else renews it if due.
   */
  check(): Promise<void> {
    return this.serial(async () => {
      if (this.id === undefined || this.clock() - this.renewedAt > this.ttlMs) {
        throw new LeaseLostError(`the write lease on ${this.table} in ${this.store.url} was not refreshed for ${this.ttlMs} ms (the process was paused or the store unreachable): a vacuum may have deleted this writer's chunks, so nothing was committed; run the write again`);
      }
      if (this.clock() - this.renewedAt > this.ttlMs / 3) await this.write();
    });
  }

  /** Deletes the lease object (no operation may be in flight any more). */
  close(): Promise<void> {
    return this.serial(async () => {
      this.stopTimer();
      const id = this.id;
      this.id = undefined;
      if (id !== undefined) await this.store.delete([leaseKey(this.table, id)]);
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async write(): Promise<void> {
    const now = this.clock();
    let since = now;
    for (const start of this.ops.values()) since = Math.min(since, start);
    this.id ??= randomBytes(8).toString('hex');
    const record: LeaseRecord = {
      format: LEASE_FORMAT, table: this.table, id: this.id, since, renewedAt: now, expiresAt: now + this.ttlMs, ttlMs: this.ttlMs, host: hostname(), pid: process.pid,
    };
    await this.store.put(leaseKey(this.table, this.id), new TextEncoder().encode(JSON.stringify(record)));
    this.renewedAt = now;
    if (!this.timer) {
      this.timer = setInterval(() => { void this.tick(); }, Math.max(1, Math.floor(this.ttlMs / 3)));
      this.timer.unref();
    }
  }

  /** Every ttl/3: refresh while operations are in flight, else delete the lease. */
  private tick(): Promise<void> {
    return this.serial(async () => {
      if (this.id === undefined) return;
      if (this.ops.size === 0) {
        const id = this.id;
        this.id = undefined;
        this.stopTimer();
        await this.store.delete([leaseKey(this.table, id)]);
      } else await this.write();
    }).catch(() => {
      // A failed refresh is retried at the next tick; check() refuses a commit once the lease lapsed.
    });
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

export interface LeaseScan {
  /** Live leases: chunks written at or after their `since` are not orphans yet. */
  live: LeaseRecord[];
  /** Keys of expired (or unreadable) lease objects. */
  expired: string[];
}

/** The leases of a table as vacuum sees them at `now`. */
export async function readLeases(store: ChunkManager, table: string, now: number): Promise<LeaseScan> {
  const out: LeaseScan = { live: [], expired: [] };
  for (const key of await store.list(`${table}/${LEASE_DIR}/`)) {
    let record: LeaseRecord | undefined;
    try {
      if ((await store.size(key)) <= LEASE_BYTES_MAX) record = parseLease(await store.get(key), table);
    } catch (error) {
      // Deleted since the listing (its writer finished): nothing to protect.
      if (error instanceof NotFoundError) continue;
      throw error;
    }
    if (record && now <= record.expiresAt + LEASE_CLOCK_SKEW_MS) out.live.push(record);
    else out.expired.push(key);
  }
  return out;
}

/** A lease object, or undefined when it is not one (treated as expired). */
function parseLease(bytes: Uint8Array, table: string): LeaseRecord | undefined {
  let o: Record<string, unknown>;
  try { o = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>; } catch { return undefined; }
  if (typeof o !== 'object' || o === null || o['format'] !== LEASE_FORMAT || o['table'] !== table) return undefined;
  for (const f of ['since', 'renewedAt', 'expiresAt', 'ttlMs']) if (!Number.isSafeInteger(o[f])) return undefined;
  return o as unknown as LeaseRecord;
}
