import fc from 'fast-check';
import type { Hold } from '../holds/hold.js';
import { defaultPolicies } from '../policy/classes.js';
import { addDuration } from '../policy/duration.js';
import { plan, type StoredObjectMeta } from './plan.js';

/*
 * Thousands of random stores: objects with random classes (sometimes several, sometimes an
 * unknown one), random creation and recorded dates, random subjects, random holds (some
 * released), a random `now`. Whatever the mix, the safety rules must hold.
 */

const policies = defaultPolicies();
const CLASSES = [...policies.keys()];
const MIN = Date.UTC(2015, 0, 1);
const MAX = Date.UTC(2035, 0, 1);
const SUBJECTS = ['s-0', 's-1', 's-2', 's-3', 's-4', 's-5'];

const dateArb = fc.integer({ min: MIN, max: MAX });
const classArb = fc.oneof({ weight: 20, arbitrary: fc.constantFrom(...CLASSES) }, { weight: 1, arbitrary: fc.constant('unknown-class') });

const objectArb = (i: number) =>
  fc.record(
    {
      class: classArb,
      classes: fc.array(classArb, { maxLength: 2 }),
      createdAt: dateArb,
      retainUntil: fc.option(dateArb, { nil: undefined }),
      subjectRef: fc.option(fc.constantFrom(...SUBJECTS), { nil: undefined, freq: 8 }),
      size: fc.nat({ max: 10_000 }),
    },
    { requiredKeys: ['class', 'createdAt', 'size'] },
  ).map((o): StoredObjectMeta => ({ ...o, key: `archives/o${i}` }));

const storeArb = fc
  .integer({ min: 0, max: 40 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => objectArb(i))))
  .chain((objects) =>
    fc.record({
      objects: fc.constant(objects as StoredObjectMeta[]),
      holds: fc.array(
        fc.record({
          bySubject: fc.boolean(),
          subject: fc.constantFrom(...SUBJECTS),
          keyIndex: fc.nat({ max: Math.max(0, objects.length - 1) }),
          released: fc.boolean(),
        }),
        { maxLength: 3 },
      ),
      now: dateArb,
    }),
  )
  .map(({ objects, holds, now }) => ({
    objects,
    now: new Date(now),
    holds: holds.map(
      (h, i): Hold => ({
        id: `hold-${i}`,
        scope: h.bySubject ? { subjectRef: h.subject } : { key: `archives/o${h.keyIndex}` },
        reason: 'matter',
        actor: 'legal',
        createdAt: new Date(MIN).toISOString(),
        releaseApprovals: [],
        ...(h.released ? { releasedAt: new Date(MIN).toISOString() } : {}),
      }),
    ),
  }));

/** A plain assertion: `expect` in hot loops dominates the run time of thousands of cases. */
function check(cond: boolean, message: string): void {
  if (!cond) throw new Error(message);
}

/** An independent statement of the rules: retain-until = max over classes and recorded date. */
function reference(o: StoredObjectMeta): number | undefined {
  const names = [o.class, ...(o.classes ?? [])];
  let best = -Infinity;
  for (const n of names) {
    const c = policies.get(n);
    if (c === undefined) return undefined; // unknown: never due
    best = Math.max(best, addDuration(new Date(o.createdAt), c.duration).getTime());
  }
  if (o.retainUntil !== undefined) best = Math.max(best, new Date(o.retainUntil).getTime());
  return best;
}

function mustKeep(o: StoredObjectMeta, holds: Hold[], now: number): boolean {
  const active = holds.filter((h) => h.releasedAt === undefined);
  const held = active.some((h) => ('key' in h.scope ? h.scope.key === o.key : h.scope.subjectRef === o.subjectRef));
  const until = reference(o);
  return held || until === undefined || until > now;
}

describe('plan properties', () => {
  it('never deletes or shreds a held object or one before its retain-until', () => {
    fc.assert(
      fc.property(storeArb, ({ objects, holds, now }) => {
        const p = plan({ objects, policies, holds, now });
        const byKey = new Map(objects.map((o) => [o.key, o]));
        for (const d of p.decisions) {
          if (d.action === 'keep') continue;
          const o = byKey.get(d.key) as StoredObjectMeta;
          check(!mustKeep(o, holds, now.getTime()), `${d.key} ${d.action} but must be kept`);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('deletes every object that is due and not held, and accounts for every object', () => {
    fc.assert(
      fc.property(storeArb, ({ objects, holds, now }) => {
        const p = plan({ objects, policies, holds, now });
        const destroyed = new Set(p.decisions.filter((d) => d.action !== 'keep').map((d) => d.key));
        for (const o of objects) check(destroyed.has(o.key) === !mustKeep(o, holds, now.getTime()), `${o.key} misplanned`);
        const t = p.totals;
        expect(t.delete.count + t.shred.count + t.keep.count).toBe(objects.length);
        expect(t.delete.bytes + t.shred.bytes + t.keep.bytes).toBe(objects.reduce((s, o) => s + o.size, 0));
      }),
      { numRuns: 3000 },
    );
  });

  it('never shreds a key while any of its subject’s objects must be kept, or while the subject is held', () => {
    fc.assert(
      fc.property(storeArb, ({ objects, holds, now }) => {
        const p = plan({ objects, policies, holds, now });
        for (const s of p.shreds) {
          check(
            !holds.some((h) => h.releasedAt === undefined && 'subjectRef' in h.scope && h.scope.subjectRef === s.subjectRef),
            `${s.subjectRef} shredded while held`,
          );
          for (const o of objects) {
            if (o.subjectRef === s.subjectRef) check(!mustKeep(o, holds, now.getTime()), `${s.subjectRef} shredded while ${o.key} is kept`);
          }
        }
        // A shred only ever comes from a crypto-shred class.
        for (const d of p.decisions) if (d.action === 'shred') check(d.rule?.action === 'crypto-shred', `${d.key} shred without crypto-shred`);
      }),
      { numRuns: 3000 },
    );
  });

  it('a due crypto-shred object either shreds its subject key now or defers it on record', () => {
    fc.assert(
      fc.property(storeArb, ({ objects, holds, now }) => {
        const p = plan({ objects, policies, holds, now });
        const shredded = new Set(p.shreds.map((s) => s.subjectRef));
        const deferred = new Set(p.deferredShreds.map((s) => s.subjectRef));
        for (const d of p.decisions) {
          if (d.action === 'keep' || d.rule?.action !== 'crypto-shred' || d.subjectRef === undefined) continue;
          check(shredded.has(d.subjectRef) !== deferred.has(d.subjectRef), `${d.subjectRef} neither shredded nor deferred`);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('retain-until is the max over classes, never the sum (dueSince matches the reference)', () => {
    fc.assert(
      fc.property(storeArb, ({ objects, holds, now }) => {
        const p = plan({ objects, policies, holds, now, includeKept: true });
        const byKey = new Map(objects.map((o) => [o.key, o]));
        for (const d of p.decisions) {
          const ref = reference(byKey.get(d.key) as StoredObjectMeta);
          const want = ref === undefined ? undefined : new Date(ref).toISOString();
          check(d.retainUntil === want, `${d.key}: retainUntil ${d.retainUntil} != ${want}`);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('addDuration properties', () => {
  it('adding months lands in the right month and never past its last day', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2100, 0, 1) }), fc.integer({ min: 0, max: 240 }), (t, months) => {
        const from = new Date(t);
        const to = addDuration(from, `P${months}M`);
        const monthIndex = from.getUTCFullYear() * 12 + from.getUTCMonth() + months;
        expect(to.getUTCFullYear() * 12 + to.getUTCMonth()).toBe(monthIndex);
        expect(to.getUTCDate()).toBeLessThanOrEqual(from.getUTCDate());
        expect(t % 86_400_000).toBe(to.getTime() % 86_400_000); // time of day kept
      }),
      { numRuns: 2000 },
    );
  });

  it('days are additive; years are twelve months', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.UTC(2100, 0, 1) }), fc.nat({ max: 5000 }), fc.nat({ max: 5000 }), fc.nat({ max: 30 }), (t, a, b, y) => {
        expect(addDuration(addDuration(t, `P${a}D`), `P${b}D`).getTime()).toBe(addDuration(t, `P${a + b}D`).getTime());
        expect(addDuration(t, `P${y}Y`).getTime()).toBe(addDuration(t, `P${12 * y}M`).getTime());
      }),
      { numRuns: 2000 },
    );
  });
});
