import type { Table } from '../table/table.js';
import { SchemaError } from '../errors.js';
import { validateColumnName } from '../table/names.js';

/**
 * Tags a write carries that its table lacks are added to the table (one alter commit,
 * alter.ts) before the write's points are checked and appended: InfluxDB takes new tags at any
 * time (a series is its measurement and tag set), and agents such as Telegraf add tags. Rows
 * written before read the new tag as null. Writers adding one tag at once make one alter.
 *
 * Left out (the points naming them are refused by the caller's check, with the reason): the
 * time column's name, a field of the table or one the write claims (`fields`), names a
 * column cannot take. A store's refusal of the alter (a field of that name added meanwhile
 * by another process) leaves the tag out too; other errors (the store failing) are thrown.
 */
export async function addNewTags(table: Table, keys: Iterable<string>, fields?: ReadonlyMap<string, unknown>): Promise<void> {
  const schema = table.schema;
  const add = new Set<string>();
  for (const k of keys) {
    if (add.has(k) || schema.tags.includes(k) || k === schema.time || fields?.has(k) || schema.fields.some((f) => f.name === k)) continue;
    try { validateColumnName(k); } catch { continue; }
    add.add(k);
  }
  if (add.size === 0) return;
  try {
    await table.addTags([...add].sort());
  } catch (error) {
    if (!(error instanceof SchemaError)) throw error;
  }
}
