import type { Table as ArrowTable } from 'apache-arrow';

/** Test helper: a query result's rows as text, every cell exact. */

/** Floats as their bit patterns (NaN payloads and -0 told apart), bigints as strings. */
export function exactRows(t: ArrowTable): string[] {
  const view = new DataView(new ArrayBuffer(8));
  const cell = (v: unknown): string => {
    if (typeof v === 'number') { view.setFloat64(0, v); return `f${view.getBigUint64(0).toString(16)}`; }
    if (typeof v === 'bigint') return `i${v}`;
    if (v instanceof Uint8Array) return `b${Buffer.from(v).toString('hex')}`;
    return JSON.stringify(v);
  };
  const names = t.schema.fields.map((f) => f.name);
  const out: string[] = [];
  for (const batch of t.batches) {
    for (let i = 0; i < batch.numRows; i++) {
      out.push(names.map((n) => {
        const col = batch.getChild(n)!;
        if (!col.isValid(i)) return `${n}=null`;
        const data = col.data[0]!;
        // Times and floats read from their buffers (get() would turn timestamps into float ms).
        const values = data.values as unknown;
        if (values instanceof Float64Array || values instanceof BigInt64Array || values instanceof BigUint64Array) return `${n}=${cell(values[i])}`;
        return `${n}=${cell(col.get(i))}`;
      }).join(' '));
    }
  }
  return out;
}
