import { createAuditLog, createMemoryStore, ManualClock, type AuditRecord } from '@handover/core';
import { daysLeft, dueDateFor, isOverdue, parseReceived } from './due-dates.js';
import { fulfilmentFor, RequestRegistry } from './request-registry.js';

const due = (received: string, extension = 0): string => dueDateFor(parseReceived(received), extension);

describe('request due dates', () => {
  it('add one calendar month, clamped to the end of shorter months', () => {
    expect(due('2024-01-31')).toBe('2024-02-29'); // leap year
    expect(due('2023-01-31')).toBe('2023-02-28');
    expect(due('2024-11-30')).toBe('2024-12-30');
    expect(due('2024-03-31')).toBe('2024-04-30');
    expect(due('2024-12-31')).toBe('2025-01-31');
    expect(due('2024-02-29')).toBe('2024-03-29');
    expect(due('2024-01-15')).toBe('2024-02-15');
    // The day of receipt counts, not the time of day.
    expect(due('2024-01-31T23:59:59Z')).toBe('2024-02-29');
  });

  it('count extensions from receipt, not from the previous due date', () => {
    expect(due('2024-01-31', 1)).toBe('2024-03-31');
    expect(due('2024-01-31', 2)).toBe('2024-04-30');
    expect(due('2023-11-30', 2)).toBe('2024-02-29');
  });

  it('reject what is not a real day', () => {
    for (const bad of ['2023-02-29', '2024-13-01', '31/01/2024', 'yesterday', '']) {
      expect(() => parseReceived(bad)).toThrow(expect.objectContaining({ code: 'E_REQUEST_INPUT', exitCode: 2 }));
    }
    expect(parseReceived('2024-02-29').toISOString()).toBe('2024-02-29T00:00:00.000Z');
  });

  it('make a request overdue once its due day is over', () => {
    expect(isOverdue('2024-02-29', new Date('2024-02-29T23:59:59.999Z'))).toBe(false);
    expect(isOverdue('2024-02-29', new Date('2024-03-01T00:00:00.000Z'))).toBe(true);
    expect(daysLeft('2024-02-29', new Date('2024-02-27T18:00:00Z'))).toBe(2);
    expect(daysLeft('2024-02-29', new Date('2024-02-29T18:00:00Z'))).toBe(0);
    expect(daysLeft('2024-02-29', new Date('2024-03-02T01:00:00Z'))).toBe(-2);
  });
});

describe('RequestRegistry', () => {
  function setup(now = '2024-01-31T09:00:00Z') {
    const clock = new ManualClock(now);
    const store = createMemoryStore({ clock });
    const audit = createAuditLog({ store, clock, host: 'h', ip: '::1' });
    const registry = new RequestRegistry(store, { clock, audit, subjectRefOf: (id) => `ref-${id.length}x` });
    const records = async (): Promise<AuditRecord[]> => {
      const out: AuditRecord[] = [];
      for await (const r of audit.list()) out.push(r);
      return out;
    };
    return { clock, store, registry, records };
  }
  const open = (registry: RequestRegistry, extra: Partial<Parameters<RequestRegistry['open']>[0]> = {}) =>
    registry.open({ subjectId: 'zoe', type: 'erasure', reason: 'email of 2024-01-31 to dpo@', actor: 'dpo', ...extra });

  it('opens a request keyed by a UUID, naming its subject inside only, due one calendar month after receipt', async () => {
    const { registry, store, records } = setup();
    const r = await open(registry);
    expect(r.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(r).toMatchObject({ subjectId: 'zoe', subjectRef: 'ref-3x', type: 'erasure', status: 'open', dueDate: '2024-02-29', overdue: false, daysLeft: 29 });
    const keys: string[] = [];
    for await (const e of store.list('requests/')) keys.push(e.key);
    expect(keys).toEqual([`requests/${r.id}.json`]);
    const [record] = await records();
    expect(record).toMatchObject({ action: 'request.open', target: r.id, subjectRef: 'ref-3x', reason: 'email of 2024-01-31 to dpo@' });
    expect(JSON.stringify(record)).not.toContain('zoe');
    expect(await registry.get(r.id.slice(0, 8))).toEqual(r);
    await expect(registry.get('ffffffff')).rejects.toMatchObject({ code: 'E_REQUEST_NOT_FOUND' });
  });

  it('takes the day of receipt, refuses one in the future, and refuses unknown types', async () => {
    const { registry } = setup('2023-03-10T12:00:00Z');
    expect((await open(registry, { receivedAt: '2023-01-31' })).dueDate).toBe('2023-02-28');
    await expect(open(registry, { receivedAt: '2023-04-01' })).rejects.toMatchObject({ code: 'E_REQUEST_INPUT' });
    await expect(open(registry, { type: 'rectification' as never })).rejects.toMatchObject({ code: 'E_REQUEST_INPUT' });
    await expect(open(registry, { reason: ' ' })).rejects.toMatchObject({ code: 'E_REQUEST_INPUT' });
  });

  it('lists by due date and shows which are overdue', async () => {
    const { registry, clock } = setup('2024-04-10T09:00:00Z');
    const late = await open(registry, { receivedAt: '2024-01-31', subjectId: 'bob' });
    const soon = await open(registry, { receivedAt: '2024-03-31', subjectId: 'carol', type: 'access' });
    const fresh = await open(registry, { receivedAt: '2024-04-09', subjectId: 'priya', type: 'portability' });
    const all = await registry.list();
    expect(all.map((r) => [r.id, r.dueDate, r.overdue])).toEqual([
      [late.id, '2024-02-29', true],
      [soon.id, '2024-04-30', false],
      [fresh.id, '2024-05-09', false],
    ]);
    expect((await registry.list({ overdue: true })).map((r) => r.id)).toEqual([late.id]);
    clock.set('2024-05-01T00:00:00Z');
    expect((await registry.list({ overdue: true })).map((r) => r.id)).toEqual([late.id, soon.id]);
    await registry.close(late.id, { actor: 'dpo', outcome: 'fulfilled' });
    expect((await registry.list({ overdue: true })).map((r) => r.id)).toEqual([soon.id]);
    expect((await registry.list({ status: 'closed' })).map((r) => r.id)).toEqual([late.id]);
  });

  it('extends by one or two months, never beyond three months from receipt', async () => {
    const { registry } = setup('2024-02-10T09:00:00Z');
    const r = await open(registry, { receivedAt: '2024-01-31' });
    const once = await registry.extend(r.id, { months: 1, reason: 'complex: 40 channels', actor: 'dpo' });
    expect(once).toMatchObject({ dueDate: '2024-03-31', late: false });
    const twice = await registry.extend(r.id, { months: 1, reason: 'still complex', actor: 'dpo' });
    expect(twice.dueDate).toBe('2024-04-30');
    expect(twice.extensions.map((e) => e.dueDate)).toEqual(['2024-03-31', '2024-04-30']);
    await expect(registry.extend(r.id, { months: 1, reason: 'more', actor: 'dpo' })).rejects.toMatchObject({
      code: 'E_REQUEST_EXTENSION_LIMIT',
      message: expect.stringContaining('it cannot be extended any further'),
    });

    const other = await open(registry, { receivedAt: '2024-01-31' });
    await registry.extend(other.id, { months: 1, reason: 'r', actor: 'dpo' });
    await expect(registry.extend(other.id, { months: 2, reason: 'r', actor: 'dpo' })).rejects.toThrow(
      /already extended by 1 month \(due 2024-03-31\); another 2 would go beyond three months from receipt \(2024-04-30\): extend by at most 1/,
    );
    expect((await registry.extend(other.id, { months: 2 - 1, reason: 'r', actor: 'dpo' })).dueDate).toBe('2024-04-30');

    const third = await open(registry, { receivedAt: '2024-01-31' });
    expect((await registry.extend(third.id, { months: 2, reason: 'r', actor: 'dpo' })).dueDate).toBe('2024-04-30');
    await expect(registry.extend(third.id, { months: 3, reason: 'r', actor: 'dpo' })).rejects.toMatchObject({ code: 'E_REQUEST_INPUT' });
    await expect(registry.extend(third.id, { months: 1, reason: '', actor: 'dpo' })).rejects.toMatchObject({ code: 'E_REQUEST_INPUT' });
  });

  it('flags an extension recorded after the first month as late', async () => {
    const { registry, clock } = setup('2024-02-10T09:00:00Z');
    const r = await open(registry, { receivedAt: '2024-01-31' });
    clock.set('2024-03-01T08:00:00Z');
    expect((await registry.extend(r.id, { months: 1, reason: 'r', actor: 'dpo' })).late).toBe(true);
  });

  it('closes a request, starting the 60-day gdpr-appeal window; a closed request stays closed', async () => {
    const { registry, store, clock } = setup('2024-02-10T09:00:00Z');
    const r = await open(registry, { receivedAt: '2024-01-31' });
    clock.set('2024-02-20T15:30:00Z');
    const closed = await registry.close(r.id, { actor: 'dpo', outcome: 'fulfilled', note: 'archive sent' });
    expect(closed).toMatchObject({
      status: 'closed',
      closedAt: '2024-02-20T15:30:00.000Z',
      outcome: 'fulfilled',
      closeNote: 'archive sent',
      appealUntil: '2024-04-20T15:30:00.000Z',
      retentionClass: 'gdpr-appeal',
      overdue: false,
    });
    expect((await store.head(`requests/${r.id}.json`))?.tags).toEqual({ class: 'gdpr-appeal' });
    await expect(registry.close(r.id, { actor: 'dpo', outcome: 'fulfilled' })).rejects.toMatchObject({ code: 'E_REQUEST_CLOSED' });
    await expect(registry.extend(r.id, { months: 1, reason: 'r', actor: 'dpo' })).rejects.toMatchObject({ code: 'E_REQUEST_CLOSED' });
  });

  it('links archives and share links, keeping the link itself out of the audit log', async () => {
    const { registry, records } = setup();
    const r = await open(registry, { type: 'access' });
    const url = 'https://s3.example/bucket/archives/x.zip.age?X-Amz-Signature=secret';
    const linked = await registry.linkArchive(r.id, { key: 'archives/x.zip.age', shareUrl: url, shareExpiresAt: new Date('2024-02-07T09:00:00Z'), actor: 'dpo' });
    expect(linked.archives).toEqual([
      { key: 'archives/x.zip.age', shareUrl: url, shareExpiresAt: '2024-02-07T09:00:00.000Z', linkedAt: '2024-01-31T09:00:00.000Z', actor: 'dpo' },
    ]);
    expect((await registry.get(r.id)).archives).toHaveLength(1);
    const link = (await records()).find((x) => x.action === 'request.link-archive')!;
    expect(link.details).toEqual({ key: 'archives/x.zip.age', shared: true });
    expect(JSON.stringify(link)).not.toContain('X-Amz-Signature');
  });

  it('says what fulfilling each type means', () => {
    expect(fulfilmentFor('access')).toMatchObject({ kind: 'export', scope: 'participant' });
    expect(fulfilmentFor('portability')).toMatchObject({ kind: 'export', scope: 'authored' });
    expect(fulfilmentFor('erasure')).toMatchObject({ kind: 'offboard' });
  });
});
