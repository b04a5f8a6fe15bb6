import { HandoverError } from '@handover/core';
import type { Grant, Role } from './domain.js';
import type { Source } from './source.js';

/*
 * Optional write capabilities of a source. Most sources are exports (a Slack zip, a
 * Mattermost JSONL file): they can be read, never changed. A source that talks to a live
 * workspace (the demo, a future API-backed source) declares what it can do by setting
 * `source.capabilities`; callers ask with `requireCapability`, which turns "this source
 * cannot" into an error that names the source and says what to do instead.
 */

/** Why a member cannot simply be offboarded yet. */
export type BlockerCode = 'sole-owner' | 'sole-admin' | 'pending-approvals' | 'pending-tasks' | 'active-grants' | 'legal-hold';

export interface Blocker {
  code: BlockerCode;
  /** One human sentence: what blocks and what to do about it. */
  message: string;
  /**
   * A legal obligation rather than an operational one. Legal blockers (`legal-hold`) can
   * never be overridden with `--force`; the others can, with a recorded reason.
   */
  legal: boolean;
  /** JSON-serialisable facts behind the message (organisation, items, grant ids). */
  details?: Record<string, unknown>;
}

/** Who asks for a write and why; platforms with an admin log record both. */
export interface WriteContext {
  actor: string;
  reason: string;
}

/**
 * What a writable source can do besides reading. Each member is optional: a source
 * declares only what it really supports.
 */
export interface SourceCapabilities {
  /** What stands in the way of offboarding the member, as the platform sees it (holds are checked elsewhere). */
  blockers?(memberId: string): Promise<Blocker[]>;
  /**
   * Revoke one of the member's grants; returns it as it is afterwards, `revokedAt` set.
   * Revoking a grant already revoked returns it unchanged.
   */
  revokeGrant?(memberId: string, grantId: string, context: WriteContext): Promise<Grant>;
  /**
   * Erase the member in the platform. Cannot be undone. Erasing a member already erased
   * does nothing.
   */
  erase?(memberId: string, context: WriteContext): Promise<void>;
}

export type Capability = keyof SourceCapabilities;

export const CAPABILITIES: readonly Capability[] = Object.freeze(['blockers', 'revokeGrant', 'erase'] as const);

/**
 * A source is missing a capability. `E_SOURCE_READ_ONLY` for the writes (revokeGrant,
 * erase), `E_SOURCE_CAPABILITY` for blockers (a read, but one the source cannot answer).
 */
export class CapabilityError extends HandoverError {
  readonly sourceName: string;
  readonly capability: Capability;
  constructor(sourceName: string, capability: Capability, message: string, options: { cause?: unknown } = {}) {
    super(capability === 'blockers' ? 'E_SOURCE_CAPABILITY' : 'E_SOURCE_READ_ONLY', message, options);
    this.sourceName = sourceName;
    this.capability = capability;
  }
}

export function hasCapability(source: Source, capability: Capability): boolean {
  return typeof source.capabilities?.[capability] === 'function';
}

/** Options of `requireCapability`, only used to make the error actionable. */
export interface RequireCapabilityOptions {
  /** The member the caller wanted to act on; named in the error. */
  memberId?: string;
  /**
   * What the user should run after doing it by hand, appended as "then record it with …".
   * Default: `handover offboard --member <id> --erased-in-source --reason <text>`.
   */
  recordWith?: string;
}

/** The platform a source reads from, as people call it: `slack:export.zip` → `Slack`. */
export function platformName(sourceName: string): string {
  const kind = sourceName.split(':', 1)[0] ?? sourceName;
  const known: Record<string, string> = { slack: 'Slack', mattermost: 'Mattermost', demo: 'the demo workspace', wecom: 'WeCom' };
  return known[kind] ?? `the platform behind '${sourceName}'`;
}

/**
 * The capability's function, bound to the source, or a `CapabilityError` naming the
 * source and saying what to do in the platform itself.
 */
export function requireCapability<C extends Capability>(
  source: Source,
  capability: C,
  options: RequireCapabilityOptions = {},
): NonNullable<SourceCapabilities[C]> {
  const caps = source.capabilities;
  const fn = caps?.[capability];
  if (caps !== undefined && typeof fn === 'function') return (fn as (...args: never[]) => unknown).bind(caps) as NonNullable<SourceCapabilities[C]>;
  const platform = platformName(source.name);
  const who = options.memberId === undefined ? 'the member' : `'${options.memberId}'`;
  const record =
    options.recordWith ??
    `handover offboard --member ${options.memberId ?? '<id>'} --erased-in-source --reason <text>`;
  const message = {
    erase: `source '${source.name}' is read-only: it cannot erase members; erase ${who} in ${platform} itself, then record it with '${record}'`,
    revokeGrant: `source '${source.name}' is read-only: it cannot revoke grants; revoke the app grants of ${who} in ${platform} itself, then record it with '${record}'`,
    blockers: `source '${source.name}' cannot report offboarding blockers (sole owners, pending approvals or tasks); check ${who} in ${platform} itself`,
  }[capability];
  throw new CapabilityError(source.name, capability, message);
}

// ---- Blocker rules every source can share (pure: no I/O).

/** A grant still in force at `now`: neither revoked nor expired. */
export function isGrantActive(grant: Grant, now: Date): boolean {
  if (grant.revokedAt !== undefined && grant.revokedAt.getTime() <= now.getTime()) return false;
  if (grant.expiresAt !== undefined && grant.expiresAt.getTime() <= now.getTime()) return false;
  return true;
}

/** The `active-grants` blocker for these grants, or undefined when none is active. */
export function activeGrantsBlocker(memberId: string, grants: readonly Grant[], now: Date): Blocker | undefined {
  const active = grants.filter((g) => isGrantActive(g, now));
  if (active.length === 0) return undefined;
  const names = active.map((g) => g.appName);
  return {
    code: 'active-grants',
    message: `'${memberId}' still has ${active.length} active app grant${active.length === 1 ? '' : 's'} (${names.join(', ')}): revoke ${active.length === 1 ? 'it' : 'them'} before the account is erased.`,
    legal: false,
    details: { grants: active.map((g) => ({ id: g.id, appId: g.appId, appName: g.appName, ...(g.target === undefined ? {} : { target: g.target }) })) },
  };
}

/** One row of "who holds which role where", as ownership rules need it. */
export interface RoleRow {
  memberId: string;
  organizationId: string;
  organizationName: string;
  role: Role;
  /** Left the organisation: no longer counts as its owner or admin. */
  leftAt?: Date;
  /** The account is deactivated, deleted or erased: no longer counts either. */
  gone?: boolean;
}

/**
 * `sole-owner` and `sole-admin` blockers of `memberId`. Sole owner: the member owns an
 * organisation nobody else (still present) owns. Sole admin: the member is an admin of an
 * organisation with no owner and no other admin, so nobody would be left to administer it.
 */
export function ownershipBlockers(memberId: string, rows: readonly RoleRow[], now: Date): Blocker[] {
  const present = (r: RoleRow): boolean => !r.gone && (r.leftAt === undefined || r.leftAt.getTime() > now.getTime());
  const blockers: Blocker[] = [];
  for (const mine of rows) {
    if (mine.memberId !== memberId || !present(mine)) continue;
    const others = rows.filter((r) => r.organizationId === mine.organizationId && r.memberId !== memberId && present(r));
    const org = `${mine.organizationName} (${mine.organizationId})`;
    const details = { organizationId: mine.organizationId, organizationName: mine.organizationName };
    if (mine.role === 'owner' && !others.some((r) => r.role === 'owner')) {
      blockers.push({
        code: 'sole-owner',
        message: `'${memberId}' is the only owner of ${org}: transfer ownership to another member first.`,
        legal: false,
        details,
      });
    } else if (mine.role === 'admin' && !others.some((r) => r.role === 'owner' || r.role === 'admin')) {
      blockers.push({
        code: 'sole-admin',
        message: `'${memberId}' is the only admin of ${org}, which has no owner: make another member an admin first.`,
        legal: false,
        details,
      });
    }
  }
  return blockers;
}
