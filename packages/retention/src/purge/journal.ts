import { createHash } from 'node:crypto';
import { isHandoverError, readObject, type Store } from '@handover/core';
import type { RetentionClass } from '../policy/classes.js';
import type { DeferredShred, KeyShredPlan } from '../planner/plan.js';

/*
 * ## The run journal
 *
 *   retention/open-runs/<runId>.json            exists while a run is unfinished
 *   retention/runs/<runId>/run.json             the run: actor, plan time, key shreds
 *   retention/runs/<runId>/batches/<n>.json     written right BEFORE batch n (up to 10,000 keys,
 *                                               deleted 1,000 per request) is deleted
 *   certificates/<runId>-b<n>.xml               batch n's certificates (one per subject), written
 *                                               once it is deleted, checked and audited: the
 *                                               batch's done marker
 *   retention/runs/<runId>/done/batch-<n>.json  batch n's done marker when it certified nothing
 *                                               (everything held or failed)
 *   retention/runs/<runId>/done/shred-<h>.json  the same for one subject's key shred
 *   retention/runs/<runId>/done.json            the run's summary
 *   retention/plans/<fingerprint>.json          the run that took a plan (create-only)
 *   retention/latest-run.json                   the latest run's start (stale-plan check)
 *   retention/shredded/<h>.json                 a subject's latest key shred (stale-plan check)
 *   retention/shred-pending/<h>.json            a crypto-shred that must wait (across runs)
 *
 * A crash anywhere leaves an open run. The next purge resumes it first: it finishes the one
 * batch that has a batch file but no certificate document or done marker (checking which keys are already gone, so
 * nothing is deleted twice), then the key shreds. Purging the same plan again (same
 * fingerprint) continues that run with the plan's remaining objects; a fresh plan closes
 * the old run and carries on — objects of batches that were never written are still in
 * the store and due, so the fresh plan includes them and nothing is skipped. Key shreds are journaled in run.json before any object is deleted, because once
 * the objects are gone the planner could no longer see that a shred was due.
 */

export const RETENTION_PREFIX = 'retention/';
export const OPEN_RUNS_PREFIX = `${RETENTION_PREFIX}open-runs/`;
export const RUNS_PREFIX = `${RETENTION_PREFIX}runs/`;
export const SHRED_PENDING_PREFIX = `${RETENTION_PREFIX}shred-pending/`;

/** One decision as persisted in a batch file: everything the certificate needs. */
export interface JournalDecision {
  key: string;
  action: 'delete' | 'shred';
  size: number;
  rule: RetentionClass;
  subjectRef?: string;
  createdAt: string;
  retainUntil: string;
  sha256?: string;
  version?: string;
}

export interface BatchFile {
  runId: string;
  batch: number;
  /** When deletion of this batch started. Certifies keys found already gone on resume. */
  startedAt: string;
  decisions: JournalDecision[];
}

export interface RunFile {
  runId: string;
  actor: string;
  startedAt: string;
  /** The plan's `now`. */
  planNow: string;
  /** The plan's fingerprint: purging the same plan again continues this run. */
  planFingerprint: string;
  shreds: KeyShredPlan[];
  deferredShreds: DeferredShred[];
  /**
   * The plan was made before the latest run started, so some of its objects may be gone
   * already: each batch is checked for presence before it is journaled. Kept here so that
   * continuing the run after a crash checks too (absent in older journals: check).
   */
  stalePlan?: boolean;
}

export interface BatchDone {
  batch: number;
  deleted: number;
  bytes: number;
  failed: { key: string; message: string }[];
  held: { key: string; holdId: string; subjectRef?: string }[];
  certificates: string[];
}

export const pad6 = (n: number): string => String(n).padStart(6, '0');
export const subjectHash = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 32);

export const runFileKey = (runId: string): string => `${RUNS_PREFIX}${runId}/run.json`;
export const openRunKey = (runId: string): string => `${OPEN_RUNS_PREFIX}${runId}.json`;
export const batchFileKey = (runId: string, n: number): string => `${RUNS_PREFIX}${runId}/batches/${pad6(n)}.json`;
export const batchDoneKey = (runId: string, n: number): string => `${RUNS_PREFIX}${runId}/done/batch-${pad6(n)}.json`;
export const shredDoneKey = (runId: string, subjectRef: string): string =>
  `${RUNS_PREFIX}${runId}/done/shred-${subjectHash(subjectRef)}.json`;
export const runDoneKey = (runId: string): string => `${RUNS_PREFIX}${runId}/done.json`;
/** The latest run's start: a plan made before it may name objects that run destroyed. */
export const LATEST_RUN_KEY = `${RETENTION_PREFIX}latest-run.json`;
/** The latest completed key shred per subject: a stale plan must not shred (and certify) again. */
export const SHREDDED_PREFIX = `${RETENTION_PREFIX}shredded/`;
export const shreddedKey = (subjectRef: string): string => `${SHREDDED_PREFIX}${subjectHash(subjectRef)}.json`;
export const PLANS_PREFIX = `${RETENTION_PREFIX}plans/`;
/** Marks a plan as taken by a run: the same plan is never executed twice. */
export const planMarkerKey = (fingerprint: string): string => `${PLANS_PREFIX}${fingerprint}.json`;
export const pendingShredKey = (subjectRef: string): string => `${SHRED_PENDING_PREFIX}${subjectHash(subjectRef)}.json`;

export async function readJson<T>(store: Store, key: string): Promise<T | undefined> {
  const bytes = await readObject(store, key);
  return bytes === undefined ? undefined : (JSON.parse(bytes.toString('utf8')) as T);
}

export async function writeJson(store: Store, key: string, value: unknown, options: { ifNoneMatch?: boolean } = {}): Promise<void> {
  await store.put(key, `${JSON.stringify(value)}\n`, { contentType: 'application/json', ...options });
}

export const isExists = (err: unknown): boolean => isHandoverError(err) && err.code === 'E_EXISTS';
