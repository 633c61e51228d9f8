import { UsageError } from '../errors.js';
import type { TableSchema, TagPredicate } from '../core/types.js';
import type { ComparisonOp, FieldPredicate, PredicateValue } from '../scan/query-types.js';

/**
 * The CLI's predicates: `--where` on tags and `--filter` on fields, parsed into the library's
 * `where` (TagPredicate per tag) and `filter` (FieldPredicate).
 *
 * `--where` (repeatable, ANDed across tags):
 *   tag=a        equal; `tag=a|b` (or the same tag repeated) is IN
 *   tag!=a       not equal; `tag!=a|b` is NOT IN (rows without the tag are kept)
 *   tag^=pre     the value starts with `pre`
 *   tag=~re      the value matches the JavaScript regular expression `re`
 * In a value, `\|` is a literal |, `\\` a literal backslash, `\~` a literal ~ (so `tag=\~x`
 * is equality with "~x"), and an alternative that is exactly `\N` is the null tag (rows
 * without the tag, as PostgreSQL's COPY writes null); `tag=` is the empty string "" (shells
 * drop the quotes of `tag=""`). Any other backslash is an error. The operator is the first
 * `=` of the item with the character before it (`!`, `^`) or after it (`~`): a tag whose name
 * ends in `!` or `^` is addressed through the library.
 */
export function whereOption(values: Record<string, unknown>): Record<string, TagPredicate> | undefined {
  const raw = values.where;
  if (raw === undefined) return undefined;
  const items = Array.isArray(raw) ? (raw as string[]) : [raw as string];
  // Keyed by tag names from the command line: null prototypes, so __proto__ is a name like any other.
  const parts: Record<string, { in?: (string | null)[]; notIn?: (string | null)[]; prefix?: string; regex?: string }> = Object.create(null);
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--where expects tag=value (or tag!=value, tag^=prefix, tag=~regex), got ${JSON.stringify(item)}`);
    let tag = item.slice(0, eq);
    let value = item.slice(eq + 1);
    let op: 'in' | 'notIn' | 'prefix' | 'regex' = 'in';
    if (tag.endsWith('!')) { op = 'notIn'; tag = tag.slice(0, -1); }
    else if (tag.endsWith('^')) { op = 'prefix'; tag = tag.slice(0, -1); }
    else if (value.startsWith('~')) { op = 'regex'; value = value.slice(1); }
    if (tag === '') throw new UsageError(`--where ${JSON.stringify(item)}: no tag name before the operator`);
    const p = (parts[tag] ??= Object.create(null) as (typeof parts)[string]);
    if (op === 'in' || op === 'notIn') {
      (p[op] ??= []).push(...whereValues(value, item));
      continue;
    }
    if (p[op] !== undefined) throw new UsageError(`--where ${JSON.stringify(item)}: one ${op === 'prefix' ? '^=' : '=~'} per tag (${tag} has two)`);
    const [text, ...more] = whereValues(value, item);
    if (text === null || text === undefined || more.length) throw new UsageError(`--where ${JSON.stringify(item)}: ${op === 'prefix' ? 'a prefix' : 'a regular expression'} is one value (no | alternatives, no \\N)`);
    if (op === 'regex') {
      try { new RegExp(text); } catch (error) { throw new UsageError(`--where ${JSON.stringify(item)}: ${(error as Error).message}`); }
    }
    p[op] = text;
  }
  const out: Record<string, TagPredicate> = Object.create(null);
  for (const tag of Object.keys(parts)) {
    const p = parts[tag]!;
    const keys = Object.keys(p);
    // Plain equality stays in its simplest form (a value or a list), as before operators.
    if (keys.length === 1 && p.in) out[tag] = p.in.length === 1 ? p.in[0]! : p.in;
    else out[tag] = { ...p };
  }
  return out;
}

/** The alternatives of a --where value: split at unescaped |, \N alone = null. */
function whereValues(text: string, item: string): (string | null)[] {
  const out: (string | null)[] = [];
  let current = '';
  let isNull = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '|') { out.push(isNull ? null : current); current = ''; isNull = false; continue; }
    if (c !== '\\') { if (isNull) throw nullError(item); current += c; continue; }
    const next = text[i + 1];
    i++;
    if (next === '|' || next === '\\' || next === '~') { if (isNull) throw nullError(item); current += next; }
    else if (next === 'N') { if (current !== '' || isNull) throw nullError(item); isNull = true; }
    else throw new UsageError(`--where ${JSON.stringify(item)}: a backslash escapes |, \\ or ~, or is \\N (the null tag) alone, got \\${next ?? ''}`);
  }
  out.push(isNull ? null : current);
  return out;
}

function nullError(item: string): UsageError {
  return new UsageError(`--where ${JSON.stringify(item)}: \\N (the null tag) stands alone between | separators`);
}

/** Comparison operators of --filter, longest first so `<=` is not read as `<`. */
const FILTER_OPS: readonly ComparisonOp[] = ['<=', '>=', '!=', '<', '>', '='];

/**
 * `--filter 'usage_user>50'` (repeatable, ANDed): a field, an operator among = != < <= > >=,
 * and a constant typed by the field: integers of int64/uint64 fields exactly (as BigInt), a
 * number for float64 (`NaN`, `Infinity`, `-Infinity` too), `true`/`false` for bool, the text
 * as it is for the others (utf8, and the text forms of dates, times and decimals). Rows whose
 * field is null never match (SQL). The operator is the first of `<>=!` in the item.
 */
export function filterOption(values: Record<string, unknown>, schema: TableSchema): FieldPredicate | undefined {
  const raw = values.filter;
  if (raw === undefined) return undefined;
  const items = Array.isArray(raw) ? (raw as string[]) : [raw as string];
  const leaves = items.map((item) => filterLeaf(item, schema));
  return leaves.length === 1 ? leaves[0]! : { and: leaves };
}

function filterLeaf(item: string, schema: TableSchema): FieldPredicate {
  const at = item.search(/[<>=!]/);
  const op = at > 0 ? FILTER_OPS.find((o) => item.startsWith(o, at)) : undefined;
  if (at <= 0 || op === undefined) throw new UsageError(`--filter expects field OP value with OP among ${FILTER_OPS.join(' ')}, got ${JSON.stringify(item)}`);
  const field = item.slice(0, at).trim();
  const text = item.slice(at + op.length).trim();
  const spec = schema.fields.find((f) => f.name === field);
  if (!spec) {
    const what = schema.tags.includes(field) ? `${JSON.stringify(field)} is a tag: use --where` : `no field ${JSON.stringify(field)}`;
    throw new UsageError(`--filter ${JSON.stringify(item)}: ${what} (fields: ${schema.fields.map((f) => f.name).join(', ')})`);
  }
  return { field, op, value: filterValue(text, String(spec.type), item) };
}

function filterValue(text: string, type: string, item: string): PredicateValue {
  const bad = (expected: string) => new UsageError(`--filter ${JSON.stringify(item)}: expected ${expected} for a ${type} field, got ${JSON.stringify(text)}`);
  if (type === 'int64' || type === 'uint64') {
    if (/^[+-]?\d+$/.test(text)) return BigInt(text);
    const n = Number(text);
    if (text === '' || !Number.isFinite(n)) throw bad('an integer (or a finite number)');
    return n;
  }
  if (type === 'float64' || type === 'float32') {
    const n = Number(text);
    if (text === '' || (Number.isNaN(n) && text !== 'NaN')) throw bad('a number');
    return n;
  }
  if (type === 'bool') {
    if (text === 'true' || text === 'false') return text === 'true';
    throw bad('true or false');
  }
  return text;
}
