import type { Store } from '@handover/core';
import type { Hold } from '../holds/hold.js';
import { HoldRegistry } from '../holds/hold-registry.js';
import type { RetentionPolicies } from '../policy/classes.js';
import { readJson, SHRED_PENDING_PREFIX } from '../purge/journal.js';
import { ARCHIVES_PREFIX, archiveEntryToMeta, archiveKeyDay, dayStamp } from './archive-key.js';
import { Planner, type PendingShred, type Plan, type StoredObjectMeta } from './plan.js';
import { isRequestRecordKey, REQUEST_RECORDS_PREFIX, requestRecordMayBeDue, requestRecordToMeta } from './request-records.js';

export interface PlanFromStoreOptions {
  policies: RetentionPolicies;
  now: Date;
  /** Default: every hold in the store's HoldRegistry. */
  holds?: Iterable<Hold>;
  /** Default: the pending markers under `retention/shred-pending/`. */
  pendingShreds?: Iterable<PendingShred>;
  /** Where archives live. Default `archives/`. */
  prefix?: string;
  /**
   * `due` (default): read the listing up to today's retain-until day and stop — about one
   * List request per 1,000 due archives. If a crypto-shred is undecided then, read on (a
   * later archive of the subject would block it): that run reads the whole prefix.
   * `full`: read everything (complete totals; one List per 1,000 archives).
   */
  scan?: 'due' | 'full';
  /** Also return 'keep' decisions for objects not yet due. */
  includeKept?: boolean;
  /**
   * Where closed data-subject request records live (see request-records.ts): each run lists
   * it and reads the records whose appeal window may have ended. Default `requests/`;
   * `false` plans archives only.
   */
  requestsPrefix?: string | false;
  signal?: AbortSignal;
}

/**
 * The closed request records that may be due at `now`: one listing of the prefix, and one
 * GET per record whose class duration since its last write has passed. Records that name no
 * subject are kept (a hold on their subject could not be checked) and reported in `warnings`.
 */
export async function readDueRequestRecords(
  store: Store,
  options: { policies: RetentionPolicies; now: Date; prefix?: string; signal?: AbortSignal },
): Promise<{ records: StoredObjectMeta[]; listed: number; read: number; warnings: string[] }> {
  const prefix = options.prefix ?? REQUEST_RECORDS_PREFIX;
  const now = options.now.getTime();
  const records: StoredObjectMeta[] = [];
  const warnings: string[] = [];
  let listed = 0;
  let read = 0;
  for await (const e of store.list(prefix)) {
    if (options.signal?.aborted === true) throw options.signal.reason;
    if (!isRequestRecordKey(e.key, prefix)) continue;
    listed++;
    if (!requestRecordMayBeDue(e, options.policies, now)) continue;
    read++;
    let doc: unknown;
    try {
      doc = await readJson<unknown>(store, e.key);
    } catch (err) {
      // An unreadable record is kept, never guessed at.
      warnings.push(`${e.key}: not readable as JSON (${err instanceof Error ? err.message : String(err)}); kept`);
      continue;
    }
    const meta = requestRecordToMeta(e, doc);
    if (meta === undefined) continue; // open: never due
    if (meta.subjectRef === undefined) {
      warnings.push(`${e.key}: closed request record without a subject ref, so holds on its subject cannot be checked; kept`);
      continue;
    }
    records.push(meta);
  }
  return { records, listed, read, warnings };
}

/** Every pending crypto-shred marker. */
export async function readPendingShreds(store: Store): Promise<PendingShred[]> {
  const out: PendingShred[] = [];
  for await (const e of store.list(SHRED_PENDING_PREFIX)) {
    const p = await readJson<PendingShred>(store, e.key);
    if (p !== undefined && typeof p.subjectRef === 'string') out.push(p);
  }
  return out;
}

/**
 * Plan from a store listing alone, with the archive key scheme (see archive-key.ts): no
 * HEAD per object. Keys under the prefix that don't follow the scheme are kept and counted
 * in `coverage.unrecognized`.
 */
export async function planFromStore(store: Store, options: PlanFromStoreOptions): Promise<Plan> {
  const prefix = options.prefix ?? ARCHIVES_PREFIX;
  const mode = options.scan ?? 'due';
  const holds = options.holds ?? (await new HoldRegistry(store).list());
  const pendingShreds = options.pendingShreds ?? (await readPendingShreds(store));
  const planner = new Planner({
    policies: options.policies,
    holds,
    now: options.now,
    pendingShreds,
    ...(options.includeKept === undefined ? {} : { includeKept: options.includeKept }),
  });
  const today = dayStamp(options.now);
  let listed = 0;
  let unrecognized = 0;
  let complete = true;
  let pastToday = false;
  let nextCheck = 0;
  for await (const e of store.list(prefix)) {
    if (options.signal?.aborted === true) throw options.signal.reason;
    if (mode === 'due') {
      if (!pastToday) {
        const day = archiveKeyDay(e.key, prefix);
        if (day !== undefined && day > today) {
          pastToday = true;
          nextCheck = listed;
        }
      }
      // Past today nothing is due; read on only while a shred still needs the subject's
      // later archives (re-checked every 1,000 entries: counting is O(candidates)).
      if (pastToday && listed >= nextCheck) {
        if (planner.unresolvedShredSubjects === 0) {
          complete = false;
          break;
        }
        nextCheck = listed + 1000;
      }
    }
    listed++;
    const meta = archiveEntryToMeta(e, prefix);
    if (meta === undefined) {
      unrecognized++;
      continue;
    }
    planner.add(meta);
  }
  // Closed request records after the archives: the planner takes objects in any order.
  const requestsPrefix = options.requestsPrefix ?? REQUEST_RECORDS_PREFIX;
  let requests: { listed: number; read: number; warnings: string[] } | undefined;
  if (requestsPrefix !== false) {
    const r = await readDueRequestRecords(store, { policies: options.policies, now: options.now, prefix: requestsPrefix, ...(options.signal ? { signal: options.signal } : {}) });
    for (const meta of r.records) planner.add(meta);
    requests = r;
  }
  const plan = planner.finish();
  if (unrecognized > 0) plan.warnings.push(`${unrecognized} keys under ${prefix} do not follow the archive key scheme; kept`);
  if (requests !== undefined) plan.warnings.push(...requests.warnings.slice(0, 100));
  plan.coverage = {
    mode,
    listed,
    complete,
    unrecognized,
    ...(requests === undefined || requests.listed === 0 ? {} : { requestRecords: { listed: requests.listed, read: requests.read } }),
  };
  return plan;
}
