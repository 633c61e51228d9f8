import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineBody, LINE_BYTES_MAX } from '../../src/server/line-body.js';
import { LINE_TEXT_SHOWN_MAX } from '../../src/server/line-split.js';

// The text shown for a refused line: its first LINE_TEXT_SHOWN_MAX characters, whole (never
// half a UTF-8 sequence or half a surrogate pair), "…" when cut; the same for a line the
// parser refuses and one the splitter refuses (too long).

function refused(text: string): string | undefined {
  const body = new LineBody({ unitNs: 1n, now: 0n, windowPoints: Infinity });
  body.push(Buffer.from(`${text}\nok a=1 1\n`));
  body.end();
  assert.equal(body.errors.length, 1, JSON.stringify(body.errors));
  assert.equal(body.parsed, 2);
  return body.errors[0]!.text;
}

/** What a refused line shows, from its whole text. */
function expected(text: string): string {
  if (text.length <= LINE_TEXT_SHOWN_MAX) return text;
  const cut = /[\ud800-\udbff]/.test(text[LINE_TEXT_SHOWN_MAX - 1]!) ? LINE_TEXT_SHOWN_MAX - 1 : LINE_TEXT_SHOWN_MAX;
  return `${text.slice(0, cut)}…`;
}

test('a refused line shows its first 256 characters, whole: 1- to 4-byte characters, a pair at the cut, lines up to 1 MiB', () => {
  const cases: string[] = [];
  // A field without "=": refused by the parser, whatever follows.
  for (const ch of ['a', 'é', '€', '😀']) {
    for (const n of [100, 127, 128, 255, 256, 257, 258, 300, 1000, 200_000]) cases.push(`bad ${ch.repeat(n)}`);
  }
  // The pair straddles the cut: 255 code units, then an emoji.
  cases.push(`bad ${'x'.repeat(251)}😀tail`, `bad ${'x'.repeat(250)}😀tail`, `bad ${'€'.repeat(251)}😀${'€'.repeat(1000)}`);
  for (const text of cases) {
    assert.ok(Buffer.byteLength(text) < LINE_BYTES_MAX);
    const shown = refused(text);
    assert.equal(shown, expected(text), `${text.length} code units, ${Buffer.byteLength(text)} bytes`);
    assert.ok(!shown!.includes('\ufffd'), 'no broken character');
  }
});

test('a line longer than 1 MiB shows its first 256 characters, whole (was its first 256 bytes, cut inside a character)', () => {
  const text = `bad ${'€'.repeat(LINE_BYTES_MAX / 3 + 10)}`;
  const shown = refused(text);
  assert.equal(shown, expected(text));
  assert.equal(shown!.length, LINE_TEXT_SHOWN_MAX + 1);
});
