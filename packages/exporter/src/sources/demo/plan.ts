import type { ConversationKind, FileRecord, Member, Reaction } from '../../source/domain.js';
import { CONVERSATIONS, type ConversationSeed } from './conversations.js';
import type { FileContext } from './files.js';
import { nastyEvents } from './nasty.js';
import { ms, ORGANIZATIONS, TIMELINE_END } from './people.js';
import type { Lang } from './text.js';

/**
 * Turns the fixed conversation table and the sizing options into per-conversation
 * plans: how many messages and files each one gets, and the fixed events (joins,
 * leaves, edge cases) the generator merges into the random stream.
 */

/** The member the sizing options are about. */
export const SUBJECT_ID = 'alice';

export interface Participant {
  id: string;
  joinedMs: number;
  /** `Infinity` while still in. */
  leftMs: number;
  bot: boolean;
  /** Set for bots and deleted members, whose name exporters cannot look up later. */
  authorName?: string;
}

/** A message at a fixed time, not drawn from the random stream. */
export interface FixedEvent {
  atMs: number;
  authorId: string;
  text: string;
  subtype?: string;
  /** The thread root (an earlier fixed event) this replies to. */
  replyTo?: FixedEvent;
  files?: FileRecord[];
  edits?: { atMs: number; previousText: string }[];
  reactions?: Reaction[];
}

export interface ConversationPlan {
  id: string;
  kind: ConversationKind;
  name?: string;
  organizationId: string;
  topic?: string;
  createdMs: number;
  endMs: number;
  host: string;
  participants: Participant[];
  langs: readonly Lang[];
  /** Every message of the conversation, fixed events included. */
  messageCount: number;
  fixed: FixedEvent[];
  mediaFiles: number;
  textFiles: number;
}

export interface Sizing {
  messages: number;
  attachmentBytes: number;
  /** Mean size of an image, video, PDF or zip. */
  meanMediaBytes: number;
  /** Mean size of a text, CSV or JSON file. */
  meanTextBytes: number;
  nasty: boolean;
}

const MEDIA_SHARE = 0.88;
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/**
 * Media files average 1/60 of the budget, between 16 KiB and 4 MiB: the default 20 MB
 * makes about 50 of them, 1.2 GB makes about 250 of 1–7 MiB, which is what real
 * workspaces look like (few large media files, many small text ones).
 */
export function sizingFor(messages: number, attachmentBytes: number, nasty: boolean): Sizing {
  return {
    messages,
    attachmentBytes,
    meanMediaBytes: clamp(attachmentBytes / 60, 16 * 1024, 4 * 1024 * 1024),
    meanTextBytes: clamp(attachmentBytes / 500, 2 * 1024, 64 * 1024),
    nasty,
  };
}

/** Splits `total` in proportion to `weights`, exactly, giving leftover units to the largest remainders. */
export function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0 || total <= 0) return weights.map(() => 0);
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((v, i) => ({ i, r: v - Math.floor(v) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) out[order[k]!.i]! += 1;
  return out;
}

function participantsOf(seed: ConversationSeed, members: ReadonlyMap<string, Member>): Participant[] {
  const createdMs = ms(seed.createdAt);
  return seed.participants.map((p) => {
    const member = members.get(p.id);
    const participant: Participant = {
      id: p.id,
      joinedMs: p.joinedAt === undefined ? createdMs : ms(p.joinedAt),
      leftMs: p.leftAt === undefined ? Infinity : ms(p.leftAt),
      bot: member?.bot === true,
    };
    if (member !== undefined && (member.bot || member.deleted)) participant.authorName = member.realName ?? member.displayName;
    return participant;
  });
}

function membershipEvents(plan: ConversationPlan, members: ReadonlyMap<string, Member>): FixedEvent[] {
  if (plan.kind === 'dm' || plan.kind === 'group-dm') return [];
  const what = plan.kind === 'channel' ? 'channel' : 'group';
  const events: FixedEvent[] = [];
  for (const p of plan.participants) {
    const name = members.get(p.id)?.displayName ?? p.id;
    if (p.joinedMs > plan.createdMs && p.joinedMs < plan.endMs) {
      events.push({ atMs: p.joinedMs, authorId: p.id, text: `${name} has joined the ${what}`, subtype: 'join' });
    }
    // One millisecond before leaving, so the notice falls inside the member's own window.
    if (p.leftMs < plan.endMs) {
      events.push({ atMs: p.leftMs - 1, authorId: p.id, text: `${name} has left the ${what}`, subtype: 'leave' });
    }
  }
  return events;
}

export function buildPlans(sizing: Sizing, members: ReadonlyMap<string, Member>, files: FileContext): ConversationPlan[] {
  const plans: ConversationPlan[] = CONVERSATIONS.map((seed) => {
    const org = ORGANIZATIONS.find((o) => o.id === seed.organizationId);
    const plan: ConversationPlan = {
      id: seed.id,
      kind: seed.kind,
      organizationId: seed.organizationId,
      createdMs: ms(seed.createdAt),
      endMs: seed.endsAt === undefined ? TIMELINE_END : ms(seed.endsAt),
      host: org?.host ?? 'chat.example',
      participants: participantsOf(seed, members),
      langs: seed.langs,
      messageCount: 0,
      fixed: [],
      mediaFiles: 0,
      textFiles: 0,
    };
    if (seed.name !== undefined) plan.name = seed.name;
    if (seed.topic !== undefined) plan.topic = seed.topic;
    const fixed = membershipEvents(plan, members);
    if (sizing.nasty && seed.id === 'acme-random') fixed.push(...nastyEvents(files, plan.host));
    // Stable: events at the same instant keep their table order (a thread root before its replies).
    plan.fixed = fixed.sort((a, b) => a.atMs - b.atMs);
    return plan;
  });

  const isSubjects = CONVERSATIONS.map((c) => c.participants.some((p) => p.id === SUBJECT_ID));
  const subjects = plans.filter((_, i) => isSubjects[i]);
  const subjectSeeds = CONVERSATIONS.filter((_, i) => isSubjects[i]);
  const weightSum = subjectSeeds.reduce((a, s) => a + s.weight, 0);
  const fileWeightSum = subjectSeeds.reduce((a, s) => a + s.fileWeight, 0);

  // The subject's conversations get exactly `messages` in all, fixed events included (when there is room for them).
  const fixedTotal = subjects.reduce((a, p) => a + p.fixed.length, 0);
  const extra = Math.max(0, sizing.messages - fixedTotal);
  const shares = apportion(
    extra,
    subjectSeeds.map((s) => s.weight),
  );
  subjects.forEach((p, i) => (p.messageCount = p.fixed.length + shares[i]!));

  const mediaTotal = Math.round((sizing.attachmentBytes * MEDIA_SHARE) / sizing.meanMediaBytes);
  const textTotal = Math.round((sizing.attachmentBytes * (1 - MEDIA_SHARE)) / sizing.meanTextBytes);
  const media = apportion(
    mediaTotal,
    subjectSeeds.map((s) => s.fileWeight),
  );
  const text = apportion(
    textTotal,
    subjectSeeds.map((s) => s.fileWeight),
  );
  subjects.forEach((p, i) => {
    p.mediaFiles = media[i]!;
    p.textFiles = text[i]!;
  });

  // Everyone else's conversations scale at the same rate.
  plans.forEach((p, i) => {
    if (isSubjects[i]) return;
    const seed = CONVERSATIONS[i]!;
    p.messageCount = p.fixed.length + Math.round((extra * seed.weight) / weightSum);
    p.mediaFiles = fileWeightSum > 0 ? Math.round((mediaTotal * seed.fileWeight) / fileWeightSum) : 0;
    p.textFiles = fileWeightSum > 0 ? Math.round((textTotal * seed.fileWeight) / fileWeightSum) : 0;
  });
  return plans;
}
