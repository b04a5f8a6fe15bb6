import { createAuditLog, createMemoryStore, ManualClock, type AuditRecord, type Store } from '@handover/core';
import { listCertificates, readCertificate } from '../certificate/erasure-certificate.js';
import { HoldRegistry } from '../holds/hold-registry.js';
import { defaultPolicies } from '../policy/classes.js';
import { purge } from '../purge/purge.js';
import { plan } from './plan.js';
import { planFromStore } from './plan-from-store.js';
import { isRequestRecordKey, requestRecordMayBeDue, requestRecordToMeta } from './request-records.js';

const policies = defaultPolicies();
const DAY = 86_400_000;
const id = (n: number): string => `0000000${n}-0000-4000-8000-000000000000`;
const keyOf = (n: number): string => `requests/${id(n)}.json`;

function closed(n: number, closedAt: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const appealUntil = new Date(Date.parse(closedAt) + 60 * DAY).toISOString();
  return { version: 1, id: id(n), type: 'access', subjectId: `member-${n}`, subjectRef: `s-${n}`, status: 'closed', closedAt, appealUntil, retentionClass: 'gdpr-appeal', ...extra };
}

describe('request records (pure)', () => {
  it('recognises request record keys only', () => {
    expect(isRequestRecordKey(keyOf(1))).toBe(true);
    expect(isRequestRecordKey('requests/not-a-uuid.json')).toBe(false);
    expect(isRequestRecordKey(`requests/${id(1)}.json.bak`)).toBe(false);
    expect(isRequestRecordKey(`archives/${id(1)}.json`)).toBe(false);
  });

  it('reads a record only once its class duration since the last write has passed', () => {
    const written = new Date('2024-01-01T00:00:00Z');
    expect(requestRecordMayBeDue({ lastModified: written }, policies, Date.parse('2024-02-29T23:59:59Z'))).toBe(false);
    expect(requestRecordMayBeDue({ lastModified: written }, policies, Date.parse('2024-03-01T00:00:00Z'))).toBe(true);
  });

  it('turns a closed record into planner input; an open one is never due', () => {
    const entry = { key: keyOf(1), size: 321 };
    expect(requestRecordToMeta(entry, { status: 'open', subjectRef: 's-1' })).toBeUndefined();
    expect(requestRecordToMeta(entry, null)).toBeUndefined();
    expect(requestRecordToMeta(entry, closed(1, '2024-01-10T08:00:00.000Z'))).toEqual({
      key: keyOf(1),
      size: 321,
      class: 'gdpr-appeal',
      createdAt: '2024-01-10T08:00:00.000Z',
      retainUntil: '2024-03-10T08:00:00.000Z',
      subjectRef: 's-1',
    });
  });

  it('the planner deletes a closed record after its appeal window, keeps it while a hold covers its subject, and the later date wins', () => {
    const meta = requestRecordToMeta({ key: keyOf(1), size: 1 }, closed(1, '2024-01-10T08:00:00.000Z'))!;
    const hold = { id: 'hold-1', scope: { subjectRef: 's-1' }, reason: 'complaint', actor: 'legal', createdAt: '2024-01-01T00:00:00.000Z', releaseApprovals: [] };
    expect(plan({ objects: [meta], policies, holds: [], now: new Date('2024-03-10T07:59:59Z') }).decisions).toEqual([]);
    const due = plan({ objects: [meta], policies, holds: [], now: new Date('2024-03-10T08:00:00Z') });
    expect(due.decisions.map((d) => [d.key, d.action, d.class])).toEqual([[keyOf(1), 'delete', 'gdpr-appeal']]);
    const held = plan({ objects: [meta], policies, holds: [hold], now: new Date('2024-04-10T00:00:00Z') });
    expect(held.decisions.map((d) => [d.action, d.hold?.id])).toEqual([['keep', 'hold-1']]);
    // A longer appeal window recorded at closing (the class was longer then) still holds.
    const longer = { ...meta, retainUntil: '2024-05-01T00:00:00.000Z' };
    expect(plan({ objects: [longer], policies, holds: [], now: new Date('2024-04-10T00:00:00Z') }).decisions).toEqual([]);
  });
});

describe('planFromStore and purge with request records (memory store)', () => {
  async function world() {
    const clock = new ManualClock('2024-01-10T08:00:00Z');
    const store = createMemoryStore({ clock });
    const audit = createAuditLog({ store, clock, host: 'h', ip: '::1' });
    const put = (key: string, doc: unknown): Promise<unknown> => store.put(key, JSON.stringify(doc), { contentType: 'application/json' });
    await put(keyOf(1), closed(1, clock.now().toISOString()));
    await put(keyOf(2), closed(2, clock.now().toISOString()));
    await put(keyOf(3), { version: 1, id: id(3), subjectRef: 's-3', status: 'open' });
    await put(keyOf(4), closed(4, clock.now().toISOString(), { subjectRef: undefined }));
    await store.put('requests/notes.txt', 'not a record');
    return { clock, store, audit };
  }

  const counting = (store: Store): { store: Store; gets: () => number } => {
    let gets = 0;
    return {
      gets: () => gets,
      store: {
        url: store.url,
        put: (k, b, o) => store.put(k, b, o),
        get: (k, o) => {
          if (k.startsWith('requests/')) gets++;
          return store.get(k, o);
        },
        head: (k) => store.head(k),
        list: (p, o) => store.list(p, o),
        delete: (keys) => store.delete(keys),
      },
    };
  };

  it('reads no record inside the appeal window', async () => {
    const w = await world();
    w.clock.advance(59 * DAY);
    const c = counting(w.store);
    const p = await planFromStore(c.store, { policies, now: w.clock.now() });
    expect(p.decisions).toEqual([]);
    expect(p.coverage?.requestRecords).toEqual({ listed: 4, read: 0 });
    expect(c.gets()).toBe(0);
  });

  it('purges closed records past the window with a certificate and an audit record; held, open and subject-less ones stay', async () => {
    const w = await world();
    await new HoldRegistry(w.store, { clock: w.clock }).add({ subjectRef: 's-2', reason: 'complaint to the authority', actor: 'legal' });
    w.clock.advance(61 * DAY);
    const p = await planFromStore(w.store, { policies, now: w.clock.now() });
    expect(p.coverage?.requestRecords).toEqual({ listed: 4, read: 4 });
    expect(p.decisions.map((d) => [d.key, d.action])).toEqual([
      [keyOf(1), 'delete'],
      [keyOf(2), 'keep'],
    ]);
    expect(p.warnings.join('\n')).toContain(`${keyOf(4)}: closed request record without a subject ref`);
    expect(await planFromStore(w.store, { policies, now: w.clock.now(), requestsPrefix: false })).toMatchObject({ decisions: [] });

    const r = await purge({ store: w.store, plan: p, audit: w.audit, clock: w.clock, actor: 'retention-worker' });
    expect(r).toMatchObject({ deleted: { count: 1 }, failed: [], certificates: 1 });
    expect(await w.store.head(keyOf(1))).toBeUndefined();
    for (const n of [2, 3, 4]) expect(await w.store.head(keyOf(n)), keyOf(n)).toBeDefined();

    const records: AuditRecord[] = [];
    for await (const rec of w.audit.list() as AsyncIterable<AuditRecord>) records.push(rec);
    const purged = records.find((x) => x.action === 'retention.purge' && x.outcome === 'success');
    expect(purged).toMatchObject({ subjectRef: 's-1', details: { keys: [keyOf(1)] } });
    const certs: string[] = [];
    for await (const c of listCertificates(w.store)) certs.push(c.id);
    expect(certs).toHaveLength(1);
    const xml = (await readCertificate(w.store, certs[0]!))!;
    expect(xml).toContain(keyOf(1));
    expect(xml).toContain('class="gdpr-appeal"');

    // The same day again: nothing more (the plan is recognised, and the record is gone).
    const again = await purge({ store: w.store, plan: await planFromStore(w.store, { policies, now: w.clock.now() }), audit: w.audit, clock: w.clock, actor: 'retention-worker' });
    expect(again.deleted.count).toBe(0);
  });
});
