import { needsReplacing } from '../xml/escape.js';

/**
 * The one escaper every piece of text goes through, in element content and in quoted
 * attribute values alike. It runs once per field of every message, so it is built for
 * the common case: a single character-class scan decides whether anything needs doing,
 * and clean strings are returned as they are.
 */

/**
 * Anything the slow path may change. Surrogates are included so that a lone one is
 * caught; a well-formed pair (emoji, rare CJK) sends the string down the slow path,
 * which keeps the pair as it is.
 */
const NEEDS_WORK = /[&<>"'\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;

/** The same minus surrogates: when only these pass, surrogates alone matched. */
const MARKUP = /[&<>"'\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

/**
 * Alternatives are ordered so a well-formed surrogate pair is matched (and kept) before
 * the lone-surrogate alternative can match either half of it. No `u` flag: the regex
 * works on UTF-16 code units, which is what lets it see lone surrogates at all.
 */
const TO_REPLACE =
  /[&<>"'\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF]|[\uD800-\uDFFF]/g;

const ENTITY: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function replaceOne(match: string): string {
  // Two code units can only be a well-formed pair; every other match is a single unit
  // that is either markup (entity) or a character HTML/XML cannot carry (U+FFFD).
  return ENTITY[match] ?? (match.length === 2 ? match : '\uFFFD');
}

/**
 * Escape text for HTML element content or a double- or single-quoted attribute value:
 * `& < > " '` become entities, and characters that HTML and XML cannot carry
 * (C0 controls other than tab, LF and CR; U+FFFE; U+FFFF; lone surrogates) become U+FFFD.
 * U+007F and the C1 controls are kept: they are legal, if odd, and dropping them would
 * change what the member wrote more than necessary.
 */
export function escapeHtml(text: string): string {
  return needsReplacing(text, NEEDS_WORK, MARKUP) ? text.replace(TO_REPLACE, replaceOne) : text;
}
