/**
 * Random line-protocol lines for property tests: mostly valid (every field type, escapes,
 * timestamps at their edges, string values holding newlines), a quarter mutated into invalid
 * ones. Used by line-bytes.test.ts (byte parser vs string parser) and parse-workers.test.ts
 * (parse threads 0 vs N).
 */

/** Float texts: shortest, 17 digits, exponent forms, subnormals, extremes, signed zeros, long digit strings. */
export function floatText(r: () => number): string {
  const view = new DataView(new ArrayBuffer(8));
  const pick = Math.floor(r() * 12);
  view.setUint32(0, Math.floor(r() * 2 ** 32));
  view.setUint32(4, Math.floor(r() * 2 ** 32));
  let x = view.getFloat64(0);
  if (!Number.isFinite(x)) x = 1.5;
  const small = (r() - 0.5) * 10 ** Math.floor(r() * 12 - 4);
  switch (pick) {
    case 0: return String(x).replace('+', '');
    case 1: return x.toPrecision(17).replace('+', '');
    case 2: return x.toExponential(Math.floor(r() * 20)).replace('+', r() < 0.5 ? '+' : '');
    case 3: return String(small);
    case 4: return small.toFixed(Math.floor(r() * 18));
    case 5: return ['5e-324', '4.9406564584124654e-324', '2.2250738585072014e-308', '2.225073858507201e-308', '1e308', '1.7976931348623157e308', '1.7976931348623159e308', '1e309', '-1e308'][Math.floor(r() * 9)]!;
    case 6: return ['-0', '0', '-0.0', '0e999', '-0e-5', '.5', '1.', '-.5', '1.e5', '.e5', '1e', '1e+', '00012.500', '9007199254740993', '123456789012345678901234567890', '0.1e-400'][Math.floor(r() * 16)]!;
    case 7: return `${Math.floor(r() * 1e6)}e${Math.floor(r() * 60 - 30)}`;
    case 8: return `${'9'.repeat(1 + Math.floor(r() * 20))}.${'9'.repeat(Math.floor(r() * 20))}`;
    case 9: return `0.${'0'.repeat(Math.floor(r() * 30))}${Math.floor(r() * 1e9)}`;
    case 10: return (Math.round(r() * 10000) / 100).toString();
    default: return String(Math.floor((r() - 0.5) * 2 ** 53));
  }
}

function intText(r: () => number): string {
  const pick = Math.floor(r() * 6);
  if (pick === 0) return ['9223372036854775807', '-9223372036854775808', '9223372036854775808', '-9223372036854775809', '0', '-0', '007'][Math.floor(r() * 7)]!;
  if (pick === 1) return String(BigInt.asIntN(64, BigInt(Math.floor(r() * 2 ** 32)) << BigInt(Math.floor(r() * 40))));
  if (pick === 2) return '1'.repeat(1 + Math.floor(r() * 30));
  return String(Math.floor((r() - 0.5) * 10 ** Math.floor(r() * 16)));
}

function uintText(r: () => number): string {
  const pick = Math.floor(r() * 4);
  if (pick === 0) return ['18446744073709551615', '18446744073709551616', '0', '-1', '99999999999999999999'][Math.floor(r() * 5)]!;
  return String(Math.floor(r() * 10 ** Math.floor(r() * 20)));
}

const PLAIN_PARTS = ['cpu', 'host', 'a', 'é', 'usage', 'f', 'mem', '€', 'g', 'b'];
const NAME_PARTS = [...PLAIN_PARTS, 'x y', 'r,s', 'k=v', '\\', 't\tab', '"q"'];

/** A name with the escapes a writer adds (`escapes`: the characters escaped where it appears). */
function name(r: () => number, escapes: string): string {
  let s = '';
  const parts = 1 + Math.floor(r() * 2);
  const from = r() < 0.92 ? PLAIN_PARTS : NAME_PARTS;
  for (let k = 0; k < parts; k++) s += from[Math.floor(r() * from.length)];
  let out = '';
  for (const c of s) out += escapes.includes(c) ? `\\${c}` : c;
  return out;
}

function fieldValue(r: () => number): string {
  const pick = Math.floor(r() * 9);
  if (pick <= 2) return floatText(r);
  if (pick === 3) return `${intText(r)}i`;
  if (pick === 4) return `${uintText(r)}u`;
  if (pick === 5) return ['t', 'T', 'true', 'True', 'TRUE', 'f', 'F', 'false', 'False', 'FALSE', 'tRUE', 'yes'][Math.floor(r() * 12)]!;
  if (pick === 6) return `"${['', 'plain', 'a,b=c d', 'ü\n€', 'q\\"x', 'back\\\\slash', 'kept \\n'][Math.floor(r() * 7)]}"`;
  if (pick === 7) return floatText(r);
  return String(Math.floor(r() * 100));
}

function stamp(r: () => number): string {
  const pick = Math.floor(r() * 6);
  if (pick === 0) return '';
  if (pick === 1) return ` ${['9223372036854775807', '-9223372036854775808', '9223372036854775808', '1700000000', '1700000000000', '-0', '00017', '99999999999999999999999999'][Math.floor(r() * 8)]}`;
  return ` ${1_700_000_000_000_000_000n + BigInt(Math.floor(r() * 1e12))}`;
}

/** A line: mostly valid, sometimes mutated (characters inserted, deleted, swapped for protocol characters). */
export function line(r: () => number): string {
  let s = name(r, ', \\');
  const tags = Math.floor(r() * 4);
  for (let k = 0; k < tags; k++) s += `,${name(r, ',= \\')}=${name(r, ',= \\')}`;
  s += r() < 0.05 ? '\t' : ' ';
  const fields = 1 + Math.floor(r() * 4);
  for (let k = 0; k < fields; k++) s += `${k ? ',' : ''}${name(r, ',= \\')}=${fieldValue(r)}`;
  s += stamp(r);
  if (r() < 0.05) s = `  ${s}  `;
  if (r() < 0.03) s = `# ${s}`;
  if (r() < 0.25) {
    const chars = [...s];
    const edits = 1 + Math.floor(r() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(r() * (chars.length + 1));
      const op = Math.floor(r() * 3);
      const c = [',', ' ', '=', '\\', '"', '\t', 'i', 'u', '-', '.', 'e', '0', 'x'][Math.floor(r() * 13)]!;
      if (op === 0) chars.splice(at, 0, c);
      else if (op === 1) chars.splice(at, 1);
      else chars[at] = c;
    }
    s = chars.join('');
  }
  return s.replaceAll('\n', r() < 0.5 ? '\n' : ' ');
}
