import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeHtml } from './escape.js';

function unescape(html: string): string {
  return html.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e] ?? '');
}

const ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

describe('escapeHtml', () => {
  it('returns clean text unchanged (the fast path)', () => {
    const text = 'Hello world, 123 — déjà vu, 你好, مرحبا\nnext line\ttab';
    expect(escapeHtml(text)).toBe(text);
  });

  it('escapes the five markup characters', () => {
    expect(escapeHtml(`<script>alert("x" & 'y')</script>`)).toBe('&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;');
  });

  it('replaces characters HTML and XML cannot carry with U+FFFD, and keeps tab, LF, CR and DEL', () => {
    expect(escapeHtml('a\u0000b\u0008c\u000Bd\u000Ce\u001Ff\uFFFEg\uFFFFh')).toBe('a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf\uFFFDg\uFFFDh');
    expect(escapeHtml('\t\n\r\u007F')).toBe('\t\n\r\u007F');
  });

  it('keeps surrogate pairs and replaces lone surrogates', () => {
    expect(escapeHtml('ok 😀 <')).toBe('ok 😀 &lt;');
    expect(escapeHtml('x\uD800y')).toBe('x\uFFFDy');
    expect(escapeHtml('x\uDC00y')).toBe('x\uFFFDy');
    expect(escapeHtml('\uDC00\uD800')).toBe('\uFFFD\uFFFD');
    expect(escapeHtml('\uD83D\uD83D\uDE00')).toBe('\uFFFD😀');
    expect(escapeHtml('😀\uDE00')).toBe('😀\uFFFD');
  });

  it('never lets markup or illegal characters through, and loses nothing else (property)', () => {
    fc.assert(
      // Single UTF-16 units (so lone surrogates), whole code points (so pairs), and the characters that matter most.
      fc.property(fc.string({ unit: fc.oneof(codeUnit, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.constantFrom('<', '>', '&', '"', "'", '\u0000', '\uFFFE', '\uD800', '\uDC00')) }), (s) => {
        const out = escapeHtml(s);
        expect(out).not.toMatch(/[<>"']/);
        expect(out).not.toMatch(/&(?!(amp|lt|gt|quot|#39);)/);
        expect(ILLEGAL.test(out)).toBe(false);
        // Decoding the entities gives back the input, with only the illegal characters replaced.
        const expected = s.replace(new RegExp(ILLEGAL.source, 'g'), '\uFFFD');
        expect(unescape(out)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
