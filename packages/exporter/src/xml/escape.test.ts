import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Escaper, countIllegal, hasLoneSurrogate, isoDate, xmlSafe } from './escape.js';

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, parseAttributeValue: false, trimValues: false, htmlEntities: true });

const NASTY = [
  '\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000B\u000C\u000E\u000F\u0010\u001F',
  '\uFFFE\uFFFF',
  'lone high \uD800 and lone low \uDC00 and a pair \uD83D\uDE00',
  ']]>', '<script>alert(1)</script>', '&amp; & &lt;', `"double" 'single'`,
  'line\r\nbreak\rcarriage\ttab\n',
  'مرحبا بالعالم', 'שלום', '你好，世界', '👩‍👩‍👧‍👦 🇫🇷', 'e\u0301', '  leading and trailing  ',
];

function roundTrip(s: string): { text: string; attr: string; replaced: number } {
  const esc = new Escaper();
  const xml = `<?xml version="1.0" encoding="UTF-8"?><r a="${esc.attr(s)}"><t>${esc.text(s)}</t></r>`;
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`not well-formed: ${JSON.stringify(valid)}`);
  const doc = parser.parse(xml) as { r: { a: string; t: string | Record<string, never> } };
  const t = doc.r.t;
  return { text: typeof t === 'string' ? t : '', attr: doc.r.a, replaced: esc.replaced };
}

describe('XML escaping', () => {
  it.each(NASTY)('keeps %j exactly apart from the recorded replacements', (s) => {
    const r = roundTrip(s);
    expect(r.text).toBe(xmlSafe(s));
    expect(r.attr).toBe(xmlSafe(s));
    expect(r.replaced).toBe(2 * countIllegal(s));
  });

  it('replaces every XML-illegal character by U+FFFD and counts it', () => {
    const esc = new Escaper();
    expect(esc.text('a\u0000b\uFFFFc\uD800')).toBe('a\uFFFDb\uFFFDc\uFFFD');
    expect(esc.replaced).toBe(3);
    expect(esc.text('\uD83D\uDE00')).toBe('\uD83D\uDE00');
    expect(esc.replaced).toBe(3);
  });

  it('writes CR as a character reference so that parsers do not turn it into LF', () => {
    expect(new Escaper().text('a\r\nb')).toBe('a&#13;\nb');
  });

  it('round-trips any string: well-formed, and equal to the input once illegal characters are replaced', () => {
    const anyString = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 200 }),
      fc.array(fc.constantFrom(...NASTY), { maxLength: 6 }).map((a) => a.join('')),
    );
    fc.assert(
      fc.property(anyString, (s) => {
        const r = roundTrip(s);
        expect(r.text).toBe(xmlSafe(s));
        expect(r.attr).toBe(xmlSafe(s));
        expect(r.replaced).toBe(2 * countIllegal(s));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('hasLoneSurrogate', () => {
  it.each([
    ['', false],
    ['plain', false],
    ['\uD83D\uDE00', false],
    ['a\uD83D\uDE00b\uD83C\uDF89', false],
    ['\uD800', true],
    ['\uDC00', true],
    ['x\uD83D', true],
    ['\uDE00\uD83D', true],
    ['\uD83D\uD83D\uDE00', true],
    ['\uD83D\uDE00\uDE00', true],
  ])('says whether %j has a lone surrogate: %s', (s, expected) => {
    expect(hasLoneSurrogate(s)).toBe(expected);
  });

  it('agrees with the lone-surrogate regex for any UTF-16 string', () => {
    const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
    const units = fc.string({ unit: fc.constantFrom('a', '\uD83D', '\uDE00', '\uDBFF', '\uDC00', '\u4F60'), maxLength: 12 });
    fc.assert(
      fc.property(units, (s) => {
        expect(hasLoneSurrogate(s)).toBe(lone.test(s));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('isoDate', () => {
  it('equals toISOString for any date, including across minutes and outside four-digit years', () => {
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (t) => {
        const d = new Date(t);
        expect(isoDate(d)).toBe(d.toISOString());
      }),
      { numRuns: 5000 },
    );
    for (const t of [0, 59_999, 60_000, 1_700_000_000_000, 1_700_000_000_999, 1_700_000_060_001]) {
      expect(isoDate(new Date(t))).toBe(new Date(t).toISOString());
    }
  });
});
