import { createAuditLog, createMemoryStore, ManualClock, type AuditRecord, type Store } from '@handover/core';
import { HoldRegistry } from './hold-registry.js';
import type { Hold } from './hold.js';
import {
  CLASS_TAG,
  HELD_CLASS_TAG,
  HELD_TAG_VALUE,
  heldTags,
  holdCovering,
  holdIfCovered,
  releasedTags,
  setStorageHold,
  syncStorageHolds,
} from './storage-hold.js';

const key = (subject: string, cls = 'export-download', id = 'a'): string => `archives/20240301/${cls}/${subject}/20240131T101500Z-${id}.zip.age`;
const tagsFor = (cls: string): Record<string, string> => ({ [CLASS_TAG]: cls, 'handover-retain-until': '2024-03-01', 'handover-sha256': 'ab'.repeat(32) });

function setup() {
  const clock = new ManualClock('2024-05-01T09:00:00Z');
  const store = createMemoryStore({ clock });
  const audit = createAuditLog({ store, clock, host: 'h', ip: '::1' });
  const registry = new HoldRegistry(store, { clock, audit, storageHolds: true });
  return { clock, store, audit, registry };
}

async function seed(store: Store, keys: string[]): Promise<void> {
  for (const k of keys) await store.put(k, 'ciphertext', { tags: tagsFor(k.split('/')[2] as string) });
}

const hold = (id: string, scope: Hold['scope'], extra: Partial<Hold> = {}): Hold => ({
  id,
  scope,
  reason: 'matter',
  actor: 'legal',
  createdAt: '2024-04-01T00:00:00.000Z',
  releaseApprovals: [],
  ...extra,
});

describe('storage hold tags (pure)', () => {
  it('moves the class tag out of every rule, keeps the rest, and restores it exactly', () => {
    const original = tagsFor('gdpr-appeal');
    const held = heldTags(original)!;
    expect(held).toEqual({ ...original, [CLASS_TAG]: HELD_TAG_VALUE, [HELD_CLASS_TAG]: 'gdpr-appeal' });
    expect(heldTags(held)).toBeUndefined(); // already held: nothing to do
    expect(releasedTags(held)).toEqual(original);
    expect(releasedTags(original)).toBeUndefined(); // never held: nothing to do
  });

  it('handles an object without a class tag', () => {
    const held = heldTags({ other: 'x' })!;
    expect(held).toEqual({ other: 'x', [CLASS_TAG]: HELD_TAG_VALUE });
    expect(releasedTags(held)).toEqual({ other: 'x' });
  });

  it('the held value can never be a class name, so no lifecycle rule can filter for it', async () => {
    const { CLASS_NAME_PATTERN } = await import('../policy/classes.js');
    expect(CLASS_NAME_PATTERN.test(HELD_TAG_VALUE)).toBe(false);
  });

  it('finds the oldest active hold covering a key, by key or by subject', () => {
    const now = Date.parse('2024-05-01T00:00:00Z');
    const bySubject = hold('h-s', { subjectRef: 's-1' }, { createdAt: '2024-04-02T00:00:00.000Z' });
    const byKey = hold('h-k', { key: key('s-1') }, { createdAt: '2024-04-01T00:00:00.000Z' });
    const released = hold('h-r', { subjectRef: 's-2' }, { releasedAt: '2024-04-15T00:00:00.000Z' });
    expect(holdCovering(key('s-1'), 's-1', [bySubject, byKey], now)?.id).toBe('h-k');
    expect(holdCovering(key('s-1', 'gdpr-appeal'), 's-1', [bySubject, byKey], now)?.id).toBe('h-s');
    expect(holdCovering(key('s-2'), 's-2', [released], now)).toBeUndefined();
    expect(holdCovering(key('s-3'), 's-3', [bySubject, byKey, released], now)).toBeUndefined();
  });
});

describe('storage holds through the HoldRegistry (memory store)', () => {
  it("a subject hold retags and storage-holds the subject's archives only; its release restores them", async () => {
    const { store, registry, audit } = setup();
    const mine = [key('s-1'), key('s-1', 'gdpr-appeal', 'b')];
    await seed(store, [...mine, key('s-2')]);
    const h = await registry.add({ subjectRef: 's-1', reason: 'Case 7', actor: 'legal' });
    expect(h.storage).toEqual({ objects: 2, retagged: 2, legalHolds: 2, legalHoldUnsupported: false, failed: [] });
    for (const k of mine) {
      expect(await store.head(k)).toMatchObject({ legalHold: true, tags: { [CLASS_TAG]: HELD_TAG_VALUE, [HELD_CLASS_TAG]: k.split('/')[2] } });
    }
    expect(await store.head(key('s-2'))).toMatchObject({ tags: tagsFor('export-download') });
    expect((await store.head(key('s-2')))?.legalHold).toBeUndefined();
    // The store itself now refuses to delete a held archive.
    expect((await store.delete([mine[0]!])).errors).toHaveLength(1);

    await registry.approveRelease(h.id, 'legal');
    expect((await store.head(mine[0]!))?.legalHold).toBe(true); // one approval: still held
    const released = await registry.approveRelease(h.id, 'dpo');
    expect(released.releasedAt).toBeDefined();
    expect(released.storage).toEqual({ objects: 2, retagged: 2, legalHolds: 2, legalHoldUnsupported: false, failed: [] });
    for (const k of mine) {
      const info = await store.head(k);
      expect(info?.tags).toEqual(tagsFor(k.split('/')[2] as string));
      expect(info?.legalHold).toBeUndefined();
    }
    const actions: string[] = [];
    for await (const r of audit.list() as AsyncIterable<AuditRecord>) actions.push(r.action);
    expect(actions).toEqual(['hold.add', 'hold.storage-apply', 'hold.approve-release', 'hold.approve-release', 'hold.release', 'hold.storage-release']);
  });

  it('releasing one hold leaves the storage hold on objects another active hold covers', async () => {
    const { store, registry } = setup();
    await seed(store, [key('s-1'), key('s-1', 'gdpr-appeal', 'b')]);
    const bySubject = await registry.add({ subjectRef: 's-1', reason: 'Case 7', actor: 'legal' });
    const byKey = await registry.add({ key: key('s-1'), reason: 'Case 8', actor: 'legal' });
    expect(byKey.storage).toMatchObject({ objects: 1, retagged: 0, legalHolds: 1 }); // already held by the subject hold
    await registry.approveRelease(bySubject.id, 'a');
    const r = await registry.approveRelease(bySubject.id, 'b');
    expect(r.storage).toMatchObject({ objects: 1 });
    expect(await store.head(key('s-1'))).toMatchObject({ legalHold: true, tags: { [CLASS_TAG]: HELD_TAG_VALUE } });
    expect((await store.head(key('s-1', 'gdpr-appeal', 'b')))?.tags[CLASS_TAG]).toBe('gdpr-appeal');
  });

  it('a hold on a subject with nothing stored yet changes nothing; without storageHolds the registry leaves the storage alone', async () => {
    const { store, registry, clock } = setup();
    expect((await registry.add({ subjectRef: 's-9', reason: 'Case 9', actor: 'legal' })).storage).toMatchObject({ objects: 0 });
    await seed(store, [key('s-1')]);
    const plain = new HoldRegistry(store, { clock });
    const h = await plain.add({ subjectRef: 's-1', reason: 'Case 10', actor: 'legal' });
    expect(h.storage).toBeUndefined();
    expect((await store.head(key('s-1')))?.tags[CLASS_TAG]).toBe('export-download');
  });
});

describe('archives written after the hold, and repair', () => {
  it('holdIfCovered holds a new archive of a held subject, and leaves others alone', async () => {
    const { store, registry, clock } = setup();
    const h = await registry.add({ subjectRef: 's-1', reason: 'Case 7', actor: 'legal' });
    await seed(store, [key('s-1', 'export-download', 'new'), key('s-2', 'export-download', 'new')]);
    const holds = await registry.active();
    const held = await holdIfCovered(store, key('s-1', 'export-download', 'new'), 's-1', holds, clock.now().getTime());
    expect(held?.hold.id).toBe(h.id);
    expect(await store.head(key('s-1', 'export-download', 'new'))).toMatchObject({ legalHold: true, tags: { [CLASS_TAG]: HELD_TAG_VALUE } });
    expect(await holdIfCovered(store, key('s-2', 'export-download', 'new'), 's-2', holds, clock.now().getTime())).toBeUndefined();
    // The subject can also come from the key alone.
    expect((await holdIfCovered(store, key('s-1', 'export-download', 'new'), undefined, holds, clock.now().getTime()))?.hold.id).toBe(h.id);
  });

  it('syncStorageHolds holds what active holds cover and releases what only released ones cover; idempotent', async () => {
    const { store, clock } = setup();
    await seed(store, [key('s-1'), key('s-2'), key('s-3')]);
    // s-2 was held and released, but the release crashed before giving the storage back.
    await setStorageHold(store, key('s-2'), true);
    const holds = [hold('h-1', { subjectRef: 's-1' }), hold('h-2', { subjectRef: 's-2' }, { releasedAt: '2024-04-20T00:00:00.000Z' })];
    const now = clock.now().getTime();
    const first = await syncStorageHolds(store, { holds, now });
    expect(first).toMatchObject({ held: 1, released: 1, retagged: 2, failed: [] });
    expect(await store.head(key('s-1'))).toMatchObject({ legalHold: true, tags: { [CLASS_TAG]: HELD_TAG_VALUE } });
    expect(await store.head(key('s-2'))).toMatchObject({ tags: tagsFor('export-download') });
    expect((await store.head(key('s-2')))?.legalHold).toBeUndefined();
    expect(await store.head(key('s-3'))).toMatchObject({ tags: tagsFor('export-download') });
    expect(await syncStorageHolds(store, { holds, now })).toMatchObject({ held: 1, released: 1, retagged: 0 });
  });

  it('a missing object counts for nothing, and a store that cannot hold objects is reported', async () => {
    const { store } = setup();
    expect(await setStorageHold(store, key('gone'), true)).toMatchObject({ objects: 0, failed: [] });
    await seed(store, [key('s-1')]);
    const noLock: Store = { ...wrap(store), setLegalHold: async () => false };
    expect(await setStorageHold(noLock, key('s-1'), true)).toMatchObject({ objects: 1, retagged: 1, legalHolds: 0, legalHoldUnsupported: true });
    expect((await store.head(key('s-1')))?.tags[CLASS_TAG]).toBe(HELD_TAG_VALUE);
  });
});

/** The store's methods as a plain object, so one of them can be replaced. */
function wrap(store: Store): Store {
  return {
    url: store.url,
    put: (k, b, o) => store.put(k, b, o),
    get: (k, o) => store.get(k, o),
    head: (k) => store.head(k),
    list: (p, o) => store.list(p, o),
    delete: (keys) => store.delete(keys),
    setTags: (k, t) => store.setTags!(k, t),
  };
}
