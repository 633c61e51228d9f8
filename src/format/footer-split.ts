/**
 * The footer JSON with every column's `pages` array cut out, kept as text for a lazy parse.
 *
 * A footer holds one object per page per column (~95% of its JSON: 30 pages × 21 columns for
 * a cpu chunk), and a query reads the page statistics of the few columns it touches. Parsing
 * and validating every page of every footer was most of a one-shot query's time over many
 * chunks (150 footers, 5 MB of JSON, for a count and a sum at 8.64 M rows). So the reader of
 * a table splits the text: the skeleton (everything but the pages arrays, each replaced by
 * `[]`) is parsed and validated at once; each column's pages are parsed and validated when
 * first asked for (footer-validate.ts, lazyPages).
 *
 * The scan reads the UTF-8 bytes as latin1 (one character per byte: offsets are byte offsets,
 * and no byte of a multi-byte sequence is an ASCII delimiter). It walks the root object and
 * its `columns` array member by member, knowing JSON strings and nesting and nothing else;
 * a pages array is skipped by one sticky regular expression (native code: a JavaScript loop
 * over each byte cost as much as the parse it saves, on a cold start). Anything it does not
 * recognise (the root not an object, `columns` not an array of objects, a repeated key, text
 * that ends early) gives `null`: the caller then parses the whole text, whose JSON.parse
 * reports the problem as before. A pages array that is not well-formed inside (the scan only
 * matches brackets and strings) fails when its column is first read: JSON.parse of the cut
 * text cannot succeed unless the cut ends where the array does (a `]` inside a string leaves
 * the cut with an open string).
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COLON = 0x3a;
const COMMA = 0x2c;

/**
 * An array of scalars, strings and flat objects (what a pages array is), from its `[` to its
 * `]`. Each alternative starts with a different character, so matching is linear.
 */
const PAGES_ARRAY = /\[(?:[^"[\]{}]|"(?:[^"\\]|\\[^])*"|\{(?:[^"{}[\]]|"(?:[^"\\]|\\[^])*")*\})*\]/y;
const NON_ASCII = /[^\x00-\x7f]/;

/** The split footer JSON (see the module comment). */
export interface FooterTextSplit {
  /** The footer JSON with each found pages array replaced by `[]`: decoded text, or UTF-8 bytes when the footer is not ASCII. */
  skeleton: string | Uint8Array;
  /** Per element of `columns`, in order: its pages array's JSON (as `skeleton`), or undefined when it has no `pages` array the scan recognised (the skeleton keeps whatever it holds). */
  pages: (string | Uint8Array | undefined)[];
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return i;
}

/** The index after the string that opens at `i` (a quote), or -1 when it does not close. */
function stringEnd(s: string, i: number): number {
  for (let at = i + 1; at < s.length; at++) {
    const c = s.charCodeAt(at);
    if (c === QUOTE) return at + 1;
    if (c === BACKSLASH) at++;
  }
  return -1;
}

/** The index after the value that starts at `i` (no space before it), or -1. */
function valueEnd(s: string, i: number): number {
  const first = s.charCodeAt(i);
  if (first === QUOTE) return stringEnd(s, i);
  if (first === OPEN_BRACKET || first === OPEN_BRACE) {
    let depth = 0;
    for (let at = i; at < s.length; at++) {
      const c = s.charCodeAt(at);
      if (c === QUOTE) {
        at = stringEnd(s, at) - 1;
        if (at < 0) return -1;
      } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
        depth++;
      } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
        if (--depth === 0) return at + 1;
      }
    }
    return -1;
  }
  // A number, true, false or null: up to the next delimiter.
  let at = i;
  while (at < s.length) {
    const c = s.charCodeAt(at);
    if (c === COMMA || c === CLOSE_BRACKET || c === CLOSE_BRACE || isSpace(c)) break;
    at++;
  }
  return at > i ? at : -1;
}

/**
 * Walks the members of the object that opens at `i` (a `{`), calling `member(key, valueStart)`
 * for each (`key` as written, quotes included), which returns the index after the value or
 * -1. Returns the index after the object, or -1 when the text is not as expected.
 */
function walkObject(s: string, i: number, member: (key: string, valueStart: number) => number): number {
  let at = skipSpace(s, i + 1);
  if (s.charCodeAt(at) === CLOSE_BRACE) return at + 1;
  const keys = new Set<string>();
  for (;;) {
    if (s.charCodeAt(at) !== QUOTE) return -1;
    const keyEnd = stringEnd(s, at);
    if (keyEnd < 0) return -1;
    const key = s.slice(at, keyEnd);
    // A repeated key: JSON.parse keeps the last value; the scan leaves such text to it.
    if (keys.has(key)) return -1;
    keys.add(key);
    let v = skipSpace(s, keyEnd);
    if (s.charCodeAt(v) !== COLON) return -1;
    v = skipSpace(s, v + 1);
    const end = member(key, v);
    if (end < 0) return -1;
    at = skipSpace(s, end);
    if (s.charCodeAt(at) === CLOSE_BRACE) return at + 1;
    if (s.charCodeAt(at) !== COMMA) return -1;
    at = skipSpace(s, at + 1);
  }
}

/** The index after the pages array that opens at `i`, or -1. */
function pagesEnd(s: string, i: number): number {
  PAGES_ARRAY.lastIndex = i;
  try {
    if (PAGES_ARRAY.test(s)) return PAGES_ARRAY.lastIndex;
  } catch {
    // The regular expression's backtracking stack ran out (an enormous array): scan it instead.
  }
  return valueEnd(s, i);
}

/** Splits the footer JSON text (UTF-8 bytes; see the module comment); null when its shape is not recognised. */
export function splitFooterText(bytes: Uint8Array): FooterTextSplit | null {
  const s = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const cuts: { start: number; end: number }[] = [];
  const ranges: ({ start: number; end: number } | undefined)[] = [];
  let columnsSeen = false;
  const root = skipSpace(s, 0);
  if (s.charCodeAt(root) !== OPEN_BRACE) return null;
  const rootEnd = walkObject(s, root, (key, v) => {
    if (key !== '"columns"') return valueEnd(s, v);
    if (s.charCodeAt(v) !== OPEN_BRACKET) return -1;
    columnsSeen = true;
    let at = skipSpace(s, v + 1);
    if (s.charCodeAt(at) === CLOSE_BRACKET) return at + 1;
    for (;;) {
      if (s.charCodeAt(at) !== OPEN_BRACE) return -1;
      let found: { start: number; end: number } | undefined;
      const end = walkObject(s, at, (k, vs) => {
        if (k !== '"pages"' || s.charCodeAt(vs) !== OPEN_BRACKET) return valueEnd(s, vs);
        const ve = pagesEnd(s, vs);
        if (ve >= 0) found = { start: vs, end: ve };
        return ve;
      });
      if (end < 0) return -1;
      if (found !== undefined) cuts.push(found);
      ranges.push(found);
      at = skipSpace(s, end);
      if (s.charCodeAt(at) === CLOSE_BRACKET) return at + 1;
      if (s.charCodeAt(at) !== COMMA) return -1;
      at = skipSpace(s, at + 1);
    }
  });
  if (rootEnd < 0 || skipSpace(s, rootEnd) !== s.length || !columnsSeen) return null;
  if (!NON_ASCII.test(s)) {
    // ASCII: the latin1 text is the text.
    let skeleton = '';
    let from = 0;
    for (const c of cuts) {
      skeleton += `${s.slice(from, c.start)}[]`;
      from = c.end;
    }
    skeleton += s.slice(from);
    return { skeleton, pages: ranges.map((r) => (r === undefined ? undefined : s.slice(r.start, r.end))) };
  }
  // Not ASCII: the pieces stay bytes, decoded (and checked as UTF-8) when parsed.
  let length = bytes.length;
  for (const c of cuts) length -= c.end - c.start - 2;
  const skeleton = new Uint8Array(length);
  let from = 0;
  let to = 0;
  for (const c of cuts) {
    skeleton.set(bytes.subarray(from, c.start), to);
    to += c.start - from;
    skeleton[to++] = OPEN_BRACKET;
    skeleton[to++] = CLOSE_BRACKET;
    from = c.end;
  }
  skeleton.set(bytes.subarray(from), to);
  return { skeleton, pages: ranges.map((r) => (r === undefined ? undefined : bytes.slice(r.start, r.end))) };
}
