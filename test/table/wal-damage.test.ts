import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC, type RecordBatch } from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import { WriteAheadLog, type WalRecoveryReport } from '../../src/table/wal.js';
import { scanWal, walFrame, WAL_FRAME_HEADER_BYTES, type WalScan } from '../../src/table/wal-scan.js';
import { crc32 } from '../../src/format/crc32.js';
import { QuiverError, WalCorruptError } from '../../src/errors.js';

const T0 = Date.UTC(2026, 0, 1);
const FRAMES = 5;
const ROWS_PER_FRAME = 10;

function tempDir(): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'quiver-wal-damage-'));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Value of row r of frame k (1-based): never 0, so no frame holds a page of zeros. */
const valueOf = (k: number, r: number) => 7 + k + r / 16;

/** A table with a WAL holding 5 acknowledged appends of 10 rows each, never flushed; returns the log's bytes. */
async function fiveFrameLog(store: string, wal: string): Promise<Uint8Array> {
  const db = await Quiver.open(store, { wal });
  const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
  for (let k = 1; k <= FRAMES; k++) {
    await t.append(Array.from({ length: ROWS_PER_FRAME }, (_, r) => ({ time: T0 + k * 1000 + r, host: `h${r % 3}`, v: valueOf(k, r) })));
  }
  await t.detachWal(); // as if the process died: the rows are only in the log
  return readFileSync(join(wal, 'm.wal'));
}

const sortedValues = async (db: Quiver) => Array.from((await (await db.table('m')).query({})).getChild('v')!.toArray() as Float64Array).sort((a, b) => a - b);
const expectedValues = (frames: number[]) => frames.flatMap((k) => Array.from({ length: ROWS_PER_FRAME }, (_, r) => valueOf(k, r))).sort((a, b) => a - b);

test('WAL: one flipped byte in frame 2 of 5 stops the open with a typed error and leaves the log untouched; salvage keeps the other 40 rows', async () => {
  const d = tempDir();
  const store = join(d.root, 'store');
  const wal = join(d.root, 'wal');
  try {
    const bytes = await fiveFrameLog(store, wal);
    const frames = scanWal(bytes, 'm.wal').frames;
    assert.equal(frames.length, FRAMES);
    const damaged = Uint8Array.from(bytes);
    const at = frames[1]!.offset + WAL_FRAME_HEADER_BYTES + 40;
    damaged[at] = damaged[at]! ^ 0x10;
    const logPath = join(wal, 'm.wal');
    writeFileSync(logPath, damaged);

    const strict = await Quiver.open(store, { wal });
    await assert.rejects(strict.table('m'), (e: unknown) => {
      assert.ok(e instanceof WalCorruptError, String(e));
      assert.equal(e.path, logPath);
      assert.equal(e.offset, frames[1]!.offset);
      assert.equal(e.frame, 2);
      assert.match(e.message, new RegExp(`${logPath.replaceAll('/', '\\/')} is damaged at byte ${frames[1]!.offset} \\(frame 2\\).*3 intact frame\\(s\\) follow.*walRecovery: 'salvage'.*quiver wal salvage`));
      return true;
    });
    assert.deepEqual(readFileSync(logPath), Buffer.from(damaged), 'the damaged log is left exactly as it was');
    await strict.close();

    const reports: WalRecoveryReport[] = [];
    const db = await Quiver.open(store, { wal, walRecovery: 'salvage', onWalRecovery: (r) => reports.push(r) });
    const t = await db.table('m');
    assert.equal(t.pendingRows, 40);
    assert.equal(reports.length, 1);
    const report = reports[0]!;
    assert.equal(report.kind, 'salvaged');
    assert.equal(report.framesKept, 4);
    assert.equal(report.rowsKept, 40);
    assert.deepEqual(report.lost.map((l) => [l.start, l.end, l.afterSeq, l.beforeSeq, l.committed]), [[frames[1]!.offset, frames[2]!.offset, 1, 3, false]]);
    assert.ok(report.movedTo && existsSync(report.movedTo));
    assert.deepEqual(readFileSync(report.movedTo), Buffer.from(damaged), 'the damaged bytes are kept aside');
    await db.close();

    const again = await Quiver.open(store, { wal, onWalRecovery: (r) => reports.push(r) });
    assert.deepEqual(await sortedValues(again), expectedValues([1, 3, 4, 5]));
    assert.equal((await again.table('m')).pendingRows, 0);
    assert.equal(reports.length, 1, 'the salvaged log opens cleanly');
    await again.close();
  } finally {
    d.cleanup();
  }
});

/** The scan of `bytes` with `mutate` applied to a copy. */
function scanMutated(bytes: Uint8Array, mutate: (b: Uint8Array) => Uint8Array | void): WalScan {
  const copy = Uint8Array.from(bytes);
  return scanWal(mutate(copy) ?? copy, 'm.wal');
}

test('WAL scan: a flipped bit anywhere in any frame (header or payload, first to last) is corruption at that frame', async () => {
  const d = tempDir();
  try {
    const bytes = await fiveFrameLog(join(d.root, 'store'), join(d.root, 'wal'));
    const frames = scanWal(bytes, 'm.wal').frames;
    let cases = 0;
    for (const [k, f] of frames.entries()) {
      for (let at = f.offset; at < f.end; at++) {
        for (const bit of [0x01, 0x80]) {
          const scan = scanMutated(bytes, (b) => { b[at] = b[at]! ^ bit; });
          const where = `frame ${k + 1}, byte ${at - f.offset} of ${f.end - f.offset}, bit ${bit}`;
          assert.equal(scan.torn, false, `${where}: taken for a torn tail`);
          assert.equal(scan.damage[0]!.start, f.offset, where);
          assert.equal(scan.damage[0]!.frame, k + 1, where);
          assert.deepEqual(scan.frames.map((x) => x.seq), [1, 2, 3, 4, 5].filter((s) => s !== k + 1), `${where}: every other frame is intact`);
          cases++;
        }
      }
    }
    assert.ok(cases > FRAMES * 2 * WAL_FRAME_HEADER_BYTES);
  } finally {
    d.cleanup();
  }
});

test('WAL scan: a log cut at every byte of its last frame is a torn tail; the four frames before it stay', async () => {
  const d = tempDir();
  try {
    const bytes = await fiveFrameLog(join(d.root, 'store'), join(d.root, 'wal'));
    const last = scanWal(bytes, 'm.wal').frames[FRAMES - 1]!;
    for (let cut = last.offset + 1; cut < last.end; cut++) {
      const scan = scanWal(bytes.subarray(0, cut), 'm.wal');
      assert.equal(scan.torn, true, `cut at ${cut}`);
      assert.equal(scan.validEnd, last.offset, `cut at ${cut}`);
      assert.deepEqual(scan.frames.map((f) => f.seq), [1, 2, 3, 4]);
    }
    const whole = scanWal(bytes.subarray(0, last.offset), 'm.wal');
    assert.deepEqual([whole.damage.length, whole.frames.length], [0, 4]);
  } finally {
    d.cleanup();
  }
});

test('WAL: a torn last frame is cut off on open and reported; a cut inside the header too', async () => {
  const d = tempDir();
  const store = join(d.root, 'store');
  const wal = join(d.root, 'wal');
  try {
    const bytes = await fiveFrameLog(store, wal);
    const last = scanWal(bytes, 'm.wal').frames[FRAMES - 1]!;
    for (const cut of [last.offset + 3, last.offset + WAL_FRAME_HEADER_BYTES + 17, last.end - 1]) {
      writeFileSync(join(wal, 'm.wal'), bytes.subarray(0, cut));
      const reports: WalRecoveryReport[] = [];
      const db = await Quiver.open(store, { wal, onWalRecovery: (r) => reports.push(r) });
      assert.equal((await db.table('m')).pendingRows, 40, `cut at ${cut}`);
      assert.deepEqual(reports.map((r) => [r.kind, r.framesKept, r.lost.map((l) => [l.start, l.end, l.afterSeq, l.beforeSeq])]), [['torn-tail', 4, [[last.offset, cut, 4, null]]]]);
      await (await db.table('m')).detachWal();
      assert.equal(readFileSync(join(wal, 'm.wal')).length, last.offset, 'the log now ends after frame 4');
    }
  } finally {
    d.cleanup();
  }
});

test('WAL scan: a complete last frame whose length field was changed is corruption, not a torn tail', async () => {
  const d = tempDir();
  try {
    const bytes = await fiveFrameLog(join(d.root, 'store'), join(d.root, 'wal'));
    const last = scanWal(bytes, 'm.wal').frames[FRAMES - 1]!;
    for (const length of [last.end - last.offset, 1 << 20, 0xffffffff, 5]) {
      const scan = scanMutated(bytes, (b) => { new DataView(b.buffer).setUint32(last.offset, length, true); });
      assert.equal(scan.torn, false, `length ${length}`);
      assert.equal(scan.damage[0]!.start, last.offset);
    }
  } finally {
    d.cleanup();
  }
});

test('WAL: a shifted or overwritten frame header in a log also cut short is corruption, not a torn tail (fuzz seed 13, cases 5 and 81)', async () => {
  const d = tempDir();
  const store = join(d.root, 'store');
  const wal = join(d.root, 'wal');
  try {
    const bytes = await fiveFrameLog(store, wal);
    const frames = scanWal(bytes, 'm.wal').frames;
    const cutAt = frames[3]!.offset + 100;
    const cutIn3 = frames[2]!.offset + 100;
    const damages: [string, (b: Uint8Array) => Uint8Array][] = [
      // Two bytes deleted at the start of frame 1: every later header moves, nothing resyncs.
      ['2 bytes deleted at frame 1', (b) => Buffer.concat([b.subarray(0, frames[0]!.offset), b.subarray(frames[0]!.offset + 2, cutAt)])],
      // Frame 1's header overwritten by bytes copied from the log id.
      ['frame 1 header overwritten', (b) => { b.copyWithin(20, 13, 37); return b.subarray(0, cutAt); }],
      // Frame 3's seq overwritten, the file cut inside frame 3 (frames 1 and 2 stay intact).
      ['frame 3 seq changed', (b) => { new DataView(b.buffer).setBigUint64(frames[2]!.offset + 8, 2n ** 40n, true); return b.subarray(0, cutIn3); }],
      // Frame 1's length raised past the cut inside frame 2: frame 1 is whole under its true length (fuzz seed 1, case 1054).
      ['frame 1 length raised', (b) => { new DataView(b.buffer).setUint32(frames[0]!.offset, frames[0]!.end - frames[0]!.offset + 300, true); return b.subarray(0, frames[1]!.offset + 100); }],
      // The same with a byte of frame 1's payload changed too: frame 2's header lies inside it (fuzz seed 1, case 6408).
      ['frame 1 length raised, payload changed', (b) => { new DataView(b.buffer).setUint32(frames[0]!.offset, 70_000, true); b[frames[0]!.offset + 700]! ^= 0x08; return b.subarray(0, frames[2]!.offset + 100); }],
      // Frame 3's length above the frame limit, the file cut inside frame 3 (fuzz seed 1, case 3726).
      ['frame 3 length over the limit', (b) => { new DataView(b.buffer).setUint32(frames[2]!.offset, 2 ** 31, true); return b.subarray(0, cutIn3); }],
      // Frame 3's group offset set to another frame's, the file cut inside frame 3.
      ['frame 3 group offset changed', (b) => { new DataView(b.buffer).setBigUint64(frames[2]!.offset + 16, BigInt(frames[0]!.offset), true); return b.subarray(0, cutIn3); }],
    ];
    for (const [what, damage] of damages) {
      const damaged = damage(Uint8Array.from(bytes));
      const scan = scanWal(damaged, 'm.wal');
      assert.equal(scan.torn, false, `${what}: taken for a torn tail`);
      writeFileSync(join(wal, 'm.wal'), damaged);
      const db = await Quiver.open(store, { wal });
      await assert.rejects(db.table('m'), (e: unknown) => e instanceof WalCorruptError, what);
      await db.close();
      assert.deepEqual(readFileSync(join(wal, 'm.wal')), Buffer.from(damaged), `${what}: the log is left as it was`);
    }
    // The same cuts alone are torn tails: the frames before them replay.
    const cut = scanWal(bytes.subarray(0, cutAt), 'm.wal');
    assert.deepEqual([cut.torn, cut.frames.map((f) => f.seq)], [true, [1, 2, 3]]);
    const cut3 = scanWal(bytes.subarray(0, cutIn3), 'm.wal');
    assert.deepEqual([cut3.torn, cut3.frames.map((f) => f.seq)], [true, [1, 2]]);
  } finally {
    d.cleanup();
  }
});

function batchOf(values: number[]): RecordBatch {
  return tableFromArrays({ v: Float64Array.from(values) }).batches[0]!;
}

/** A log with one synced write of `before` frames, then one group write of `group` frames (appended together); its bytes and frames. */
async function groupLog(dir: string, before: number, group: number): Promise<{ bytes: Uint8Array; scan: WalScan }> {
  const { wal } = await WriteAheadLog.open(dir, 'g', () => 0);
  for (let i = 0; i < before; i++) await wal.append(batchOf(Array.from({ length: 200 }, (_, j) => 1 + i + j / 8)));
  // Appended while the first is being written: the rest share one write.
  await Promise.all(Array.from({ length: group }, (_, i) => wal.append(batchOf(Array.from({ length: 200 }, (_, j) => 100 + i + j / 8)))));
  await wal.close();
  const bytes = readFileSync(WriteAheadLog.pathOf(dir, 'g'));
  return { bytes, scan: scanWal(bytes, 'g.wal') };
}

test('WAL scan: pages of the last write that never reached the disk (zeros) are a torn tail even when frames of that write follow', async () => {
  const d = tempDir();
  try {
    const { bytes, scan } = await groupLog(d.root, 2, 12);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const groups = scan.frames.map((f) => Number(view.getBigUint64(f.offset + 16, true)));
    assert.deepEqual(groups.slice(0, 2), [scan.frames[0]!.offset, scan.frames[1]!.offset], 'the first two frames were separate writes');
    const lastGroup = groups[groups.length - 1]!;
    const inLastGroup = scan.frames.filter((_, i) => groups[i] === lastGroup);
    assert.ok(inLastGroup.length >= 8, `group commit put ${inLastGroup.length} frames in the last write`);
    // A page inside the last write reads as zeros (a power loss persisted the size, not that page).
    const page = Math.ceil((inLastGroup[2]!.offset + 1) / 4096) * 4096;
    assert.ok(page + 4096 < inLastGroup[inLastGroup.length - 1]!.offset, 'valid frames of the same write follow the page');
    const torn = scanMutated(bytes, (b) => { b.fill(0, page, page + 4096); });
    assert.equal(torn.torn, true);
    assert.ok(torn.frames.some((f) => f.offset > page + 4096), 'frames of the same write follow the damage');
    assert.ok(torn.validEnd <= page && torn.validEnd >= lastGroup);
    // The same zeros inside an earlier, synced write, followed by a later write: corruption.
    const early = scanMutated(bytes, (b) => { b.fill(0, scan.frames[0]!.offset + 30, scan.frames[0]!.end); });
    assert.equal(early.torn, false);
    // A flipped byte (not zeros) in the last write with frames of it following: corruption.
    const flipped = scanMutated(bytes, (b) => { b[page + 100] = b[page + 100]! ^ 0x04; });
    assert.equal(flipped.torn, false);
  } finally {
    d.cleanup();
  }
});

test('WAL: salvage through the log API keeps frames on both sides of two damaged ranges and reports each', async () => {
  const d = tempDir();
  try {
    const dir = join(d.root, 'wal');
    const { wal } = await WriteAheadLog.open(dir, 's', () => 0);
    for (let k = 1; k <= 6; k++) await wal.append(batchOf([k, k + 0.5]));
    await wal.close();
    const path = WriteAheadLog.pathOf(dir, 's');
    const bytes = readFileSync(path);
    const frames = scanWal(bytes, path).frames;
    const damaged = Uint8Array.from(bytes);
    damaged[frames[1]!.offset + 2] = damaged[frames[1]!.offset + 2]! ^ 0xff; // frame 2's length
    damaged[frames[3]!.end - 1] = damaged[frames[3]!.end - 1]! ^ 0x01; // frame 4's last payload byte
    writeFileSync(path, damaged);
    await assert.rejects(WriteAheadLog.open(dir, 's', () => 0), WalCorruptError);
    const { wal: salvaged, pending, recovery } = await WriteAheadLog.open(dir, 's', () => 0, { recovery: 'salvage' });
    await salvaged.close();
    assert.deepEqual(pending.map((b) => b.getChild('v')!.get(0)), [1, 3, 5, 6]);
    assert.deepEqual(recovery?.lost.map((l) => [l.start, l.end, l.afterSeq, l.beforeSeq]), [
      [frames[1]!.offset, frames[2]!.offset, 1, 3],
      [frames[3]!.offset, frames[4]!.offset, 3, 5],
    ]);
    // Frames at or below the table's mark were committed: losing them loses no row.
    writeFileSync(path, damaged);
    const marked = await WriteAheadLog.salvage(path, { mark: () => 2, dryRun: true });
    assert.deepEqual(marked.report?.lost.map((l) => l.committed), [true, false]);
    assert.deepEqual(readFileSync(path), Buffer.from(damaged), 'a dry run changes nothing');
  } finally {
    d.cleanup();
  }
});

test('WAL: a version 1 log (16-byte frame headers) is replayed, rewritten as version 2, and damage followed by frames in it is corruption', async () => {
  const d = tempDir();
  try {
    const id = '0123456789abcdef';
    const frameV1 = (seq: number, payload: Uint8Array) => {
      const out = new Uint8Array(16 + payload.length);
      const view = new DataView(out.buffer);
      view.setUint32(0, payload.length, true);
      view.setBigUint64(8, BigInt(seq), true);
      out.set(payload, 16);
      view.setUint32(4, crc32(out.subarray(8)), true);
      return out;
    };
    const payloads = [1, 2, 3].map((v) => tableToIPC(tableFromArrays({ v: Float64Array.of(v) }), 'stream'));
    const v1 = Buffer.concat([Buffer.from(`QVRWAL1\n${id}`), ...payloads.map((p, i) => frameV1(i + 1, p))]);
    mkdirSync(d.root, { recursive: true });
    const path = WriteAheadLog.pathOf(d.root, 'old');
    writeFileSync(path, v1);
    const { wal, pending } = await WriteAheadLog.open(d.root, 'old', () => 1);
    await wal.close();
    assert.equal(wal.id, id);
    assert.deepEqual(pending.map((b) => b.getChild('v')!.get(0)), [2, 3], 'frames at or below the mark are skipped');
    const rewritten = readFileSync(path);
    assert.equal(rewritten.subarray(0, 8).toString(), 'QVRWAL2\n');
    assert.deepEqual(scanWal(rewritten, path).frames.map((f) => f.seq), [2, 3]);

    const damaged = Buffer.from(v1);
    damaged[24 + 16 + 5] = damaged[24 + 16 + 5]! ^ 0x20; // frame 1's payload; frames 2 and 3 follow
    writeFileSync(path, damaged);
    await assert.rejects(WriteAheadLog.open(d.root, 'old', () => 0), (e: unknown) => e instanceof WalCorruptError && e.offset === 24 && e.frame === 1);
  } finally {
    d.cleanup();
  }
});

test('WAL scan: random bytes after the header end in a typed outcome quickly, and a bad header is a clear error', async () => {
  let seed = 0x5eed;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const header = Buffer.from('QVRWAL2\n0123456789abcdef');
  for (let i = 0; i < 20; i++) {
    const body = Uint8Array.from({ length: 1 + Math.floor(rand() * 20_000) }, () => Math.floor(rand() * 256));
    const scan = scanWal(Buffer.concat([header, body]), 'r.wal');
    assert.equal(scan.frames.length, 0, `seed 0x5eed case ${i}`);
    assert.equal(scan.damage.length, 1);
  }
  assert.throws(() => scanWal(Buffer.from('QVRWAL9\n0123456789abcdef'), 'x.wal'), (e: unknown) => e instanceof QuiverError && /x\.wal is not a Quiver write-ahead log \(bad header\)/.test((e as Error).message));
  assert.throws(() => scanWal(Buffer.from('QVRWAL2\n0123'), 'x.wal'), /shorter than its 24-byte header/);
  // A frame that is valid, built by hand, reads back.
  const one = Buffer.concat([header, walFrame(1, 24, tableToIPC(tableFromArrays({ v: Float64Array.of(4) }), 'stream'))]);
  assert.deepEqual(scanWal(one, 'ok.wal').frames.map((f) => f.seq), [1]);
});
