import type { ListEntry } from '@handover/core';
import type { RetentionPolicies } from '../policy/classes.js';
import { addDurationMs } from '../policy/duration.js';
import type { StoredObjectMeta } from './plan.js';

/*
 * ## Closed data-subject request records: requests/<uuid>.json
 *
 * The RequestRegistry (@handover/offboarding) keeps one JSON document per GDPR request. When
 * a request is closed it gets the `gdpr-appeal` class and `appealUntil` (closedAt + the
 * class duration at that moment); once the appeal window has ended, nothing justifies
 * keeping the record (GDPR Art. 5(1)(e)), unless a legal hold covers its subject.
 *
 * The record's dates are in its body, not its key, so reading one costs a GET. The listing's
 * lastModified bounds them: a closed record was last written at or after it was closed, so
 * closedAt + duration ≤ lastModified + duration. A record is read only once that bound has
 * passed: each run lists `requests/` (1 List per 1,000 records) and GETs only the records
 * that may be due — in a steady state the ones purged in that very run, plus held ones.
 * A record rewritten after it was closed (an archive linked late) is therefore purged up to
 * that many days late, never early.
 *
 * As for archives, the later of the recorded appealUntil and closedAt + the current duration
 * wins: lengthening the class applies to closed records; shortening it, to records closed
 * afterwards.
 */

export const REQUEST_RECORDS_PREFIX = 'requests/';
/** The class a closed request record is kept under (RequestRegistry's GDPR_APPEAL_CLASS). */
export const REQUEST_RECORD_CLASS = 'gdpr-appeal';

const RECORD_NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.json$/;

/** True for `requests/<uuid>.json`. Pure. */
export function isRequestRecordKey(key: string, prefix = REQUEST_RECORDS_PREFIX): boolean {
  return key.startsWith(prefix) && RECORD_NAME.test(key.slice(prefix.length));
}

/**
 * Whether a listed record may be due at `now`, from its listing alone (see above): its class
 * duration counted from its last write has passed. Unknown class: read it (the planner keeps
 * it and says why). Pure.
 */
export function requestRecordMayBeDue(entry: Pick<ListEntry, 'lastModified'>, policies: RetentionPolicies, now: number): boolean {
  const rule = policies.get(REQUEST_RECORD_CLASS);
  const modified = entry.lastModified.getTime();
  if (rule === undefined || !Number.isFinite(modified)) return true;
  return addDurationMs(modified, rule.duration) <= now;
}

/**
 * What the planner needs to know about a request record, from its listing entry and its
 * parsed body; undefined while the request is open (an open request is never due). Pure.
 * A closed record without a usable closing time is kept by the planner (invalid date).
 */
export function requestRecordToMeta(entry: Pick<ListEntry, 'key' | 'size'>, doc: unknown): StoredObjectMeta | undefined {
  if (typeof doc !== 'object' || doc === null) return undefined;
  const r = doc as Record<string, unknown>;
  if (r['status'] !== 'closed') return undefined;
  const closedAt = typeof r['closedAt'] === 'string' ? r['closedAt'] : 'invalid';
  const cls = typeof r['retentionClass'] === 'string' && r['retentionClass'] !== '' ? r['retentionClass'] : REQUEST_RECORD_CLASS;
  const appealUntil = typeof r['appealUntil'] === 'string' ? r['appealUntil'] : undefined;
  const subjectRef = typeof r['subjectRef'] === 'string' && r['subjectRef'] !== '' ? r['subjectRef'] : undefined;
  return {
    key: entry.key,
    size: entry.size,
    class: cls,
    createdAt: closedAt,
    ...(appealUntil === undefined ? {} : { retainUntil: appealUntil }),
    ...(subjectRef === undefined ? {} : { subjectRef }),
  };
}
