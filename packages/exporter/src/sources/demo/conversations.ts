import type { ConversationKind } from '../../source/domain.js';
import type { Lang } from './text.js';

/**
 * The conversations of the demo workspace. Their messages are generated; their shape
 * (who is in them, when they joined and left) is fixed here so the README can describe
 * it. The first participant is the creator and stays for the conversation's whole life,
 * so every moment has at least one possible author.
 */

export interface ParticipantSeed {
  id: string;
  /** Defaults to the conversation's creation. */
  joinedAt?: string;
  leftAt?: string;
}

export interface ConversationSeed {
  id: string;
  kind: ConversationKind;
  name?: string;
  organizationId: string;
  topic?: string;
  createdAt: string;
  /** Archived or closed: no messages after this. Defaults to the end of the timeline. */
  endsAt?: string;
  participants: readonly ParticipantSeed[];
  /** Share of the messages, relative to the other conversations. */
  weight: number;
  /** Share of the attachments. */
  fileWeight: number;
  /** Languages of the messages, drawn uniformly from this list (repeat one to favour it). */
  langs: readonly Lang[];
}

export const CONVERSATIONS: readonly ConversationSeed[] = [
  // ---- Acme Robotics (alice is the owner)
  {
    id: 'acme-general',
    kind: 'channel',
    name: 'general',
    organizationId: 'acme',
    topic: 'Company-wide announcements',
    createdAt: '2024-01-01T09:00:00Z',
    participants: [
      { id: 'alice' },
      { id: 'bob', joinedAt: '2024-01-01T09:30:00Z' },
      { id: 'dmitri', joinedAt: '2024-01-03T08:00:00Z', leftAt: '2026-05-31T18:00:00Z' },
      { id: 'fatima', joinedAt: '2024-01-08T07:00:00Z' },
      { id: 'erin', joinedAt: '2024-01-10T09:00:00Z', leftAt: '2025-03-01T17:00:00Z' },
      { id: 'yossi', joinedAt: '2024-02-12T07:00:00Z' },
    ],
    weight: 14,
    fileWeight: 10,
    langs: ['en'],
  },
  {
    id: 'acme-random',
    kind: 'channel',
    name: 'random',
    organizationId: 'acme',
    topic: 'Anything goes — even <b>HTML</b> & "quotes" & \'apostrophes\'',
    createdAt: '2024-01-01T09:05:00Z',
    participants: [
      { id: 'alice' },
      { id: 'bob', joinedAt: '2024-01-01T09:40:00Z' },
      { id: 'dmitri', joinedAt: '2024-01-04T08:00:00Z', leftAt: '2026-05-31T18:00:00Z' },
      { id: 'fatima', joinedAt: '2024-01-08T07:30:00Z' },
      { id: 'erin', joinedAt: '2024-01-10T10:00:00Z', leftAt: '2025-03-01T17:00:00Z' },
      { id: 'yossi', joinedAt: '2024-02-12T08:00:00Z' },
      { id: 'zoe', joinedAt: '2024-04-01T11:00:00Z' },
    ],
    weight: 8,
    fileWeight: 5,
    langs: ['en', 'en', 'en', 'ar', 'he'],
  },
  {
    id: 'acme-engineering',
    kind: 'channel',
    name: 'engineering',
    organizationId: 'acme',
    topic: 'Builds, deploys, robots',
    createdAt: '2024-01-02T10:00:00Z',
    participants: [
      { id: 'bob' },
      { id: 'alice', joinedAt: '2024-01-02T10:05:00Z' },
      { id: 'bot.deploy', joinedAt: '2024-01-02T12:00:00Z' },
      { id: 'dmitri', joinedAt: '2024-01-03T09:00:00Z', leftAt: '2026-05-31T18:00:00Z' },
      { id: 'erin', joinedAt: '2024-01-10T09:30:00Z', leftAt: '2025-03-01T17:00:00Z' },
      { id: 'yossi', joinedAt: '2024-02-13T07:00:00Z' },
    ],
    weight: 12,
    fileWeight: 14,
    langs: ['en'],
  },
  {
    // alice joins late and leaves early: messages exist on both sides of her window.
    id: 'acme-design',
    kind: 'channel',
    name: 'design',
    organizationId: 'acme',
    createdAt: '2024-01-05T08:00:00Z',
    participants: [
      { id: 'fatima' },
      { id: 'yossi', joinedAt: '2024-02-15T08:00:00Z' },
      { id: 'zoe', joinedAt: '2024-04-02T08:00:00Z' },
      { id: 'alice', joinedAt: '2024-06-01T08:00:00Z', leftAt: '2025-12-31T17:00:00Z' },
      { id: 'sam', joinedAt: '2024-06-01T10:30:00Z', leftAt: '2025-06-01T10:00:00Z' },
    ],
    weight: 6,
    fileWeight: 10,
    langs: ['en', 'en', 'ar'],
  },
  {
    id: 'acme-leadership',
    kind: 'private-group',
    name: 'leadership',
    organizationId: 'acme',
    topic: 'Confidential',
    createdAt: '2024-02-01T09:00:00Z',
    participants: [
      { id: 'alice' },
      { id: 'bob', joinedAt: '2024-02-01T09:05:00Z' },
      { id: 'dmitri', joinedAt: '2024-03-01T09:00:00Z', leftAt: '2026-05-31T18:00:00Z' },
    ],
    weight: 5,
    fileWeight: 3,
    langs: ['en'],
  },
  {
    id: 'acme-incident-2025-04',
    kind: 'private-group',
    name: 'incident-2025-04',
    organizationId: 'acme',
    topic: 'SEV1: robot fleet offline',
    createdAt: '2025-04-10T03:12:00Z',
    endsAt: '2025-05-30T18:00:00Z',
    participants: [
      { id: 'bob' },
      { id: 'bot.deploy', joinedAt: '2025-04-10T03:13:00Z' },
      { id: 'dmitri', joinedAt: '2025-04-10T03:20:00Z' },
      { id: 'alice', joinedAt: '2025-04-11T07:45:00Z' },
    ],
    weight: 4,
    fileWeight: 3,
    langs: ['en'],
  },
  {
    id: 'dm-alice-bob',
    kind: 'dm',
    organizationId: 'acme',
    createdAt: '2024-01-01T10:00:00Z',
    participants: [{ id: 'alice' }, { id: 'bob' }],
    weight: 8,
    fileWeight: 3,
    langs: ['en'],
  },
  {
    id: 'dm-alice-fatima',
    kind: 'dm',
    organizationId: 'acme',
    createdAt: '2024-01-09T08:00:00Z',
    participants: [{ id: 'alice' }, { id: 'fatima' }],
    weight: 4,
    fileWeight: 2,
    langs: ['en', 'ar'],
  },
  {
    id: 'dm-alice-erin',
    kind: 'dm',
    organizationId: 'acme',
    createdAt: '2024-01-11T08:00:00Z',
    endsAt: '2025-03-01T17:00:00Z',
    participants: [{ id: 'alice' }, { id: 'erin' }],
    weight: 2,
    fileWeight: 1,
    langs: ['en'],
  },
  {
    id: 'dm-alice-bot.deploy',
    kind: 'dm',
    organizationId: 'acme',
    createdAt: '2024-01-02T12:30:00Z',
    participants: [{ id: 'alice' }, { id: 'bot.deploy' }],
    weight: 3,
    fileWeight: 0,
    langs: ['en'],
  },
  {
    id: 'gdm-alice-bob-dmitri',
    kind: 'group-dm',
    organizationId: 'acme',
    createdAt: '2024-02-20T11:00:00Z',
    endsAt: '2026-05-31T18:00:00Z',
    participants: [{ id: 'alice' }, { id: 'bob' }, { id: 'dmitri' }],
    weight: 4,
    fileWeight: 2,
    langs: ['en'],
  },
  // ---- 北京云科技 (alice is an admin)
  {
    id: 'bjcloud-general',
    kind: 'channel',
    name: '综合',
    organizationId: 'bjcloud',
    topic: '公司公告',
    createdAt: '2024-03-01T01:30:00Z',
    participants: [
      { id: 'wang.wei' },
      { id: 'li.na', joinedAt: '2024-03-02T01:30:00Z' },
      { id: 'alice', joinedAt: '2024-03-15T02:30:00Z' },
      { id: 'fatima', joinedAt: '2024-07-01T01:30:00Z' },
    ],
    weight: 8,
    fileWeight: 6,
    langs: ['zh', 'zh', 'zh', 'en'],
  },
  {
    id: 'bjcloud-product',
    kind: 'channel',
    name: '产品讨论',
    organizationId: 'bjcloud',
    createdAt: '2024-04-01T01:00:00Z',
    participants: [
      { id: 'li.na' },
      { id: 'wang.wei', joinedAt: '2024-04-01T02:00:00Z' },
      { id: 'alice', joinedAt: '2024-04-01T03:00:00Z' },
    ],
    weight: 6,
    fileWeight: 6,
    langs: ['zh', 'zh', 'en'],
  },
  {
    id: 'dm-alice-wang.wei',
    kind: 'dm',
    organizationId: 'bjcloud',
    createdAt: '2024-03-16T02:00:00Z',
    participants: [{ id: 'alice' }, { id: 'wang.wei' }],
    weight: 4,
    fileWeight: 2,
    langs: ['zh', 'en'],
  },
  {
    id: 'gdm-alice-li.na-wang.wei',
    kind: 'group-dm',
    organizationId: 'bjcloud',
    createdAt: '2024-05-10T02:00:00Z',
    participants: [{ id: 'wang.wei' }, { id: 'alice' }, { id: 'li.na' }],
    weight: 3,
    fileWeight: 1,
    langs: ['zh'],
  },
  // ---- Globex (alice was a member, left on 2025-09-30)
  {
    id: 'globex-general',
    kind: 'channel',
    name: 'general',
    organizationId: 'globex',
    createdAt: '2024-01-01T00:00:00Z',
    participants: [
      { id: 'carol' },
      { id: 'zoe', joinedAt: '2024-01-02T10:30:00Z' },
      { id: 'priya', joinedAt: '2024-01-15T10:30:00Z' },
      { id: 'alice', joinedAt: '2024-02-01T14:30:00Z', leftAt: '2025-09-30T17:00:00Z' },
      { id: 'bob', joinedAt: '2024-05-01T08:30:00Z' },
    ],
    weight: 6,
    fileWeight: 4,
    langs: ['en'],
  },
  {
    id: 'globex-partners',
    kind: 'private-group',
    name: 'partners',
    organizationId: 'globex',
    createdAt: '2024-02-01T15:00:00Z',
    participants: [
      { id: 'carol' },
      { id: 'alice', joinedAt: '2024-02-01T15:00:00Z', leftAt: '2025-09-30T17:00:00Z' },
      { id: 'zoe', joinedAt: '2024-02-02T09:00:00Z' },
    ],
    weight: 3,
    fileWeight: 3,
    langs: ['en'],
  },
  {
    id: 'dm-alice-carol',
    kind: 'dm',
    organizationId: 'globex',
    createdAt: '2024-02-02T09:00:00Z',
    endsAt: '2025-09-30T17:00:00Z',
    participants: [{ id: 'carol' }, { id: 'alice' }],
    weight: 3,
    fileWeight: 1,
    langs: ['en'],
  },
  // ---- Conversations alice was never in (for other members' exports, and to be left out of hers)
  {
    id: 'acme-sales',
    kind: 'channel',
    name: 'sales',
    organizationId: 'acme',
    createdAt: '2024-01-15T09:00:00Z',
    participants: [
      { id: 'bob' },
      { id: 'dmitri', joinedAt: '2024-01-15T09:00:00Z', leftAt: '2026-05-31T18:00:00Z' },
      { id: 'yossi', joinedAt: '2024-02-12T09:00:00Z' },
    ],
    weight: 8,
    fileWeight: 5,
    langs: ['en'],
  },
  {
    id: 'dm-bob-carol',
    kind: 'dm',
    organizationId: 'globex',
    createdAt: '2024-05-02T09:00:00Z',
    participants: [{ id: 'bob' }, { id: 'carol' }],
    weight: 3,
    fileWeight: 1,
    langs: ['en'],
  },
  {
    id: 'globex-ops',
    kind: 'channel',
    name: 'ops',
    organizationId: 'globex',
    createdAt: '2024-01-03T09:00:00Z',
    participants: [{ id: 'zoe' }, { id: 'carol' }, { id: 'priya', joinedAt: '2024-01-15T11:00:00Z' }],
    weight: 5,
    fileWeight: 3,
    langs: ['en'],
  },
  {
    id: 'dm-fatima-yossi',
    kind: 'dm',
    organizationId: 'acme',
    createdAt: '2024-02-13T09:00:00Z',
    participants: [{ id: 'fatima' }, { id: 'yossi' }],
    weight: 2,
    fileWeight: 1,
    langs: ['ar', 'he', 'en'],
  },
  {
    id: 'bjcloud-ops',
    kind: 'channel',
    name: '运维',
    organizationId: 'bjcloud',
    createdAt: '2024-03-05T01:00:00Z',
    participants: [{ id: 'wang.wei' }, { id: 'li.na', joinedAt: '2024-03-05T02:00:00Z' }],
    weight: 4,
    fileWeight: 2,
    langs: ['zh'],
  },
];
