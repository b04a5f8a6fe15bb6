import { createHash } from 'node:crypto';
import { isHoldActive, type Hold } from '../holds/hold.js';
import type { RetentionClass, RetentionPolicies } from '../policy/classes.js';
import { compilePolicies, resolveRetention, type CompiledClass, type CompiledPolicies, type RetentionVerdict } from '../policy/precedence.js';

/*
 * The planner is pure: objects, policies, holds and `now` in; decisions out. No store, no
 * clock. It streams: it keeps a record for each object that is due (or held while due), and
 * per subject only the latest retain-until of its kept objects (for the crypto-shred rule);
 * everything else is counted and dropped. See ../policy/precedence.ts for the rules.
 */

/** What the planner needs to know about one stored object. */
export interface StoredObjectMeta {
  key: string;
  /** Bytes (of the ciphertext). */
  size: number;
  /** The object's retention class. */
  class: string;
  /** Further classes that also apply; the longest retain-until wins. */
  classes?: readonly string[];
  /** The anchor every class's duration counts from. */
  createdAt: Date | string | number;
  /** A retain-until recorded when the object was written; one more retention that applies. */
  retainUntil?: Date | string | number;
  /** Pseudonymous data-subject reference: whose key encrypts the object. */
  subjectRef?: string;
  /** SHA-256 hex of the ciphertext, when known (quoted in the certificate). */
  sha256?: string;
  /** Backend version id, when the store is versioned. */
  version?: string;
}

export type DecisionAction = 'delete' | 'shred' | 'keep';

/** A crypto-shred that must wait, persisted by the purger until it can happen. */
export interface PendingShred {
  subjectRef: string;
  /** The crypto-shred class that asked for it. */
  class: string;
  /** ISO-8601; before this, nothing changes (another object keeps the subject until then). Absent: check every run. */
  notBefore?: string;
  /** When the shred first became due (ISO-8601). */
  dueSince: string;
}

export interface KeyShredPlan {
  subjectRef: string;
  /** The crypto-shred class that asked for it, and its rule. */
  class: string;
  rule: RetentionClass;
  /** When the shred became due (ISO-8601). */
  dueSince: string;
  reason: string;
  /** Objects of the subject destroyed in the same plan. */
  objects: number;
  /** True when it came from a pending marker (the purger removes the marker once done). */
  fromPending: boolean;
}

export interface DeferredShred extends PendingShred {
  reason: string;
}

export interface Totals {
  count: number;
  bytes: number;
}

export interface PlanTotals {
  delete: Totals;
  shred: Totals;
  keep: Totals;
  /** Kept because of a hold (a subset of `keep`). */
  held: Totals;
  /** Kept because a class is unknown (a subset of `keep`). */
  unknown: Totals;
  /** Every object seen. */
  objects: Totals;
  /** Subject keys to crypto-shred. */
  keyShreds: number;
}

export interface Plan {
  /** The instant planned for (ISO-8601). */
  now: string;
  /** Every delete and shred, in input order, plus every object a hold keeps from deletion. */
  decisions: Decision[];
  shreds: KeyShredPlan[];
  deferredShreds: DeferredShred[];
  totals: PlanTotals;
  /** Human-readable notes: unknown classes, bad dates (first 100). */
  warnings: string[];
  /**
   * SHA-256 (hex, 32 chars) of `now`, the totals, the first and last due keys and the key
   * shreds: the same plan executed twice is recognised by it, and a resumed run continues
   * only its own plan.
   */
  fingerprint: string;
  /** Set by planFromStore: how much of the store was read. */
  coverage?: PlanCoverage;
}

export interface PlanCoverage {
  mode: 'due' | 'full';
  listed: number;
  /** True when every archive was read (so `totals.keep` is the whole store). */
  complete: boolean;
  /** Keys under the prefix that don't follow the archive key scheme (kept, never deleted). */
  unrecognized: number;
  /** Request records listed under `requests/` (when there are any), and how many were read because they may be due. */
  requestRecords?: { listed: number; read: number };
}

export interface PlanInput<O extends Iterable<StoredObjectMeta> | AsyncIterable<StoredObjectMeta>> {
  objects: O;
  policies: RetentionPolicies;
  /** Holds; released ones are ignored. */
  holds: Iterable<Hold>;
  /** The instant to plan for. */
  now: Date;
  /** Crypto-shreds deferred by earlier runs. */
  pendingShreds?: Iterable<PendingShred>;
  /** Also keep 'keep' decisions for objects that are simply not due yet (memory grows with the store). */
  includeKept?: boolean;
}

const iso = (t: number): string => new Date(t).toISOString();

/** What few decisions need; kept out of line so the common decision stays small. */
interface DecisionExtras {
  primary?: string;
  extra?: readonly string[];
  sha256?: string;
  version?: string;
  hold?: Hold;
  unknownClass?: string;
  byRecordedDate?: boolean;
  deferNote?: string;
}

/**
 * Doubles in chunks of Float64Array: a million decisions' two timestamps cost 16 bytes
 * each here, where two number fields would cost two 16-byte heap numbers plus the fields.
 * Chunked, so growing never copies (or briefly doubles) what is already there.
 * @internal
 */
export class TimeColumn {
  static readonly CHUNK = 1 << 15;
  readonly #chunks: Float64Array[] = [];
  #length = 0;

  /** Append two values; returns the index of the first. */
  push(a: number, b: number): number {
    const i = this.#length;
    const off = i & (TimeColumn.CHUNK - 1);
    let chunk = this.#chunks[i >>> 15];
    if (chunk === undefined) this.#chunks.push((chunk = new Float64Array(TimeColumn.CHUNK)));
    chunk[off] = a;
    chunk[off + 1] = b;
    this.#length = i + 2;
    return i;
  }

  get(i: number): number {
    return (this.#chunks[i >>> 15] as Float64Array)[i & (TimeColumn.CHUNK - 1)] as number;
  }
}

/**
 * One object's decision. Reasons are rendered on demand and rare fields live in one side
 * object: a million-object plan should hold neither a million strings nor a million
 * half-empty records.
 */
export class Decision {
  readonly key: string;
  readonly size: number;
  readonly subjectRef: string | undefined;
  /** The class whose period ends last; undefined for an unknown class. */
  readonly rule: RetentionClass | undefined;
  #action: DecisionAction;
  /** Where createdAt and retainUntil live: two doubles in a shared column, not two boxed numbers per object. */
  readonly #times: TimeColumn;
  readonly #at: number;
  #x: DecisionExtras | undefined;

  /** @internal */
  constructor(
    o: StoredObjectMeta,
    action: DecisionAction,
    createdAt: number,
    retainUntil: number,
    rule: RetentionClass | undefined,
    byRecordedDate: boolean,
    hold: Hold | undefined,
    unknownClass: string | undefined,
    times: TimeColumn = new TimeColumn(),
    subjectRef: string | undefined = o.subjectRef,
  ) {
    this.key = o.key;
    this.size = o.size;
    this.subjectRef = subjectRef;
    this.rule = rule;
    this.#action = action;
    this.#times = times;
    this.#at = times.push(createdAt, retainUntil);
    let x: DecisionExtras | undefined;
    if (rule === undefined || rule.name !== o.class) (x ??= {}).primary = o.class;
    if (o.classes !== undefined && o.classes.length > 0) (x ??= {}).extra = o.classes;
    if (o.sha256 !== undefined) (x ??= {}).sha256 = o.sha256;
    if (o.version !== undefined) (x ??= {}).version = o.version;
    if (hold !== undefined) (x ??= {}).hold = hold;
    if (unknownClass !== undefined) (x ??= {}).unknownClass = unknownClass;
    if (byRecordedDate) (x ??= {}).byRecordedDate = true;
    this.#x = x;
  }

  /** @internal */
  _set(action: DecisionAction, deferNote?: string): void {
    this.#action = action;
    if (deferNote !== undefined) (this.#x ??= {}).deferNote = deferNote;
  }

  get sha256(): string | undefined {
    return this.#x?.sha256;
  }
  get version(): string | undefined {
    return this.#x?.version;
  }
  /** The hold that keeps this object, if any. */
  get hold(): Hold | undefined {
    return this.#x?.hold;
  }
  get #primary(): string {
    return this.#x?.primary ?? (this.rule as RetentionClass).name;
  }
  get action(): DecisionAction {
    return this.#action;
  }
  /** The object's class, then its extra classes. */
  get classes(): readonly string[] {
    const extra = this.#x?.extra;
    return extra === undefined ? [this.#primary] : [this.#primary, ...extra.filter((c) => c !== this.#primary)];
  }
  /** The governing class name (the object's own class when unknown). */
  get class(): string {
    return this.rule?.name ?? this.#x?.unknownClass ?? this.#primary;
  }
  get #createdAt(): number {
    return this.#times.get(this.#at);
  }
  get #retainUntil(): number {
    return this.#times.get(this.#at + 1);
  }
  get createdAt(): string {
    return Number.isFinite(this.#createdAt) ? iso(this.#createdAt) : 'invalid';
  }
  /** ISO-8601, or undefined when it cannot be computed (unknown class, bad date). */
  get retainUntil(): string | undefined {
    return Number.isFinite(this.#retainUntil) ? iso(this.#retainUntil) : undefined;
  }
  /** When the object became due, for deletes and shreds. */
  get dueSince(): string | undefined {
    return this.#action === 'keep' ? undefined : this.retainUntil;
  }
  get reason(): string {
    const x = this.#x;
    if (x?.hold !== undefined) return `held by ${x.hold.id}: ${x.hold.reason}`;
    if (x?.unknownClass !== undefined) {
      return `retained: unknown retention class '${x.unknownClass}' (kept until a policy names it)`;
    }
    if (!Number.isFinite(this.#createdAt)) return 'retained: invalid creation date (kept until fixed)';
    const rule = this.rule as RetentionClass;
    if (this.#action === 'keep') return `retained until ${iso(this.#retainUntil)} under ${rule.name}`;
    const why = x?.byRecordedDate === true ? 'retain-until recorded with the object' : `${rule.duration} from ${iso(this.#createdAt)}`;
    const base = `due since ${iso(this.#retainUntil)} under ${rule.name} (${why})`;
    if (this.#action === 'shred') return `${base}; subject key crypto-shredded`;
    return x?.deferNote === undefined ? base : `${base}; ${x.deferNote}`;
  }

  toJSON(): Record<string, unknown> {
    return {
      key: this.key,
      action: this.action,
      reason: this.reason,
      size: this.size,
      class: this.class,
      classes: this.classes,
      subjectRef: this.subjectRef,
      createdAt: this.createdAt,
      retainUntil: this.retainUntil,
      dueSince: this.dueSince,
      sha256: this.sha256,
      version: this.version,
      holdId: this.hold?.id,
    };
  }
}

interface Candidate {
  class: string;
  rule: RetentionClass;
  dueSince: number;
  objects: Decision[];
  fromPending: boolean;
}

const toMs = (v: Date | string | number | undefined): number | undefined => {
  if (typeof v === 'number') return v;
  if (v === undefined) return undefined;
  if (typeof v === 'string') return Date.parse(v);
  return v.getTime();
};

const zero = (): Totals => ({ count: 0, bytes: 0 });

/**
 * An incremental planner: `add` objects one at a time (in any order), then `finish`.
 * `plan()` is the one-call form; planFromStore uses this directly to stop listing early.
 */
export class Planner {
  readonly #compiled: CompiledPolicies;
  readonly #now: number;
  readonly #includeKept: boolean;
  readonly #bySubject = new Map<string, Hold>();
  readonly #byKey = new Map<string, Hold>();
  /** Latest retain-until among a subject's kept objects; Infinity when held or unknown. */
  readonly #keptUntil = new Map<string, number>();
  readonly #candidates = new Map<string, Candidate>();
  readonly #decisions: Decision[] = [];
  /** createdAt and retainUntil of every decision kept. */
  readonly #times = new TimeColumn();
  /** One string per subject for all its decisions (a listing hands out a fresh one per key). */
  readonly #subjects = new Map<string, string>();
  readonly #warnings: string[] = [];
  readonly #totals: PlanTotals = {
    delete: zero(),
    shred: zero(),
    keep: zero(),
    held: zero(),
    unknown: zero(),
    objects: zero(),
    keyShreds: 0,
  };
  /** Subjects only tracked when some class crypto-shreds or a shred is pending. */
  readonly #trackSubjects: boolean;
  #finished = false;
  #firstDue: string | undefined;
  #lastDue: string | undefined;
  readonly #verdict: RetentionVerdict = { retainUntil: 0, governing: undefined as unknown as CompiledClass, byRecordedDate: false };

  constructor(input: Omit<PlanInput<Iterable<StoredObjectMeta>>, 'objects'>) {
    if (!(input.now instanceof Date) || !Number.isFinite(input.now.getTime())) throw new TypeError('plan: now must be a valid Date');
    this.#compiled = compilePolicies(input.policies);
    this.#now = input.now.getTime();
    this.#includeKept = input.includeKept ?? false;
    // Holds are few; when two cover the same thing the oldest is quoted.
    const active = [...input.holds].filter((h) => isHoldActive(h, this.#now)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const h of active) {
      if ('subjectRef' in h.scope) {
        if (!this.#bySubject.has(h.scope.subjectRef)) this.#bySubject.set(h.scope.subjectRef, h);
      } else if (!this.#byKey.has(h.scope.key)) this.#byKey.set(h.scope.key, h);
    }
    let pendingAny = false;
    for (const p of input.pendingShreds ?? []) {
      pendingAny = true;
      const notBefore = p.notBefore === undefined ? -Infinity : Date.parse(p.notBefore);
      if (notBefore > this.#now) continue; // still blocked: the marker stays, nothing to do
      const c = this.#compiled.get(p.class);
      if (c === undefined) {
        this.#warn(`pending shred for ${p.subjectRef}: unknown class '${p.class}'; left pending`);
        continue;
      }
      this.#candidates.set(p.subjectRef, { class: p.class, rule: c.rule, dueSince: Date.parse(p.dueSince), objects: [], fromPending: true });
    }
    this.#trackSubjects = pendingAny || [...this.#compiled.values()].some((c) => c.rule.action === 'crypto-shred');
  }

  #warn(text: string): void {
    if (this.#warnings.length < 100) this.#warnings.push(text);
    else if (this.#warnings.length === 100) this.#warnings.push('… further warnings omitted');
  }

  /** Subjects with a crypto-shred still undecided that a look at their later objects could block. */
  get unresolvedShredSubjects(): number {
    let n = 0;
    for (const s of this.#candidates.keys()) if (!this.#bySubject.has(s) && !this.#keptUntil.has(s)) n++;
    return n;
  }

  #intern(subject: string | undefined): string | undefined {
    if (subject === undefined) return undefined;
    const seen = this.#subjects.get(subject);
    if (seen !== undefined) return seen;
    this.#subjects.set(subject, subject);
    return subject;
  }

  #keep(subject: string | undefined, until: number): void {
    if (subject === undefined || !this.#trackSubjects) return;
    const prev = this.#keptUntil.get(subject);
    if (prev === undefined || until > prev) this.#keptUntil.set(subject, until);
  }

  add(o: StoredObjectMeta): void {
    if (this.#finished) throw new Error('Planner: add() after finish()');
    const t = this.#totals;
    t.objects.count++;
    t.objects.bytes += o.size;
    const createdAt = toMs(o.createdAt) as number;
    const hold = this.#byKey.get(o.key) ?? (o.subjectRef === undefined ? undefined : this.#bySubject.get(o.subjectRef));

    if (!Number.isFinite(createdAt)) {
      this.#warn(`${o.key}: invalid createdAt; kept`);
      this.#keepDecision(o, createdAt, NaN, undefined, false, hold, undefined, true);
      return;
    }
    const v = resolveRetention(this.#compiled, o.class, o.classes, createdAt, toMs(o.retainUntil), this.#verdict);
    if ('unknownClass' in v) {
      this.#warn(`${o.key}: unknown retention class '${v.unknownClass}'; kept`);
      t.unknown.count++;
      t.unknown.bytes += o.size;
      this.#keepDecision(o, createdAt, NaN, undefined, false, hold, v.unknownClass, true);
      return;
    }
    const due = v.retainUntil <= this.#now;
    if (hold !== undefined || !due) {
      this.#keepDecision(o, createdAt, v.retainUntil, v.governing.rule, v.byRecordedDate, hold, undefined, due || this.#includeKept);
      return;
    }
    const rule = v.governing.rule;
    const d = new Decision(o, 'delete', createdAt, v.retainUntil, rule, v.byRecordedDate, undefined, undefined, this.#times, this.#intern(o.subjectRef));
    this.#decisions.push(d);
    this.#firstDue ??= o.key;
    this.#lastDue = o.key;
    if (rule.action === 'crypto-shred') {
      if (o.subjectRef === undefined) {
        d._set('delete', 'no subject key to shred');
      } else {
        // Decided in finish(), once every object of the subject has been seen.
        let c = this.#candidates.get(d.subjectRef as string);
        if (c === undefined) {
          c = { class: rule.name, rule, dueSince: v.retainUntil, objects: [], fromPending: false };
          this.#candidates.set(d.subjectRef as string, c);
        }
        c.objects.push(d);
        if (v.retainUntil > c.dueSince || !Number.isFinite(c.dueSince)) c.dueSince = v.retainUntil;
        return;
      }
    }
    t.delete.count++;
    t.delete.bytes += o.size;
  }

  #keepDecision(
    o: StoredObjectMeta,
    createdAt: number,
    retainUntil: number,
    rule: RetentionClass | undefined,
    byRecordedDate: boolean,
    hold: Hold | undefined,
    unknownClass: string | undefined,
    record: boolean,
  ): void {
    const t = this.#totals;
    t.keep.count++;
    t.keep.bytes += o.size;
    if (hold !== undefined) {
      t.held.count++;
      t.held.bytes += o.size;
    }
    // A held, unknown or undated object blocks its subject's shred for good (until fixed).
    const blocksForever = hold !== undefined || unknownClass !== undefined || !Number.isFinite(retainUntil);
    this.#keep(o.subjectRef, blocksForever ? Infinity : retainUntil);
    if (record) {
      this.#decisions.push(new Decision(o, 'keep', createdAt, retainUntil, rule, byRecordedDate, hold, unknownClass, this.#times, this.#intern(o.subjectRef)));
    }
  }

  finish(): Plan {
    this.#finished = true;
    const t = this.#totals;
    const shreds: KeyShredPlan[] = [];
    const deferredShreds: DeferredShred[] = [];
    for (const [subjectRef, c] of this.#candidates) {
      const dueSince = Number.isFinite(c.dueSince) ? iso(c.dueSince) : iso(this.#now);
      const hold = this.#bySubject.get(subjectRef);
      const keptUntil = this.#keptUntil.get(subjectRef);
      let note: string | undefined;
      let notBefore: number | undefined;
      if (hold !== undefined) {
        note = `key shred deferred: subject held by ${hold.id}: ${hold.reason}`;
      } else if (keptUntil !== undefined) {
        note = Number.isFinite(keptUntil)
          ? `key shred deferred: subject has objects retained until ${iso(keptUntil)}`
          : 'key shred deferred: subject has a held object or one of unknown class';
        if (Number.isFinite(keptUntil)) notBefore = keptUntil;
      }
      if (note !== undefined) {
        for (const d of c.objects) {
          d._set('delete', note);
          t.delete.count++;
          t.delete.bytes += d.size;
        }
        deferredShreds.push({
          subjectRef,
          class: c.class,
          dueSince,
          reason: note,
          ...(notBefore === undefined ? {} : { notBefore: iso(notBefore) }),
        });
        continue;
      }
      for (const d of c.objects) {
        d._set('shred');
        t.shred.count++;
        t.shred.bytes += d.size;
      }
      t.keyShreds++;
      shreds.push({
        subjectRef,
        class: c.class,
        rule: c.rule,
        dueSince,
        reason: `due since ${dueSince} under ${c.class} (${c.rule.duration}); no object of the subject is held or retained`,
        objects: c.objects.length,
        fromPending: c.fromPending,
      });
    }
    // Identifies the plan, not its every key: `now` has millisecond precision, so two plans
    // with the same `now`, counts, bytes and first and last due keys are the same plan.
    const fingerprint = createHash('sha256').update(
      JSON.stringify([iso(this.#now), t.objects, t.delete, t.shred, this.#firstDue ?? '', this.#lastDue ?? '', shreds.map((x) => x.subjectRef)]),
    );
    return {
      now: iso(this.#now),
      fingerprint: fingerprint.digest('hex').slice(0, 32),
      decisions: this.#decisions,
      shreds,
      deferredShreds,
      totals: t,
      warnings: this.#warnings,
    };
  }
}

/**
 * Decide, for every object, delete / shred / keep, with a reason. Pure: `now` is a
 * parameter, nothing is read or written. Pass an Iterable for a synchronous answer, an
 * AsyncIterable (e.g. a store listing) for a Promise.
 */
export function plan(input: PlanInput<Iterable<StoredObjectMeta>>): Plan;
export function plan(input: PlanInput<AsyncIterable<StoredObjectMeta>>): Promise<Plan>;
export function plan(input: PlanInput<Iterable<StoredObjectMeta> | AsyncIterable<StoredObjectMeta>>): Plan | Promise<Plan> {
  const planner = new Planner(input);
  const objects = input.objects;
  if (Symbol.asyncIterator in objects) {
    return (async () => {
      for await (const o of objects) planner.add(o);
      return planner.finish();
    })();
  }
  for (const o of objects as Iterable<StoredObjectMeta>) planner.add(o);
  return planner.finish();
}
