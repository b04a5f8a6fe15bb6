import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createAuditLog, InputError, isHandoverError, systemClock, type AuditLog, type Clock, type KeyRing } from '@handover/core';
import { RetentionError, WindowLease, type KeyShredder } from '@handover/retention';
import type { CommandContext } from './context.js';
import type { Output } from './output.js';
import { openKeyRing, type StoreContext } from './store-context.js';

/*
 * What the retention commands (retention, worker, hold, audit) share: the clock, the key
 * shredder over the key ring, the audit log on that clock, and the purge lease.
 */

/** Environment variable that moves the clock: `HANDOVER_NOW=2026-09-01T00:00:00Z`. */
export const CLOCK_OVERRIDE_ENV = 'HANDOVER_NOW';
/** Must be `test` for a destructive command (retention run, worker) to accept the override. */
export const ALLOW_CLOCK_OVERRIDE_ENV = 'HANDOVER_ALLOW_CLOCK_OVERRIDE';

export interface ClockOverride {
  /** The instant asked for (ISO-8601). */
  now: string;
  /** Where it came from. */
  source: '--now' | typeof CLOCK_OVERRIDE_ENV;
}

export interface ResolvedClock {
  /** What every component runs on: the system clock, or one that starts at the override and advances in real time. */
  clock: Clock;
  /** The instant to plan for: exactly the override, or the current time. */
  now: Date;
  override?: ClockOverride;
}

// A date, or a date and time with an optional fraction and zone. Date.parse alone accepts
// far too much ('1', 'June 5'), and a what-if at the wrong instant is worse than an error.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * The one place the clock is decided: `--now`, then HANDOVER_NOW, then the system clock.
 * - `what-if` (retention plan): an override is simply used.
 * - `act` (retention run, worker): destroying data on a pretended date is refused (exit 2)
 *   unless HANDOVER_ALLOW_CLOCK_OVERRIDE=test is also set; the callers then record the
 *   override in the audit log (details.clockOverride).
 * An overridden clock starts at the given instant and advances in real time, so leases,
 * audit times and run ids stay ordered within one process.
 */
export function resolveClock(ctx: CommandContext, flag: string | undefined, use: 'what-if' | 'act'): ResolvedClock {
  const fromFlag = flag !== undefined && flag !== '';
  const text = fromFlag ? flag : ctx.env[CLOCK_OVERRIDE_ENV];
  if (text === undefined || text === '') return { clock: systemClock, now: systemClock.now() };
  const source = fromFlag ? '--now' : CLOCK_OVERRIDE_ENV;
  const t = ISO_INSTANT.test(text.trim()) ? Date.parse(text.trim()) : NaN;
  if (!Number.isFinite(t)) {
    throw new InputError(`${source} '${text}' is not an ISO-8601 date or time (e.g. 2026-09-01 or 2026-09-01T02:00:00Z)`, { code: 'E_CLOCK_OVERRIDE', exitCode: 2 });
  }
  if (use === 'act' && ctx.env[ALLOW_CLOCK_OVERRIDE_ENV] !== 'test') {
    throw new InputError(
      `${source}=${text} would destroy data as if it were ${new Date(t).toISOString()}: refused. ` +
        `The clock override is for 'retention plan' (a what-if) and for tests (set ${ALLOW_CLOCK_OVERRIDE_ENV}=test as well); unset ${CLOCK_OVERRIDE_ENV} to run on the real clock`,
      { code: 'E_CLOCK_OVERRIDE', exitCode: 2 },
    );
  }
  const offset = t - Date.now();
  return {
    clock: { now: () => new Date(Date.now() + offset) },
    now: new Date(t),
    override: { now: new Date(t).toISOString(), source },
  };
}

/** Tells the human (stderr) that the clock is not the real one. */
export function noteClock(out: Output, resolved: ResolvedClock): void {
  if (resolved.override) out.warn(`clock override: acting as if it were ${resolved.override.now} (${resolved.override.source})`);
}

/**
 * The audit log on `clock`. A purge resumes by comparing audit times with its run's start,
 * so both must come from the same clock. With an override, every record says so.
 */
export function openAuditOn(sc: StoreContext, resolved: ResolvedClock): AuditLog {
  const log = createAuditLog({ store: sc.store, clock: resolved.clock });
  return resolved.override ? withDetails(log, { clockOverride: resolved.override }) : log;
}

/** An audit log that adds `extra` to the details of every record it appends. */
export function withDetails(log: AuditLog, extra: Record<string, unknown>): AuditLog {
  return {
    prefix: log.prefix,
    append: (entry) => log.append({ ...entry, details: { ...entry.details, ...extra } }),
    verify: (options) => log.verify(options),
    list: (filter) => log.list(filter),
    readBackwards: () => log.readBackwards(),
    head: () => log.head(),
  };
}

/** The purger's KeyShredder over the key ring: shred by subject ref; `hasKey` for the post-check. */
export function keyShredderOf(ring: KeyRing): KeyShredder {
  return {
    shred: (subjectRef, context) => ring.shredRef(subjectRef, context),
    hasKey: async (subjectRef) => {
      try {
        await ring.identityForRef(subjectRef);
        return true;
      } catch (err) {
        if (isHandoverError(err) && (err.code === 'E_KEY_SHREDDED' || err.code === 'E_KEY_NOT_FOUND')) return false;
        throw err;
      }
    },
  };
}

/**
 * The key shredder, when a master key is configured. Without one a purge still deletes
 * what is due; crypto-shreds stay pending (and are audited as such) until a run has the key.
 */
export async function optionalKeyShredder(ctx: CommandContext, sc: StoreContext, out: Output, masterKeyFile?: string): Promise<KeyShredder | undefined> {
  try {
    return keyShredderOf(await openKeyRing(ctx, sc, masterKeyFile ? { file: masterKeyFile } : {}));
  } catch (err) {
    if (isHandoverError(err) && err.code === 'E_MASTER_KEY_MISSING') {
      out.warn(`${err.message}; without it, subject keys due for crypto-shredding stay pending`);
      return undefined;
    }
    throw err;
  }
}

/** Who a purge run by hand is recorded as; the worker records `retention-worker@<host>`. */
export function holderId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/**
 * Runs `fn` holding the purge lease the worker uses (retention/lease/), so a purge by hand
 * and a worker never purge the same store at once. `renew` must be called before each
 * batch; `lost` is aborted when the lease is lost.
 */
export async function withPurgeLease<T>(
  sc: StoreContext,
  clock: Clock,
  fn: (lease: { renew: () => Promise<void>; lost: AbortSignal }) => Promise<T>,
): Promise<T> {
  const lease = new WindowLease({ store: sc.store, clock, holderId: holderId() });
  if (!(await lease.acquire())) {
    const holder = await lease.holder().catch(() => undefined);
    throw new RetentionError(
      'E_LEASE_HELD',
      `another purge holds this store's retention lease${holder ? ` (${holder})` : ''}: try again when it is done; a crashed holder's lease lapses within ${Math.round((2 * lease.windowMs) / 60_000)} minutes`,
    );
  }
  const lost = new AbortController();
  const renew = async (): Promise<void> => {
    try {
      await lease.renew();
    } catch (err) {
      lost.abort(err);
      throw err;
    }
  };
  const timer = setInterval(() => void renew().catch(() => undefined), Math.max(1000, lease.windowMs / 4));
  timer.unref();
  try {
    return await fn({ renew, lost: lost.signal });
  } finally {
    clearInterval(timer);
    await lease.release().catch(() => undefined);
  }
}
