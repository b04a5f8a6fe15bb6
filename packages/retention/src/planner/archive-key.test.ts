import { createMemoryStore, ManualClock, type ListEntry, type Store } from '@handover/core';
import { defaultPolicies } from '../policy/classes.js';
import { computeRetainUntil } from '../policy/precedence.js';
import { archiveEntryToMeta, archiveKey, parseArchiveKey } from './archive-key.js';
import { planFromStore } from './plan-from-store.js';

const policies = defaultPolicies();

describe('archive key scheme', () => {
  it('round-trips, with the retain-until day first', () => {
    const createdAt = new Date('2024-01-31T10:15:00.250Z');
    const retainUntil = computeRetainUntil(policies, ['export-download'], createdAt);
    const key = archiveKey({ retainUntil, classes: ['export-download'], subjectRef: 's-7f3a9c', createdAt, id: '01HQ7Z' });
    expect(key).toBe('archives/20240301/export-download/s-7f3a9c/20240131T101501Z-01HQ7Z.zip.age');
    expect(parseArchiveKey(key)).toEqual({
      retainUntilDay: Date.UTC(2024, 2, 1),
      classes: ['export-download'],
      subjectRef: 's-7f3a9c',
      // Rounded up to the second, so a retain-until recomputed from the key is never early.
      createdAt: Date.parse('2024-01-31T10:15:01Z'),
      id: '01HQ7Z',
      extension: '.zip.age',
    });
  });

  it('carries extra classes joined with +', () => {
    const createdAt = new Date('2024-01-01T00:00:00Z');
    const classes = ['export-download', 'gdpr-appeal'];
    const key = archiveKey({ retainUntil: computeRetainUntil(policies, classes, createdAt), classes, subjectRef: 's-1', createdAt, id: 'x' });
    expect(key).toBe('archives/20240301/export-download+gdpr-appeal/s-1/20240101T000000Z-x.zip.age');
    expect(archiveEntryToMeta({ key, size: 5, lastModified: new Date() })).toEqual({
      key,
      size: 5,
      class: 'export-download',
      classes: ['gdpr-appeal'],
      createdAt: Date.UTC(2024, 0, 1),
      retainUntil: Date.UTC(2024, 2, 1),
      subjectRef: 's-1',
    });
  });

  it('refuses parts that would not round-trip, and ignores foreign keys', () => {
    const base = { retainUntil: new Date(), classes: ['export-download'], subjectRef: 's-1', createdAt: new Date(), id: 'x' };
    expect(() => archiveKey({ ...base, subjectRef: 'alice@example.com' })).toThrow(/subjectRef/);
    expect(() => archiveKey({ ...base, subjectRef: '..' })).toThrow(/subjectRef/);
    expect(() => archiveKey({ ...base, classes: ['Export'] })).toThrow(/class/);
    expect(() => archiveKey({ ...base, id: 'a-b' })).toThrow(/id/);
    for (const k of [
      'archives/legacy/export.zip',
      'archives/20240230/export-download/s-1/20240101T000000Z-x.zip.age', // no Feb 30
      'archives/20240301/export-download/s-1/20240101T250000Z-x.zip.age',
      'archives/20240301/export-download/s-1/extra/20240101T000000Z-x.zip.age',
      'other/20240301/export-download/s-1/20240101T000000Z-x.zip.age',
    ]) {
      expect(parseArchiveKey(k)).toBeUndefined();
    }
  });
});

/** Counts what listings hand out: the planner's request budget is about these. */
function countingStore(inner: Store): Store & { listed: number; heads: number } {
  const s = {
    listed: 0,
    heads: 0,
    url: inner.url,
    put: inner.put.bind(inner),
    get: inner.get.bind(inner),
    delete: inner.delete.bind(inner),
    head: async (k: string) => {
      s.heads++;
      return inner.head(k);
    },
    list: (prefix: string) => ({
      async *[Symbol.asyncIterator](): AsyncIterator<ListEntry> {
        for await (const e of inner.list(prefix)) {
          s.listed++;
          yield e;
        }
      },
    }),
  };
  return s;
}

async function archive(store: Store, classes: string[], createdAt: string, subjectRef: string, id: string): Promise<string> {
  const c = new Date(createdAt);
  const key = archiveKey({ retainUntil: computeRetainUntil(policies, classes, c), classes, subjectRef, createdAt: c, id });
  await store.put(key, 'ciphertext');
  return key;
}

describe('planFromStore', () => {
  it('plans from the listing alone and stops after today', async () => {
    const clock = new ManualClock('2024-01-01T00:00:00Z');
    const store = countingStore(createMemoryStore({ clock }));
    // 20 archives due on each of 30 consecutive days.
    for (let d = 0; d < 30; d++) {
      for (let i = 0; i < 20; i++) {
        await archive(store, ['oauth-token'], new Date(Date.UTC(2024, 0, 1 + d, 12)).toISOString(), `s-${i}`, `d${d}i${i}`);
      }
    }
    clock.set('2024-01-18T00:00:00Z'); // objects created up to Jan 10 12:00 + 7 days are due
    const p = await planFromStore(store, { policies, now: clock.now() });
    expect(p.totals.delete.count).toBe(10 * 20);
    // Listing went through the due days (up to and including today's) and one key past them.
    expect(p.coverage).toEqual({ mode: 'due', listed: 11 * 20, complete: false, unrecognized: 0 });
    expect(store.heads).toBe(0);
    const full = await planFromStore(store, { policies, now: clock.now(), scan: 'full' });
    expect(full.totals.objects.count).toBe(600);
    expect(full.coverage?.complete).toBe(true);
    expect(full.totals.delete.count).toBe(200);
  });

  it('reads on past today only while a crypto-shred needs a subject’s later archives', async () => {
    const store = createMemoryStore();
    await archive(store, ['post-deletion-backup'], '2024-01-01T00:00:00Z', 's-1', 'b1');
    await archive(store, ['post-deletion-backup'], '2024-01-01T00:00:00Z', 's-2', 'b2');
    const later = await archive(store, ['financial-audit-log'], '2024-01-01T00:00:00Z', 's-1', 'f1');
    const p = await planFromStore(store, { policies, now: new Date('2024-07-01T00:00:00Z') });
    expect(p.coverage?.complete).toBe(true);
    expect(p.shreds.map((s) => s.subjectRef)).toEqual(['s-2']);
    expect(p.deferredShreds).toMatchObject([{ subjectRef: 's-1', notBefore: '2031-01-01T00:00:00.000Z' }]);
    expect(p.decisions.map((d) => d.key)).not.toContain(later);
  });

  it('keeps and counts keys outside the scheme; reads holds and pending shreds from the store', async () => {
    const store = createMemoryStore();
    await store.put('archives/legacy.zip', 'x');
    await archive(store, ['oauth-token'], '2024-01-01T00:00:00Z', 's-1', 'a');
    await store.put('holds/hold-20240101T000000Z-0000abcd/hold.json', JSON.stringify({
      id: 'hold-20240101T000000Z-0000abcd', scope: { subjectRef: 's-1' }, reason: 'litigation', actor: 'legal', createdAt: '2024-01-01T00:00:00.000Z',
    }));
    await store.put('retention/shred-pending/abc.json', JSON.stringify({ subjectRef: 's-9', class: 'post-deletion-backup', dueSince: '2024-01-01T00:00:00.000Z' }));
    const p = await planFromStore(store, { policies, now: new Date('2025-01-01T00:00:00Z'), scan: 'full' });
    expect(p.coverage?.unrecognized).toBe(1);
    expect(p.warnings).toContain('1 keys under archives/ do not follow the archive key scheme; kept');
    expect(p.decisions.map((d) => [d.action, d.reason])).toEqual([['keep', 'held by hold-20240101T000000Z-0000abcd: litigation']]);
    expect(p.shreds.map((s) => s.subjectRef)).toEqual(['s-9']);
  });
});
