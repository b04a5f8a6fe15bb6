import { createAuditLog, createMemoryStore, ManualClock, type AuditRecord } from '@handover/core';
import { HoldRegistry } from './hold-registry.js';

function setup() {
  const clock = new ManualClock('2024-05-01T09:00:00Z');
  const store = createMemoryStore({ clock });
  const audit = createAuditLog({ store, clock, host: 'h', ip: '::1' });
  const registry = new HoldRegistry(store, { clock, audit });
  return { clock, store, audit, registry };
}

async function auditActions(audit: ReturnType<typeof createAuditLog>): Promise<string[]> {
  const out: string[] = [];
  for await (const r of audit.list() as AsyncIterable<AuditRecord>) out.push(`${r.action}:${r.actor}`);
  return out;
}

describe('HoldRegistry', () => {
  it('adds holds on a subject or a key, lists and gets them', async () => {
    const { registry, store } = setup();
    const a = await registry.add({ subjectRef: 's-1', reason: 'Case 2024-17', actor: 'legal@corp' });
    const b = await registry.add({ key: 'archives/20240301/export-download/s-2/20240131T101500Z-x.zip.age', reason: 'DSAR dispute', actor: 'dpo' });
    expect(a.id).toMatch(/^hold-20240501T090000Z-[0-9a-f]{8}$/);
    expect(a).toMatchObject({ scope: { subjectRef: 's-1' }, reason: 'Case 2024-17', actor: 'legal@corp', createdAt: '2024-05-01T09:00:00.000Z', releaseApprovals: [] });
    expect(await registry.get(a.id)).toEqual(a);
    expect((await registry.list()).map((h) => h.id).sort()).toEqual([a.id, b.id].sort());
    expect(await store.head(`holds/${a.id}/hold.json`)).toBeDefined();
    expect(await registry.get('hold-nope')).toBeUndefined();
  });

  it('refuses a hold without a reason, an actor, or with both or neither scope', async () => {
    const { registry } = setup();
    await expect(registry.add({ subjectRef: 's-1', reason: '   ', actor: 'a' })).rejects.toMatchObject({ code: 'E_HOLD_INPUT' });
    await expect(registry.add({ subjectRef: 's-1', reason: 'r', actor: '' })).rejects.toMatchObject({ code: 'E_HOLD_INPUT' });
    await expect(registry.add({ subjectRef: 's-1', key: 'k', reason: 'r', actor: 'a' })).rejects.toMatchObject({ code: 'E_HOLD_INPUT' });
    await expect(registry.add({ reason: 'r', actor: 'a' })).rejects.toMatchObject({ code: 'E_HOLD_INPUT' });
    await expect(registry.add({ key: '../etc/passwd', reason: 'r', actor: 'a' })).rejects.toMatchObject({ code: 'E_HOLD_INPUT' });
  });

  it('is released only by approvals of two different actors', async () => {
    const { registry, clock, audit } = setup();
    const h = await registry.add({ subjectRef: 's-1', reason: 'Case 17', actor: 'carol' });
    clock.advance(60_000);
    const once = await registry.approveRelease(h.id, 'alice', 'case closed');
    expect(once.releasedAt).toBeUndefined();
    // The same actor again — even spelled differently — does not count.
    const twice = await registry.approveRelease(h.id, ' Alice ');
    expect(twice.releasedAt).toBeUndefined();
    expect(twice.releaseApprovals).toHaveLength(1);
    expect((await registry.active()).map((x) => x.id)).toEqual([h.id]);
    clock.advance(60_000);
    // The placer may be the second approver.
    const released = await registry.approveRelease(h.id, 'carol', 'confirmed');
    expect(released.releasedAt).toBe('2024-05-01T09:02:00.000Z');
    expect(released.releaseApprovals.map((a) => a.actor)).toEqual(['alice', 'carol']);
    expect(await registry.active()).toEqual([]);
    expect((await registry.get(h.id))?.releasedAt).toBe('2024-05-01T09:02:00.000Z');
    // Approving a released hold changes nothing.
    expect((await registry.approveRelease(h.id, 'dave')).releaseApprovals).toHaveLength(2);
    expect(await auditActions(audit)).toEqual([
      'hold.add:carol',
      'hold.approve-release:alice',
      'hold.approve-release:carol',
      'hold.release:alice + carol',
    ]);
  });

  it('two approvers at the same moment release it exactly once', async () => {
    const { registry, store, clock, audit } = setup();
    const h = await registry.add({ subjectRef: 's-1', reason: 'Case 17', actor: 'carol' });
    const other = new HoldRegistry(store, { clock, audit });
    const [x, y] = await Promise.all([registry.approveRelease(h.id, 'alice'), other.approveRelease(h.id, 'bob')]);
    const final = await registry.get(h.id);
    expect(final?.releasedAt).toBeDefined();
    expect([x.releasedAt, y.releasedAt].filter((r) => r !== undefined).every((r) => r === final?.releasedAt)).toBe(true);
    expect((await auditActions(audit)).filter((a) => a.startsWith('hold.release'))).toHaveLength(1);
  });

  it('approving an unknown hold fails with a stable code', async () => {
    const { registry } = setup();
    await expect(registry.approveRelease('hold-20240101T000000Z-deadbeef', 'a')).rejects.toMatchObject({ code: 'E_HOLD_NOT_FOUND' });
  });
});
