/**
 * The DuckDB side of `db.sql()`, in a worker thread. DuckDB calls a table function's scan
 * synchronously, while Quiver's scan is asynchronous: so DuckDB runs here, and each call for
 * rows asks the main thread (which owns the Quiver store, its caches and its scans) for the
 * next Arrow batch, blocking this thread on a shared counter until the answer is on a
 * dedicated port (Atomics.wait + receiveMessageOnPort). One batch is in flight per scan, and
 * at most RESULTS_AHEAD result chunks wait for the consumer, so memory stays bounded. Results
 * go back as Arrow IPC, chunk by chunk.
 *
 * The worker always ends by itself, after closing DuckDB: terminating a thread while DuckDB
 * still runs aborts the process (DuckDB's threads call into a torn-down JS environment). A
 * consumer that stops early sets the shared cancel flag and posts 'cancel'; the worker then
 * interrupts the query, answers its own pending scan calls with an error, and ends.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import {
  Bool, Field, Float64, Int64, makeData, RecordBatch, Schema, Struct, tableFromIPC, tableToIPC, Table as ArrowTable, Timestamp,
  TimeUnit as ArrowTimeUnit, Type, Uint64, Utf8, vectorFromArray, type DataType, type Vector,
} from 'apache-arrow';
import type { SqlRequest, SqlTable, WorkerReply, ScanReply } from './protocol.js';
import { fieldTypeInfo, formatValue, valueAt, type FieldTypeInfo, type FieldValue } from '../format/field-types.js';

const PLAIN_TYPES: ReadonlySet<string> = new Set(['float64', 'int64', 'uint64', 'bool', 'utf8']);

const { query, tables, port, signal } = workerData as SqlRequest & { port: MessagePort; signal: SharedArrayBuffer };
/** [REPLIES] bumped by the main thread after each scan reply; [CANCEL] set when the consumer stopped; [CONSUMED] result chunks consumed. */
const control = new Int32Array(signal);
const REPLIES = 0, CANCEL = 1, CONSUMED = 2;
/** Result chunks posted and not yet consumed before the worker waits. */
const RESULTS_AHEAD = 4;
const cancelled = () => Atomics.load(control, CANCEL) !== 0;
const post = (message: WorkerReply, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(message, transfer);

/** DuckDB's chunk size. */
const VECTOR_SIZE = 2048;

let duck: typeof import('@duckdb/node-api');
try {
  duck = await import('@duckdb/node-api');
} catch (error) {
  post({ type: 'error', missing: true, message: (error as Error).message });
  process.exit(0);
}

/** Blocks until the main thread answers request `id`'s next batch. */
function nextBatch(id: number): ScanReply {
  let seen = Atomics.load(control, REPLIES);
  post({ type: 'next', id });
  for (;;) {
    const got = receiveMessageOnPort(port);
    if (got) return got.message as ScanReply;
    if (cancelled()) return { id, error: 'the query was cancelled' };
    // The main thread bumps the counter after each reply (and on cancel): wait for a bump past `seen`.
    Atomics.wait(control, REPLIES, seen);
    seen = Atomics.load(control, REPLIES);
  }
}

/** Waits until the consumer has taken all but RESULTS_AHEAD of the `sent` chunks; false when it cancelled. */
function awaitConsumer(sent: number): boolean {
  for (;;) {
    if (cancelled()) return false;
    const consumed = Atomics.load(control, CONSUMED);
    if (sent - consumed < RESULTS_AHEAD) return true;
    Atomics.wait(control, CONSUMED, consumed);
  }
}

function duckType(t: SqlTable, name: string) {
  if (name === t.schema.time) return { s: duck.TIMESTAMP_S, ms: duck.TIMESTAMP_MS, us: duck.TIMESTAMP, ns: duck.TIMESTAMP_NS }[t.schema.timeUnit];
  if (t.schema.tags.includes(name)) return duck.VARCHAR;
  const f = t.schema.fields.find((x) => x.name === name)!;
  switch (f.type) {
    case 'float64': return duck.DOUBLE;
    case 'int64': return duck.BIGINT;
    case 'uint64': return duck.UBIGINT;
    case 'bool': return duck.BOOLEAN;
    case 'utf8': return duck.VARCHAR;
  }
  const info = fieldTypeInfo(f.type);
  switch (sqlKindOf(info)) {
    case 'blob': return duck.BLOB;
    case 'date': return duck.DATE;
    case 'time': return duck.TIME;
    case 'time_ns': return duck.TIME_NS;
    case 'count': return duck.BIGINT;
    case 'timestamptz': return duck.TIMESTAMPTZ;
    case 'timestamp': return { s: duck.TIMESTAMP_S, ms: duck.TIMESTAMP_MS, us: duck.TIMESTAMP, ns: duck.TIMESTAMP_NS }[info.unit ?? 'ms'];
    case 'decimal': return duck.DECIMAL(info.precision!, info.scale!);
    case 'text': return duck.VARCHAR;
  }
}

/**
 * How a field type is given to DuckDB, exactly: binary as BLOB; date32 as DATE; date64 (which
 * may hold a time of day) and timestamps as DuckDB's timestamp of the same unit (zoned µs
 * timestamps as TIMESTAMPTZ: the instant is the same); times of day as TIME (µs) or TIME_NS;
 * durations as the BIGINT count of their unit (DuckDB's INTERVAL has months and days, not one
 * exact count); decimals as DECIMAL(p,s) where DuckDB has it (p ≤ 38, 0 ≤ s ≤ p), else as
 * their exact text.
 */
function sqlKindOf(info: FieldTypeInfo): 'blob' | 'date' | 'time' | 'time_ns' | 'count' | 'timestamp' | 'timestamptz' | 'decimal' | 'text' {
  if (info.bytes) return 'blob';
  switch (info.family) {
    case 'date32': return 'date';
    case 'date64': return 'timestamp';
    case 'time': return info.unit === 'ns' ? 'time_ns' : 'time';
    case 'duration': return 'count';
    case 'timestamp': return info.timeZone != null && info.unit === 'us' ? 'timestamptz' : 'timestamp';
    case 'decimal': return info.precision! <= 38 && info.scale! >= 0 && info.scale! <= info.precision! ? 'decimal' : 'text';
    default: return 'text';
  }
}

/** A DuckDB value of a stored field value (see sqlKindOf). */
function duckValue(info: FieldTypeInfo, v: FieldValue): unknown {
  const int = v as bigint;
  switch (sqlKindOf(info)) {
    case 'blob': return duck.blobValue((v as Uint8Array).slice());
    case 'date': return duck.dateValue(Number(int));
    case 'time': return duck.timeValue(int * { s: 1_000_000n, ms: 1_000n, us: 1n, ns: 1n }[info.unit!]);
    case 'time_ns': return duck.timeNSValue(int);
    case 'count': return int;
    case 'timestamptz': return duck.timestampTZValue(int);
    case 'timestamp': {
      const make = { s: duck.timestampSecondsValue, ms: duck.timestampMillisValue, us: duck.timestampValue, ns: duck.timestampNanosValue }[info.unit ?? 'ms'] as (x: bigint) => unknown;
      return make(int);
    }
    case 'decimal': return duck.decimalValue(int, info.precision!, info.scale!);
    case 'text': return formatValue(info, v);
  }
}

interface ScanState { id: number; names: (string | undefined)[]; batch?: RecordBatch; at: number; done: boolean; rowId: bigint }
let nextScanId = 1;

const instance = await duck.DuckDBInstance.create(':memory:');
const conn = await instance.connect();
const onCancel = () => conn.interrupt();
parentPort!.on('message', onCancel);
for (const t of tables) {
  const columns = [t.schema.time, ...t.schema.tags, ...t.schema.fields.map((f) => f.name)];
  const named: Record<string, InstanceType<typeof duck.DuckDBVarCharType>> = { from_time: duck.VARCHAR, to_time: duck.VARCHAR };
  for (const tag of t.schema.tags) if (!(tag in named)) named[tag] = duck.VARCHAR;
  const fn = duck.DuckDBTableFunction.create({
    name: t.name,
    namedParameterTypes: named,
    supportsProjectionPushdown: true,
    bindFunction(info) {
      for (const c of columns) info.addResultColumn(c, duckType(t, c));
      const where: Record<string, string[]> = {};
      for (const tag of t.schema.tags) {
        const v = info.getNamedParameter(tag);
        if (v !== null) where[tag] = String(v).split('|');
      }
      const from = info.getNamedParameter('from_time');
      const to = info.getNamedParameter('to_time');
      info.setBindData({ where, from: from === null ? undefined : String(from), to: to === null ? undefined : String(to) });
    },
    initFunction(info) {
      const bind = info.bindData as { where: Record<string, string[]>; from?: string; to?: string };
      const names = info.getColumnIndexes().map((i) => columns[i]);
      const id = nextScanId++;
      const wanted = names.filter((n): n is string => n !== undefined && n !== t.schema.time);
      post({ type: 'scan', id, table: t.name, columns: wanted, where: bind.where, ...(bind.from !== undefined ? { from: bind.from } : {}), ...(bind.to !== undefined ? { to: bind.to } : {}) });
      info.setInitData({ id, names, at: 0, done: false, rowId: 0n } satisfies ScanState);
      info.setMaxThreads(1);
    },
    mainFunction(info, output) {
      const state = info.initData as ScanState;
      while (!state.done && (!state.batch || state.at >= state.batch.numRows)) {
        const reply = nextBatch(state.id);
        if (reply.error !== undefined) { info.setError(reply.error); output.rowCount = 0; return; }
        if (reply.done) { state.done = true; break; }
        state.batch = tableFromIPC(reply.ipc!).batches[0];
        state.at = 0;
      }
      if (state.done || !state.batch) { output.rowCount = 0; return; }
      const n = Math.min(VECTOR_SIZE, state.batch.numRows - state.at);
      output.rowCount = n;
      state.names.forEach((name, k) => {
        if (name === undefined) { // a row id DuckDB asked for
          output.setColumnValues(k, Array.from({ length: n }, (_, i) => state.rowId + BigInt(i)));
          return;
        }
        output.setColumnValues(k, columnValues(t, name, state.batch!, state.at, n) as never);
      });
      state.at += n;
      state.rowId += BigInt(n);
    },
  });
  conn.registerTableFunction(fn);
  // `FROM cpu` reads the whole table (projection pushed down); `FROM cpu(from_time := …)` narrows it.
  await conn.run(`CREATE VIEW ${quoteIdent(t.name)} AS SELECT * FROM ${quoteIdent(t.name)}()`);
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A column of a batch as DuckDB values, rows [at, at + n). */
function columnValues(t: SqlTable, name: string, batch: RecordBatch, at: number, n: number): unknown[] {
  const vector = batch.getChild(name) as Vector;
  const out = new Array<unknown>(n);
  if (name === t.schema.time) {
    const data = vector.data[0]!;
    const values = data.values as BigInt64Array;
    const make = { s: duck.timestampSecondsValue, ms: duck.timestampMillisValue, us: duck.timestampValue, ns: duck.timestampNanosValue }[t.schema.timeUnit] as (v: bigint) => unknown;
    for (let i = 0; i < n; i++) out[i] = make(values[at + i]!);
    return out;
  }
  const type = t.schema.fields.find((x) => x.name === name)?.type;
  if (type !== undefined && !PLAIN_TYPES.has(type)) {
    const info = fieldTypeInfo(type);
    const data = vector.data[0]!;
    for (let i = 0; i < n; i++) out[i] = data.getValid(at + i) ? duckValue(info, valueAt(info, data, at + i)) : null;
    return out;
  }
  for (let i = 0; i < n; i++) {
    const v = vector.isValid(at + i) ? vector.get(at + i) : null;
    out[i] = v;
  }
  return out;
}

// The query; results stream back as Arrow IPC batches.
try {
  const result = await conn.stream(query);
  const names = result.columnNames();
  const types = result.columnTypes();
  const arrowTypes = types.map((ty) => arrowTypeOf(ty.typeId));
  const fields = names.map((name, j) => new Field(name, arrowTypes[j]!, true));
  const schema = new Schema(fields);
  let sent = 0;
  for (;;) {
    if (!awaitConsumer(sent)) throw new Error('the query was cancelled');
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const columns = chunk.getColumns();
    const children = columns.map((values, j) => arrowData(arrowTypes[j]!, values as unknown[]));
    const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: chunk.rowCount, nullCount: 0, children }));
    const ipc = tableToIPC(new ArrowTable([batch]), 'stream');
    post({ type: 'batch', ipc }, [ipc.buffer as ArrayBuffer]);
    sent++;
  }
  if (sent === 0) {
    const ipc = tableToIPC(new ArrowTable(schema), 'stream');
    post({ type: 'batch', ipc, empty: true }, [ipc.buffer as ArrayBuffer]);
  }
  post({ type: 'done' });
} catch (error) {
  post({ type: 'error', message: (error as Error).message });
} finally {
  conn.closeSync();
  instance.closeSync();
  parentPort!.off('message', onCancel); // nothing left holds the thread: it ends
}

/** Arrow type of a DuckDB result column: exact, or a string where no Arrow type here holds the value. */
function arrowTypeOf(id: number): DataType {
  const T = duck.DuckDBTypeId;
  switch (id) {
    case T.BOOLEAN: return new Bool();
    case T.TINYINT: case T.SMALLINT: case T.INTEGER: case T.BIGINT: return new Int64();
    case T.UTINYINT: case T.USMALLINT: case T.UINTEGER: case T.UBIGINT: return new Uint64();
    case T.FLOAT: case T.DOUBLE: return new Float64();
    case T.TIMESTAMP_S: return new Timestamp(ArrowTimeUnit.SECOND);
    case T.TIMESTAMP_MS: return new Timestamp(ArrowTimeUnit.MILLISECOND);
    case T.TIMESTAMP: return new Timestamp(ArrowTimeUnit.MICROSECOND);
    case T.TIMESTAMP_TZ: return new Timestamp(ArrowTimeUnit.MICROSECOND, 'UTC');
    case T.TIMESTAMP_NS: return new Timestamp(ArrowTimeUnit.NANOSECOND);
    default: return new Utf8(); // HUGEINT, DECIMAL, DATE, INTERVAL, lists…: their exact text
  }
}

function arrowData(type: DataType, values: unknown[]) {
  const n = values.length;
  if (type.typeId === Type.Int || type.typeId === Type.Timestamp) {
    const data = new BigInt64Array(n);
    const bitmap = new Uint8Array((n + 7) >> 3);
    let nulls = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === null || v === undefined) { nulls++; continue; }
      bitmap[i >> 3]! |= 1 << (i & 7);
      data[i] = type.typeId === Type.Int ? BigInt.asIntN(64, BigInt(v as bigint | number)) : timestampOf(v);
    }
    return makeData({ type, length: n, nullCount: nulls, nullBitmap: nulls ? bitmap : null, data: type.typeId === Type.Int && !(type as Int64).isSigned ? new BigUint64Array(data.buffer) : data } as never);
  }
  if (type.typeId === Type.Float) return vectorFromArray(values.map((v) => (v === null ? null : Number(v))), new Float64()).data[0]!;
  if (type.typeId === Type.Bool) return vectorFromArray(values as (boolean | null)[], new Bool()).data[0]!;
  return vectorFromArray(values.map((v) => (v === null || v === undefined ? null : String(v))), new Utf8()).data[0]!;
}

function timestampOf(v: unknown): bigint {
  const t = v as { micros?: bigint; nanos?: bigint; millis?: bigint; seconds?: bigint };
  return t.nanos ?? t.micros ?? t.millis ?? t.seconds ?? 0n;
}
