import type { Blocker } from '../../source/capabilities.js';

/**
 * Work waiting on members of the demo workspace: approvals to decide and tasks to finish.
 * Fixed data, like the cast, so the offboarding examples are stable: bob has two pending
 * approvals, li.na one open task; zoe and priya have none.
 */

export interface PendingItemSeed {
  memberId: string;
  kind: 'approval' | 'task';
  id: string;
  title: string;
  organizationId: string;
  /** When it started waiting. */
  since: string;
}

export const PENDING_ITEMS: readonly PendingItemSeed[] = [
  { memberId: 'bob', kind: 'approval', id: 'APR-1041', title: 'Expense report: Automatica trade fair', organizationId: 'acme', since: '2026-10-20T09:00:00Z' },
  { memberId: 'bob', kind: 'approval', id: 'APR-1057', title: 'Access request: yossi to #sales', organizationId: 'acme', since: '2026-10-28T14:30:00Z' },
  { memberId: 'li.na', kind: 'task', id: 'TASK-88', title: '季度预算复核', organizationId: 'bjcloud', since: '2026-10-15T02:00:00Z' },
];

/** `pending-approvals` and `pending-tasks` blockers of one member (pure). */
export function pendingBlockers(memberId: string, items: readonly PendingItemSeed[] = PENDING_ITEMS): Blocker[] {
  const blockers: Blocker[] = [];
  const approvals = items.filter((i) => i.memberId === memberId && i.kind === 'approval');
  const tasks = items.filter((i) => i.memberId === memberId && i.kind === 'task');
  const list = (xs: readonly PendingItemSeed[]): string => xs.map((x) => `${x.id} '${x.title}'`).join('; ');
  const details = (xs: readonly PendingItemSeed[]) => ({ items: xs.map((x) => ({ id: x.id, title: x.title, organizationId: x.organizationId, since: x.since })) });
  if (approvals.length > 0) {
    blockers.push({
      code: 'pending-approvals',
      message: `'${memberId}' has ${approvals.length} pending approval${approvals.length === 1 ? '' : 's'} (${list(approvals)}): decide or reassign ${approvals.length === 1 ? 'it' : 'them'} first.`,
      legal: false,
      details: details(approvals),
    });
  }
  if (tasks.length > 0) {
    blockers.push({
      code: 'pending-tasks',
      message: `'${memberId}' has ${tasks.length} open task${tasks.length === 1 ? '' : 's'} (${list(tasks)}): reassign or close ${tasks.length === 1 ? 'it' : 'them'} first.`,
      legal: false,
      details: details(tasks),
    });
  }
  return blockers;
}
