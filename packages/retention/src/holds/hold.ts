/** What a hold covers: every object of a data subject, or one object key. */
export type HoldScope = { subjectRef: string } | { key: string };

export interface HoldApproval {
  actor: string;
  /** ISO-8601 UTC. */
  at: string;
  reason?: string;
}

/**
 * A legal hold. While it stands (no `releasedAt`), nothing it covers is deleted or
 * crypto-shredded, whatever its retention says.
 */
export interface Hold {
  id: string;
  scope: HoldScope;
  /** Why: the matter, the ticket, the authority's request. Never empty. */
  reason: string;
  /** Who placed it. */
  actor: string;
  /** ISO-8601 UTC. */
  createdAt: string;
  /** Release approvals so far, one per distinct actor. */
  releaseApprovals: HoldApproval[];
  /** Set once two distinct actors approved the release. */
  releasedAt?: string;
}

/** True while the hold stands at `now` (epoch ms). */
export function isHoldActive(hold: Hold, now: number): boolean {
  if (hold.releasedAt === undefined) return true;
  const t = Date.parse(hold.releasedAt);
  return !Number.isFinite(t) || t > now;
}
