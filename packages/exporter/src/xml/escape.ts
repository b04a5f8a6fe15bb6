/**
 * The hot path of every export: escaping text for XML 1.0. Hand-written because
 * a general builder is ~3× slower on small messages, and the export must sustain
 * well over 150,000 messages/s on one core.
 *
 * Characters XML 1.0 cannot carry (C0 controls but tab, LF and CR; U+FFFE; U+FFFF;
 * lone surrogates) become U+FFFD and are counted, so the manifest can say how many
 * were replaced. CR is written as `&#13;` because parsers turn a literal CR into LF.
 */

// Anything at all that needs work; surrogates are included so pairs are checked.
const NEEDS_TEXT = /[&<>\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;
const NEEDS_ATTR = /[&<>"'\t\n\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;

// The same minus surrogates: when only these pass, surrogates alone sent the string here.
const TEXT_MARKUP = /[&<>\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const ATTR_MARKUP = /[&<>"'\t\n\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

// Without the `u` flag the regex sees UTF-16 code units, which is what finding lone surrogates needs.
const TEXT_RE = /[&<>\r]|[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ATTR_RE = /[&<>"'\t\n\r]|[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

export const REPLACEMENT_CHARACTER = '\uFFFD';

/** Counts replacements across one export. */
export class Escaper {
  /** XML-illegal characters replaced by U+FFFD so far. */
  replaced = 0;

  readonly #replace = (ch: string): string => {
    const e = ENTITIES[ch];
    if (e !== undefined) return e;
    this.replaced++;
    return REPLACEMENT_CHARACTER;
  };

  /** Escape element content. */
  text(s: string): string {
    return needsReplacing(s, NEEDS_TEXT, TEXT_MARKUP) ? s.replace(TEXT_RE, this.#replace) : s;
  }

  /** Escape an attribute value (also keeps tabs and newlines, which attribute normalization would eat). */
  attr(s: string): string {
    return needsReplacing(s, NEEDS_ATTR, ATTR_MARKUP) ? s.replace(ATTR_RE, this.#replace) : s;
  }
}

/**
 * Whether an escaper must run its replace on `s`: `needs` matches anything it may change,
 * surrogates included, and `markup` the same minus surrogates. Emoji are well-formed
 * pairs: when surrogates alone matched, a loop checks the pairs instead of the replace.
 */
export function needsReplacing(s: string, needs: RegExp, markup: RegExp): boolean {
  const at = s.search(needs);
  return at >= 0 && (markup.test(s) || hasLoneSurrogate(s, at));
}

/**
 * Whether `s` has, at or after `from`, a surrogate that is not half of a well-formed pair.
 * Emoji are surrogate pairs: common and legal. Checking pairs in a loop costs a third of
 * the look-around replace they would otherwise go through, which finds nothing to change.
 */
export function hasLoneSurrogate(s: string, from = 0): boolean {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c > 0xdbff) return true; // a low half with no high half before it
    const next = s.charCodeAt(i + 1); // NaN past the end
    if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
    i++;
  }
  return false;
}

const ILLEGAL_RE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** What a string becomes once written to XML and read back: illegal characters as U+FFFD. */
export function xmlSafe(s: string): string {
  return s.replace(ILLEGAL_RE, REPLACEMENT_CHARACTER);
}

/** How many characters of `s` XML 1.0 cannot carry. */
export function countIllegal(s: string): number {
  let n = 0;
  ILLEGAL_RE.lastIndex = 0;
  while (ILLEGAL_RE.exec(s) !== null) n++;
  return n;
}

// toISOString costs about a microsecond, a noticeable share of a message's budget. The
// date part is cached per UTC day (consecutive messages mostly share it) and the time
// is built from precomputed two- and three-digit strings.
const TWO = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const THREE = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const DAY_MS = 86_400_000;
let cachedDay = Number.NaN;
let cachedPrefix = '';
const MAX_FOUR_DIGIT_YEAR = 253402300800000; // 10000-01-01T00:00:00Z

/** UTC ISO-8601 with milliseconds (`2024-03-01T09:30:00.000Z`), the only date form in the archive. */
export function isoDate(d: Date): string {
  const t = d.getTime();
  if (!(t >= 0 && t < MAX_FOUR_DIGIT_YEAR)) return d.toISOString();
  const day = Math.floor(t / DAY_MS);
  if (day !== cachedDay) {
    cachedPrefix = d.toISOString().slice(0, 11);
    cachedDay = day;
  }
  let rest = t - day * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const sec = Math.floor(rest / 1000);
  return cachedPrefix + TWO[h]! + ':' + TWO[m]! + ':' + TWO[sec]! + '.' + THREE[rest - sec * 1000]! + 'Z';
}
