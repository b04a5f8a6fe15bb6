import type { Member, Role } from '../../source/domain.js';

/**
 * Who is in the demo workspace. Fixed data, not seeded: the README and tests cite
 * these ids. Dates are fixed too, never "now", so every export of the demo is the same.
 */

export const ms = (iso: string): number => Date.parse(iso);

/** The span of the demo workspace's history. */
export const DEMO_TIMELINE = Object.freeze({
  start: '2024-01-01T00:00:00.000Z',
  end: '2026-10-31T23:59:59.999Z',
});

export const TIMELINE_START = ms(DEMO_TIMELINE.start);
export const TIMELINE_END = ms(DEMO_TIMELINE.end);

export interface OrganizationSeed {
  id: string;
  name: string;
  /** Host of the links in file records. */
  host: string;
}

export const ORGANIZATIONS: readonly OrganizationSeed[] = [
  { id: 'acme', name: 'Acme Robotics', host: 'acme.chat.example' },
  { id: 'bjcloud', name: '北京云科技', host: 'bjcloud.chat.example' },
  { id: 'globex', name: 'Globex', host: 'globex.chat.example' },
];

export const MEMBERS: readonly Member[] = [
  { id: 'alice', displayName: 'alice', realName: 'Alice Martin', email: 'alice@acme.example', username: 'alice' },
  { id: 'bob', displayName: 'bob', realName: 'Bob Okafor', email: 'bob@acme.example', username: 'bob' },
  { id: 'carol', displayName: 'Carol', realName: 'Carol Nguyen', email: 'carol@globex.example', username: 'carol.nguyen' },
  { id: 'dmitri', displayName: 'Дмитрий', realName: 'Дмитрий Иванов', email: 'dmitri@acme.example', username: 'dmitri' },
  { id: 'fatima', displayName: 'فاطمة', realName: 'فاطمة الزهراء', email: 'fatima@acme.example', username: 'fatima' },
  { id: 'wang.wei', displayName: '王伟', realName: '王伟', email: 'wang.wei@bjcloud.example', username: 'wang.wei' },
  { id: 'li.na', displayName: '李娜', realName: '李娜', email: 'li.na@bjcloud.example', username: 'li.na' },
  { id: 'yossi', displayName: 'יוסי', realName: 'יוסי כהן', email: 'yossi@acme.example', username: 'yossi' },
  // Mixed-case address: selectors must match emails case-insensitively.
  { id: 'zoe', displayName: 'Zoë', realName: 'Zoë Müller', email: 'Zoe.Muller@Globex.example', username: 'zoe' },
  { id: 'priya', displayName: 'priya', realName: 'Priya Raman', email: 'priya@globex.example', username: 'priya' },
  { id: 'sam', displayName: 'sam (guest)', realName: "Sam O'Brien", email: 'sam@contractor.example', username: 'sam' },
  { id: 'erin', displayName: 'erin', realName: 'Erin Walsh', email: 'erin@acme.example', username: 'erin', deleted: true },
  { id: 'bot.deploy', displayName: 'Deploy Bot', username: 'deploy-bot', bot: true },
];

export interface MembershipSeed {
  memberId: string;
  organizationId: string;
  role: Role;
  joinedAt: string;
  leftAt?: string;
}

export const MEMBERSHIPS: readonly MembershipSeed[] = [
  { memberId: 'alice', organizationId: 'acme', role: 'owner', joinedAt: '2024-01-01T09:00:00Z' },
  { memberId: 'alice', organizationId: 'bjcloud', role: 'admin', joinedAt: '2024-03-15T02:00:00Z' },
  { memberId: 'alice', organizationId: 'globex', role: 'member', joinedAt: '2024-02-01T14:00:00Z', leftAt: '2025-09-30T17:00:00Z' },
  { memberId: 'bob', organizationId: 'acme', role: 'admin', joinedAt: '2024-01-01T09:30:00Z' },
  { memberId: 'bob', organizationId: 'globex', role: 'guest', joinedAt: '2024-05-01T08:00:00Z' },
  { memberId: 'carol', organizationId: 'globex', role: 'owner', joinedAt: '2024-01-01T00:00:00Z' },
  { memberId: 'dmitri', organizationId: 'acme', role: 'member', joinedAt: '2024-01-03T08:00:00Z', leftAt: '2026-05-31T18:00:00Z' },
  { memberId: 'fatima', organizationId: 'acme', role: 'member', joinedAt: '2024-01-08T07:00:00Z' },
  { memberId: 'fatima', organizationId: 'bjcloud', role: 'guest', joinedAt: '2024-07-01T01:00:00Z' },
  { memberId: 'wang.wei', organizationId: 'bjcloud', role: 'owner', joinedAt: '2024-03-01T01:00:00Z' },
  { memberId: 'li.na', organizationId: 'bjcloud', role: 'member', joinedAt: '2024-03-02T01:00:00Z' },
  { memberId: 'yossi', organizationId: 'acme', role: 'member', joinedAt: '2024-02-12T07:00:00Z' },
  { memberId: 'zoe', organizationId: 'globex', role: 'admin', joinedAt: '2024-01-02T10:00:00Z' },
  { memberId: 'zoe', organizationId: 'acme', role: 'guest', joinedAt: '2024-04-01T10:00:00Z' },
  { memberId: 'priya', organizationId: 'globex', role: 'member', joinedAt: '2024-01-15T10:00:00Z' },
  { memberId: 'sam', organizationId: 'acme', role: 'guest', joinedAt: '2024-06-01T10:00:00Z', leftAt: '2025-06-01T10:00:00Z' },
  { memberId: 'erin', organizationId: 'acme', role: 'member', joinedAt: '2024-01-10T09:00:00Z', leftAt: '2025-03-01T17:00:00Z' },
  { memberId: 'bot.deploy', organizationId: 'acme', role: 'member', joinedAt: '2024-01-02T12:00:00Z' },
];
