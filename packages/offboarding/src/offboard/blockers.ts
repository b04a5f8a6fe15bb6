import type { Blocker, BlockerCode } from '@handover/exporter';
import type { Hold } from '@handover/retention';

/*
 * What to do with blockers: pure rules, no I/O.
 *
 * Three kinds:
 * - legal (`legal-hold`): refuse, always. --force never overrides a legal obligation.
 * - handled by the offboarding itself (`active-grants`): reported, never refusing, because
 *   the `revoke-grants` step removes them before anything is erased.
 * - the rest (sole owner or admin, pending approvals or tasks): refuse unless --force,
 *   which needs a reason and is recorded in the journal and the audit log.
 */

/** Blockers that offboarding resolves on its own (revoke-grants). */
export const HANDLED_BY_OFFBOARDING: readonly BlockerCode[] = Object.freeze(['active-grants'] as const);

export function isLegal(blocker: Blocker): boolean {
  return blocker.legal || blocker.code === 'legal-hold';
}

export interface BlockerDecision {
  /** True when offboarding may go on. */
  proceed: boolean;
  /** Legal blockers: stop offboarding whatever the flags. */
  legal: Blocker[];
  /** Blockers that stop offboarding as things stand (legal ones included). */
  refusing: Blocker[];
  /** Non-legal blockers --force overrode. */
  overridden: Blocker[];
  /** Blockers a later step removes (active grants). */
  handled: Blocker[];
}

export function decideBlockers(blockers: readonly Blocker[], options: { force: boolean }): BlockerDecision {
  const legal = blockers.filter(isLegal);
  const handled = blockers.filter((b) => !isLegal(b) && HANDLED_BY_OFFBOARDING.includes(b.code));
  const operational = blockers.filter((b) => !isLegal(b) && !HANDLED_BY_OFFBOARDING.includes(b.code));
  if (legal.length > 0) {
    return { proceed: false, legal, refusing: [...legal, ...(options.force ? [] : operational)], overridden: [], handled };
  }
  if (operational.length > 0 && !options.force) return { proceed: false, legal, refusing: operational, overridden: [], handled };
  return { proceed: true, legal, refusing: [], overridden: options.force ? operational : [], handled };
}

/** One `legal-hold` blocker per standing hold on the subject. */
export function legalHoldBlockers(memberId: string, holds: readonly Hold[]): Blocker[] {
  return holds.map((h) => ({
    code: 'legal-hold' as const,
    message: `'${memberId}' is under legal hold ${h.id} (${h.reason}), placed by ${h.actor} on ${h.createdAt.slice(0, 10)}: nothing of theirs may be erased until two people release the hold; --force does not override it.`,
    legal: true,
    details: { holdId: h.id, reason: h.reason, actor: h.actor, createdAt: h.createdAt },
  }));
}
