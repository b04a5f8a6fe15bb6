import { ManualClock } from '@handover/core';
import type { Hold } from '../holds/hold.js';
import { defaultPolicies } from '../policy/classes.js';
import { resolvePolicies } from '../policy/config.js';
import { plan, type StoredObjectMeta } from './plan.js';

const DAY = 86_400_000;
const policies = defaultPolicies();
const T0 = '2024-01-01T00:00:00.000Z';

function obj(key: string, cls: string, extra: Partial<StoredObjectMeta> = {}): StoredObjectMeta {
  return { key, size: 100, class: cls, createdAt: T0, ...extra };
}

function hold(id: string, scope: Hold['scope'], extra: Partial<Hold> = {}): Hold {
  return { id, scope, reason: `matter ${id}`, actor: 'legal', createdAt: T0, releaseApprovals: [], ...extra };
}

describe('plan: months passing', () => {
  it('keeps an export-download at day 29 and deletes it at day 31', () => {
    const clock = new ManualClock(T0);
    const objects = [obj('archives/a', 'export-download', { subjectRef: 's-1' })];
    clock.advance(29 * DAY);
    const p29 = plan({ objects, policies, holds: [], now: clock.now() });
    expect(p29.totals.keep.count).toBe(1);
    expect(p29.decisions).toEqual([]);
    const p29all = plan({ objects, policies, holds: [], now: clock.now(), includeKept: true });
    expect(p29all.decisions[0]?.reason).toBe('retained until 2024-01-31T00:00:00.000Z under export-download');

    clock.advance(2 * DAY);
    const p31 = plan({ objects, policies, holds: [], now: clock.now() });
    expect(p31.decisions.map((d) => [d.key, d.action, d.reason])).toEqual([
      ['archives/a', 'delete', 'due since 2024-01-31T00:00:00.000Z under export-download (P30D from 2024-01-01T00:00:00.000Z)'],
    ]);
    expect(p31.totals.delete).toEqual({ count: 1, bytes: 100 });
  });

  it('is due exactly at its retain-until, not a millisecond before', () => {
    const objects = [obj('a', 'oauth-token')];
    expect(plan({ objects, policies, holds: [], now: new Date(Date.parse(T0) + 7 * DAY - 1) }).totals.delete.count).toBe(0);
    expect(plan({ objects, policies, holds: [], now: new Date(Date.parse(T0) + 7 * DAY) }).totals.delete.count).toBe(1);
  });

  it('counts a financial-audit-log in calendar years', () => {
    const objects = [obj('a', 'financial-audit-log', { createdAt: '2024-02-29T00:00:00Z' })];
    expect(plan({ objects, policies, holds: [], now: new Date('2031-02-27T23:59:59Z') }).totals.delete.count).toBe(0);
    const p = plan({ objects, policies, holds: [], now: new Date('2031-02-28T00:00:00Z') });
    expect(p.decisions[0]?.reason).toBe('due since 2031-02-28T00:00:00.000Z under financial-audit-log (P7Y from 2024-02-29T00:00:00.000Z)');
  });
});

describe('plan: precedence', () => {
  it('the longest retention among an object’s classes wins; periods never add up', () => {
    const objects = [obj('a', 'export-download', { classes: ['gdpr-appeal'] })];
    // 30 + 60 would be day 90; the answer is day 60.
    const at59 = plan({ objects, policies, holds: [], now: new Date(Date.parse(T0) + 59 * DAY) });
    expect(at59.totals.keep.count).toBe(1);
    const at60 = plan({ objects, policies, holds: [], now: new Date(Date.parse(T0) + 60 * DAY) });
    expect(at60.decisions[0]?.reason).toBe('due since 2024-03-01T00:00:00.000Z under gdpr-appeal (P60D from 2024-01-01T00:00:00.000Z)');
    expect(at60.decisions[0]?.classes).toEqual(['export-download', 'gdpr-appeal']);
  });

  it('a retain-until recorded with the object is one more retention: the later one wins', () => {
    const objects = [obj('a', 'export-download', { retainUntil: '2024-03-01T00:00:00Z' })];
    expect(plan({ objects, policies, holds: [], now: new Date('2024-02-15T00:00:00Z') }).totals.keep.count).toBe(1);
    const p = plan({ objects, policies, holds: [], now: new Date('2024-03-01T00:00:00Z') });
    expect(p.decisions[0]?.reason).toBe('due since 2024-03-01T00:00:00.000Z under export-download (retain-until recorded with the object)');
    // An earlier recorded date does not shorten the class.
    const early = [obj('b', 'export-download', { retainUntil: '2024-01-02T00:00:00Z' })];
    expect(plan({ objects: early, policies, holds: [], now: new Date('2024-01-15T00:00:00Z') }).totals.delete.count).toBe(0);
  });

  it('a legal hold beats every deletion, by subject or by key', () => {
    const objects = [
      obj('a', 'oauth-token', { subjectRef: 's-1' }),
      obj('b', 'oauth-token', { subjectRef: 's-2' }),
      obj('c', 'oauth-token', { subjectRef: 's-3' }),
    ];
    const holds = [
      hold('hold-1', { subjectRef: 's-1' }),
      hold('hold-2', { key: 'b' }),
      hold('hold-3', { subjectRef: 's-3' }, { releasedAt: '2024-01-05T00:00:00Z' }),
    ];
    const p = plan({ objects, policies, holds, now: new Date('2030-01-01T00:00:00Z') });
    expect(p.decisions.map((d) => [d.key, d.action, d.reason])).toEqual([
      ['a', 'keep', 'held by hold-1: matter hold-1'],
      ['b', 'keep', 'held by hold-2: matter hold-2'],
      ['c', 'delete', 'due since 2024-01-08T00:00:00.000Z under oauth-token (P7D from 2024-01-01T00:00:00.000Z)'],
    ]);
    expect(p.totals.held).toEqual({ count: 2, bytes: 200 });
  });

  it('an unknown class is kept, never deleted, and reported', () => {
    const p = plan({ objects: [obj('a', 'made-up')], policies, holds: [], now: new Date('2099-01-01T00:00:00Z') });
    expect(p.decisions[0]).toMatchObject({ action: 'keep', reason: "retained: unknown retention class 'made-up' (kept until a policy names it)" });
    expect(p.totals.unknown.count).toBe(1);
    expect(p.warnings[0]).toMatch(/unknown retention class 'made-up'/);
  });

  it('follows configured overrides', () => {
    const longer = resolvePolicies({ classes: { 'export-download': { duration: 'P90D' } } });
    const objects = [obj('a', 'export-download')];
    expect(plan({ objects, policies: longer, holds: [], now: new Date('2024-03-01T00:00:00Z') }).totals.delete.count).toBe(0);
  });
});

describe('plan: crypto-shred', () => {
  const backup = (subjectRef: string, key = `b-${subjectRef}`) => obj(key, 'post-deletion-backup', { subjectRef, size: 1000 });
  const day200 = new Date(Date.parse(T0) + 200 * DAY);

  it('shreds a subject key when nothing of the subject may be kept', () => {
    const p = plan({ objects: [backup('s-1'), obj('x', 'export-download', { subjectRef: 's-1' })], policies, holds: [], now: day200 });
    expect(p.shreds.map((s) => [s.subjectRef, s.class, s.objects])).toEqual([['s-1', 'post-deletion-backup', 1]]);
    expect(p.decisions.map((d) => [d.key, d.action])).toEqual([
      ['b-s-1', 'shred'],
      ['x', 'delete'],
    ]);
    expect(p.decisions[0]?.reason).toMatch(/^due since 2024-06-29T00:00:00.000Z under post-deletion-backup \(P180D from .*\); subject key crypto-shredded$/);
    expect(p.totals).toMatchObject({ shred: { count: 1, bytes: 1000 }, delete: { count: 1, bytes: 100 }, keyShreds: 1 });
  });

  it('defers the key shred while another object of the subject is retained, but deletes the due copy', () => {
    const objects = [obj('audit', 'financial-audit-log', { subjectRef: 's-1' }), backup('s-1')];
    const p = plan({ objects, policies, holds: [], now: day200 });
    expect(p.shreds).toEqual([]);
    expect(p.deferredShreds).toEqual([
      {
        subjectRef: 's-1',
        class: 'post-deletion-backup',
        dueSince: '2024-06-29T00:00:00.000Z',
        notBefore: '2031-01-01T00:00:00.000Z',
        reason: 'key shred deferred: subject has objects retained until 2031-01-01T00:00:00.000Z',
      },
    ]);
    expect(p.decisions.map((d) => [d.key, d.action])).toEqual([['b-s-1', 'delete']]);
    expect(p.decisions[0]?.reason).toMatch(/; key shred deferred: subject has objects retained until 2031/);
  });

  it('defers the key shred while any object of the subject is held', () => {
    const objects = [backup('s-1'), obj('evidence', 'oauth-token', { subjectRef: 's-1' })];
    const p = plan({ objects, policies, holds: [hold('hold-9', { key: 'evidence' })], now: day200 });
    expect(p.shreds).toEqual([]);
    expect(p.deferredShreds[0]).toMatchObject({ subjectRef: 's-1', reason: 'key shred deferred: subject has a held object or one of unknown class' });
    expect(p.deferredShreds[0]?.notBefore).toBeUndefined();
  });

  it('a pending shred is taken up once its notBefore passes and nothing blocks it', () => {
    const pending = [{ subjectRef: 's-7', class: 'post-deletion-backup', dueSince: '2024-06-29T00:00:00.000Z', notBefore: '2031-01-01T00:00:00.000Z' }];
    const before = plan({ objects: [], policies, holds: [], now: new Date('2030-12-31T00:00:00Z'), pendingShreds: pending });
    expect(before.shreds).toEqual([]);
    expect(before.deferredShreds).toEqual([]); // still waiting: the marker stays as it is
    const after = plan({ objects: [], policies, holds: [], now: new Date('2031-01-01T00:00:00Z'), pendingShreds: pending });
    expect(after.shreds).toMatchObject([{ subjectRef: 's-7', fromPending: true, objects: 0 }]);
  });
});

describe('plan: streaming and totals', () => {
  it('accepts an AsyncIterable', async () => {
    async function* gen() {
      for (let i = 0; i < 10; i++) yield obj(`k${i}`, i % 2 === 0 ? 'oauth-token' : 'financial-audit-log', { size: i });
    }
    const p = await plan({ objects: gen(), policies, holds: [], now: new Date('2025-01-01T00:00:00Z') });
    expect(p.totals.objects).toEqual({ count: 10, bytes: 45 });
    expect(p.totals.delete).toEqual({ count: 5, bytes: 0 + 2 + 4 + 6 + 8 });
    expect(p.totals.keep).toEqual({ count: 5, bytes: 1 + 3 + 5 + 7 + 9 });
    expect(p.decisions).toHaveLength(5);
  });

  it('is deterministic: same input, same fingerprint and decisions', () => {
    const objects = Array.from({ length: 50 }, (_, i) => obj(`k${i}`, 'oauth-token', { subjectRef: `s-${i % 5}` }));
    const a = plan({ objects, policies, holds: [], now: new Date('2025-01-01T00:00:00Z') });
    const b = plan({ objects, policies, holds: [], now: new Date('2025-01-01T00:00:00Z') });
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(JSON.stringify(a.decisions)).toBe(JSON.stringify(b.decisions));
    const c = plan({ objects, policies, holds: [], now: new Date('2025-01-02T00:00:00Z') });
    expect(c.fingerprint).not.toBe(a.fingerprint);
  });

  it('keeps objects with an invalid creation date', () => {
    const p = plan({ objects: [obj('a', 'oauth-token', { createdAt: 'yesterday' })], policies, holds: [], now: new Date('2030-01-01T00:00:00Z') });
    expect(p.decisions[0]).toMatchObject({ action: 'keep', reason: 'retained: invalid creation date (kept until fixed)' });
  });
});
