import { createHash, randomBytes } from 'node:crypto';
import { assertValidKey, isHandoverError, readObject, systemClock, type AuditLog, type Clock, type Store } from '@handover/core';
import { RetentionError } from '../errors.js';
import { isHoldActive, type Hold, type HoldApproval, type HoldScope } from './hold.js';
import { applyStorageHold, releaseStorageHold, type StorageHoldResult } from './storage-hold.js';

/*
 * ## Storage layout: create-only objects, no read-modify-write
 *
 *   holds/<id>/hold.json                     the hold as placed (never rewritten)
 *   holds/<id>/approvals/<actor-hash>.json   one release approval per distinct actor
 *   holds/<id>/released.json                 written once two distinct actors approved
 *
 * The Store port has create-only puts (`ifNoneMatch`) but no compare-and-swap on an existing
 * object (no If-Match), so a single hold document updated in place would lose approvals when
 * two people approve at the same moment (both read, both write, the last write wins). With
 * one object per approval there is nothing to overwrite:
 * - the same actor approving twice hits the same approval key: the second put fails with
 *   E_EXISTS and counts for nothing;
 * - two actors approving at once each create their own object, then list the approvals;
 *   whoever lists second sees both (listings are read-after-write consistent on S3 and on
 *   the filesystem) and creates `released.json` — create-only, so two releasers can't
 *   disagree about the release time.
 * What remains racy: a purge that read the holds just BEFORE a new hold was created will
 * not see it. The purger re-reads holds right before deleting (see purge.ts), which narrows
 * that window to one batch; a hold is a legal instruction, not a lock.
 *
 * ## Who may approve a release
 * Two approvals by two DIFFERENT actors (compared trimmed and case-insensitively). The actor
 * who placed the hold MAY be one of them: the four-eyes rule needs two people, and excluding
 * the placer would leave a hold unreleasable in a team of two. The same actor twice never
 * counts.
 */

export const HOLDS_PREFIX = 'holds/';

export interface HoldRegistryOptions {
  /** Time of placement and approvals. Default: the system clock. */
  clock?: Clock;
  /** When given, every add, approval and release is recorded. */
  audit?: AuditLog;
  /** Default `holds/`. */
  prefix?: string;
  /**
   * Also take the storage's own hold on every object a new hold covers, and give it back on
   * release (class tag out of every lifecycle rule's reach, plus S3 Object Lock legal hold
   * where the bucket has it; see storage-hold.ts). The CLI turns it on. Default false.
   */
  storageHolds?: boolean;
}

/** A hold as `add` or `approveRelease` leave it, with what was done in the storage when storage holds are on. */
export type HoldWithStorage = Hold & { storage?: StorageHoldResult };

export interface AddHoldInput {
  subjectRef?: string;
  key?: string;
  /** Mandatory, non-empty: why the data must be kept. */
  reason: string;
  actor: string;
}

const normalizeActor = (a: string): string => a.trim().toLowerCase();
const actorHash = (a: string): string => createHash('sha256').update(normalizeActor(a)).digest('hex').slice(0, 32);
const ID_PATTERN = /^hold-\d{8}T\d{6}Z-[0-9a-f]{8}$/;

async function readJson<T>(store: Store, key: string): Promise<T | undefined> {
  const bytes = await readObject(store, key);
  return bytes === undefined ? undefined : (JSON.parse(bytes.toString('utf8')) as T);
}

const isExists = (err: unknown): boolean => isHandoverError(err) && err.code === 'E_EXISTS';

interface HoldDoc {
  id: string;
  scope: HoldScope;
  reason: string;
  actor: string;
  createdAt: string;
}

interface ReleasedDoc {
  releasedAt: string;
  approvals: HoldApproval[];
}

/** Legal holds kept in a Store. */
export class HoldRegistry {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #audit: AuditLog | undefined;
  readonly #prefix: string;
  readonly #storageHolds: boolean;

  constructor(store: Store, options: HoldRegistryOptions = {}) {
    this.#store = store;
    this.#clock = options.clock ?? systemClock;
    this.#audit = options.audit;
    this.#prefix = options.prefix ?? HOLDS_PREFIX;
    this.#storageHolds = options.storageHolds ?? false;
  }

  /**
   * Place a hold on a subject or on one object key. With `storageHolds`, the storage's own
   * hold is then taken on every object it covers; the hold document is written first, so a
   * failure there leaves the hold standing (see `storage.failed`).
   */
  async add(input: AddHoldInput): Promise<HoldWithStorage> {
    const reason = typeof input.reason === 'string' ? input.reason.trim() : '';
    if (reason === '') throw new RetentionError('E_HOLD_INPUT', 'a hold needs a reason (the matter, ticket or request behind it)', { exitCode: 2 });
    if (typeof input.actor !== 'string' || input.actor.trim() === '') {
      throw new RetentionError('E_HOLD_INPUT', 'a hold needs an actor (who places it)', { exitCode: 2 });
    }
    const hasSubject = typeof input.subjectRef === 'string' && input.subjectRef !== '';
    const hasKey = typeof input.key === 'string' && input.key !== '';
    if (hasSubject === hasKey) {
      throw new RetentionError('E_HOLD_INPUT', 'a hold covers either a subjectRef or a key (exactly one)', { exitCode: 2 });
    }
    let scope: HoldScope;
    if (hasKey) {
      try {
        assertValidKey(input.key as string);
      } catch (err) {
        throw new RetentionError('E_HOLD_INPUT', `hold key: ${(err as Error).message}`, { cause: err, exitCode: 2 });
      }
      scope = { key: input.key as string };
    } else {
      scope = { subjectRef: input.subjectRef as string };
    }
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = this.#clock.now();
      const id = `hold-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(4).toString('hex')}`;
      const doc: HoldDoc = { id, scope, reason, actor: input.actor.trim(), createdAt: now.toISOString() };
      try {
        await this.#store.put(`${this.#prefix}${id}/hold.json`, `${JSON.stringify(doc, null, 2)}\n`, {
          ifNoneMatch: true,
          contentType: 'application/json',
        });
      } catch (err) {
        if (isExists(err)) continue; // id collision: draw again
        throw new RetentionError('E_HOLD', `could not store hold ${id}`, { cause: err });
      }
      await this.#audit?.append({
        actor: doc.actor,
        action: 'hold.add',
        target: id,
        ...('subjectRef' in scope ? { subjectRef: scope.subjectRef } : {}),
        reason,
        outcome: 'success',
        details: { scope },
      });
      const hold: Hold = { ...doc, releaseApprovals: [] };
      if (!this.#storageHolds) return hold;
      return { ...hold, storage: await this.#storage(hold, true) };
    }
    throw new RetentionError('E_HOLD', 'could not allocate a unique hold id');
  }

  /** One hold, or undefined. */
  async get(id: string): Promise<Hold | undefined> {
    if (!ID_PATTERN.test(id)) return undefined;
    const doc = await readJson<HoldDoc>(this.#store, `${this.#prefix}${id}/hold.json`);
    if (doc === undefined) return undefined;
    const approvals: HoldApproval[] = [];
    for await (const e of this.#store.list(`${this.#prefix}${id}/approvals/`)) {
      const a = await readJson<HoldApproval>(this.#store, e.key);
      if (a !== undefined) approvals.push(a);
    }
    const released = await readJson<ReleasedDoc>(this.#store, `${this.#prefix}${id}/released.json`);
    return assemble(doc, approvals, released);
  }

  /** Every hold, released ones included, oldest first. One listing, then one read per object. */
  async list(): Promise<Hold[]> {
    const groups = new Map<string, { hold?: string; approvals: string[]; released?: string }>();
    for await (const e of this.#store.list(this.#prefix)) {
      const rest = e.key.slice(this.#prefix.length);
      const slash = rest.indexOf('/');
      if (slash < 0) continue;
      const id = rest.slice(0, slash);
      const name = rest.slice(slash + 1);
      let g = groups.get(id);
      if (g === undefined) groups.set(id, (g = { approvals: [] }));
      if (name === 'hold.json') g.hold = e.key;
      else if (name === 'released.json') g.released = e.key;
      else if (name.startsWith('approvals/')) g.approvals.push(e.key);
    }
    const holds: Hold[] = [];
    for (const g of groups.values()) {
      if (g.hold === undefined) continue; // approvals without a hold: ignored
      const doc = await readJson<HoldDoc>(this.#store, g.hold);
      if (doc === undefined) continue;
      const approvals: HoldApproval[] = [];
      for (const k of g.approvals) {
        const a = await readJson<HoldApproval>(this.#store, k);
        if (a !== undefined) approvals.push(a);
      }
      const released = g.released === undefined ? undefined : await readJson<ReleasedDoc>(this.#store, g.released);
      holds.push(assemble(doc, approvals, released));
    }
    return holds.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** Holds that stand now. */
  async active(): Promise<Hold[]> {
    const now = this.#clock.now().getTime();
    return (await this.list()).filter((h) => isHoldActive(h, now));
  }

  /**
   * Approve releasing a hold. The hold is released when approvals from two different actors
   * exist; until then it stands. Approving twice as the same actor changes nothing.
   * Returns the hold as it is afterwards (with `releasedAt` once released).
   */
  async approveRelease(id: string, actor: string, reason?: string): Promise<HoldWithStorage> {
    if (typeof actor !== 'string' || actor.trim() === '') {
      throw new RetentionError('E_HOLD_INPUT', 'a release approval needs an actor', { exitCode: 2 });
    }
    const hold = await this.get(id);
    if (hold === undefined) throw new RetentionError('E_HOLD_NOT_FOUND', `no hold '${id}'`);
    if (hold.releasedAt !== undefined) return hold;
    const approval: HoldApproval = {
      actor: actor.trim(),
      at: this.#clock.now().toISOString(),
      ...(reason === undefined || reason.trim() === '' ? {} : { reason: reason.trim() }),
    };
    let duplicate = false;
    try {
      await this.#store.put(`${this.#prefix}${id}/approvals/${actorHash(actor)}.json`, `${JSON.stringify(approval, null, 2)}\n`, {
        ifNoneMatch: true,
        contentType: 'application/json',
      });
    } catch (err) {
      if (!isExists(err)) throw new RetentionError('E_HOLD', `could not record the approval for hold ${id}`, { cause: err });
      duplicate = true;
    }
    if (!duplicate) {
      await this.#audit?.append({
        actor: approval.actor,
        action: 'hold.approve-release',
        target: id,
        ...('subjectRef' in hold.scope ? { subjectRef: hold.scope.subjectRef } : {}),
        reason: approval.reason ?? 'release approved',
        outcome: 'success',
      });
    }
    const after = (await this.get(id)) as Hold;
    const distinct = new Set(after.releaseApprovals.map((a) => normalizeActor(a.actor)));
    if (after.releasedAt === undefined && distinct.size >= 2) return this.#release(after);
    return after;
  }

  /** Take (on) or give back (off) the storage's hold on what `hold` covers, and record it. */
  async #storage(hold: Hold, on: boolean): Promise<StorageHoldResult> {
    const result = on
      ? await applyStorageHold(this.#store, hold)
      : await releaseStorageHold(this.#store, hold, { holds: await this.list(), now: this.#clock.now().getTime() });
    await this.#audit?.append({
      actor: on ? hold.actor : hold.releaseApprovals.map((a) => a.actor).join(' + ') || hold.actor,
      action: on ? 'hold.storage-apply' : 'hold.storage-release',
      target: hold.id,
      ...('subjectRef' in hold.scope ? { subjectRef: hold.scope.subjectRef } : {}),
      reason: on
        ? 'keep the covered objects out of every lifecycle rule, and under the storage legal hold where the bucket has Object Lock'
        : 'hold released: the covered objects no other hold covers get their class tag back and lose the storage legal hold',
      outcome: result.failed.length === 0 ? 'success' : 'failure',
      details: { ...result, failed: result.failed.slice(0, 100) },
    });
    return result;
  }

  /** What approveRelease does when the second distinct approval arrives. */
  async #release(hold: Hold): Promise<HoldWithStorage> {
    const doc: ReleasedDoc = { releasedAt: this.#clock.now().toISOString(), approvals: hold.releaseApprovals };
    try {
      await this.#store.put(`${this.#prefix}${hold.id}/released.json`, `${JSON.stringify(doc, null, 2)}\n`, {
        ifNoneMatch: true,
        contentType: 'application/json',
      });
    } catch (err) {
      if (!isExists(err)) throw new RetentionError('E_HOLD', `could not release hold ${hold.id}`, { cause: err });
      // Released concurrently by the other approver, who gives the storage hold back.
      return (await this.get(hold.id)) as Hold;
    }
    await this.#audit?.append({
      actor: hold.releaseApprovals.map((a) => a.actor).join(' + '),
      action: 'hold.release',
      target: hold.id,
      ...('subjectRef' in hold.scope ? { subjectRef: hold.scope.subjectRef } : {}),
      reason: `released with approvals of ${hold.releaseApprovals.map((a) => a.actor).join(' and ')}`,
      outcome: 'success',
      details: { approvals: hold.releaseApprovals },
    });
    const released: Hold = { ...hold, releasedAt: doc.releasedAt };
    if (!this.#storageHolds) return released;
    return { ...released, storage: await this.#storage(released, false) };
  }
}

function assemble(doc: HoldDoc, approvals: HoldApproval[], released: ReleasedDoc | undefined): Hold {
  approvals.sort((a, b) => a.at.localeCompare(b.at));
  return {
    id: doc.id,
    scope: doc.scope,
    reason: doc.reason,
    actor: doc.actor,
    createdAt: doc.createdAt,
    releaseApprovals: approvals,
    ...(released === undefined ? {} : { releasedAt: released.releasedAt }),
  };
}
