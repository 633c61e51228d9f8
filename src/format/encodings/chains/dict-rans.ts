import type { ByteReader, ByteWriter } from '../bytes.js';
import { fromRelative } from '../int64.js';
import { distinctSorted, ransId, TRIAL_VALUES_MIN, type IntChainCoder } from '../int-chain.js';
import { decodeRansDict, encodeRans } from '../rans.js';
import { EncodingError } from '../types.js';

/** Distinct values a `dict>rans` page may hold (its codes are rANS symbols). */
export const DICT_VALUES_MAX = 256;

/** A `dict>rans` page's sorted distinct values. */
function readDictionary(r: ByteReader, n: number, id: string): Float64Array {
  const k = r.varint();
  if (k > DICT_VALUES_MAX || (n > 0 && k === 0)) throw new EncodingError(`${id} dictionary of ${k} values`);
  const dictionary = new Float64Array(k);
  let x = k > 0 ? r.svarint() : 0;
  for (let i = 0; i < k; i++) {
    if (i > 0) x += r.varint();
    if (!Number.isSafeInteger(x)) throw new EncodingError(`${id} dictionary value ${x} outside the exact range`);
    dictionary[i] = x;
  }
  return dictionary;
}

/**
 * `dict>rans` (`dict>rans2`): few distinct values (≤ 256, e.g. trade volumes in round lots):
 * varint count, svarint smallest, varint gaps of the sorted distinct values, then each
 * value's index rANS-coded. Tried on pages of TRIAL_VALUES_MIN+ values that are not runs.
 */
function dictRans(lanes: 1 | 2): IntChainCoder {
  const id = ransId('dict>rans', lanes);
  return {
    id,
    encode(v: Float64Array, w: ByteWriter): void {
      const dictionary = distinctSorted(v, DICT_VALUES_MAX);
      if (dictionary === null) throw new EncodingError(`${id}: more than ${DICT_VALUES_MAX} distinct values`);
      w.varint(dictionary.length);
      if (dictionary.length > 0) w.svarint(dictionary[0]!);
      for (let k = 1; k < dictionary.length; k++) w.varint(dictionary[k]! - dictionary[k - 1]!);
      const index = new Map(dictionary.map((x, k) => [x, k]));
      // Every value of v is in the dictionary built from v.
      encodeRans(Float64Array.from(v, (x) => index.get(x) as number), w, lanes);
    },
    decode(r: ByteReader, n: number, divisor: number, into?: Float64Array): Float64Array {
      const dictionary = readDictionary(r, n, id);
      // Dividing the dictionary once gives the same doubles as dividing every value (ALP).
      if (divisor !== 1) for (let i = 0; i < dictionary.length; i++) dictionary[i] = dictionary[i]! / divisor;
      return decodeRansDict(r, n, lanes, dictionary, into ?? new Float64Array(n));
    },
    /**
     * Straight into int64: the dictionary (≤ 256 values) goes from base-relative to int64
     * once, and each value is a copy of its entry — no float64 pass and no
     * relative-to-int64 pass over the page.
     */
    decodeInt64(r: ByteReader, n: number, base: bigint, into?: BigInt64Array): BigInt64Array {
      const dictionary = fromRelative(base, readDictionary(r, n, id));
      return decodeRansDict(r, n, lanes, dictionary, into ?? new BigInt64Array(n));
    },
    ...(lanes === 2 ? {
      trial: {
        when: (v: Float64Array, picked: string) => v.length >= TRIAL_VALUES_MIN && picked !== 'rle' && picked !== 'delta>rle' && distinctSorted(v, DICT_VALUES_MAX) !== null,
      },
    } : {}),
  };
}

export const dictRans1 = dictRans(1);
export const dictRans2 = dictRans(2);
