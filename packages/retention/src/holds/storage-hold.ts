import { isHandoverError, type Store } from '@handover/core';
import { ARCHIVES_PREFIX, parseArchiveKey } from '../planner/archive-key.js';
import { isHoldActive, type Hold } from './hold.js';

/*
 * ## Storage holds: a legal hold the storage itself honours
 *
 * A Handover hold lives in `holds/`; the retention planner and purger read it. An S3 / MinIO
 * lifecycle rule (the backstop `handover retention sync-lifecycle` writes) does not: it
 * expires an archive by its `handover-class` tag alone. So while a hold stands, every object
 * it covers also gets two things the storage understands:
 *
 * 1. its class tag changed to `handover:held` (a value no class name can take, so no
 *    lifecycle rule filter matches it), the original kept in `handover-held-class`. This
 *    works on every bucket and on the filesystem store;
 * 2. the store's own legal hold (S3 Object Lock PutObjectLegalHold ON) where the bucket has
 *    Object Lock: then not even a delete by hand removes the held version for good.
 *
 * Releasing a hold gives both back, except on objects another active hold still covers.
 *
 * ## When it is applied (every archive is covered, without a request per purged object)
 * - `hold add` applies it to every object already stored (a listing of `archives/` for a
 *   subject hold, one object for a key hold), right after the hold document is written.
 * - Whatever writes an archive (the CLI export, hence offboard, request fulfil and batch)
 *   applies it right after the write if a hold covers the new archive. Write-then-read on
 *   both sides: either the writer's read of the holds sees the hold, or the hold was written
 *   after that read — so after the archive — and the hold's listing sees the archive.
 * - `hold approve-release` gives it back when the second approval releases the hold.
 * - `retention sync-lifecycle` re-applies every hold and re-releases every released one
 *   before writing lifecycle rules, repairing anything a crash in between left behind.
 * The daily worker does not: that would cost a listing of the whole of `archives/` per run
 * while any subject hold stands, and the purge must stay at about one List per 1,000 due
 * archives. Lifecycle rules expire only `margin` days after a class's period, so the rules
 * never act on an archive younger than that; run sync-lifecycle after a crash, or on a
 * schedule, to repair.
 */

/** The tag lifecycle rules filter on (see the exporter's ARCHIVE_TAGS.class). */
export const CLASS_TAG = 'handover-class';
/** Where a held object keeps its class tag's original value. */
export const HELD_CLASS_TAG = 'handover-held-class';
/** The class tag's value while held: the colon makes it impossible as a class name, so no rule matches it. */
export const HELD_TAG_VALUE = 'handover:held';

/** The tags of an object while held, or undefined when they already say so. Pure. */
export function heldTags(tags: Readonly<Record<string, string>>): Record<string, string> | undefined {
  if (tags[CLASS_TAG] === HELD_TAG_VALUE) return undefined;
  const out: Record<string, string> = { ...tags, [CLASS_TAG]: HELD_TAG_VALUE };
  const original = tags[CLASS_TAG];
  if (original === undefined) delete out[HELD_CLASS_TAG];
  else out[HELD_CLASS_TAG] = original;
  return out;
}

/** The tags of an object once no hold covers it, or undefined when they carry no hold. Pure. */
export function releasedTags(tags: Readonly<Record<string, string>>): Record<string, string> | undefined {
  if (tags[CLASS_TAG] !== HELD_TAG_VALUE && tags[HELD_CLASS_TAG] === undefined) return undefined;
  const { [HELD_CLASS_TAG]: original, [CLASS_TAG]: _held, ...rest } = tags;
  return original === undefined ? rest : { ...rest, [CLASS_TAG]: original };
}

/** The subject of a stored object, from its key (archive key scheme). */
export function subjectOfKey(key: string, prefix = ARCHIVES_PREFIX): string | undefined {
  return parseArchiveKey(key, prefix)?.subjectRef;
}

/** The oldest active hold covering `key` (by key, or by its subject), if any. Pure. */
export function holdCovering(key: string, subjectRef: string | undefined, holds: Iterable<Hold>, now: number): Hold | undefined {
  let found: Hold | undefined;
  for (const h of holds) {
    if (!isHoldActive(h, now)) continue;
    const covers = 'key' in h.scope ? h.scope.key === key : subjectRef !== undefined && h.scope.subjectRef === subjectRef;
    if (covers && (found === undefined || h.createdAt < found.createdAt)) found = h;
  }
  return found;
}

export interface StorageHoldResult {
  /** Objects looked at (that exist). */
  objects: number;
  /** Objects whose tags changed. */
  retagged: number;
  /** Objects whose store legal hold was set (on or off) by the store. */
  legalHolds: number;
  /** True when the store cannot hold objects itself (no Object Lock): only the tags protect them. */
  legalHoldUnsupported: boolean;
  /** Objects that could not be changed (they exist, but tagging or the legal hold failed). */
  failed: { key: string; message: string }[];
}

const emptyResult = (): StorageHoldResult => ({ objects: 0, retagged: 0, legalHolds: 0, legalHoldUnsupported: false, failed: [] });

const isNotFound = (err: unknown): boolean => isHandoverError(err) && err.code === 'E_NOT_FOUND';

function merge(into: StorageHoldResult, r: StorageHoldResult): void {
  into.objects += r.objects;
  into.retagged += r.retagged;
  into.legalHolds += r.legalHolds;
  into.legalHoldUnsupported ||= r.legalHoldUnsupported;
  into.failed.push(...r.failed);
}

/** Hold (`on`) or release one object in the storage. A missing object counts for nothing. */
export async function setStorageHold(store: Store, key: string, on: boolean): Promise<StorageHoldResult> {
  const r = emptyResult();
  try {
    const info = await store.head(key);
    if (info === undefined) return r;
    r.objects++;
    // Holding: tags first (they protect on every bucket), then the legal hold. Releasing:
    // the legal hold first, so a crash in between leaves the object protected by its tags.
    if (!on && store.setLegalHold !== undefined) {
      if (await store.setLegalHold(key, false)) r.legalHolds++;
      else r.legalHoldUnsupported = true;
    }
    const tags = on ? heldTags(info.tags) : releasedTags(info.tags);
    if (tags !== undefined && store.setTags !== undefined) {
      await store.setTags(key, tags);
      r.retagged++;
    }
    if (on && store.setLegalHold !== undefined) {
      if (await store.setLegalHold(key, true)) r.legalHolds++;
      else r.legalHoldUnsupported = true;
    }
  } catch (err) {
    if (isNotFound(err)) return emptyResult(); // deleted meanwhile: nothing left to hold
    r.failed.push({ key, message: err instanceof Error ? err.message : String(err) });
  }
  return r;
}

/**
 * Every stored object a hold covers: its key, or the subject's objects under `archives/`
 * (one listing of the prefix: holds are few and placed by hand).
 */
export async function objectsCoveredBy(store: Store, holds: readonly Hold[], prefix = ARCHIVES_PREFIX): Promise<Map<string, Hold[]>> {
  const out = new Map<string, Hold[]>();
  const add = (key: string, h: Hold): void => {
    const list = out.get(key);
    if (list === undefined) out.set(key, [h]);
    else if (!list.includes(h)) list.push(h);
  };
  const bySubject = new Map<string, Hold[]>();
  for (const h of holds) {
    if ('key' in h.scope) add(h.scope.key, h);
    else {
      const list = bySubject.get(h.scope.subjectRef);
      if (list === undefined) bySubject.set(h.scope.subjectRef, [h]);
      else list.push(h);
    }
  }
  if (bySubject.size > 0) {
    for await (const e of store.list(prefix)) {
      const subject = subjectOfKey(e.key, prefix);
      if (subject === undefined) continue;
      for (const h of bySubject.get(subject) ?? []) add(e.key, h);
    }
  }
  return out;
}

export interface StorageHoldOptions {
  /** Every hold in the store (released ones included): releasing skips objects another active hold covers. */
  holds: readonly Hold[];
  /** Epoch ms. */
  now: number;
  /** Where archives live. Default `archives/`. */
  prefix?: string;
}

/** Take the storage's hold on every object `hold` covers. */
export async function applyStorageHold(store: Store, hold: Hold, options: Omit<StorageHoldOptions, 'holds' | 'now'> = {}): Promise<StorageHoldResult> {
  const r = emptyResult();
  for (const key of (await objectsCoveredBy(store, [hold], options.prefix)).keys()) merge(r, await setStorageHold(store, key, true));
  return r;
}

/** Give back the storage's hold on every object `released` covers that no other active hold covers. */
export async function releaseStorageHold(store: Store, released: Hold, options: StorageHoldOptions): Promise<StorageHoldResult> {
  const r = emptyResult();
  const others = options.holds.filter((h) => h.id !== released.id);
  for (const key of (await objectsCoveredBy(store, [released], options.prefix)).keys()) {
    if (holdCovering(key, subjectOfKey(key, options.prefix), others, options.now) !== undefined) continue;
    merge(r, await setStorageHold(store, key, false));
  }
  return r;
}

/**
 * Make the storage agree with the holds: every object an active hold covers is held, every
 * object only released holds cover is released. One listing of `archives/` when any subject
 * hold exists, then a HEAD (and at most a tagging and a legal-hold request) per covered object.
 * An object a hold is applied to meanwhile is applied again next time: both are idempotent.
 */
export async function syncStorageHolds(store: Store, options: StorageHoldOptions): Promise<StorageHoldResult & { held: number; released: number }> {
  const r = { ...emptyResult(), held: 0, released: 0 };
  const covered = await objectsCoveredBy(store, options.holds, options.prefix);
  for (const [key, holds] of covered) {
    const on = holds.some((h) => isHoldActive(h, options.now));
    const one = await setStorageHold(store, key, on);
    merge(r, one);
    if (one.objects > 0) {
      if (on) r.held++;
      else r.released++;
    }
  }
  return r;
}

/**
 * For whatever writes an archive: call right AFTER the write, with the holds read after it.
 * If an active hold covers the new object, take the storage's hold on it now.
 */
export async function holdIfCovered(
  store: Store,
  key: string,
  subjectRef: string | undefined,
  holds: readonly Hold[],
  now: number,
): Promise<{ hold: Hold; storage: StorageHoldResult } | undefined> {
  const hold = holdCovering(key, subjectRef ?? subjectOfKey(key), holds, now);
  if (hold === undefined) return undefined;
  return { hold, storage: await setStorageHold(store, key, true) };
}
