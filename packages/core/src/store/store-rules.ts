import { InputError } from '../errors.js';
import { assertValidKey, type GetOptions } from './store.js';
import { InvalidKeyError, InvalidRangeError } from './store-errors.js';

/*
 * Rules every adapter applies the same way, so that code tested against the memory or
 * filesystem store does not start failing when it meets S3: S3's limits are the common
 * denominator.
 */

/** True when `key` passes `assertValidKey`. */
export function isValidKey(key: string): boolean {
  try {
    assertValidKey(key);
    return true;
  } catch {
    return false;
  }
}

/**
 * A list prefix is a key, or the start of one: empty, a whole key, a key followed by `/`,
 * or a key cut anywhere inside its last segment. `..`-style segments are refused so that
 * the filesystem adapter never walks outside its root.
 */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  const body = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  try {
    assertValidKey(body);
  } catch (err) {
    throw new InvalidKeyError(prefix, `not a valid list prefix: ${(err as Error).message}`, { cause: err });
  }
}

/** Key order is the byte order of UTF-8, as S3 lists; JS `<` compares UTF-16 units and differs above U+FFFF. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

// S3 sends metadata as HTTP headers: names are lowercased tokens, values must survive as ASCII
// without the leading/trailing blanks that HTTP strips.
const META_NAME = /^[a-z0-9][a-z0-9_.-]*$/;
const META_VALUE = /^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$/;
const META_MAX_BYTES = 2048;

export function assertValidMetadata(metadata: Record<string, string> | undefined): void {
  if (metadata === undefined) return;
  let bytes = 0;
  for (const [name, value] of Object.entries(metadata)) {
    if (!META_NAME.test(name)) {
      throw new InputError(
        `invalid metadata name '${name}': use lowercase ASCII letters, digits, '-', '_' or '.' (S3 sends metadata as HTTP headers)`,
        { code: 'E_INVALID_METADATA' },
      );
    }
    if (typeof value !== 'string' || !META_VALUE.test(value)) {
      throw new InputError(
        `invalid metadata value for '${name}': use printable ASCII without leading or trailing spaces; encode anything else (e.g. encodeURIComponent)`,
        { code: 'E_INVALID_METADATA' },
      );
    }
    bytes += name.length + value.length;
  }
  if (bytes > META_MAX_BYTES) {
    throw new InputError(`metadata is ${bytes} bytes; S3 allows at most ${META_MAX_BYTES} bytes of names and values together`, {
      code: 'E_INVALID_METADATA',
    });
  }
}

// S3's tag rules: at most 10 tags, keys up to 128 characters, values up to 256, a narrow
// character set, and no `aws:` keys.
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const MAX_TAGS = 10;

export function assertValidTags(tags: Record<string, string> | undefined): void {
  if (tags === undefined) return;
  const entries = Object.entries(tags);
  const fail = (what: string): never => {
    throw new InputError(`invalid object tags: ${what} (S3 tag rules apply to every store)`, { code: 'E_INVALID_TAGS' });
  };
  if (entries.length > MAX_TAGS) fail(`${entries.length} tags given, at most ${MAX_TAGS} allowed`);
  for (const [name, value] of entries) {
    if ([...name].length < 1 || [...name].length > 128) fail(`tag key '${name}' must be 1..128 characters`);
    if (typeof value !== 'string' || [...value].length > 256) fail(`tag '${name}' value must be a string of at most 256 characters`);
    if (!TAG_CHARS.test(name) || !TAG_CHARS.test(value)) {
      fail(`tag '${name}' may use only letters, digits, spaces and _ . : / = + - @`);
    }
    if (name.toLowerCase().startsWith('aws:')) fail(`tag key '${name}' uses the reserved 'aws:' prefix`);
  }
}

/** Checks the shape of a range before any I/O: integers, start ≥ 0, end ≥ start. */
export function assertRangeShape(key: string, range: GetOptions['range']): void {
  if (range === undefined) return;
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new InvalidRangeError(`invalid range for '${key}': start must be a non-negative integer, got ${String(start)}`);
  }
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) {
    throw new InvalidRangeError(`invalid range for '${key}': end must be an integer ≥ start (${start}), got ${String(end)}`);
  }
}

/**
 * The inclusive byte span to read, clamped like HTTP: an end past the object is cut to
 * its last byte; a start at or past the end is an error (S3 answers 416).
 */
export function resolveRange(key: string, size: number, range: GetOptions['range']): { start: number; end: number } | undefined {
  if (range === undefined) return undefined;
  assertRangeShape(key, range);
  if (range.start >= size) {
    throw new InvalidRangeError(`range starts at byte ${range.start} but '${key}' is only ${size} bytes long`);
  }
  return { start: range.start, end: Math.min(range.end ?? size - 1, size - 1) };
}

/** Drops duplicate keys, keeping the first occurrence's position. */
export function uniqueKeys(keys: readonly string[]): string[] {
  return [...new Set(keys)];
}
