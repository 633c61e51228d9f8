import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ChunkManager } from '../../src/chunk-manager/chunk-manager.js';
import { AlreadyExistsError, NotFoundError, StoreError, UsageError } from '../../src/errors.js';

/**
 * The one contract every ChunkManager backend passes (memory, local with and without mmap,
 * S3, Azure). Each run works under a fresh random prefix, so it can share a bucket.
 */
export function chunkManagerContract(name: string, make: () => Promise<{ cm: ChunkManager; cleanup(): Promise<void> }>): void {
  describe(`ChunkManager contract: ${name}`, () => {
    let cm: ChunkManager;
    let cleanup: () => Promise<void>;
    const p = `contract-${randomBytes(4).toString('hex')}/`;
    const bytes = (n: number, seed = 1) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
      return out;
    };

    before(async () => ({ cm, cleanup } = await make()));
    after(async () => {
      const keys = await cm.list(p);
      if (keys.length) await cm.delete(keys);
      await cleanup();
    });

    it('put then get returns the same bytes, binary and empty included', async () => {
      const all = new Uint8Array(256).map((_, i) => i);
      await cm.put(`${p}bin`, all);
      assert.deepEqual(await cm.get(`${p}bin`), all);
      await cm.put(`${p}empty`, new Uint8Array(0));
      assert.equal((await cm.get(`${p}empty`)).length, 0);
      assert.equal(await cm.size(`${p}empty`), 0);
    });

    it('holds a 20 MB object and reads ranges of it', async () => {
      const big = bytes(20 * 1024 * 1024, 3);
      await cm.put(`${p}big`, big);
      assert.equal(await cm.size(`${p}big`), big.length);
      const got = await cm.get(`${p}big`);
      assert.equal(got.length, big.length);
      assert.ok(Buffer.compare(Buffer.from(got), Buffer.from(big)) === 0);
      const tail = await cm.getRange(`${p}big`, big.length - 1000, 1000);
      assert.deepEqual(tail, big.subarray(big.length - 1000));
    });

    it('getRange and getRanges return exact slices in request order', async () => {
      const data = bytes(10_000, 5);
      await cm.put(`${p}ranges`, data);
      assert.deepEqual(await cm.getRange(`${p}ranges`, 100, 50), data.subarray(100, 150));
      assert.equal((await cm.getRange(`${p}ranges`, 10, 0)).length, 0);
      const ranges = [{ offset: 9000, length: 1000 }, { offset: 0, length: 10 }, { offset: 10, length: 20 }, { offset: 5000, length: 1 }];
      const parts = await cm.getRanges(`${p}ranges`, ranges);
      assert.equal(parts.length, ranges.length);
      ranges.forEach((r, i) => assert.deepEqual(parts[i], data.subarray(r.offset, r.offset + r.length)));
    });

    it('getRangesInto (where offered) copies the same slices one after another, and rejects what getRanges rejects', async () => {
      if (cm.getRangesInto === undefined) return; // optional: backends that keep no copy of their own (ChunkManager.getRangesInto)
      const data = bytes(10_000, 9);
      await cm.put(`${p}into`, data);
      const ranges = [{ offset: 9000, length: 1000 }, { offset: 0, length: 10 }, { offset: 10, length: 20 }, { offset: 5000, length: 1 }];
      const into = new Uint8Array(1031).fill(0xee);
      await cm.getRangesInto(`${p}into`, ranges, into);
      let at = 0;
      for (const r of ranges) {
        assert.deepEqual(into.subarray(at, at + r.length), data.subarray(r.offset, r.offset + r.length));
        at += r.length;
      }
      await assert.rejects(cm.getRangesInto(`${p}into`, [{ offset: 9990, length: 20 }], new Uint8Array(20)), StoreError);
      await assert.rejects(cm.getRangesInto(`${p}into`, ranges, new Uint8Array(1030)), /ranges of 1031 bytes into 1030/);
      await assert.rejects(cm.getRangesInto(`${p}missing-into`, [{ offset: 0, length: 1 }], new Uint8Array(1)), NotFoundError);
    });

    it('rejects a range past the end', async () => {
      await cm.put(`${p}short`, bytes(100));
      await assert.rejects(cm.getRange(`${p}short`, 90, 20), StoreError);
    });

    it('every read of a missing key is NotFoundError; exists is false', async () => {
      const k = `${p}missing`;
      await assert.rejects(cm.get(k), NotFoundError);
      await assert.rejects(cm.getRange(k, 0, 1), NotFoundError);
      await assert.rejects(cm.getRanges(k, [{ offset: 0, length: 1 }]), NotFoundError);
      await assert.rejects(cm.size(k), NotFoundError);
      assert.equal(await cm.exists(k), false);
    });

    it('put overwrites; ifAbsent refuses an existing key', async () => {
      const k = `${p}over`;
      await cm.put(k, bytes(10, 1));
      await cm.put(k, bytes(20, 2));
      assert.deepEqual(await cm.get(k), bytes(20, 2));
      await assert.rejects(cm.put(k, bytes(5), { ifAbsent: true }), AlreadyExistsError);
      assert.deepEqual(await cm.get(k), bytes(20, 2));
      await cm.put(`${p}fresh`, bytes(3), { ifAbsent: true });
      assert.equal(await cm.exists(`${p}fresh`), true);
    });

    it('of 8 concurrent conditional creates exactly one wins', async () => {
      const k = `${p}race/00000000000000000002.json`;
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => cm.put(k, bytes(64, i + 10), { ifAbsent: true })));
      const won = results.map((r, i) => ({ r, i })).filter(({ r }) => r.status === 'fulfilled');
      assert.equal(won.length, 1);
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof AlreadyExistsError, String(r.reason));
      assert.deepEqual(await cm.get(k), bytes(64, won[0]!.i + 10));
    });

    it('lists recursively and by level, sorted, past a page of 1,000 keys', async () => {
      const base = `${p}list/`;
      const keys: string[] = [];
      for (let i = 0; i < 1100; i++) keys.push(`${base}a/${String(i).padStart(5, '0')}`);
      keys.push(`${base}b/x/1`, `${base}b/y`, `${base}c`);
      for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => cm.put(k, bytes(1))));
      const all = await cm.list(base);
      assert.deepEqual(all, [...keys].sort());
      assert.deepEqual(await cm.list(base, { recursive: false }), [`${base}a/`, `${base}b/`, `${base}c`]);
      assert.deepEqual(await cm.list(`${base}b/`, { recursive: false }), [`${base}b/x/`, `${base}b/y`]);
      assert.deepEqual(await cm.list(`${base}a/0109`), [`${base}a/01090`, `${base}a/01091`, `${base}a/01092`, `${base}a/01093`, `${base}a/01094`, `${base}a/01095`, `${base}a/01096`, `${base}a/01097`, `${base}a/01098`, `${base}a/01099`]);
      assert.deepEqual(await cm.list(`${p}nothing-here/`), []);
      await cm.delete(all);
      assert.deepEqual(await cm.list(base), []);
    });

    it('delete removes present keys and ignores missing ones', async () => {
      await cm.put(`${p}del/a`, bytes(1));
      await cm.put(`${p}del/b`, bytes(1));
      await cm.delete([`${p}del/a`, `${p}del/never`]);
      assert.equal(await cm.exists(`${p}del/a`), false);
      assert.equal(await cm.exists(`${p}del/b`), true);
    });

    it('keys with spaces and unicode round-trip', async () => {
      const k = `${p}ünï cödé/ключ 1.qvr`;
      await cm.put(k, bytes(7));
      assert.deepEqual(await cm.get(k), bytes(7));
      assert.ok((await cm.list(p)).includes(k));
    });

    it('rejects keys that could leave the store', async () => {
      for (const k of ['../x', '/abs', '', 'a/../b', 'a//b', 'a\u0001b', 'a\\b', './a']) {
        await assert.rejects(cm.put(k, bytes(1)), UsageError, `key ${JSON.stringify(k)}`);
        await assert.rejects(cm.get(k), UsageError, `key ${JSON.stringify(k)}`);
      }
    });
  });
}
