import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createAuditLog,
  createMemoryStore,
  ManualClock,
  type AuditLog,
  type AuditRecord,
  type ListEntry,
  type MemoryStore,
  type PutOptions,
  type Store,
} from '@handover/core';
import { CERTIFICATES_PREFIX, listCertificates, readCertificate } from '../certificate/erasure-certificate.js';
import { ERASURE_CERTIFICATE_XSD } from '../certificate/erasure-certificate-xsd.js';
import { HoldRegistry } from '../holds/hold-registry.js';
import { archiveKey } from '../planner/archive-key.js';
import { planFromStore } from '../planner/plan-from-store.js';
import { defaultPolicies } from '../policy/classes.js';
import { computeRetainUntil } from '../policy/precedence.js';
import { OPEN_RUNS_PREFIX, SHRED_PENDING_PREFIX } from './journal.js';
import { purge, type KeyShredder } from './purge.js';

const policies = defaultPolicies();
const DAY = 86_400_000;
const T0 = '2024-01-01T00:00:00Z';

/**
 * A store that counts what it really destroys (per key), the backend requests a purge
 * makes, and can "crash" (throw) after a number of real deletions or on chosen puts.
 */
interface Instrumented extends Store {
  inner: MemoryStore;
  deletions: Map<string, number>;
  requests: { listPages: number; deleteRequests: number; puts: number; heads: number; gets: number };
  /** List pages and delete requests touching archives/, the budgeted part. */
  archiveRequests: { listPages: number; deleteRequests: number };
  crashAfterDeletes: number;
  crashOnPut: ((key: string) => boolean) | undefined;
  reset(): void;
}

function instrumented(inner: MemoryStore): Instrumented {
  let realDeletes = 0;
  const s: Instrumented = {
    inner,
    url: inner.url,
    deletions: new Map(),
    requests: { listPages: 0, deleteRequests: 0, puts: 0, heads: 0, gets: 0 },
    archiveRequests: { listPages: 0, deleteRequests: 0 },
    crashAfterDeletes: Infinity,
    crashOnPut: undefined,
    reset() {
      realDeletes = 0;
      s.crashAfterDeletes = Infinity;
      s.crashOnPut = undefined;
      s.requests = { listPages: 0, deleteRequests: 0, puts: 0, heads: 0, gets: 0 };
      s.archiveRequests = { listPages: 0, deleteRequests: 0 };
    },
    async put(key: string, body: Parameters<Store['put']>[1], options?: PutOptions) {
      if (s.crashOnPut?.(key) === true) throw new Error(`simulated crash writing ${key}`);
      s.requests.puts++;
      // The S3 adapter HEADs before a create-only PUT: count it as it costs there.
      if (options?.ifNoneMatch === true) s.requests.heads++;
      return inner.put(key, body, options);
    },
    async get(key, options) {
      s.requests.gets++;
      return inner.get(key, options);
    },
    async head(key) {
      s.requests.heads++;
      return inner.head(key);
    },
    list(prefix: string) {
      return {
        async *[Symbol.asyncIterator](): AsyncIterator<ListEntry> {
          let n = 0;
          const page = (): void => {
            s.requests.listPages++;
            if (prefix.startsWith('archives/')) s.archiveRequests.listPages++;
          };
          page();
          for await (const e of inner.list(prefix)) {
            if (n > 0 && n % 1000 === 0) page();
            n++;
            yield e;
          }
        },
      };
    },
    async delete(keys: readonly string[]) {
      s.requests.deleteRequests += Math.ceil(keys.length / 1000);
      if (keys.some((k) => k.startsWith('archives/'))) s.archiveRequests.deleteRequests += Math.ceil(keys.length / 1000);
      for (const k of keys) {
        if (!k.startsWith('archives/')) continue;
        if ((await inner.head(k)) === undefined) continue;
        if (realDeletes >= s.crashAfterDeletes) throw new Error('simulated crash (kill -9) in the middle of a delete');
        realDeletes++;
        s.deletions.set(k, (s.deletions.get(k) ?? 0) + 1);
        await inner.delete([k]);
      }
      return inner.delete(keys);
    },
  };
  return s;
}

async function readText(store: Store, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function keysUnder(store: Store, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of store.list(prefix)) out.push(e.key);
  return out;
}

/** Every certificate by id, each as the standalone document `handover audit certificate <id>` prints. */
async function certificates(store: Store): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const c of listCertificates(store)) {
    expect(out.has(c.id)).toBe(false);
    out.set(c.id, (await readCertificate(store, c.id)) as string);
  }
  return out;
}

/** Every object key certified, with how many certificates name it. */
async function certifiedKeys(store: Store): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const xml of (await certificates(store)).values()) {
    for (const m of xml.matchAll(/<object key="([^"]+)"/g)) counts.set(m[1] as string, (counts.get(m[1] as string) ?? 0) + 1);
  }
  return counts;
}

async function auditRecords(audit: AuditLog): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for await (const r of audit.list()) out.push(r);
  return out;
}

interface World {
  clock: ManualClock;
  store: Instrumented;
  audit: AuditLog;
  archives: { key: string; cls: string; subject: string }[];
}

async function world(spec: { cls: string; subject: string; count?: number; createdAt?: string }[]): Promise<World> {
  const clock = new ManualClock(T0);
  const store = instrumented(createMemoryStore({ clock }));
  const audit = createAuditLog({ store, clock, host: 'worker-1', ip: '10.0.0.1' });
  const archives: World['archives'] = [];
  let id = 0;
  for (const s of spec) {
    for (let i = 0; i < (s.count ?? 1); i++) {
      const createdAt = new Date(s.createdAt ?? T0);
      const key = archiveKey({
        retainUntil: computeRetainUntil(policies, [s.cls], createdAt),
        classes: [s.cls],
        subjectRef: s.subject,
        createdAt,
        id: `a${String(id++).padStart(6, '0')}`,
      });
      await store.inner.put(key, `ciphertext of ${key}`);
      archives.push({ key, cls: s.cls, subject: s.subject });
    }
  }
  store.reset();
  return { clock, store, audit, archives };
}

function fakeShredder(): KeyShredder & { calls: string[]; keys: Set<string> } {
  const keys = new Set(['s-1', 's-2', 's-3', 's-4']);
  const f = {
    calls: [] as string[],
    keys,
    async shred(subjectRef: string) {
      f.calls.push(subjectRef);
      keys.delete(subjectRef);
      return `key-${subjectRef}`;
    },
    async hasKey(subjectRef: string) {
      return keys.has(subjectRef);
    },
  };
  return f;
}

function validate(xml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'handover-purge-'));
  try {
    writeFileSync(join(dir, 's.xsd'), ERASURE_CERTIFICATE_XSD);
    writeFileSync(join(dir, 'c.xml'), xml);
    const r = spawnSync('xmllint', ['--noout', '--schema', join(dir, 's.xsd'), join(dir, 'c.xml')], { encoding: 'utf8' });
    return `${r.status}: ${r.stderr}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('purge', () => {
  it('deletes what is due after the months pass, certifies and audits it, and keeps the rest', async () => {
    const w = await world([
      { cls: 'export-download', subject: 's-1', count: 3 },
      { cls: 'export-download', subject: 's-2' },
      { cls: 'financial-audit-log', subject: 's-1' },
    ]);
    w.clock.advance(29 * DAY);
    const early = await planFromStore(w.store, { policies, now: w.clock.now() });
    const r0 = await purge({ store: w.store, plan: early, audit: w.audit, clock: w.clock, actor: 'retention-worker@test' });
    expect(r0.runId).toBeUndefined();
    expect(w.store.deletions.size).toBe(0);

    w.clock.advance(2 * DAY);
    const plan = await planFromStore(w.store, { policies, now: w.clock.now() });
    const r = await purge({ store: w.store, plan, audit: w.audit, clock: w.clock, actor: 'retention-worker@test' });
    expect(r.deleted.count).toBe(4);
    expect(r.certificates).toBe(2); // one per subject
    const remaining = await keysUnder(w.store, 'archives/');
    expect(remaining).toEqual(w.archives.filter((a) => a.cls === 'financial-audit-log').map((a) => a.key));

    const certs = await certificates(w.store);
    expect(certs.size).toBe(2);
    for (const xml of certs.values()) expect(validate(xml)).toMatch(/^0: .*validates/);
    const s1 = [...certs.values()].find((x) => x.includes('<subject ref="s-1"/>')) as string;
    expect(s1.match(/<object key=/g)).toHaveLength(3);
    expect(s1).toContain('<erasure at="2024-02-01T00:00:00.000Z" method="delete"/>');
    expect(s1).toContain('<dueSince>2024-01-31T00:00:00.000Z</dueSince>');
    expect(s1).toMatch(/<postCheck result="absent" method="(list|head)"/);

    // One audit record for the batch, naming every subject, certificate and key.
    const records = await auditRecords(w.audit);
    expect(records.map((x) => [x.action, x.outcome, x.subjectRef, x.actor])).toEqual([['retention.purge', 'success', undefined, 'retention-worker@test']]);
    expect(records[0]?.details['subjects']).toEqual(['s-1', 's-2']);
    expect(new Set(records[0]?.details['keys'] as string[])).toEqual(new Set(w.archives.filter((a) => a.cls === 'export-download').map((a) => a.key)));
    expect((records[0]?.details['certificates'] as { id: string }[]).map((c) => c.id).sort()).toEqual([...certs.keys()].sort());
    // Both certificates live in one document, which is valid too.
    const docs = await keysUnder(w.store, CERTIFICATES_PREFIX);
    expect(docs).toHaveLength(1);
    expect(validate(await readText(w.store, docs[0] as string))).toMatch(/^0: .*validates/);
    // The certificate quotes the audit record that logged it.
    const rec = records[0] as AuditRecord;
    expect(s1).toContain(`<audit seq="${rec.seq}" hash="${rec.hash}"/>`);
    expect((await w.audit.verify()).ok).toBe(true);
    expect(await keysUnder(w.store, OPEN_RUNS_PREFIX)).toEqual([]);
  });

  it('is idempotent: the same plan again, or a fresh plan, destroys and certifies nothing more', async () => {
    const w = await world([{ cls: 'oauth-token', subject: 's-1', count: 5 }]);
    w.clock.advance(8 * DAY);
    const plan = await planFromStore(w.store, { policies, now: w.clock.now() });
    const opts = { store: w.store, audit: w.audit, clock: w.clock, actor: 'ops' };
    await purge({ ...opts, plan });
    const again = await purge({ ...opts, plan });
    expect(again.runId).toBeUndefined();
    expect(again.deleted.count).toBe(0);
    const fresh = await purge({ ...opts, plan: await planFromStore(w.store, { policies, now: w.clock.now() }) });
    expect(fresh.deleted.count).toBe(0);
    expect([...w.store.deletions.values()]).toEqual([1, 1, 1, 1, 1]);
    expect([...(await certifiedKeys(w.store)).values()]).toEqual([1, 1, 1, 1, 1]);
    expect(await auditRecords(w.audit)).toHaveLength(1);
  });

  it.each([
    ['the same plan', 'same'],
    ['a fresh plan', 'fresh'],
  ])('resumes after a crash in the middle of a delete (rerun with %s): nothing deleted twice, nothing skipped', async (_label, mode) => {
    const w = await world([
      { cls: 'export-download', subject: 's-1', count: 1200 },
      { cls: 'export-download', subject: 's-2', count: 1300 },
      { cls: 'gdpr-appeal', subject: 's-3', count: 10 },
    ]);
    w.clock.advance(40 * DAY);
    const plan = await planFromStore(w.store, { policies, now: w.clock.now() });
    expect(plan.totals.delete.count).toBe(2500);
    w.store.crashAfterDeletes = 1500; // batch 2 dies half-way
    await expect(purge({ store: w.store, plan, audit: w.audit, clock: w.clock, actor: 'ops' })).rejects.toMatchObject({ code: 'E_PURGE' });
    expect(w.store.deletions.size).toBe(1500);
    expect(await keysUnder(w.store, OPEN_RUNS_PREFIX)).toHaveLength(1);

    w.store.crashAfterDeletes = Infinity;
    w.clock.advance(60_000);
    const rerunPlan = mode === 'same' ? plan : await planFromStore(w.store, { policies, now: w.clock.now() });
    const r = await purge({ store: w.store, plan: rerunPlan, audit: w.audit, clock: w.clock, actor: 'ops' });
    expect(r.resumedRuns).toHaveLength(1);
    const due = w.archives.filter((a) => a.cls === 'export-download').map((a) => a.key);
    expect(await keysUnder(w.store, 'archives/')).toEqual(w.archives.filter((a) => a.cls === 'gdpr-appeal').map((a) => a.key));
    // Each due object destroyed exactly once and certified exactly once.
    expect(w.store.deletions.size).toBe(2500);
    expect([...w.store.deletions.values()].every((n) => n === 1)).toBe(true);
    const certified = await certifiedKeys(w.store);
    expect(due.every((k) => certified.get(k) === 1)).toBe(true);
    expect(certified.size).toBe(2500);
    // And logged exactly once.
    const logged = new Map<string, number>();
    for (const rec of await auditRecords(w.audit)) {
      for (const k of (rec.details['keys'] as string[] | undefined) ?? []) logged.set(k, (logged.get(k) ?? 0) + 1);
    }
    expect(logged.size).toBe(2500);
    expect([...logged.values()].every((n) => n === 1)).toBe(true);
    expect((await w.audit.verify()).ok).toBe(true);
    expect(await keysUnder(w.store, OPEN_RUNS_PREFIX)).toEqual([]);
  });

  it('resumes after a crash between certificates without logging anything twice', async () => {
    const w = await world([
      { cls: 'oauth-token', subject: 's-1', count: 3 },
      { cls: 'oauth-token', subject: 's-2', count: 3 },
      { cls: 'oauth-token', subject: 's-3', count: 3 },
    ]);
    w.clock.advance(8 * DAY);
    const plan = await planFromStore(w.store, { policies, now: w.clock.now() });
    let certs = 0;
    // One subject per batch; die while writing the second batch's certificate document:
    // that batch is deleted and its audit record is already written.
    w.store.crashOnPut = (key) => key.startsWith(CERTIFICATES_PREFIX) && ++certs === 2;
    await expect(purge({ store: w.store, plan, audit: w.audit, clock: w.clock, actor: 'ops', checkpointSize: 3 })).rejects.toThrow(/simulated crash/);
    expect(w.store.deletions.size).toBe(6);
    w.store.crashOnPut = undefined;
    const plan2 = await planFromStore(w.store, { policies, now: w.clock.now() });
    await purge({ store: w.store, plan: plan2, audit: w.audit, clock: w.clock, actor: 'ops', checkpointSize: 3 });
    const records = await auditRecords(w.audit);
    expect(records.map((r) => r.subjectRef)).toEqual(['s-1', 's-2', 's-3']);
    expect((await certificates(w.store)).size).toBe(3);
    expect([...(await certifiedKeys(w.store)).values()].every((n) => n === 1)).toBe(true);
    expect(w.store.deletions.size).toBe(9);
  });

  it('a hold placed after planning still wins', async () => {
    const w = await world([
      { cls: 'oauth-token', subject: 's-1', count: 2 },
      { cls: 'oauth-token', subject: 's-2', count: 2 },
    ]);
    w.clock.advance(8 * DAY);
    const plan = await planFromStore(w.store, { policies, now: w.clock.now() });
    expect(plan.totals.delete.count).toBe(4);
    const holds = new HoldRegistry(w.store, { clock: w.clock, audit: w.audit });
    const h = await holds.add({ subjectRef: 's-2', reason: 'subpoena 42', actor: 'legal' });
    const r = await purge({ store: w.store, plan, audit: w.audit, clock: w.clock, actor: 'ops' });
    expect(r.deleted.count).toBe(2);
    expect(r.held.map((x) => x.holdId)).toEqual([h.id, h.id]);
    expect((await keysUnder(w.store, 'archives/')).every((k) => k.includes('/s-2/'))).toBe(true);
    const refused = (await auditRecords(w.audit)).filter((x) => x.outcome === 'refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]?.reason).toBe('a legal hold placed after planning covers them');
  });

  it('a hold placed between two delete requests of one batch still wins', async () => {
    const w = await world([
      { cls: 'oauth-token', subject: 's-1', count: 5 },
      { cls: 'oauth-token', subject: 's-2', count: 5 },
    ]);
    w.clock.advance(8 * DAY);
    const plan = await planFromStore(w.store, { policies, now: w.clock.now() });
    const holds = new HoldRegistry(w.store, { clock: w.clock });
    let holdId = '';
    const r = await purge({
      store: w.store,
      plan,
      audit: w.audit,
      clock: w.clock,
      actor: 'ops',
      batchSize: 5,
      holdRecheckMs: 0,
      onProgress: async ({ index }) => {
        if (index === 2) holdId = (await holds.add({ subjectRef: 's-2', reason: 'late subpoena', actor: 'legal' })).id;
      },
    });
    expect(r.deleted.count).toBe(5);
    expect(r.held.map((x) => x.holdId)).toEqual(Array(5).fill(holdId));
    expect((await keysUnder(w.store, 'archives/')).every((k) => k.includes('/s-2/'))).toBe(true);
    expect((await keysUnder(w.store, 'archives/')).length).toBe(5);
    const certs = await certificates(w.store);
    expect(certs.size).toBe(1);
    expect([...certs.values()][0]).toContain('<subject ref="s-1"/>');
    expect((await auditRecords(w.audit)).map((x) => [x.outcome, x.subjectRef])).toEqual([
      ['success', 's-1'],
      ['refused', undefined],
    ]);
  });

  it('crypto-shreds a subject key once nothing of the subject may be kept, and certifies it', async () => {
    const w = await world([
      { cls: 'post-deletion-backup', subject: 's-1' },
      { cls: 'post-deletion-backup', subject: 's-2' },
      { cls: 'financial-audit-log', subject: 's-2' },
    ]);
    const shredder = fakeShredder();
    w.clock.advance(181 * DAY);
    const plan = await planFromStore(w.store, { policies, now: w.clock.now() });
    const r = await purge({ store: w.store, plan, audit: w.audit, clock: w.clock, actor: 'ops', keyShredder: shredder });
    expect(shredder.calls).toEqual(['s-1']);
    expect(r.keyShreds).toBe(1);
    expect(r.deleted.count).toBe(2); // both backups' ciphertext
    expect(r.deletedByAction).toEqual({ shred: 1, delete: 1 }); // s-2's key shred waits
    expect(r.deferredShreds).toBe(1);
    const certs = await certificates(w.store);
    const keyCert = [...certs.values()].find((x) => x.includes('<cryptoKey')) as string;
    expect(keyCert).toContain('<cryptoKey subjectRef="s-1" keyId="key-s-1">');
    expect(keyCert).toContain('method="crypto-shred" keyId="key-s-1"');
    expect(keyCert).toContain('<postCheck result="absent" method="key-ring"');
    expect(validate(keyCert)).toMatch(/^0: /);
    // s-2 waits for its audit log (7 years); the wait is on record.
    const pending = await keysUnder(w.store, SHRED_PENDING_PREFIX);
    expect(pending).toHaveLength(1);
    expect(JSON.parse(await readText(w.store, pending[0] as string))).toMatchObject({ subjectRef: 's-2', notBefore: '2031-01-01T00:00:00.000Z' });

    // Seven years later the audit log goes and, with it, the key.
    w.clock.set('2031-01-02T00:00:00Z');
    const later = await planFromStore(w.store, { policies, now: w.clock.now() });
    expect(later.shreds.map((s) => [s.subjectRef, s.fromPending])).toEqual([['s-2', true]]);
    await purge({ store: w.store, plan: later, audit: w.audit, clock: w.clock, actor: 'ops', keyShredder: shredder });
    expect(shredder.calls).toEqual(['s-1', 's-2']);
    expect(await keysUnder(w.store, SHRED_PENDING_PREFIX)).toEqual([]);
    expect(await keysUnder(w.store, 'archives/')).toEqual([]);
  });

  it('refuses to shred a key when a hold placed after planning covers one of the subject’s objects', async () => {
    const w = await world([{ cls: 'post-deletion-backup', subject: 's-1' }]);
    const shredder = fakeShredder();
    w.clock.advance(181 * DAY);
    const plan = await planFromStore(w.store, { policies, now: w.clock.now() });
    expect(plan.shreds).toHaveLength(1);
    await new HoldRegistry(w.store, { clock: w.clock }).add({ key: w.archives[0]?.key as string, reason: 'evidence', actor: 'legal' });
    const r = await purge({ store: w.store, plan, audit: w.audit, clock: w.clock, actor: 'ops', keyShredder: shredder });
    expect(shredder.calls).toEqual([]);
    expect(r.deleted.count).toBe(0);
    expect(await keysUnder(w.store, SHRED_PENDING_PREFIX)).toHaveLength(1);
    expect((await auditRecords(w.audit)).map((x) => [x.action, x.outcome])).toEqual([
      ['retention.purge', 'refused'],
      ['retention.crypto-shred', 'refused'],
    ]);
  });

  it('without a key shredder, planned shreds stay pending and are logged as failures', async () => {
    const w = await world([{ cls: 'post-deletion-backup', subject: 's-1' }]);
    w.clock.advance(181 * DAY);
    const plan = await planFromStore(w.store, { policies, now: w.clock.now() });
    const r = await purge({ store: w.store, plan, audit: w.audit, clock: w.clock, actor: 'ops' });
    expect(r.keyShreds).toBe(0);
    expect(r.deleted.count).toBe(1);
    expect(await keysUnder(w.store, SHRED_PENDING_PREFIX)).toHaveLength(1);
    expect((await auditRecords(w.audit)).map((x) => [x.action, x.outcome])).toEqual([
      ['retention.purge', 'success'],
      ['retention.crypto-shred', 'failure'],
    ]);
  });

  it('stays within 3 requests on archives/ per 1,000 purged objects: list, delete, check', async () => {
    const w = await world([
      { cls: 'oauth-token', subject: 's-1', count: 3000 },
      { cls: 'financial-audit-log', subject: 's-2', count: 2000 },
    ]);
    w.clock.advance(8 * DAY);
    const plan = await planFromStore(w.store, { policies, now: w.clock.now() });
    const planPages = w.store.archiveRequests.listPages;
    w.store.reset();
    await purge({ store: w.store, plan, audit: w.audit, clock: w.clock, actor: 'ops' });
    const { listPages, deleteRequests } = w.store.archiveRequests;
    // 3,000 due of 5,000 stored: the plan reads 3 pages plus the one that shows the next
    // day has begun; each 1,000 keys make one DeleteObjects; one List of the day prefix
    // checks the whole batch.
    expect(planPages).toBe(4);
    expect(deleteRequests).toBe(3);
    expect(listPages).toBe(1);
    // Everything else is bookkeeping, counted here so the README's figures stay honest:
    // per batch (up to 10,000 keys) a batch file, an audit record and a certificate document
    // (3 PUTs); per run a handful of journal objects.
    expect(w.store.requests.puts).toBeLessThanOrEqual(3 + 8);
  });

  it('needs about 2.5 requests of any kind per 1,000 purged objects, planning included, plus a fixed few per run', async () => {
    const w = await world([
      { cls: 'oauth-token', subject: 's-1', count: 12_000 },
      { cls: 'oauth-token', subject: 's-2', count: 9_000 },
      { cls: 'oauth-token', subject: 's-3', count: 4_000 },
      { cls: 'financial-audit-log', subject: 's-2', count: 10 },
    ]);
    w.clock.advance(8 * DAY);
    w.store.reset();
    const plan = await planFromStore(w.store, { policies, now: w.clock.now() });
    const r = await purge({ store: w.store, plan, audit: w.audit, clock: w.clock, actor: 'ops' });
    expect(r.deleted.count).toBe(25_000);
    // Batches of 10,000 keys in key order: [s-1], [s-1, s-2], [s-2, s-3]; one certificate per subject in each.
    expect(r.certificates).toBe(5);
    const q = w.store.requests;
    // A create-only PUT costs a HEAD too on S3 (the adapter checks before uploading).
    const total = q.listPages + q.deleteRequests + q.puts + q.heads + q.gets;
    // Per 1,000 objects: a List page to plan, a DeleteObjects; per batch of 10,000: a List
    // to check, the batch file, the audit record (HEAD + PUT) and the certificate document.
    // Per run: holds (twice), pending shreds, open runs, the audit head; run markers and summary.
    expect(q.deleteRequests).toBe(25 + 1); // + the open-run marker
    expect(q.listPages).toBe(26 + 3 + 5 + 1); // planning and purging each read holds/; planning lists requests/
    expect(total).toBeLessThanOrEqual(25 * 2 + 3 * 5 + 20);
    // Still one certificate per subject per batch, each readable on its own.
    const certs = await certificates(w.store);
    expect(certs.size).toBe(5);
    for (const xml of certs.values()) expect(validate(xml)).toMatch(/^0: .*validates/);
    expect([...(await certifiedKeys(w.store)).values()].every((n) => n === 1)).toBe(true);
    expect((await certifiedKeys(w.store)).size).toBe(25_000);
  });

  it('stops between batches when aborted and resumes later', async () => {
    const w = await world([{ cls: 'oauth-token', subject: 's-1', count: 30 }]);
    w.clock.advance(8 * DAY);
    const plan = await planFromStore(w.store, { policies, now: w.clock.now() });
    const ac = new AbortController();
    await expect(
      purge({
        store: w.store,
        plan,
        audit: w.audit,
        clock: w.clock,
        actor: 'ops',
        batchSize: 10,
        signal: ac.signal,
        onProgress: ({ index }) => {
          if (index === 2) ac.abort(new Error('shutting down'));
        },
      }),
    ).rejects.toMatchObject({ code: 'E_PURGE_ABORTED' });
    expect(w.store.deletions.size).toBe(10);
    const r = await purge({ store: w.store, plan, audit: w.audit, clock: w.clock, actor: 'ops', batchSize: 10 });
    expect(r.resumedRuns).toHaveLength(1);
    expect(w.store.deletions.size).toBe(30);
    expect([...w.store.deletions.values()].every((n) => n === 1)).toBe(true);
  });
});
