import type { ChunkManager } from '../chunk-manager/chunk-manager.js';
import { QuiverError } from '../errors.js';
import { loadManifest, MANIFEST_DIR, type Manifest } from './manifest.js';
import { describeAlter } from './alter-map.js';

/** One retained version of a table, with what its commit changed against the version before it. */
export interface VersionInfo {
  version: number;
  committedAt: string;
  /** What committed it: create, append, import, compact, alter, and whatever later operations name themselves (delete, retention, rollup, …). */
  operation: string;
  chunks: number;
  rows: number;
  bytes: number;
  /** Against the previous retained version (the whole version for the first one listed). */
  change: { chunks: number; rows: number; bytes: number; chunksAdded: number; chunksRemoved: number };
  /** The change in words: chunks, fields, options and any other manifest member that differs. */
  summary: string;
}

/** Version numbers of the table's manifests in the store, oldest first. */
export async function versionNumbers(store: ChunkManager, table: string): Promise<number[]> {
  const keys = await store.list(`${table}/${MANIFEST_DIR}/`);
  return keys.map((k) => Number(/(\d{20})\.json$/.exec(k)?.[1])).filter((v) => v > 0).sort((a, b) => a - b);
}

/** Every retained version with its change (manifests read one at a time: memory holds two). */
export async function tableVersions(store: ChunkManager, table: string): Promise<VersionInfo[]> {
  const out: VersionInfo[] = [];
  let previous: Manifest | undefined;
  for (const v of await versionNumbers(store, table)) {
    const m = await loadManifest(store, table, v);
    const totals = { chunks: m.chunks.length, rows: sum(m, 'rows'), bytes: sum(m, 'bytes') };
    const before = new Set(previous?.chunks.map((c) => c.key));
    const after = new Set(m.chunks.map((c) => c.key));
    const chunksAdded = m.chunks.filter((c) => !before.has(c.key)).length;
    const chunksRemoved = [...before].filter((k) => !after.has(k)).length;
    const change = {
      chunks: totals.chunks - (previous?.chunks.length ?? 0), rows: totals.rows - (previous ? sum(previous, 'rows') : 0), bytes: totals.bytes - (previous ? sum(previous, 'bytes') : 0),
      chunksAdded, chunksRemoved,
    };
    out.push({ version: v, committedAt: m.committedAt, operation: m.operation, ...totals, change, summary: describeChange(previous, m, change) });
    previous = m;
  }
  return out;
}

/**
 * The version retained latest that was committed at or before `at` (epoch milliseconds):
 * time travel by wall clock. Throws naming the earliest retained version when none is.
 */
export async function versionAsOf(store: ChunkManager, table: string, at: number): Promise<number> {
  const numbers = await versionNumbers(store, table);
  if (numbers.length === 0) throw new QuiverError(`table ${table} has no versions in ${store.url}`);
  let found: number | undefined;
  let earliest: Manifest | undefined;
  // Commit times grow with versions (a commit stamps the time it lands): search from the newest.
  for (let i = numbers.length - 1; i >= 0; i--) {
    const m = await loadManifest(store, table, numbers[i]!);
    if (Date.parse(m.committedAt) <= at) { found = m.version; break; }
    earliest = m;
  }
  if (found === undefined) {
    throw new QuiverError(`table ${table} has no version committed at or before ${new Date(at).toISOString()}: the earliest retained is version ${earliest?.version} (committed ${earliest?.committedAt})`);
  }
  return found;
}

function sum(m: Manifest, key: 'rows' | 'bytes'): number {
  let n = 0;
  for (const c of m.chunks) n += c[key];
  return n;
}

/** Members every manifest has that the summary describes itself (or that say nothing about the table's contents). */
const DESCRIBED = new Set(['format', 'table', 'version', 'parent', 'committedAt', 'operation', 'schema', 'options', 'chunks', 'walMarks', 'checksum']);

function describeChange(previous: Manifest | undefined, m: Manifest, change: VersionInfo['change']): string {
  const parts: string[] = [];
  if (change.chunksAdded || change.chunksRemoved) {
    parts.push(`${change.chunksAdded ? `+${change.chunksAdded}` : ''}${change.chunksAdded && change.chunksRemoved ? '/' : ''}${change.chunksRemoved ? `-${change.chunksRemoved}` : ''} chunk(s), ${change.rows >= 0 ? '+' : ''}${change.rows} row(s)`);
  }
  if (!previous) {
    parts.push(`fields ${m.schema.fields.map((f) => `${f.name}:${f.type}`).join(', ') || '-'}`);
    return parts.join('; ');
  }
  const known = new Set(previous.schema.fields.map((f) => f.name));
  const added = m.schema.fields.filter((f) => !known.has(f.name));
  const alters = (m.schema.alters ?? []).slice(previous.schema.alters?.length ?? 0);
  for (const a of alters) parts.push(describeAlter(a));
  const renamedTo = new Set(alters.flatMap((a) => (a.op === 'rename' ? [a.to] : [])));
  const newFields = added.filter((f) => !renamedTo.has(f.name));
  if (newFields.length) parts.push(`added field(s) ${newFields.map((f) => `${f.name}:${f.type}`).join(', ')}`);
  const options = previous.options as unknown as Record<string, unknown>;
  const now = m.options as unknown as Record<string, unknown>;
  for (const key of [...new Set([...Object.keys(options), ...Object.keys(now)])]) {
    if (JSON.stringify(options[key]) !== JSON.stringify(now[key])) parts.push(`option ${key}: ${shown(options[key])} → ${shown(now[key])}`);
  }
  const before = previous as unknown as Record<string, unknown>;
  const after = m as unknown as Record<string, unknown>;
  for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])]) {
    if (DESCRIBED.has(key) || JSON.stringify(before[key]) === JSON.stringify(after[key])) continue;
    parts.push(memberChange(key, before[key], after[key]));
  }
  return parts.join('; ') || 'no change to data, schema or options';
}

/** A manifest member other operations add (deletes, rollups, …): lists by what joined and left, else before → after. */
function memberChange(key: string, before: unknown, after: unknown): string {
  if (Array.isArray(after) && (before === undefined || Array.isArray(before))) {
    const old = new Set((before ?? []).map((x) => JSON.stringify(x)));
    const current = new Set(after.map((x) => JSON.stringify(x)));
    const joined = [...current].filter((x) => !old.has(x));
    const left = [...old].filter((x) => !current.has(x));
    const bits = [...(joined.length ? [`+${joined.length} ${clip(joined.join(', '))}`] : []), ...(left.length ? [`-${left.length}`] : [])];
    return `${key}: ${bits.join(' ')}`;
  }
  return `${key}: ${shown(before)} → ${shown(after)}`;
}

function shown(value: unknown): string {
  return value === undefined ? '(none)' : clip(JSON.stringify(value));
}

function clip(text: string): string {
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}
