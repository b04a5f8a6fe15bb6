import { randomBytes } from 'node:crypto';
import { InputError, NotFoundError, systemClock, type Clock } from '@handover/core';
import {
  activeGrantsBlocker,
  ownershipBlockers,
  type Blocker,
  type RoleRow,
  type SourceCapabilities,
  type WriteContext,
} from '../../source/capabilities.js';
import type { Conversation, Grant, Member, Membership, Message } from '../../source/domain.js';
import type { Source } from '../../source/source.js';
import { generateMessages } from './messages.js';
import { sizingFor } from './plan.js';
import { memoryDemoState, type DemoErasure, type DemoRevocation, type DemoStateStore } from './state.js';
import { pendingBlockers } from './workflow.js';
import { DemoWorkspace } from './workspace.js';

export { NASTY_FILE_NAMES, NASTY_TEXTS, type NastyText } from './nasty.js';
export { DEMO_TIMELINE } from './people.js';
export {
  demoStateInStore,
  demoStatePrefix,
  memoryDemoState,
  type DemoChange,
  type DemoErasure,
  type DemoRevocation,
  type DemoState,
  type DemoStateStore,
} from './state.js';
export { PENDING_ITEMS, type PendingItemSeed } from './workflow.js';

/** Options of the built-in demo workspace. Every option only changes sizes, never the cast or the edge cases. */
export interface DemoOptions {
  /**
   * Seed of everything generated: message texts and times, threads, files and their
   * bytes. The same options always give byte-identical data. Default 42.
   */
  seed?: number;
  /**
   * Messages in alice's conversations, in all (joins and edge cases included; exact
   * once above those ~60 fixed messages). Conversations alice is not in scale with it.
   * Generation is lazy, so 1,000,000 costs no memory. Default 2,000.
   */
  messages?: number;
  /**
   * Approximate total bytes of the files attached in alice's conversations, 88% of them
   * media (PNG, MP4, PDF, zip), the rest text (plain, CSV, JSON). Bytes are generated
   * only when a file is opened. The fixed edge-case files (about 140 KB) come on top.
   * Default 20,000,000.
   */
  attachmentBytes?: number;
  /** Include the edge-case messages and files (`NASTY_TEXTS`, `NASTY_FILE_NAMES`) in alice's #random. Default true. */
  nasty?: boolean;
}

/** `createDemoSource` options: the sizes, plus where the workspace's changes live. */
export interface DemoSourceOptions extends DemoOptions {
  /**
   * Where erasures and grant revocations are kept. Give `demoStateInStore(store, seed)` so
   * that the next process (each CLI call is one) sees them. Default: in this source's
   * memory only, starting from the pristine workspace.
   */
  state?: DemoStateStore;
  /** Time of revocations and erasures, and "now" when telling active grants from expired ones. Default: the system clock. */
  clock?: Clock;
}

export const DEMO_DEFAULTS: Readonly<Required<DemoOptions>> = Object.freeze({
  seed: 42,
  messages: 2_000,
  attachmentBytes: 20_000_000,
  nasty: true,
});

function validate(options: DemoOptions): Required<DemoOptions> {
  const o = { ...DEMO_DEFAULTS, ...stripUndefined(options) };
  if (!Number.isSafeInteger(o.seed)) throw new InputError(`demo source: 'seed' must be an integer (got ${String(o.seed)})`, { exitCode: 2 });
  if (!Number.isSafeInteger(o.messages) || o.messages < 0) {
    throw new InputError(`demo source: 'messages' must be a whole number, 0 or more (got ${String(o.messages)})`, { exitCode: 2 });
  }
  if (!Number.isFinite(o.attachmentBytes) || o.attachmentBytes < 0) {
    throw new InputError(`demo source: 'attachmentBytes' must be a number of bytes, 0 or more (got ${String(o.attachmentBytes)})`, {
      exitCode: 2,
    });
  }
  if (typeof o.nasty !== 'boolean') throw new InputError(`demo source: 'nasty' must be true or false (got ${String(o.nasty)})`, { exitCode: 2 });
  return o;
}

function stripUndefined(options: DemoOptions): DemoOptions {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as DemoOptions;
}

function copyGrant(grant: Grant): Grant {
  const copy: Grant = { ...grant, scopes: [...grant.scopes] };
  if (grant.grantedAt) copy.grantedAt = new Date(grant.grantedAt.getTime());
  if (grant.expiresAt) copy.expiresAt = new Date(grant.expiresAt.getTime());
  if (grant.revokedAt) copy.revokedAt = new Date(grant.revokedAt.getTime());
  if (grant.history) copy.history = grant.history.map((e) => ({ ...e, at: new Date(e.at.getTime()), ...(e.scopes ? { scopes: [...e.scopes] } : {}) }));
  return copy;
}

/** Messages handed out per batch: enough to make the per-batch step negligible, few enough to stay small. */
const MESSAGE_BATCH = 256;

async function* unbatch<T>(batches: AsyncIterable<readonly T[]>): AsyncGenerator<T> {
  for await (const batch of batches) yield* batch;
}

/** The author name messages of an erased member carry from then on. */
export const DELETED_USER_NAME = 'deleted user';

function requireWriteContext(what: string, context: WriteContext | undefined): void {
  if (context === undefined || typeof context.actor !== 'string' || context.actor.trim() === '') {
    throw new InputError(`demo source: ${what} needs an actor (who does it)`, { exitCode: 2 });
  }
  if (typeof context.reason !== 'string' || context.reason.trim() === '') {
    throw new InputError(`demo source: ${what} needs a reason`, { exitCode: 2 });
  }
}

/*
 * Erasure in the demo workspace, modelled on what chat platforms do when an account is
 * deleted for good:
 * - the member is gone: members(), findMember() (by id, username or email) and their own
 *   memberships, conversations and grants no longer list anything;
 * - what they wrote to others stays, because it is part of the other participants' records
 *   too, but it no longer names them: its author becomes a tombstone id (`erased-<hex>`,
 *   drawn at erasure, not derived from the id) named 'deleted user'; their reactions, edits
 *   and files are attributed to the same tombstone, and DM participant lists show it;
 *   join / leave notices, which quote their display name, quote 'deleted user' instead;
 * - the text of their messages is kept as written, mentions of them (`@alice`) included:
 *   the demo does not rewrite message bodies. Removing those is a platform's content
 *   policy, outside what an offboarding can promise.
 * Message ids, times and order do not change, so exports of other members stay comparable.
 */
class DemoSource implements Source {
  readonly name = 'demo';
  readonly capabilities: SourceCapabilities;
  readonly #workspace: DemoWorkspace;
  readonly #state: DemoStateStore;
  readonly #clock: Clock;
  readonly #erased = new Map<string, DemoErasure>();
  /** Erased member id → its tombstone id. */
  readonly #tombstones = new Map<string, string>();
  #ready: boolean;
  #loading: Promise<void> | undefined;

  constructor(workspace: DemoWorkspace, state: DemoStateStore | undefined, clock: Clock) {
    this.#workspace = workspace;
    this.#state = state ?? memoryDemoState();
    this.#clock = clock;
    // Without a shared state store there is nothing to load: this source starts pristine.
    this.#ready = state === undefined;
    this.capabilities = {
      blockers: (memberId) => this.#blockers(memberId),
      revokeGrant: (memberId, grantId, context) => this.#revokeGrant(memberId, grantId, context),
      erase: (memberId, context) => this.#erase(memberId, context),
    };
  }

  /** Loads the recorded changes once, on first use: the constructor stays synchronous. */
  async #load(): Promise<void> {
    if (this.#ready) return;
    this.#loading ??= (async () => {
      const state = await this.#state.load();
      for (const revocation of state.revoked) this.#applyRevocation(revocation);
      for (const erasure of state.erased) this.#applyErasure(erasure);
      this.#ready = true;
    })();
    try {
      await this.#loading;
    } catch (err) {
      // A failed load (store unreachable) is retried by the next call rather than remembered.
      this.#loading = undefined;
      throw err;
    }
  }

  #applyErasure(erasure: DemoErasure): void {
    if (this.#erased.has(erasure.memberId)) return;
    this.#erased.set(erasure.memberId, erasure);
    this.#tombstones.set(erasure.memberId, erasure.tombstoneId);
  }

  #applyRevocation(revocation: DemoRevocation): Grant | undefined {
    const grant = this.#workspace.grants.get(revocation.memberId)?.find((g) => g.id === revocation.grantId);
    if (grant === undefined || grant.revokedAt !== undefined) return grant;
    const at = new Date(revocation.at);
    grant.revokedAt = at;
    grant.history = [...(grant.history ?? []), { at, change: 'revoked', actorId: revocation.actor, reason: revocation.reason }];
    return grant;
  }

  /** A member still in the workspace (not erased), by exact id. */
  #present(memberId: string): Member | undefined {
    return this.#erased.has(memberId) ? undefined : this.#workspace.members.get(memberId);
  }

  #notFound(memberId: string): NotFoundError {
    const erased = this.#erased.has(memberId);
    return new NotFoundError(
      erased
        ? `demo source: member '${memberId}' was erased on ${this.#erased.get(memberId)!.at}`
        : `demo source: no member '${memberId}'; list them with 'handover demo members'`,
      { code: 'E_MEMBER_NOT_FOUND' },
    );
  }

  async *members(): AsyncIterable<Member> {
    await this.#load();
    for (const member of this.#workspace.members.values()) {
      if (!this.#erased.has(member.id)) yield { ...member };
    }
  }

  async findMember(selector: string): Promise<Member | undefined> {
    await this.#load();
    const wanted = selector.trim();
    if (wanted === '') return undefined;
    const email = wanted.toLowerCase();
    const members = [...this.#workspace.members.values()].filter((m) => !this.#erased.has(m.id));
    // Ids win over usernames, usernames over emails: `bob` is always the member whose id is bob.
    const found =
      members.find((m) => m.id === wanted) ??
      members.find((m) => m.username === wanted) ??
      members.find((m) => m.email !== undefined && m.email.toLowerCase() === email);
    return found === undefined ? undefined : { ...found };
  }

  async *memberships(memberId: string): AsyncIterable<Membership> {
    await this.#load();
    if (this.#erased.has(memberId)) return;
    for (const m of this.#workspace.memberships.get(memberId) ?? []) {
      const copy: Membership = { ...m };
      if (m.joinedAt) copy.joinedAt = new Date(m.joinedAt.getTime());
      if (m.leftAt) copy.leftAt = new Date(m.leftAt.getTime());
      yield copy;
    }
  }

  async *conversations(memberId: string): AsyncIterable<Conversation> {
    await this.#load();
    if (this.#erased.has(memberId)) return;
    for (const plan of this.#workspace.plans.values()) {
      const me = plan.participants.find((p) => p.id === memberId);
      if (me === undefined) continue;
      const conversation: Conversation = {
        id: plan.id,
        kind: plan.kind,
        organizationId: plan.organizationId,
        createdAt: new Date(plan.createdMs),
        memberJoinedAt: new Date(me.joinedMs),
      };
      if (plan.name !== undefined) conversation.name = plan.name;
      if (plan.topic !== undefined) conversation.topic = plan.topic;
      if (Number.isFinite(me.leftMs)) conversation.memberLeftAt = new Date(me.leftMs);
      if (plan.kind === 'dm' || plan.kind === 'group-dm') {
        conversation.participantIds = plan.participants.filter((p) => p.id !== memberId).map((p) => this.#tombstones.get(p.id) ?? p.id);
      }
      yield conversation;
    }
  }

  messages(conversation: Conversation): AsyncIterable<Message> {
    return unbatch(this.messageBatches(conversation));
  }

  async *messageBatches(conversation: Conversation): AsyncGenerator<readonly Message[]> {
    // Erasures are known once the state is loaded; the common case (nothing erased) hands messages out as generated.
    if (!this.#ready) await this.#load();
    const plan = this.#workspace.plans.get(conversation.id);
    if (plan === undefined) throw new NotFoundError(`demo source: no conversation '${conversation.id}'; list them with conversations(memberId)`);
    const scrub = this.#erased.size > 0;
    let batch: Message[] = [];
    for (const message of generateMessages(plan, this.#workspace.context)) {
      batch.push(scrub ? this.#scrub(message) : message);
      if (batch.length === MESSAGE_BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  /** Attributes what erased members left behind to their tombstones (see the comment above the class). */
  #scrub(m: Message): Message {
    const t = this.#tombstones;
    if (t.size === 0) return m;
    const author = m.authorId;
    const tombstone = t.get(author);
    if (tombstone !== undefined) {
      if (m.subtype === 'join' || m.subtype === 'leave') {
        const name = this.#workspace.members.get(author)?.displayName;
        if (name !== undefined && m.text.startsWith(name)) m.text = DELETED_USER_NAME + m.text.slice(name.length);
      }
      m.authorId = tombstone;
      m.authorName = DELETED_USER_NAME;
    }
    for (const r of m.reactions) r.userIds = r.userIds.map((id) => t.get(id) ?? id);
    if (m.edits !== undefined) for (const e of m.edits) if (e.editorId !== undefined) e.editorId = t.get(e.editorId) ?? e.editorId;
    for (const f of m.attachments) f.ownerId = t.get(f.ownerId) ?? f.ownerId;
    return m;
  }

  async *grants(memberId: string): AsyncIterable<Grant> {
    await this.#load();
    if (this.#erased.has(memberId)) return;
    for (const grant of this.#workspace.grants.get(memberId) ?? []) yield copyGrant(grant);
  }

  async #blockers(memberId: string): Promise<Blocker[]> {
    await this.#load();
    if (this.#present(memberId) === undefined) throw this.#notFound(memberId);
    const now = this.#clock.now();
    const rows: RoleRow[] = [];
    for (const [id, list] of this.#workspace.memberships) {
      const gone = this.#present(id) === undefined || this.#workspace.members.get(id)?.deleted === true;
      for (const m of list) {
        rows.push({
          memberId: id,
          organizationId: m.organizationId,
          organizationName: m.organizationName,
          role: m.role,
          ...(m.leftAt === undefined ? {} : { leftAt: m.leftAt }),
          gone,
        });
      }
    }
    const blockers = [...ownershipBlockers(memberId, rows, now), ...pendingBlockers(memberId)];
    const grants = activeGrantsBlocker(memberId, this.#workspace.grants.get(memberId) ?? [], now);
    if (grants !== undefined) blockers.push(grants);
    return blockers;
  }

  async #revokeGrant(memberId: string, grantId: string, context: WriteContext): Promise<Grant> {
    requireWriteContext('revoking a grant', context);
    await this.#load();
    if (this.#present(memberId) === undefined) throw this.#notFound(memberId);
    const grant = this.#workspace.grants.get(memberId)?.find((g) => g.id === grantId);
    if (grant === undefined) {
      throw new NotFoundError(`demo source: member '${memberId}' has no grant '${grantId}'; list them with grants('${memberId}')`, { code: 'E_GRANT_NOT_FOUND' });
    }
    if (grant.revokedAt !== undefined) return copyGrant(grant);
    const standing = await this.#state.record({
      kind: 'revoke',
      memberId,
      grantId,
      at: this.#clock.now().toISOString(),
      actor: context.actor.trim(),
      reason: context.reason.trim(),
    });
    if (standing.kind === 'revoke') this.#applyRevocation(standing);
    return copyGrant(grant);
  }

  async #erase(memberId: string, context: WriteContext): Promise<void> {
    requireWriteContext('erasing a member', context);
    await this.#load();
    if (this.#erased.has(memberId)) return;
    if (this.#workspace.members.get(memberId) === undefined) throw this.#notFound(memberId);
    const standing = await this.#state.record({
      kind: 'erase',
      memberId,
      tombstoneId: `erased-${randomBytes(4).toString('hex')}`,
      at: this.#clock.now().toISOString(),
      actor: context.actor.trim(),
      reason: context.reason.trim(),
    });
    if (standing.kind === 'erase') this.#applyErasure(standing);
  }
}

/**
 * The built-in demo workspace: three organisations, thirteen members (alice is the
 * subject of the examples), every kind of conversation, grants, and the edge cases real
 * exports contain. Deterministic for given options, generated lazily, constant memory
 * at any size. Writable: it reports offboarding blockers, revokes grants and erases
 * members (`source.capabilities`), keeping those changes in `options.state`.
 */
export function createDemoSource(options: DemoSourceOptions = {}): Source {
  const { state, clock, ...sizing } = options;
  const o = validate(sizing);
  return new DemoSource(new DemoWorkspace(o.seed, sizingFor(o.messages, o.attachmentBytes, o.nasty)), state, clock ?? systemClock);
}
