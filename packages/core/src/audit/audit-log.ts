import { createHash } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import type { Readable } from 'node:stream';
import type { Clock } from '../clock.js';
import { HandoverError, IntegrityError, isHandoverError } from '../errors.js';
import type { Store } from '../store/store.js';
import { readStream } from '../store/read-object.js';
import { canonicalJson } from './canonical-json.js';

/*
 * The audit log is a hash chain of small JSON objects, one per record:
 *
 *   audit/000000000001.json  { seq: 1, prevHash: "000…0", hash: H1, … }
 *   audit/000000000002.json  { seq: 2, prevHash: H1,      hash: H2, … }
 *
 * `hash` is the SHA-256 (hex) of the record's canonical JSON without its `hash` member, so
 * `prevHash` of record N+1 equals the SHA-256 of record N's canonical JSON. One object per
 * record (rather than one growing file) because object stores cannot append, and because a
 * create-only put (`ifNoneMatch`) on `audit/<seq>.json` is what makes appends safe for
 * several writers: two writers cannot both create seq N; the loser reads what won and
 * retries at N+1.
 *
 * What the chain proves and what it does not:
 * - an edited, deleted, inserted or reordered record is detected by `verify()`, and named;
 * - removing records from the END (truncation) leaves a valid shorter chain: pass the last
 *   known head (`{ seq, hash }`, e.g. quoted in an erasure certificate or a report) as
 *   `verify({ expectedHead })` to detect it;
 * - someone with write access who rewrites a whole suffix with fresh hashes is not detected
 *   without such an anchor (the chain is not signed).
 */

/** SHA-256 hex of nothing-before-the-first-record. */
export const GENESIS_HASH = '0'.repeat(64);

/** The retention class audit objects carry (kept 7 years; see @handover/retention). */
export const AUDIT_RETENTION_CLASS = 'financial-audit-log';

export type AuditOutcome = 'success' | 'failure' | 'refused';

/** What a caller says happened. */
export interface AuditEntry {
  /** Who did it: a user, a service account, `retention-worker@host`. */
  actor: string;
  /** A dotted verb, e.g. `retention.purge`, `hold.add`. */
  action: string;
  /** What it was done to: an object key, a hold id, a certificate id. */
  target: string;
  /** The data subject concerned, when there is one (pseudonymous reference, never an email). */
  subjectRef?: string;
  /** Why: the rule, the ticket, the legal basis. */
  reason: string;
  outcome: AuditOutcome;
  /** Anything else worth keeping; must be JSON. */
  details?: Record<string, unknown>;
}

/** A record as stored. */
export interface AuditRecord {
  seq: number;
  /** ISO-8601 UTC. */
  time: string;
  actor: string;
  host: string;
  ip: string;
  action: string;
  target: string;
  subjectRef?: string;
  reason: string;
  outcome: AuditOutcome;
  details: Record<string, unknown>;
  /** `hash` of the previous record; GENESIS_HASH for seq 1. */
  prevHash: string;
  /** SHA-256 hex of this record's canonical JSON without `hash`. */
  hash: string;
}

export type AuditProblem = 'edited' | 'deleted' | 'inserted' | 'reordered';

export interface AuditVerifyResult {
  ok: boolean;
  /** Records read and checked. */
  records: number;
  /** The last good record, when there is one. */
  head?: { seq: number; hash: string };
  /** The first record found bad, by position in the chain. */
  firstBad?: { seq: number; key: string; problem: AuditProblem; detail: string };
}

export interface AuditListFilter {
  /** Records at or after this time (a Date) or sequence number (a number). */
  since?: Date | number;
  subjectRef?: string;
  action?: string;
}

export interface AuditLog {
  readonly prefix: string;
  /** Append one record; returns its sequence number, hash and object key. */
  append(entry: AuditEntry): Promise<{ seq: number; hash: string; key: string }>;
  /** Check the whole chain; see the file comment for what is and isn't detected. */
  verify(options?: { expectedHead?: { seq: number; hash: string } }): Promise<AuditVerifyResult>;
  /** Records in sequence order, filtered, read one object at a time. */
  list(filter?: AuditListFilter): AsyncIterable<AuditRecord>;
  /** Records from the newest backwards (the purger uses this to resume without duplicates). */
  readBackwards(): AsyncIterable<AuditRecord>;
  /** The newest record's seq and hash, or undefined for an empty log. Lists the prefix. */
  head(): Promise<{ seq: number; hash: string } | undefined>;
}

export interface AuditLogOptions {
  store: Store;
  /** Where records live. Default `audit/`. Must end with `/`. */
  prefix?: string;
  clock: Clock;
  /** Recorded in every record. Default: `os.hostname()`. */
  host?: string;
  /** Recorded in every record. Default: this machine's first non-internal IPv4/IPv6 address. */
  ip?: string;
  /** How many lost create races to tolerate before giving up. Default 100. */
  maxAttempts?: number;
}

export class AuditError extends HandoverError {
  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(options.code ?? 'E_AUDIT', message, options);
  }
}

const SEQ_DIGITS = 12;
const RECORD_NAME = /^(\d{12})\.json$/;

export function auditRecordKey(prefix: string, seq: number): string {
  return `${prefix}${String(seq).padStart(SEQ_DIGITS, '0')}.json`;
}

/** The hash a record must carry: SHA-256 hex of its canonical JSON without `hash`. */
export function hashAuditRecord(record: Omit<AuditRecord, 'hash'> | AuditRecord): string {
  const { hash: _ignored, ...rest } = record as AuditRecord;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

export function createAuditLog(options: AuditLogOptions): AuditLog {
  return new StoreAuditLog(options);
}

function defaultIp(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const nic of list ?? []) {
      if (!nic.internal) return nic.address;
    }
  }
  return '127.0.0.1';
}

function isExists(err: unknown): boolean {
  return isHandoverError(err) && err.code === 'E_EXISTS';
}

async function readText(stream: Readable): Promise<string> {
  return (await readStream(stream)).toString('utf8');
}

function seqOfKey(prefix: string, key: string): number | undefined {
  const m = RECORD_NAME.exec(key.slice(prefix.length));
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

class StoreAuditLog implements AuditLog {
  readonly prefix: string;
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #host: string;
  readonly #ip: string;
  readonly #maxAttempts: number;
  /** Last head this instance saw; a hint only — a lost create race corrects it. */
  #head: { seq: number; hash: string } | undefined;
  /** Serialises appends from this process so they don't race each other for the same seq. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: AuditLogOptions) {
    const prefix = options.prefix ?? 'audit/';
    if (!prefix.endsWith('/')) throw new AuditError(`audit prefix '${prefix}' must end with '/'`, { code: 'E_INPUT' });
    this.prefix = prefix;
    this.#store = options.store;
    this.#clock = options.clock;
    this.#host = options.host ?? hostname();
    this.#ip = options.ip ?? defaultIp();
    this.#maxAttempts = options.maxAttempts ?? 100;
  }

  append(entry: AuditEntry): Promise<{ seq: number; hash: string; key: string }> {
    try {
      validateEntry(entry);
    } catch (err) {
      return Promise.reject(err);
    }
    const run = this.#queue.then(() => this.#append(entry));
    // Keep the queue alive after a failure: the next append must still run.
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #append(entry: AuditEntry): Promise<{ seq: number; hash: string; key: string }> {
    let head = this.#head ?? (await this.head()) ?? { seq: 0, hash: GENESIS_HASH };
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      const seq = head.seq + 1;
      const body: Omit<AuditRecord, 'hash'> = {
        seq,
        time: this.#clock.now().toISOString(),
        actor: entry.actor,
        host: this.#host,
        ip: this.#ip,
        action: entry.action,
        target: entry.target,
        ...(entry.subjectRef === undefined ? {} : { subjectRef: entry.subjectRef }),
        reason: entry.reason,
        outcome: entry.outcome,
        details: entry.details ?? {},
        prevHash: head.hash,
      };
      const record: AuditRecord = { ...body, hash: hashAuditRecord(body) };
      const key = auditRecordKey(this.prefix, seq);
      try {
        await this.#store.put(key, `${JSON.stringify(record)}\n`, {
          ifNoneMatch: true,
          contentType: 'application/json',
          // Audit records outlive the data they describe: retention tooling reads this class.
          metadata: { 'retention-class': AUDIT_RETENTION_CLASS, 'audit-seq': String(seq) },
          tags: { class: AUDIT_RETENTION_CLASS },
        });
        this.#head = { seq, hash: record.hash };
        return { seq, hash: record.hash, key };
      } catch (err) {
        if (!isExists(err)) throw new AuditError(`could not write audit record ${key}`, { cause: err });
        // Another writer took this seq: chain onto its record and try the next one.
        const winner = await this.#read(key);
        if (winner === undefined) throw new AuditError(`audit record ${key} exists but cannot be read`);
        head = { seq, hash: winner.hash };
      }
    }
    throw new AuditError(`gave up appending to the audit log after ${this.#maxAttempts} lost races`, {
      code: 'E_AUDIT_CONTENTION',
    });
  }

  async head(): Promise<{ seq: number; hash: string } | undefined> {
    // Keys are zero-padded, so the listing's last record key is the newest.
    let lastKey: string | undefined;
    for await (const e of this.#store.list(this.prefix)) {
      if (seqOfKey(this.prefix, e.key) !== undefined) lastKey = e.key;
    }
    if (lastKey === undefined) return undefined;
    const rec = await this.#read(lastKey);
    if (rec === undefined) throw new AuditError(`audit record ${lastKey} vanished while reading the head`);
    return { seq: rec.seq, hash: rec.hash };
  }

  async #read(key: string): Promise<AuditRecord | undefined> {
    let text: string;
    try {
      text = await readText(await this.#store.get(key));
    } catch (err) {
      if (isHandoverError(err) && err.code === 'E_NOT_FOUND') return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as AuditRecord;
    } catch (err) {
      throw new IntegrityError(`audit record ${key} is not valid JSON`, { cause: err });
    }
  }

  async *list(filter: AuditListFilter = {}): AsyncIterable<AuditRecord> {
    const sinceSeq = typeof filter.since === 'number' ? filter.since : undefined;
    const sinceTime = filter.since instanceof Date ? filter.since.getTime() : undefined;
    for await (const e of this.#store.list(this.prefix)) {
      const seq = seqOfKey(this.prefix, e.key);
      if (seq === undefined || (sinceSeq !== undefined && seq < sinceSeq)) continue;
      const rec = await this.#read(e.key);
      if (rec === undefined) continue;
      if (sinceTime !== undefined && Date.parse(rec.time) < sinceTime) continue;
      if (filter.subjectRef !== undefined && rec.subjectRef !== filter.subjectRef) continue;
      if (filter.action !== undefined && rec.action !== filter.action) continue;
      yield rec;
    }
  }

  async *readBackwards(): AsyncIterable<AuditRecord> {
    const head = await this.head();
    for (let seq = head?.seq ?? 0; seq >= 1; seq--) {
      const rec = await this.#read(auditRecordKey(this.prefix, seq));
      if (rec === undefined) return;
      yield rec;
    }
  }

  async verify(options: { expectedHead?: { seq: number; hash: string } } = {}): Promise<AuditVerifyResult> {
    let expected = 1;
    let prev: { seq: number; hash: string } | undefined;
    let records = 0;
    let anchorHash: string | undefined;
    // Set when a record sits at a later key than its seq says: the records in between are
    // either gone (deleted) or further down the listing (reordered); we read on to tell.
    let missing: { seq: number; key: string; atKey: string } | undefined;

    const bad = (seq: number, key: string, problem: AuditProblem, detail: string): AuditVerifyResult => ({
      ok: false,
      records,
      ...(prev === undefined ? {} : { head: prev }),
      firstBad: { seq, key, problem, detail },
    });

    for await (const e of this.#store.list(this.prefix)) {
      const keySeq = seqOfKey(this.prefix, e.key);
      if (missing !== undefined) {
        // Only looking for the missing seq now.
        if (keySeq === undefined) continue;
        const rec = await this.#read(e.key).catch(() => undefined);
        if (rec?.seq === missing.seq) {
          return bad(missing.seq, missing.key, 'reordered', `record ${missing.seq} found at ${e.key}; ${missing.atKey} holds another record`);
        }
        continue;
      }
      if (keySeq === undefined) {
        return bad(expected, e.key, 'inserted', `unexpected object ${e.key} among the audit records`);
      }
      if (keySeq > expected) {
        return bad(expected, auditRecordKey(this.prefix, expected), 'deleted', `records ${expected}..${keySeq - 1} are missing`);
      }
      let rec: AuditRecord | undefined;
      try {
        rec = await this.#read(e.key);
      } catch (err) {
        return bad(keySeq, e.key, 'edited', `unreadable: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (rec === undefined) {
        return bad(keySeq, e.key, 'deleted', 'listed but gone when read');
      }
      if (typeof rec !== 'object' || rec === null || typeof rec.hash !== 'string' || hashAuditRecord(rec) !== rec.hash) {
        return bad(keySeq, e.key, 'edited', 'content does not match its hash');
      }
      if (rec.seq !== keySeq) {
        if (typeof rec.seq === 'number' && rec.seq < keySeq) {
          // An intact record pushed to a later key: something was inserted before it.
          return bad(rec.seq, auditRecordKey(this.prefix, rec.seq), 'inserted', `record ${rec.seq} was moved to ${e.key}: a record was inserted before it`);
        }
        missing = { seq: keySeq, key: e.key, atKey: e.key };
        continue;
      }
      const expectedPrev = prev?.hash ?? GENESIS_HASH;
      if (rec.prevHash !== expectedPrev) {
        // This record is intact but commits to a different predecessor: the predecessor was
        // replaced (with a recomputed hash) — or, for seq 1, the genesis link was edited.
        if (prev === undefined) return bad(keySeq, e.key, 'edited', 'first record does not start from the genesis hash');
        return bad(prev.seq, auditRecordKey(this.prefix, prev.seq), 'edited', `record ${keySeq} does not link to it (prevHash mismatch)`);
      }
      if (options.expectedHead !== undefined && rec.seq === options.expectedHead.seq) anchorHash = rec.hash;
      prev = { seq: rec.seq, hash: rec.hash };
      records++;
      expected = keySeq + 1;
    }
    if (missing !== undefined) {
      return bad(missing.seq, missing.key, 'deleted', `record ${missing.seq} is missing; later records were renumbered`);
    }
    const anchor = options.expectedHead;
    if (anchor !== undefined) {
      if ((prev?.seq ?? 0) < anchor.seq) {
        return bad(expected, auditRecordKey(this.prefix, expected), 'deleted', `log ends at ${prev?.seq ?? 0}; expected head is ${anchor.seq}`);
      }
      if (anchorHash !== anchor.hash) {
        return bad(anchor.seq, auditRecordKey(this.prefix, anchor.seq), 'edited', 'hash differs from the expected head');
      }
    }
    return { ok: true, records, ...(prev === undefined ? {} : { head: prev }) };
  }
}

function validateEntry(entry: AuditEntry): void {
  for (const f of ['actor', 'action', 'target'] as const) {
    if (typeof entry[f] !== 'string' || entry[f].trim() === '') {
      throw new AuditError(`audit entry needs a non-empty ${f}`, { code: 'E_INPUT' });
    }
  }
  if (typeof entry.reason !== 'string') throw new AuditError('audit entry needs a reason', { code: 'E_INPUT' });
  if (!['success', 'failure', 'refused'].includes(entry.outcome)) {
    throw new AuditError(`audit outcome must be success, failure or refused, not '${String(entry.outcome)}'`, { code: 'E_INPUT' });
  }
}
