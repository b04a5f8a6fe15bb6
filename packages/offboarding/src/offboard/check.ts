import { NotFoundError, type Clock, type KeyRing } from '@handover/core';
import { activeGrantsBlocker, hasCapability, type Blocker, type Grant, type Source } from '@handover/exporter';
import type { Hold, HoldRegistry } from '@handover/retention';
import { isHoldActive } from '@handover/retention';
import { decideBlockers, legalHoldBlockers } from './blockers.js';

/** The legal holds standing on a subject. A small port so tests and other stores can answer it. */
export interface HoldLookup {
  activeFor(subjectRef: string): Promise<Hold[]>;
}

/** A HoldLookup over the retention hold registry: holds whose scope is the subject. */
export function holdLookup(registry: Pick<HoldRegistry, 'list'>, clock: Clock): HoldLookup {
  return {
    async activeFor(subjectRef) {
      const now = clock.now().getTime();
      return (await registry.list()).filter((h) => 'subjectRef' in h.scope && h.scope.subjectRef === subjectRef && isHoldActive(h, now));
    },
  };
}

export interface CheckOffboardingOptions {
  /** Member id, or username / email where the source has them. */
  memberId: string;
  source: Source;
  /** Names the subject in holds, journals and audit records. */
  keyRing: Pick<KeyRing, 'subjectRef'>;
  holds: HoldLookup;
  clock: Clock;
}

export interface BlockerReport {
  /** The member's id in the source. */
  memberId: string;
  subjectRef: string;
  /** Every blocker, in the source's order, legal holds last. */
  blockers: Blocker[];
  /** Blockers that stop `offboard` without --force (legal ones included). */
  refusing: Blocker[];
  /** Legal blockers: stop `offboard` even with --force. */
  legal: Blocker[];
  /** Blockers the offboarding removes itself (active grants: revoked before erasure). */
  handledByOffboarding: Blocker[];
  /**
   * False when the source cannot report blockers (an export file): only grants and legal
   * holds were checked; ownership and pending work must be checked in the platform.
   */
  sourceChecked: boolean;
}

/** Blockers as the source sees them, or (read-only sources) what its grants say. */
async function sourceBlockers(source: Source, memberId: string, now: Date): Promise<{ blockers: Blocker[]; checked: boolean }> {
  if (hasCapability(source, 'blockers')) return { blockers: await source.capabilities!.blockers!(memberId), checked: true };
  const grants: Grant[] = [];
  for await (const g of source.grants(memberId)) grants.push(g);
  const b = activeGrantsBlocker(memberId, grants, now);
  return { blockers: b === undefined ? [] : [b], checked: false };
}

/**
 * What stands in the way of offboarding one member: what `offboard --check` prints.
 * Changes nothing, records nothing.
 */
export async function checkOffboarding(options: CheckOffboardingOptions): Promise<BlockerReport> {
  const { source } = options;
  const member = await source.findMember(options.memberId);
  if (member === undefined) {
    throw new NotFoundError(`member '${options.memberId}' not found in source '${source.name}'`, { code: 'E_MEMBER_NOT_FOUND' });
  }
  return collectBlockers({ ...options, memberId: member.id });
}

/** checkOffboarding for a member id already resolved. */
export async function collectBlockers(options: CheckOffboardingOptions): Promise<BlockerReport> {
  const subjectRef = options.keyRing.subjectRef(options.memberId);
  const { blockers, checked } = await sourceBlockers(options.source, options.memberId, options.clock.now());
  const all = [...blockers, ...legalHoldBlockers(options.memberId, await options.holds.activeFor(subjectRef))];
  const decision = decideBlockers(all, { force: false });
  return {
    memberId: options.memberId,
    subjectRef,
    blockers: all,
    refusing: decision.refusing,
    legal: decision.legal,
    handledByOffboarding: decision.handled,
    sourceChecked: checked,
  };
}
