/**
 * Small formatting helpers for the HTML view: times, sizes, and turning arbitrary ids
 * and names (which may contain anything) into safe anchors, directory names and URLs.
 */

/** `7` → `0007`. Longer numbers are kept whole, so counters never wrap or collide. */
export function pad4(n: number): string {
  return n < 10 ? '000' + n : n < 100 ? '00' + n : n < 1000 ? '0' + n : String(n);
}

/** `00`…`59`: two-digit fields without padStart on the hot path. */
const TWO_DIGITS: readonly string[] = Array.from({ length: 60 }, (_, i) => (i < 10 ? '0' : '') + i);
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/**
 * A one-entry cache of the last day and minute formatted: messages come in time order,
 * so most share their day (and in a busy conversation their minute) with the one
 * before, and skip toISOString and most of the concatenation.
 */
class TimeFormat {
  #day = NaN;
  #dayText = '';
  #minute = NaN;
  #head = '';
  #tail = '';

  /** @param shown the element's text from the day (`2024-01-02`) and the time of day (`03:04`). */
  constructor(private readonly shown: (day: string, hm: string) => string) {}

  /** The `<time>` element; undefined for a year outside 0000–9999, which toISOString writes as `+275760-09-13T…`. */
  format(date: Date, ms: number): string | undefined {
    const minute = Math.floor(ms / MINUTE_MS);
    if (minute !== this.#minute) {
      const day = Math.floor(ms / DAY_MS);
      if (day !== this.#day) {
        const iso = date.toISOString();
        if (iso.length !== 24) return undefined;
        this.#day = day;
        this.#dayText = iso.slice(0, 10);
      }
      const minuteOfDay = minute - day * 1440;
      const hm = (TWO_DIGITS[(minuteOfDay / 60) | 0] as string) + ':' + (TWO_DIGITS[minuteOfDay % 60] as string);
      this.#head = '<time datetime="' + this.#dayText + 'T' + hm + ':';
      this.#tail = 'Z">' + this.shown(this.#dayText, hm) + '</time>';
      this.#minute = minute;
    }
    return this.#head + (TWO_DIGITS[((ms - minute * MINUTE_MS) / 1000) | 0] as string) + this.#tail;
  }
}

const FULL = new TimeFormat((day, hm) => day + ' ' + hm + ' UTC');
const CLOCK = new TimeFormat((_day, hm) => hm);

/**
 * A `<time>` element showing the instant in UTC as `2024-01-02 03:04 UTC`, with the
 * machine-readable instant (to the second) in `datetime`. This runs for every message,
 * so no Intl and no locale formatting: the date comes from toISOString at most once per
 * day of messages, the time of day from integer arithmetic, and within one minute only
 * the seconds change.
 */
export function timeHtml(date: Date): string {
  const ms = date.getTime();
  if (ms !== ms) return '<span class="unk">unknown time</span>';
  // Years outside 0000–9999 are shown whole rather than sliced wrongly.
  return FULL.format(date, ms) ?? '<time datetime="' + date.toISOString() + '">' + date.toISOString() + '</time>';
}

/**
 * A message's `<time>`: the clock time `03:04`, with the instant (to the second) in
 * `datetime`; the day is in the heading above the message (`dayHeadingHtml`). Fifteen
 * bytes fewer than `timeHtml` on every message, and how chat apps show a day's messages.
 * Instants `dayOf` cannot place get `timeHtml` in full.
 */
export function clockHtml(date: Date): string {
  const ms = date.getTime();
  if (ms !== ms) return '<span class="unk">unknown time</span>';
  return CLOCK.format(date, ms) ?? timeHtml(date);
}

/** The UTC day of an instant (days since 1970), or NaN when it has no day heading (unknown, or a year outside 0000–9999). */
export function dayOf(date: Date): number {
  const ms = date.getTime();
  return ms >= -62167219200000 && ms < 253402300800000 ? Math.floor(ms / DAY_MS) : NaN;
}

/** The heading over a day's messages: `<h2 class="day"><time datetime="2024-01-02">2024-01-02</time> UTC</h2>`. */
export function dayHeadingHtml(date: Date): string {
  const day = date.toISOString().slice(0, 10);
  return '<h2 class="day"><time datetime="' + day + '">' + day + '</time> UTC</h2>\n';
}

/** `timeHtml`, or a dash when the platform did not record the instant. */
export function optionalTimeHtml(date: Date | undefined): string {
  return date === undefined ? '<span class="unk">—</span>' : timeHtml(date);
}

const SIZE_UNITS = ['kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/** `1536` → `1.5 kB` (decimal units, as file managers show them). */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return 'unknown size';
  if (bytes < 1000) return bytes === 1 ? '1 byte' : Math.round(bytes) + ' bytes';
  let value = bytes / 1000;
  let unit = 0;
  // Move up a unit when rounding would show 1000 (999,999 bytes is `1.0 MB`, not `1000 kB`).
  while (value >= 999.5 && unit < SIZE_UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return (value < 9.95 ? value.toFixed(1) : Math.round(value).toString()) + ' ' + (SIZE_UNITS[unit] as string);
}

const SAFE_ANCHOR = /^[A-Za-z0-9.-]*$/;

/**
 * An id (message, file) as the tail of an HTML id and URL fragment: letters, digits,
 * `.` and `-` are kept; every other UTF-16 unit, `_` included, becomes `_` and four hex
 * digits. Because `_` only ever starts an escape, the mapping is one-to-one: two
 * different ids never share an anchor. The result needs no further escaping anywhere.
 */
export function safeAnchor(id: string): string {
  if (SAFE_ANCHOR.test(id)) return id;
  let out = '';
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46) {
      out += id[i];
    } else {
      out += '_' + c.toString(16).padStart(4, '0');
    }
  }
  return out;
}

/**
 * A readable, filesystem-safe fragment of a conversation name for its directory:
 * ASCII letters and digits joined by `-`, at most 40 characters, possibly empty.
 * Uniqueness comes from the counter the caller puts in front, not from the slug.
 */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    // Drop the accents NFKD split off, so `café` becomes `cafe` rather than `cafe-`.
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 40)
    .replace(/^-+|-+$/g, '');
}

/**
 * An archive entry path (`files/0001-my photo#1.png`) as a URL relative to a page,
 * each segment percent-encoded so `#`, `?`, `%`, spaces and non-ASCII survive file://.
 * `undefined` when the path is not a plain relative path inside the archive (empty
 * segments, `.` or `..`): we would rather show no link than a link out of the archive.
 */
export function entryHref(prefix: string, entryPath: string): string | undefined {
  if (entryPath === '') return undefined;
  const segments = entryPath.split('/');
  let out = prefix;
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i] as string;
    if (s === '' || s === '.' || s === '..') return undefined;
    // encodeURIComponent leaves ' ( ) ! * alone; ' matters inside attributes and the
    // escaper covers it, the others are harmless in a path.
    out += (i === 0 ? '' : '/') + encodeURIComponent(s);
  }
  return out;
}

/** Raster formats browsers decode without running anything. SVG is left out on purpose: opened as a document it can run script. */
const INLINE_IMAGE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

export function isInlineImage(mimeType: string): boolean {
  return INLINE_IMAGE_TYPES.has(mimeType.toLowerCase());
}

const ACTIVE_TYPES = /^(?:text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml|text\/javascript|application\/javascript|application\/x-javascript)\b/i;
const ACTIVE_EXTENSIONS = /\.(?:html?|xhtml|xht|svgz?|xml|xsl|js|mjs|shtml)$/i;

/**
 * Files a browser would run as a document (HTML, SVG, XML, script) if opened from a link:
 * their links get `download` so a click saves rather than renders them. On file:// the
 * browser picks the type from the extension, so both the MIME type and the name count.
 */
export function isActiveContent(mimeType: string, name: string): boolean {
  return ACTIVE_TYPES.test(mimeType) || ACTIVE_EXTENSIONS.test(name);
}
