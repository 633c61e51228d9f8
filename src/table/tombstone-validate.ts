/**
 * Validation of a manifest's `deletes` (delete.ts; called by manifest-validate.ts), with the
 * rigor of every other member: each tombstone is an object of known members only (a reader
 * must not apply a delete it does not fully understand: ignoring a restriction would hide
 * rows it does not name), its version a version of the table up to the manifest's own, the
 * versions strictly increasing, its bounds int64 decimal strings with from < to, its tags the
 * schema's and its predicates of the form scans take (regex as a compilable source string).
 */
import type { TableSchema, TagPredicate, Tombstone } from '../core/types.js';
import { ManifestShapeError, record } from './manifest-validate.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Longest tag value or regex source a predicate may hold (the manifest's free-text limit). */
const TEXT_MAX = 4096;
/** Values one IN / NOT IN list may hold. */
const LIST_MAX = 65_536;
const MEMBERS = new Set(['version', 'from', 'to', 'where']);
const OPERATORS = new Set(['eq', 'in', 'ne', 'notIn', 'prefix', 'regex']);

function fail(field: string, detail: string): never {
  throw new ManifestShapeError(field, detail);
}

function bound(raw: unknown, field: string): string {
  if (typeof raw !== 'string' || !/^-?(0|[1-9][0-9]{0,18})$/.test(raw) || raw === '-0') fail(field, `expected a decimal integer string, got ${JSON.stringify(raw)}`);
  const n = BigInt(raw);
  if (n < INT64_MIN || n > INT64_MAX) fail(field, `${raw} outside int64`);
  return raw;
}

function text(raw: unknown, field: string): string {
  if (typeof raw !== 'string') fail(field, `expected a string, got ${raw === null ? 'null' : typeof raw}`);
  if (raw.length > TEXT_MAX) fail(field, `string of ${raw.length} characters exceeds ${TEXT_MAX}`);
  return raw;
}

function value(raw: unknown, field: string): string | null {
  return raw === null ? null : text(raw, field);
}

function list(raw: unknown, field: string): (string | null)[] {
  if (!Array.isArray(raw)) fail(field, `expected an array of tag values, got ${raw === null ? 'null' : typeof raw}`);
  if (raw.length > LIST_MAX) fail(field, `${raw.length} values exceed ${LIST_MAX}`);
  return raw.map((v, i) => value(v, `${field}[${i}]`));
}

function predicate(raw: unknown, field: string): TagPredicate {
  if (raw === null || typeof raw === 'string') return value(raw, field);
  if (Array.isArray(raw)) return list(raw, field);
  const o = record(raw, field);
  const keys = Object.keys(o);
  if (keys.length === 0) fail(field, 'an operator object names at least one of eq, in, ne, notIn, prefix, regex');
  const out: Exclude<TagPredicate, string | null | unknown[]> = {};
  for (const key of keys) {
    const path = `${field}.${key}`;
    if (!OPERATORS.has(key)) fail(path, `unknown operator (eq, in, ne, notIn, prefix, regex)`);
    if (key === 'eq' || key === 'ne') out[key] = value(o[key], path);
    else if (key === 'in' || key === 'notIn') out[key] = list(o[key], path);
    else if (key === 'prefix') out.prefix = text(o[key], path);
    else {
      const source = text(o[key], path);
      try { new RegExp(source); } catch (error) { fail(path, `not a regular expression: ${(error as Error).message}`); }
      out.regex = source;
    }
  }
  return out;
}

/** The `deletes` of manifest version `version` of a table with `schema`. */
export function validateDeletes(raw: unknown, schema: TableSchema, version: number): Tombstone[] {
  if (!Array.isArray(raw)) fail('deletes', `expected an array, got ${raw === null ? 'null' : typeof raw}`);
  const tags = new Set(schema.tags);
  let previous = 0;
  return raw.map((item, i) => {
    const field = `deletes[${i}]`;
    const o = record(item, field);
    for (const key of Object.keys(o)) if (!MEMBERS.has(key)) fail(`${field}.${key}`, 'unknown member of a delete (version, from, to, where): this reader cannot apply it');
    const v = o['version'];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 2 || v > version) fail(`${field}.version`, `expected the version that committed the delete, an integer in [2, ${version}], got ${JSON.stringify(v)}`);
    if (v <= previous) fail(`${field}.version`, `${v} does not follow the previous delete's ${previous} (deletes are listed oldest first, one per version)`);
    previous = v;
    const t: Tombstone = { version: v };
    if (o['from'] !== undefined) t.from = bound(o['from'], `${field}.from`);
    if (o['to'] !== undefined) t.to = bound(o['to'], `${field}.to`);
    if (t.from !== undefined && t.to !== undefined && BigInt(t.from) >= BigInt(t.to)) fail(`${field}.from`, `${t.from} is not before to ${t.to}: the range [from, to) is empty`);
    if (o['where'] !== undefined) {
      const where = record(o['where'], `${field}.where`);
      const out = Object.create(null) as Record<string, TagPredicate>;
      for (const tag of Object.keys(where)) {
        const path = `${field}.where[${JSON.stringify(tag)}]`;
        if (!tags.has(tag)) fail(path, `${JSON.stringify(tag)} is not a tag of the table`);
        out[tag] = predicate(where[tag], path);
      }
      if (Object.keys(out).length === 0) fail(`${field}.where`, 'empty: a delete of every row has no where at all');
      t.where = out;
    }
    return t;
  });
}
