import { InputError, NotFoundError } from '@handover/core';
import type { Conversation, Grant, Member, Membership, Message } from '../../source/domain.js';
import type { Source } from '../../source/source.js';
import { generateMessages } from './messages.js';
import { sizingFor } from './plan.js';
import { DemoWorkspace } from './workspace.js';

export { NASTY_FILE_NAMES, NASTY_TEXTS, type NastyText } from './nasty.js';
export { DEMO_TIMELINE } from './people.js';

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

// Fails when iterated, not when called: callers handle errors where they consume messages.
async function* failing(error: Error): AsyncGenerator<never> {
  throw error;
}

class DemoSource implements Source {
  readonly name = 'demo';

  constructor(private readonly workspace: DemoWorkspace) {}

  async *members(): AsyncIterable<Member> {
    for (const member of this.workspace.members.values()) yield { ...member };
  }

  async findMember(selector: string): Promise<Member | undefined> {
    const wanted = selector.trim();
    if (wanted === '') return undefined;
    const email = wanted.toLowerCase();
    const members = [...this.workspace.members.values()];
    // Ids win over usernames, usernames over emails: `bob` is always the member whose id is bob.
    const found =
      members.find((m) => m.id === wanted) ??
      members.find((m) => m.username === wanted) ??
      members.find((m) => m.email !== undefined && m.email.toLowerCase() === email);
    return found === undefined ? undefined : { ...found };
  }

  async *memberships(memberId: string): AsyncIterable<Membership> {
    for (const m of this.workspace.memberships.get(memberId) ?? []) {
      const copy: Membership = { ...m };
      if (m.joinedAt) copy.joinedAt = new Date(m.joinedAt.getTime());
      if (m.leftAt) copy.leftAt = new Date(m.leftAt.getTime());
      yield copy;
    }
  }

  async *conversations(memberId: string): AsyncIterable<Conversation> {
    for (const plan of this.workspace.plans.values()) {
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
        conversation.participantIds = plan.participants.filter((p) => p.id !== memberId).map((p) => p.id);
      }
      yield conversation;
    }
  }

  messages(conversation: Conversation): AsyncIterable<Message> {
    const plan = this.workspace.plans.get(conversation.id);
    if (plan === undefined) {
      return failing(new NotFoundError(`demo source: no conversation '${conversation.id}'; list them with conversations(memberId)`));
    }
    return generateMessages(plan, this.workspace.context);
  }

  async *grants(memberId: string): AsyncIterable<Grant> {
    for (const grant of this.workspace.grants.get(memberId) ?? []) yield copyGrant(grant);
  }
}

/**
 * The built-in demo workspace: three organisations, thirteen members (alice is the
 * subject of the examples), every kind of conversation, grants, and the edge cases real
 * exports contain. Deterministic for given options, generated lazily, constant memory
 * at any size.
 */
export function createDemoSource(options: DemoOptions = {}): Source {
  const o = validate(options);
  return new DemoSource(new DemoWorkspace(o.seed, sizingFor(o.messages, o.attachmentBytes, o.nasty)));
}
