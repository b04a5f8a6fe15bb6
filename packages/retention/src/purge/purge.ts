import { randomBytes } from 'node:crypto';
import type { AuditLog, Clock, Store } from '@handover/core';
import {
  batchCertificateId,
  certificateKey,
  CERTIFICATES_PREFIX,
  renderErasureCertificate,
  renderErasureCertificateBatch,
  type DestroyedObjectEntry,
  type ErasureCertificate,
} from '../certificate/erasure-certificate.js';
import { RetentionError } from '../errors.js';
import type { Hold } from '../holds/hold.js';
import { HoldRegistry } from '../holds/hold-registry.js';
import type { KeyShredPlan, PendingShred, Plan, Totals } from '../planner/plan.js';
import {
  batchDoneKey,
  batchFileKey,
  isExists,
  openRunKey,
  OPEN_RUNS_PREFIX,
  pad6,
  pendingShredKey,
  planMarkerKey,
  LATEST_RUN_KEY,
  shreddedKey,
  readJson,
  runDoneKey,
  runFileKey,
  RUNS_PREFIX,
  shredDoneKey,
  subjectHash,
  writeJson,
  type BatchDone,
  type BatchFile,
  type JournalDecision,
  type RunFile,
} from './journal.js';
import { findPresent, type PresenceOptions } from './post-check.js';

/**
 * Destroys a data subject's key(s), making every copy of their ciphertext unreadable.
 * Implemented by the key ring; the purger only calls it.
 */
export interface KeyShredder {
  /**
   * Destroy the subject's key and return its id. Must be idempotent: shredding an
   * already-shredded subject returns the id it had (a resumed run may call it twice).
   */
  shred(subjectRef: string, context: { reason: string; actor: string }): Promise<string>;
  /** Post-check: whether any key of the subject can still decrypt. Optional. */
  hasKey?(subjectRef: string): Promise<boolean>;
}

/** Where the purger re-reads holds right before destroying anything. */
export interface HoldSource {
  active(): Promise<Hold[]>;
}

/** Minimal logger (pino-compatible). */
export interface PurgeLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface PurgeOptions {
  store: Store;
  plan: Plan;
  /** Needed when the plan has key shreds; without it they stay pending (and are audited as failures). */
  keyShredder?: KeyShredder;
  audit: AuditLog;
  clock: Clock;
  /** Who purges, e.g. `retention-worker@host`; in every audit record and certificate. */
  actor: string;
  /** Abort between batches; the run stays open and is resumed next time. */
  signal?: AbortSignal;
  /** Default: a HoldRegistry over `store`. */
  holds?: HoldSource;
  /** Keys per delete request, at most 1000 (the S3 DeleteObjects limit). Default 1000. */
  batchSize?: number;
  /**
   * Keys per journal batch: one batch file, one audit record and one certificate document
   * (a certificate per subject inside) for this many keys, deleted `batchSize` at a time
   * and checked with one listing per day prefix. Default 10,000: about 5 requests of
   * bookkeeping per 10,000 objects.
   */
  checkpointSize?: number;
  /** Re-read holds before a batch when they are older than this (clock time). Default 60 s. */
  holdRecheckMs?: number;
  /** How deletions are checked afterwards. */
  postCheck?: PresenceOptions;
  /** Called before each batch and key shred; the worker renews its lease here. Throwing stops the purge. */
  onProgress?: (p: { runId: string; phase: 'batch' | 'shred'; index: number }) => void | Promise<void>;
  logger?: PurgeLogger;
  /** Fixed run id (tests); default `run-<time>-<random>`. */
  runId?: string;
}

export interface PurgeResult {
  /** The new run, or undefined when the plan had nothing to destroy. */
  runId: string | undefined;
  /** Unfinished runs found and completed first. */
  resumedRuns: string[];
  /** Objects destroyed (deleted, or found already gone when resuming their batch). */
  deleted: Totals;
  /** `deleted.count` split by the plan's action ('shred': ciphertext of a crypto-shred class). */
  deletedByAction: { delete: number; shred: number };
  keyShreds: number;
  certificates: number;
  /** Objects that could not be deleted; they stay due and the next run retries. */
  failed: { key: string; message: string }[];
  /** Objects a hold placed after planning kept. */
  held: { key: string; holdId: string }[];
  /** Key shreds that wait (pending markers written). */
  deferredShreds: number;
  /** Backend delete requests made (DeleteObjects: one per 1000 keys). */
  deleteRequests: number;
}

const iso = (d: Date): string => d.toISOString();
const compact = (d: Date): string => iso(d).replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

class Purger {
  readonly store: Store;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly actor: string;
  readonly signal: AbortSignal | undefined;
  readonly holdsSource: HoldSource;
  readonly keyShredder: KeyShredder | undefined;
  readonly batchSize: number;
  readonly checkpointSize: number;
  readonly holdRecheckMs: number;
  readonly postCheck: PresenceOptions;
  readonly onProgress: PurgeOptions['onProgress'];
  readonly logger: PurgeLogger | undefined;
  holds: Hold[] = [];
  holdsCheckedAt = new Date(0);
  readonly result: PurgeResult = {
    runId: undefined,
    resumedRuns: [],
    deleted: { count: 0, bytes: 0 },
    deletedByAction: { delete: 0, shred: 0 },
    keyShreds: 0,
    certificates: 0,
    failed: [],
    held: [],
    deferredShreds: 0,
    deleteRequests: 0,
  };
  /** Subjects with an object a hold kept from this purge: their keys must not be shredded. */
  readonly heldSubjects = new Map<string, string>();
  /** Audit records already written by an interrupted run, by journal reference (with the keys a batch record logged). */
  audited = new Map<string, { seq: number; hash: string; keys?: string[] }>();
  /** Delete requests made so far: the index onProgress reports. */
  deleteRounds = 0;

  constructor(o: PurgeOptions) {
    this.store = o.store;
    this.audit = o.audit;
    this.clock = o.clock;
    this.actor = o.actor;
    this.signal = o.signal;
    this.holdsSource = o.holds ?? new HoldRegistry(o.store, { clock: o.clock });
    this.keyShredder = o.keyShredder;
    this.batchSize = Math.min(1000, Math.max(1, o.batchSize ?? 1000));
    this.checkpointSize = Math.max(1, Math.floor(o.checkpointSize ?? 10_000));
    this.holdRecheckMs = o.holdRecheckMs ?? 60_000;
    this.postCheck = o.postCheck ?? {};
    this.onProgress = o.onProgress;
    this.logger = o.logger;
    if (typeof o.actor !== 'string' || o.actor.trim() === '') throw new RetentionError('E_PURGE', 'purge needs an actor');
  }

  checkAbort(): void {
    if (this.signal?.aborted === true) {
      throw new RetentionError('E_PURGE_ABORTED', 'purge aborted; the run is resumed next time', { cause: this.signal.reason });
    }
  }

  /** Re-read the active holds when forced or older than holdRecheckMs; true if they were re-read. */
  async refreshHolds(force: boolean): Promise<boolean> {
    const now = this.clock.now();
    if (!force && now.getTime() - this.holdsCheckedAt.getTime() < this.holdRecheckMs) return false;
    this.holds = await this.holdsSource.active();
    this.holdsCheckedAt = now;
    this.holdsByKey.clear();
    this.holdsBySubject.clear();
    for (const h of this.holds) {
      if ('key' in h.scope) {
        if (!this.holdsByKey.has(h.scope.key)) this.holdsByKey.set(h.scope.key, h);
      } else if (!this.holdsBySubject.has(h.scope.subjectRef)) this.holdsBySubject.set(h.scope.subjectRef, h);
    }
    return true;
  }

  readonly holdsByKey = new Map<string, Hold>();
  readonly holdsBySubject = new Map<string, Hold>();

  holdFor(key: string, subjectRef: string | undefined): Hold | undefined {
    return this.holdsByKey.get(key) ?? (subjectRef === undefined ? undefined : this.holdsBySubject.get(subjectRef));
  }

  subjectHold(subjectRef: string): Hold | undefined {
    return this.holdsBySubject.get(subjectRef);
  }

  /** Append once: on resume, a record an interrupted attempt already wrote is reused. */
  async auditOnce(ref: string, entry: Parameters<AuditLog['append']>[0]): Promise<{ seq: number; hash: string }> {
    const seen = this.audited.get(ref);
    if (seen !== undefined) return seen;
    const r = await this.audit.append({ ...entry, details: { ...entry.details, journalRef: ref } });
    return { seq: r.seq, hash: r.hash };
  }

  async loadAudited(run: RunFile): Promise<void> {
    // Records of this run are at the tail; stop at the first record older than the run.
    for await (const rec of this.audit.readBackwards()) {
      if (rec.time < run.startedAt) break;
      const ref = rec.details['journalRef'];
      if (typeof ref !== 'string' || !ref.startsWith(`${run.runId}/`)) continue;
      const keys = rec.details['keys'];
      this.audited.set(ref, { seq: rec.seq, hash: rec.hash, ...(Array.isArray(keys) ? { keys: keys as string[] } : {}) });
    }
  }

  async putCertificate(cert: ErasureCertificate): Promise<void> {
    await this.putDocument(certificateKey(cert.id), renderErasureCertificate(cert), true);
    this.result.certificates++;
  }

  /**
   * Write a certificate document. Create-only when an interrupted attempt may have written
   * it already (resuming: the first one stays, as the audit record quotes it); a fresh
   * batch's document cannot exist yet (its id names this run), so a plain PUT will do.
   */
  async putDocument(key: string, xml: string, createOnly: boolean): Promise<void> {
    try {
      await this.store.put(key, xml, {
        ...(createOnly ? { ifNoneMatch: true } : {}),
        contentType: 'application/xml',
        // Certificates are evidence of erasure; they are kept as long as the audit log.
        metadata: { 'retention-class': 'financial-audit-log' },
        tags: { class: 'financial-audit-log' },
      });
    } catch (err) {
      if (!isExists(err)) throw err; // exists: an interrupted attempt wrote it already
    }
  }

  // ---------------------------------------------------------------------------------------
  // Batches

  /** Set for a stale plan: each fresh batch is checked for presence before it is journaled. */
  stalePlan = false;

  /**
   * One journal batch (up to `checkpointSize` keys): delete it in requests of at most
   * `batchSize` keys, re-reading holds between them; check every deletion with listings;
   * then write one audit record and one certificate document for the whole batch, with one
   * certificate per subject inside. The certificate document is the batch's done marker;
   * a batch that certifies nothing (all held or failed) gets a done/ file instead.
   */
  async executeBatch(run: RunFile, batch: BatchFile, resuming: boolean): Promise<void> {
    const held: BatchDone['held'] = [];
    const hold = (d: JournalDecision, h: Hold): void => {
      held.push({ key: d.key, holdId: h.id, ...(d.subjectRef === undefined ? {} : { subjectRef: d.subjectRef }) });
      if (d.subjectRef !== undefined) this.heldSubjects.set(d.subjectRef, h.id);
    };
    let live: JournalDecision[] = [];
    for (const d of batch.decisions) {
      const h = this.holdFor(d.key, d.subjectRef);
      if (h === undefined) live.push(d);
      else hold(d, h);
    }
    const docId = batchCertificateId(run.runId, batch.batch);
    const certId = (d: JournalDecision): string => `${docId}-${subjectHash(d.subjectRef ?? d.key).slice(0, 12)}`;
    const auditRef = `${run.runId}/b${batch.batch}`;

    // Fresh batch: everything was just listed, so delete it all. Resumed batch: delete only
    // what is still there; the rest went in the interrupted attempt.
    let toDelete = live;
    const goneBefore = new Set<string>();
    if (resuming) {
      const { present } = await findPresent(this.store, live.map((d) => d.key), this.postCheck);
      // An interrupted attempt that already logged the batch certifies exactly what it
      // logged; anything else still present is left for the next plan.
      const logged = this.audited.get(auditRef)?.keys;
      const loggedSet = logged === undefined ? undefined : new Set(logged);
      toDelete = [];
      for (const d of live) {
        if (!present.has(d.key)) goneBefore.add(d.key);
        else if (loggedSet === undefined) toDelete.push(d);
      }
      if (loggedSet !== undefined) live = live.filter((d) => loggedSet.has(d.key));
    }
    const errors = new Map<string, string>();
    const attempted = new Set(goneBefore);
    for (let i = 0; i < toDelete.length; i += this.batchSize) {
      this.checkAbort();
      await this.onProgress?.({ runId: run.runId, phase: 'batch', index: ++this.deleteRounds });
      this.checkAbort();
      let chunk = toDelete.slice(i, i + this.batchSize);
      if (await this.refreshHolds(false)) {
        // Holds re-read: a hold placed since the batch began still wins.
        chunk = chunk.filter((d) => {
          const h = this.holdFor(d.key, d.subjectRef);
          if (h !== undefined) hold(d, h);
          return h === undefined;
        });
      }
      if (chunk.length === 0) continue;
      const keys = chunk.map((d) => d.key);
      let res;
      try {
        res = await this.store.delete(keys);
      } catch (err) {
        throw new RetentionError('E_PURGE', `deleting batch ${batch.batch} of ${run.runId} failed; run again to resume`, { cause: err });
      }
      this.result.deleteRequests += res.requests;
      for (const e of res.errors) errors.set(e.key, e.message);
      for (const k of keys) attempted.add(k);
    }
    const deletedAt = this.clock.now();
    // Listings of the keys' day prefixes: after a purge about one List for the whole batch.
    const check = await findPresent(this.store, [...attempted], this.postCheck);
    const checkedAt = iso(this.clock.now());

    const groups = new Map<string, JournalDecision[]>();
    const failed: { key: string; message: string }[] = [];
    let deleted = 0;
    let bytes = 0;
    for (const d of live) {
      if (!attempted.has(d.key)) continue;
      if (check.present.has(d.key)) {
        failed.push({ key: d.key, message: errors.get(d.key) ?? 'still present after delete' });
        continue;
      }
      deleted++;
      bytes += d.size;
      this.result.deletedByAction[d.action]++;
      const id = certId(d);
      let g = groups.get(id);
      if (g === undefined) groups.set(id, (g = []));
      g.push(d);
    }

    const certificates: string[] = [...groups.keys()];
    let audited: { seq: number; hash: string } | undefined;
    if (groups.size > 0) {
      this.checkAbort();
      const subjects = new Set<string>();
      for (const g of groups.values()) if (g[0]?.subjectRef !== undefined) subjects.add(g[0].subjectRef);
      const only = groups.size === 1 ? [...groups.values()][0]?.[0]?.subjectRef : undefined;
      const rules = new Set<string>();
      for (const g of groups.values()) for (const d of g) rules.add(`${d.rule.name} (${d.rule.duration}; ${d.rule.legalBasis})`);
      audited = await this.auditOnce(auditRef, {
        actor: this.actor,
        action: 'retention.purge',
        target: certificateKey(docId),
        ...(only === undefined ? {} : { subjectRef: only }),
        reason: `retention period ended: ${[...rules].join('; ')}`,
        outcome: 'success',
        details: {
          runId: run.runId,
          batch: batch.batch,
          certificateDocument: docId,
          certificates: [...groups].map(([id, g]) => ({
            id,
            ...(g[0]?.subjectRef === undefined ? {} : { subjectRef: g[0].subjectRef }),
            objects: g.length,
            bytes: g.reduce((sum, d) => sum + d.size, 0),
          })),
          subjects: [...subjects],
          keys: [...groups.values()].flatMap((g) => g.map((d) => d.key)),
          bytes,
        },
      });
    }
    if (failed.length > 0) {
      await this.auditOnce(`${run.runId}/b${batch.batch}/failed`, {
        actor: this.actor,
        action: 'retention.purge',
        target: `${failed.length} objects`,
        reason: 'delete failed; the objects stay due and the next run retries',
        outcome: 'failure',
        details: { runId: run.runId, batch: batch.batch, failed },
      });
    }
    if (held.length > 0) {
      await this.auditOnce(`${run.runId}/b${batch.batch}/held`, {
        actor: this.actor,
        action: 'retention.purge',
        target: `${held.length} objects`,
        reason: 'a legal hold placed after planning covers them',
        outcome: 'refused',
        details: { runId: run.runId, batch: batch.batch, held },
      });
    }
    if (audited !== undefined) {
      const issuedAt = iso(this.clock.now());
      const holdCheck = { checkedAt: iso(this.holdsCheckedAt), activeHolds: this.holds.length };
      const certs: ErasureCertificate[] = [...groups].map(([id, group]) => {
        const subjectRef = group[0]?.subjectRef;
        return {
          id,
          issuedAt,
          run: { id: run.runId, batch: batch.batch },
          actor: this.actor,
          ...(subjectRef === undefined ? {} : { subjectRef }),
          holdCheck,
          destroyed: group.map((d) => ({
            kind: 'object' as const,
            key: d.key,
            bytes: d.size,
            ...(d.version === undefined ? {} : { version: d.version }),
            ...(d.sha256 === undefined ? {} : { sha256: d.sha256 }),
            rule: {
              class: d.rule.name,
              duration: d.rule.duration,
              action: d.rule.action,
              legalBasis: d.rule.legalBasis,
              retainedUntil: d.retainUntil,
            },
            dueSince: d.retainUntil,
            erasure: { at: goneBefore.has(d.key) ? batch.startedAt : iso(deletedAt), method: 'delete' as const },
            postCheck: { result: 'absent' as const, method: check.method.get(d.key) ?? 'list', checkedAt },
          })),
          audit: audited,
        };
      });
      // Last: once it exists the batch is done (resume looks for it).
      await this.putDocument(certificateKey(docId), renderErasureCertificateBatch({ id: docId, issuedAt, certificates: certs }), resuming);
      this.result.certificates += certs.length;
    } else {
      const done: BatchDone = { batch: batch.batch, deleted, bytes, failed, held, certificates };
      await writeJson(this.store, batchDoneKey(run.runId, batch.batch), done);
    }
    this.result.deleted.count += deleted;
    this.result.deleted.bytes += bytes;
    this.result.failed.push(...failed);
    this.result.held.push(...held);
    this.logger?.info({ runId: run.runId, batch: batch.batch, deleted, failed: failed.length, held: held.length, certificates: certificates.length }, 'retention batch done');
  }

  // ---------------------------------------------------------------------------------------
  // Key shreds

  async writePending(p: PendingShred): Promise<void> {
    await writeJson(this.store, pendingShredKey(p.subjectRef), p);
  }

  async executeShred(run: RunFile, s: KeyShredPlan): Promise<void> {
    const ref = `${run.runId}/shred/${subjectHash(s.subjectRef)}`;
    await this.refreshHolds(false);
    // A subject hold, or a key hold on one of the subject's objects met in this purge.
    const subjectHold = this.subjectHold(s.subjectRef);
    const heldBy = subjectHold?.id ?? this.heldSubjects.get(s.subjectRef);
    const holdReason = subjectHold?.reason ?? this.holds.find((h) => h.id === heldBy)?.reason ?? 'an object of the subject is held';
    const done = async (status: string, extra: Record<string, unknown> = {}): Promise<void> => {
      await writeJson(this.store, shredDoneKey(run.runId, s.subjectRef), { subjectRef: s.subjectRef, status, ...extra });
    };
    // Shredded after this shred fell due — by this run before a crash, or by another run
    // since this plan was made: every object the plan names was encrypted under the key
    // that went then (each was created before its retain-until, which is ≤ dueSince), and
    // its certificate exists. Shredding again would certify twice. A key shredded BEFORE
    // dueSince may be an older key of the subject: shred again.
    const previous = await readJson<{ at: string; runId: string }>(this.store, shreddedKey(s.subjectRef));
    if (previous !== undefined && previous.at >= s.dueSince) {
      await this.store.delete([pendingShredKey(s.subjectRef)]);
      await done('already-shredded', { by: previous.runId });
      return;
    }
    if (heldBy !== undefined || this.keyShredder === undefined) {
      // Keep it pending (no notBefore: look again next run).
      await this.writePending({ subjectRef: s.subjectRef, class: s.class, dueSince: s.dueSince });
      this.result.deferredShreds++;
      await this.auditOnce(ref, {
        actor: this.actor,
        action: 'retention.crypto-shred',
        target: `subject:${s.subjectRef}`,
        subjectRef: s.subjectRef,
        reason: heldBy !== undefined ? `held by ${heldBy}: ${holdReason}` : 'no key shredder configured; left pending',
        outcome: heldBy !== undefined ? 'refused' : 'failure',
        details: { runId: run.runId, class: s.class },
      });
      await done(heldBy !== undefined ? 'held' : 'no-shredder');
      return;
    }
    let keyId: string;
    try {
      keyId = await this.keyShredder.shred(s.subjectRef, { reason: s.reason, actor: this.actor });
    } catch (err) {
      await this.writePending({ subjectRef: s.subjectRef, class: s.class, dueSince: s.dueSince });
      this.result.deferredShreds++;
      await this.auditOnce(ref, {
        actor: this.actor,
        action: 'retention.crypto-shred',
        target: `subject:${s.subjectRef}`,
        subjectRef: s.subjectRef,
        reason: `key shred failed: ${err instanceof Error ? err.message : String(err)}; left pending`,
        outcome: 'failure',
        details: { runId: run.runId, class: s.class },
      });
      await done('failed');
      return;
    }
    const shreddedAt = iso(this.clock.now());
    let postCheck: DestroyedObjectEntry['postCheck'] = { result: 'unverified', method: 'none', checkedAt: shreddedAt };
    if (this.keyShredder.hasKey !== undefined) {
      const still = await this.keyShredder.hasKey(s.subjectRef);
      if (still) throw new RetentionError('E_PURGE', `key of ${s.subjectRef} still present after shredding (${keyId})`);
      postCheck = { result: 'absent', method: 'key-ring', checkedAt: iso(this.clock.now()) };
    }
    const certId = `${run.runId}-k-${subjectHash(s.subjectRef).slice(0, 12)}`;
    const auditRef = await this.auditOnce(ref, {
      actor: this.actor,
      action: 'retention.crypto-shred',
      target: keyId,
      subjectRef: s.subjectRef,
      reason: s.reason,
      outcome: 'success',
      details: { runId: run.runId, class: s.class, keyId, certificateId: certId, legalBasis: s.rule.legalBasis },
    });
    await this.putCertificate({
      id: certId,
      issuedAt: iso(this.clock.now()),
      run: { id: run.runId },
      actor: this.actor,
      subjectRef: s.subjectRef,
      holdCheck: { checkedAt: iso(this.holdsCheckedAt), activeHolds: this.holds.length },
      destroyed: [
        {
          kind: 'cryptoKey',
          subjectRef: s.subjectRef,
          keyId,
          rule: { class: s.rule.name, duration: s.rule.duration, action: s.rule.action, legalBasis: s.rule.legalBasis },
          dueSince: s.dueSince,
          erasure: { at: shreddedAt, method: 'crypto-shred', keyId },
          postCheck,
        },
      ],
      audit: auditRef,
    });
    await writeJson(this.store, shreddedKey(s.subjectRef), { subjectRef: s.subjectRef, keyId, runId: run.runId, certificateId: certId, at: shreddedAt });
    // The shred happened: the marker (if any) is no longer needed.
    await this.store.delete([pendingShredKey(s.subjectRef)]);
    await done('shredded', { keyId, certificateId: certId });
    this.result.keyShreds++;
  }

  // ---------------------------------------------------------------------------------------
  // Runs

  async runShreds(run: RunFile, doneSubjects: Set<string>): Promise<void> {
    let i = 0;
    for (const s of run.shreds) {
      if (doneSubjects.has(s.subjectRef)) continue;
      this.checkAbort();
      await this.onProgress?.({ runId: run.runId, phase: 'shred', index: i++ });
      this.checkAbort();
      await this.executeShred(run, s);
    }
  }

  async closeRun(run: RunFile): Promise<void> {
    await writeJson(this.store, runDoneKey(run.runId), {
      runId: run.runId,
      finishedAt: iso(this.clock.now()),
      actor: run.actor,
    });
    await this.store.delete([openRunKey(run.runId)]);
  }

  /**
   * Resume every open run: finish its in-flight batch and its key shreds and close it —
   * except the run of `fingerprint` (the plan being purged again), which is returned open,
   * to be continued with the rest of that plan.
   */
  async resumeOpenRuns(fingerprint: string): Promise<{ continued: Continued | undefined; keys: Set<string>; subjects: Set<string> }> {
    // Keys and key shreds the resumed runs settled: a plan made before they finished may
    // still list them, and they must not be destroyed (or certified) twice.
    const allKeys = new Set<string>();
    const allSubjects = new Set<string>();
    const open: string[] = [];
    for await (const e of this.store.list(OPEN_RUNS_PREFIX)) {
      const name = e.key.slice(OPEN_RUNS_PREFIX.length);
      if (name.endsWith('.json')) open.push(name.slice(0, -'.json'.length));
    }
    let continued: Continued | undefined;
    for (const runId of open) {
      this.checkAbort();
      const run = await readJson<RunFile>(this.store, runFileKey(runId));
      if (run === undefined) {
        // Crashed before its journal existed: nothing was destroyed. Free its plan marker
        // (create-only, so a marker without run.json can only be this run's).
        const marker = await readJson<{ runId: string; fingerprint: string }>(this.store, openRunKey(runId));
        if (marker?.fingerprint !== undefined) {
          const owner = await readJson<{ runId: string }>(this.store, planMarkerKey(marker.fingerprint));
          if (owner?.runId === runId) await this.store.delete([planMarkerKey(marker.fingerprint)]);
        }
        await this.store.delete([openRunKey(runId)]);
        continue;
      }
      this.logger?.warn({ runId }, 'resuming an unfinished retention run');
      // It may have crashed before writing these; rewriting is harmless.
      for (const d of run.deferredShreds) {
        await this.writePending({
          subjectRef: d.subjectRef,
          class: d.class,
          dueSince: d.dueSince,
          ...(d.notBefore === undefined ? {} : { notBefore: d.notBefore }),
        });
      }
      const batchKeys: string[] = [];
      const doneBatches = new Set<string>();
      const doneMarkers = new Set<string>();
      const doneShreds = new Set<string>();
      for await (const e of this.store.list(`${RUNS_PREFIX}${runId}/`)) {
        const rest = e.key.slice(`${RUNS_PREFIX}${runId}/`.length);
        if (rest.startsWith('batches/')) batchKeys.push(e.key);
        else if (rest.startsWith('done/batch-')) doneMarkers.add(rest.slice('done/batch-'.length, -'.json'.length));
        else if (rest.startsWith('done/shred-')) doneShreds.add(rest.slice('done/shred-'.length, -'.json'.length));
      }
      // A batch's certificate document is its done marker.
      const docPrefix = `${CERTIFICATES_PREFIX}${runId}-b`;
      for await (const e of this.store.list(docPrefix)) {
        const m = /^(\d{6})\.xml$/.exec(e.key.slice(docPrefix.length));
        if (m !== null) doneBatches.add(m[1] as string);
      }
      await this.loadAudited(run);
      await this.refreshHolds(true);
      const keys = new Set<string>();
      let lastBatch = 0;
      for (const k of batchKeys) {
        const b = await readJson<BatchFile>(this.store, k);
        if (b === undefined) continue;
        lastBatch = Math.max(lastBatch, b.batch);
        // Every key a batch named is settled for this run: destroyed, failed (retried by a
        // later plan) or held. None is attempted again under this run.
        for (const d of b.decisions) {
          keys.add(d.key);
          allKeys.add(d.key);
        }
        if (doneMarkers.has(pad6(b.batch))) {
          const done = await readJson<BatchDone>(this.store, batchDoneKey(runId, b.batch));
          for (const h of done?.held ?? []) if (h.subjectRef !== undefined) this.heldSubjects.set(h.subjectRef, h.holdId);
          continue;
        }
        if (doneBatches.has(pad6(b.batch))) {
          // A subject with an object a hold kept keeps its key. Which objects were held is
          // not read back: any object of the batch a hold covers now counts (the safe side).
          for (const d of b.decisions) {
            const h = this.holdFor(d.key, d.subjectRef);
            if (h !== undefined && d.subjectRef !== undefined) this.heldSubjects.set(d.subjectRef, h.id);
          }
          continue;
        }
        this.checkAbort();
        await this.executeBatch(run, b, true);
      }
      this.result.resumedRuns.push(runId);
      const doneSubjects = new Set(run.shreds.filter((s) => doneShreds.has(subjectHash(s.subjectRef))).map((s) => s.subjectRef));
      for (const sh of run.shreds) allSubjects.add(sh.subjectRef);
      if (run.planFingerprint === fingerprint && continued === undefined) {
        continued = { run, keys, nextBatch: lastBatch + 1, doneSubjects };
        continue;
      }
      await this.runShreds(run, doneSubjects);
      await this.closeRun(run);
    }
    return { continued, keys: allKeys, subjects: allSubjects };
  }

  async run(plan: Plan, runIdOpt: string | undefined): Promise<PurgeResult> {
    const resumed = await this.resumeOpenRuns(plan.fingerprint);
    const continued = resumed.continued;
    let run: RunFile;
    let firstBatch = 1;
    let doneSubjects = new Set<string>();
    const decisions = plan.decisions.filter((d) => d.action !== 'keep' && !resumed.keys.has(d.key));
    if (continued !== undefined) {
      run = continued.run;
      // A stale plan stays stale when its run is continued: another run may have destroyed
      // (and certified) some of its objects before this one started.
      this.stalePlan = run.stalePlan !== false;
      firstBatch = continued.nextBatch;
      doneSubjects = continued.doneSubjects;
      this.result.runId = run.runId;
    } else {
      const shreds = plan.shreds.filter((s) => !resumed.subjects.has(s.subjectRef));
      if (decisions.length === 0 && shreds.length === 0 && plan.deferredShreds.length === 0) return this.result;
      if ((await this.store.head(planMarkerKey(plan.fingerprint))) !== undefined) {
        // This very plan was carried out already: doing it again would certify twice.
        this.logger?.info({ fingerprint: plan.fingerprint }, 'plan already executed; nothing to do');
        return this.result;
      }
      const startedAt = this.clock.now();
      const runId = runIdOpt ?? `run-${compact(startedAt)}-${randomBytes(4).toString('hex')}`;
      run = {
        runId,
        actor: this.actor,
        startedAt: iso(startedAt),
        planNow: plan.now,
        planFingerprint: plan.fingerprint,
        shreds,
        deferredShreds: plan.deferredShreds,
      };
      try {
        await writeJson(this.store, openRunKey(runId), { runId, startedAt: run.startedAt, fingerprint: plan.fingerprint }, { ifNoneMatch: true });
      } catch (err) {
        throw new RetentionError('E_PURGE', `run id ${runId} is already taken`, { cause: err });
      }
      try {
        await writeJson(this.store, planMarkerKey(plan.fingerprint), { runId }, { ifNoneMatch: true });
      } catch (err) {
        await this.store.delete([openRunKey(runId)]);
        if (isExists(err)) return this.result; // another purger took this plan a moment ago
        throw err;
      }
      const latest = await readJson<{ runId: string; startedAt: string }>(this.store, LATEST_RUN_KEY);
      this.stalePlan = latest !== undefined && Date.parse(plan.now) < Date.parse(latest.startedAt);
      if (this.stalePlan) this.logger?.warn({ planNow: plan.now, latestRun: latest }, 'plan older than the latest run: checking each batch before deleting');
      run.stalePlan = this.stalePlan;
      await writeJson(this.store, LATEST_RUN_KEY, { runId, startedAt: run.startedAt });
      // Before anything is destroyed: the run's shreds and the waiting ones are on record.
      await writeJson(this.store, runFileKey(runId), run, { ifNoneMatch: true });
      this.result.runId = runId;
      for (const d of plan.deferredShreds) {
        await this.writePending({
          subjectRef: d.subjectRef,
          class: d.class,
          dueSince: d.dueSince,
          ...(d.notBefore === undefined ? {} : { notBefore: d.notBefore }),
        });
        this.result.deferredShreds++;
      }
    }
    await this.refreshHolds(true);
    for (let i = 0; i * this.checkpointSize < decisions.length; i++) {
      this.checkAbort();
      const n = firstBatch + i;
      await this.refreshHolds(false);
      let slice = decisions.slice(i * this.checkpointSize, (i + 1) * this.checkpointSize);
      if (this.stalePlan) {
        // Made before the latest run: some of these may be gone already, and a batch file
        // must name only what this run destroys (resume certifies what it finds gone).
        const { present } = await findPresent(this.store, slice.map((d) => d.key), this.postCheck);
        slice = slice.filter((d) => present.has(d.key));
        if (slice.length === 0) continue;
      }
      const batch: BatchFile = {
        runId: run.runId,
        batch: n,
        startedAt: iso(this.clock.now()),
        decisions: slice.map((d) => ({
          key: d.key,
          action: d.action as 'delete' | 'shred',
          size: d.size,
          rule: d.rule as NonNullable<typeof d.rule>,
          ...(d.subjectRef === undefined ? {} : { subjectRef: d.subjectRef }),
          createdAt: d.createdAt,
          retainUntil: d.retainUntil as string,
          ...(d.sha256 === undefined ? {} : { sha256: d.sha256 }),
          ...(d.version === undefined ? {} : { version: d.version }),
        })),
      };
      // A plain PUT: the run is this purger's alone (its open-run marker and plan marker are
      // create-only, and the lease keeps other purgers out), and batch numbers only grow.
      await writeJson(this.store, batchFileKey(run.runId, n), batch);
      await this.executeBatch(run, batch, false);
    }
    await this.runShreds(run, doneSubjects);
    await this.closeRun(run);
    return this.result;
  }
}

interface Continued {
  run: RunFile;
  /** Keys named by the run's batches so far. */
  keys: Set<string>;
  nextBatch: number;
  doneSubjects: Set<string>;
}

/**
 * Execute a plan: resume any unfinished run first, then delete in batches of ≤1000 keys,
 * check each deletion, certify and audit it, and crypto-shred keys where planned. Safe to
 * kill at any point and run again: see journal.ts.
 *
 * Only one purger may work on a store at a time (the worker's lease ensures it).
 */
export async function purge(options: PurgeOptions): Promise<PurgeResult> {
  return new Purger(options).run(options.plan, options.runId);
}
