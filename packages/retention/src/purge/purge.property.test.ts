import fc from 'fast-check';
import {
  createAuditLog,
  createMemoryStore,
  ManualClock,
  type AuditRecord,
  type MemoryStore,
  type PutOptions,
  type Store,
} from '@handover/core';
import { CERTIFICATES_PREFIX } from '../certificate/erasure-certificate.js';
import { HoldRegistry } from '../holds/hold-registry.js';
import { archiveKey } from '../planner/archive-key.js';
import { planFromStore } from '../planner/plan-from-store.js';
import { defaultPolicies } from '../policy/classes.js';
import { computeRetainUntil } from '../policy/precedence.js';
import { OPEN_RUNS_PREFIX } from './journal.js';
import { purge, type KeyShredder } from './purge.js';

/*
 * kill -9 anywhere: a purge dies at a random write or delete (before or after it lands),
 * possibly several times in a row, and is run again each time, with the same plan or a
 * fresh one. Whatever the crash points, once it completes: every due, unheld archive is
 * destroyed exactly once, certified exactly once and logged exactly once; nothing else is
 * touched; every planned key shred is certified once; the audit chain verifies.
 */

const policies = defaultPolicies();
const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 1);

class Crash extends Error {}

interface Chaos extends Store {
  deletions: Map<string, number>;
  /** Operation number (puts and deletes) to die at; Infinity: never. */
  crashAt: number;
  crashAfter: boolean;
  ops: number;
}

function chaos(inner: MemoryStore): Chaos {
  const s: Chaos = {
    url: inner.url,
    deletions: new Map(),
    crashAt: Infinity,
    crashAfter: false,
    ops: 0,
    get: (k, o) => inner.get(k, o),
    head: (k) => inner.head(k),
    list: (p, o) => inner.list(p, o),
    async put(key: string, body: Parameters<Store['put']>[1], options?: PutOptions) {
      const n = ++s.ops;
      if (n === s.crashAt && !s.crashAfter) throw new Crash(`died before writing ${key}`);
      const r = await inner.put(key, body, options);
      if (n === s.crashAt) throw new Crash(`died after writing ${key}`);
      return r;
    },
    async delete(keys: readonly string[]) {
      for (const k of keys) {
        const n = ++s.ops;
        if (n === s.crashAt && !s.crashAfter) throw new Crash(`died before deleting ${k}`);
        if (k.startsWith('archives/') && (await inner.head(k)) !== undefined) s.deletions.set(k, (s.deletions.get(k) ?? 0) + 1);
        await inner.delete([k]);
        if (n === s.crashAt) throw new Crash(`died after deleting ${k}`);
      }
      return { deleted: [...keys], errors: [], requests: Math.ceil(keys.length / 1000) };
    },
  };
  return s;
}

const scenario = fc.record({
  archives: fc.array(
    fc.record({
      cls: fc.constantFrom('oauth-token', 'oauth-token', 'export-download', 'financial-audit-log', 'post-deletion-backup'),
      subject: fc.constantFrom('s-1', 's-2', 's-3', 's-4'),
    }),
    { minLength: 1, maxLength: 25 },
  ),
  heldSubject: fc.option(fc.constantFrom('s-1', 's-2', 's-3', 's-4'), { nil: undefined }),
  batchSize: fc.integer({ min: 1, max: 8 }),
  /** Keys per journal batch (certificate document); several batches per run when small. */
  checkpointSize: fc.integer({ min: 1, max: 12 }),
  crashes: fc.array(fc.record({ at: fc.integer({ min: 1, max: 160 }), after: fc.boolean(), samePlan: fc.boolean() }), {
    minLength: 1,
    maxLength: 5,
  }),
});

describe('purge under crashes (property)', () => {
  it('finishes with everything due destroyed, certified and logged exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ archives, heldSubject, batchSize, checkpointSize, crashes }) => {
        const clock = new ManualClock(T0);
        const inner = createMemoryStore({ clock });
        const store = chaos(inner);
        const keys: { key: string; cls: string; subject: string }[] = [];
        for (const [i, a] of archives.entries()) {
          const createdAt = new Date(T0);
          const key = archiveKey({ retainUntil: computeRetainUntil(policies, [a.cls], createdAt), classes: [a.cls], subjectRef: a.subject, createdAt, id: `a${i}` });
          await inner.put(key, 'x');
          keys.push({ key, ...a });
        }
        if (heldSubject !== undefined) await new HoldRegistry(inner, { clock }).add({ subjectRef: heldSubject, reason: 'matter', actor: 'legal' });
        clock.set(T0 + 200 * DAY);
        const shredded = new Set<string>();
        const shredder: KeyShredder = {
          shred: async (s) => {
            shredded.add(s);
            return `key-${s}`;
          },
        };
        const firstPlan = await planFromStore(inner, { policies, now: clock.now() });
        const run = (plan: typeof firstPlan) =>
          purge({ store, plan, audit: createAuditLog({ store, clock, host: 'h', ip: '::1' }), clock, actor: 'ops', keyShredder: shredder, batchSize, checkpointSize });

        for (const c of crashes) {
          store.ops = 0;
          store.crashAt = c.at;
          store.crashAfter = c.after;
          const plan = c.samePlan ? firstPlan : await planFromStore(inner, { policies, now: clock.now() });
          try {
            await run(plan);
          } catch (err) {
            if (!(err instanceof Crash) && !(err instanceof Error && err.cause instanceof Crash)) throw err;
          }
          clock.advance(1000);
        }
        store.crashAt = Infinity;
        await run(await planFromStore(inner, { policies, now: clock.now() }));

        const mustGo = keys.filter((k) => k.cls !== 'financial-audit-log' && k.subject !== heldSubject).map((k) => k.key);
        const remaining = new Set<string>();
        for await (const e of inner.list('archives/')) remaining.add(e.key);
        for (const k of keys) expect(remaining.has(k.key)).toBe(!mustGo.includes(k.key));
        expect([...store.deletions.keys()].sort()).toEqual([...mustGo].sort());
        expect([...store.deletions.values()].every((n) => n === 1)).toBe(true);

        const certified = new Map<string, number>();
        const keyCerts = new Map<string, number>();
        for await (const e of inner.list(CERTIFICATES_PREFIX)) {
          const chunks: Buffer[] = [];
          for await (const ch of await inner.get(e.key)) chunks.push(ch as Buffer);
          const xml = Buffer.concat(chunks).toString('utf8');
          for (const m of xml.matchAll(/<object key="([^"]+)"/g)) certified.set(m[1] as string, (certified.get(m[1] as string) ?? 0) + 1);
          for (const m of xml.matchAll(/<cryptoKey subjectRef="([^"]+)"/g)) keyCerts.set(m[1] as string, (keyCerts.get(m[1] as string) ?? 0) + 1);
        }
        expect([...certified.keys()].sort()).toEqual([...mustGo].sort());
        expect([...certified.values()].every((n) => n === 1)).toBe(true);
        // A subject's key goes once nothing of it is kept: not held, no audit log of it.
        const keepers = new Set(keys.filter((k) => k.cls === 'financial-audit-log').map((k) => k.subject));
        const shouldShred = new Set(
          keys.filter((k) => k.cls === 'post-deletion-backup' && k.subject !== heldSubject && !keepers.has(k.subject)).map((k) => k.subject),
        );
        expect([...keyCerts.keys()].sort()).toEqual([...shouldShred].sort());
        expect([...keyCerts.values()].every((n) => n === 1)).toBe(true);
        expect([...shredded].sort()).toEqual([...shouldShred].sort());

        const audit = createAuditLog({ store: inner, clock });
        expect((await audit.verify()).ok).toBe(true);
        const logged = new Map<string, number>();
        for await (const r of audit.list({ action: 'retention.purge' }) as AsyncIterable<AuditRecord>) {
          if (r.outcome !== 'success') continue;
          for (const k of r.details['keys'] as string[]) logged.set(k, (logged.get(k) ?? 0) + 1);
        }
        expect([...logged.keys()].sort()).toEqual([...mustGo].sort());
        expect([...logged.values()].every((n) => n === 1)).toBe(true);
        const open: string[] = [];
        for await (const e of inner.list(OPEN_RUNS_PREFIX)) open.push(e.key);
        expect(open).toEqual([]);
      }),
      {
        numRuns: Number(process.env["HANDOVER_PROPERTY_RUNS"] ?? 150),
        examples: [
          // Found by CI: a stale plan's run, continued after a crash, certified an object a
          // run in between had already destroyed and certified.
          [
            {
              archives: [{ cls: 'oauth-token', subject: 's-1' }],
              heldSubject: undefined,
              batchSize: 1,
              checkpointSize: 1,
              crashes: [
                { at: 1, after: false, samePlan: false },
                { at: 11, after: false, samePlan: false },
                { at: 5, after: false, samePlan: true },
                { at: 2, after: false, samePlan: true },
              ],
            },
          ],
        ],
      },
    );
  });
});
