import type { RetentionClass, RetentionPolicies } from './classes.js';
import { addDurationMs, parseDuration, type Duration } from './duration.js';

/*
 * ## Precedence
 *
 * 1. **A legal hold beats every deletion.** An object under an active hold (by its key, or
 *    by its subject) is kept whatever its retention says, and a subject with any held object
 *    keeps its key: no crypto-shred.
 * 2. **Among the retentions that apply to one object, the longest retain-until wins.** An
 *    object carries its `class` plus any extra `classes`, and may carry a retain-until
 *    recorded when it was written (e.g. in its key). Its retain-until is the LATEST of
 *    `createdAt + duration` over its classes and the recorded date.
 * 3. **Periods never add up.** Retain-until = max over classes of (anchor + duration), never
 *    anchor + the sum of durations: an export-download (P30D) that is also a gdpr-appeal
 *    (P60D) is kept 60 days, not 90.
 * 4. **The destruction method is the winning class's action**; when two classes reach the
 *    same retain-until, crypto-shred beats delete (the stronger erasure).
 * 5. **A subject's key is shredded only when nothing of the subject may still be kept**:
 *    no held object, no object retained past now, no object of an unknown class.
 * 6. **Unknown classes are kept**, never deleted: a typo in a config must not destroy data.
 */

/** A class with its duration parsed once. */
export interface CompiledClass {
  readonly rule: RetentionClass;
  readonly duration: Duration;
}

export type CompiledPolicies = ReadonlyMap<string, CompiledClass>;

export function compilePolicies(policies: RetentionPolicies): CompiledPolicies {
  const out = new Map<string, CompiledClass>();
  for (const [name, rule] of policies) out.set(name, Object.freeze({ rule, duration: parseDuration(rule.duration) }));
  return out;
}

export interface RetentionVerdict {
  /** Epoch ms; NaN never. */
  retainUntil: number;
  /** The class whose period ends last (decides the action and is quoted in reasons). */
  governing: CompiledClass;
  /** True when the recorded retain-until is later than every class's period. */
  byRecordedDate: boolean;
}

/**
 * The retain-until of one object under the precedence rules above, or a string naming the
 * first unknown class (such objects are kept).
 */
export function resolveRetention(
  compiled: CompiledPolicies,
  primary: string,
  extra: readonly string[] | undefined,
  createdAt: number,
  recordedRetainUntil: number | undefined,
  /** Filled and returned instead of a new object: the planner reuses one per run. */
  into?: RetentionVerdict,
): RetentionVerdict | { unknownClass: string } {
  // A plain loop, no closures: this runs once per object of a million-object plan.
  const first = compiled.get(primary);
  if (first === undefined) return { unknownClass: primary };
  let governing: CompiledClass = first;
  let best = addDurationMs(createdAt, first.duration);
  if (extra !== undefined) {
    for (let i = 0; i < extra.length; i++) {
      const name = extra[i] as string;
      if (name === primary) continue;
      const c = compiled.get(name);
      if (c === undefined) return { unknownClass: name };
      const t = addDurationMs(createdAt, c.duration);
      if (t > best || (t === best && c.rule.action === 'crypto-shred')) {
        best = t;
        governing = c;
      }
    }
  }
  let byRecordedDate = false;
  if (recordedRetainUntil !== undefined && recordedRetainUntil > best) {
    best = recordedRetainUntil;
    byRecordedDate = true;
  }
  if (into === undefined) return { retainUntil: best, governing, byRecordedDate };
  into.retainUntil = best;
  into.governing = governing;
  into.byRecordedDate = byRecordedDate;
  return into;
}

/**
 * Retain-until for an object about to be written: what the exporter encodes in the archive
 * key. Throws when a class is unknown (the writer must not invent classes).
 */
export function computeRetainUntil(
  policies: RetentionPolicies,
  classes: readonly string[],
  createdAt: Date,
): Date {
  const [primary, ...extra] = classes;
  if (primary === undefined) throw new TypeError('computeRetainUntil: at least one class is required');
  const v = resolveRetention(compilePolicies(policies), primary, extra, createdAt.getTime(), undefined);
  if ('unknownClass' in v) throw new TypeError(`computeRetainUntil: unknown retention class '${v.unknownClass}'`);
  return new Date(v.retainUntil);
}
