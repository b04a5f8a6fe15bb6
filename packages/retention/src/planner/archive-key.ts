import type { ListEntry } from '@handover/core';
import { CLASS_NAME_PATTERN } from '../policy/classes.js';
import type { StoredObjectMeta } from './plan.js';

/*
 * ## The archive key scheme
 *
 *   archives/<retainUntil YYYYMMDD>/<class>[+<class>…]/<subjectRef>/<createdAt YYYYMMDDTHHMMSSZ>-<id><ext>
 *   archives/20240302/export-download/s-7f3a9c/20240131T101500Z-01HQ7Z.zip.age
 *
 * Why this order:
 * - S3 ListObjectsV2 returns keys and sizes but no metadata; a HEAD per object would cost one
 *   request per object. Everything the planner needs (class, anchor, retain-until, subject)
 *   is in the key, so a listing alone is enough.
 * - The retain-until DAY comes first, so the listing is in due order: the planner reads
 *   `archives/` until the first day after today and stops. A daily run reads about one
 *   List page per 1,000 due objects, however large the store.
 * - The day is the UTC day of the retain-until computed when the archive was written; it is
 *   a floor (the planner also recomputes createdAt + duration under the current policy, and
 *   the later of the two wins). Lengthening a class therefore applies to existing archives;
 *   shortening one applies to archives written afterwards.
 * - subjectRef must be pseudonymous (it appears in keys, logs and listings): [A-Za-z0-9._-].
 */

export const ARCHIVES_PREFIX = 'archives/';

export interface ArchiveKeyParts {
  /** The day (UTC) of the retain-until; see computeRetainUntil. */
  retainUntil: Date;
  /** The object's class first, then any extra classes. */
  classes: readonly string[];
  subjectRef: string;
  createdAt: Date;
  /** A unique id (ULID, UUID without dashes…): [A-Za-z0-9_]+ . */
  id: string;
  /** Default `.zip.age`. */
  extension?: string;
  /** Default `archives/`. */
  prefix?: string;
}

const SUBJECT = /^[A-Za-z0-9._-]{1,128}$/;
const ID = /^[A-Za-z0-9_]{1,128}$/;
const EXT = /^(?:\.[A-Za-z0-9]+)*$/;
const NAME = /^(\d{8}T\d{6}Z)-([A-Za-z0-9_]+)((?:\.[A-Za-z0-9]+)*)$/;
const DAY = /^\d{8}$/;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `YYYYMMDD` of a UTC date. */
export function dayStamp(d: Date | number): string {
  const x = new Date(d);
  return `${pad(x.getUTCFullYear(), 4)}${pad(x.getUTCMonth() + 1)}${pad(x.getUTCDate())}`;
}

function compactTime(d: Date): string {
  return `${dayStamp(d)}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
}

function parseDay(s: string): number | undefined {
  if (!DAY.test(s)) return undefined;
  const t = Date.UTC(Number(s.slice(0, 4)), Number(s.slice(4, 6)) - 1, Number(s.slice(6, 8)));
  return dayStamp(t) === s ? t : undefined;
}

function parseCompactTime(s: string): number | undefined {
  const day = parseDay(s.slice(0, 8));
  if (day === undefined) return undefined;
  const h = Number(s.slice(9, 11));
  const m = Number(s.slice(11, 13));
  const sec = Number(s.slice(13, 15));
  if (h > 23 || m > 59 || sec > 59) return undefined;
  return day + ((h * 60 + m) * 60 + sec) * 1000;
}

/** Build an archive key. Throws TypeError on a part that would not round-trip. */
export function archiveKey(parts: ArchiveKeyParts): string {
  const prefix = parts.prefix ?? ARCHIVES_PREFIX;
  const ext = parts.extension ?? '.zip.age';
  if (parts.classes.length === 0) throw new TypeError('archiveKey: at least one class');
  for (const c of parts.classes) if (!CLASS_NAME_PATTERN.test(c)) throw new TypeError(`archiveKey: bad class '${c}'`);
  if (!SUBJECT.test(parts.subjectRef) || parts.subjectRef === '.' || parts.subjectRef === '..') {
    throw new TypeError(`archiveKey: subjectRef '${parts.subjectRef}' must match [A-Za-z0-9._-]{1,128}`);
  }
  if (!ID.test(parts.id)) throw new TypeError(`archiveKey: id '${parts.id}' must match [A-Za-z0-9_]+`);
  if (!EXT.test(ext)) throw new TypeError(`archiveKey: bad extension '${ext}'`);
  // The key records whole seconds; rounding the anchor UP means a retain-until recomputed
  // from the key is never earlier than the true one.
  const created = new Date(Math.ceil(parts.createdAt.getTime() / 1000) * 1000);
  return `${prefix}${dayStamp(parts.retainUntil)}/${parts.classes.join('+')}/${parts.subjectRef}/${compactTime(created)}-${parts.id}${ext}`;
}

export interface ParsedArchiveKey {
  /** Start of the retain-until day (UTC), epoch ms. */
  retainUntilDay: number;
  classes: string[];
  subjectRef: string;
  createdAt: number;
  id: string;
  extension: string;
}

/** Parse a key built by archiveKey; undefined for anything else. */
export function parseArchiveKey(key: string, prefix = ARCHIVES_PREFIX): ParsedArchiveKey | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const segs = key.slice(prefix.length).split('/');
  if (segs.length !== 4) return undefined;
  const [day, classSeg, subjectRef, name] = segs as [string, string, string, string];
  const retainUntilDay = parseDay(day);
  if (retainUntilDay === undefined) return undefined;
  const classes = classSeg.split('+');
  if (!classes.every((c) => CLASS_NAME_PATTERN.test(c))) return undefined;
  if (!SUBJECT.test(subjectRef)) return undefined;
  const m = NAME.exec(name);
  if (m === null) return undefined;
  const createdAt = parseCompactTime(m[1] as string);
  if (createdAt === undefined) return undefined;
  return { retainUntilDay, classes, subjectRef, createdAt, id: m[2] as string, extension: m[3] ?? '' };
}

/** What the planner needs, from a listing entry alone. */
export function archiveEntryToMeta(entry: ListEntry, prefix = ARCHIVES_PREFIX): StoredObjectMeta | undefined {
  const p = parseArchiveKey(entry.key, prefix);
  if (p === undefined) return undefined;
  const [primary, ...extra] = p.classes as [string, ...string[]];
  return {
    key: entry.key,
    size: entry.size,
    class: primary,
    ...(extra.length === 0 ? {} : { classes: extra }),
    createdAt: p.createdAt,
    retainUntil: p.retainUntilDay,
    subjectRef: p.subjectRef,
  };
}

/** The `YYYYMMDD` day segment of an archive key, or undefined. */
export function archiveKeyDay(key: string, prefix = ARCHIVES_PREFIX): string | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const day = key.slice(prefix.length, prefix.length + 8);
  return DAY.test(day) && key.charAt(prefix.length + 8) === '/' ? day : undefined;
}
