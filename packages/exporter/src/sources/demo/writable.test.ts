import { createMemoryStore, ManualClock, NotFoundError } from '@handover/core';
import {
  activeGrantsBlocker,
  CapabilityError,
  hasCapability,
  ownershipBlockers,
  requireCapability,
  type RoleRow,
} from '../../source/capabilities.js';
import type { Grant, Message } from '../../source/domain.js';
import type { Source } from '../../source/source.js';
import { createDemoSource, DELETED_USER_NAME, demoStateInStore, memoryDemoState } from './index.js';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

const NOW = '2026-11-15T10:00:00Z';
const ctx = { actor: 'admin@acme', reason: 'offboarding ticket OFF-7' };

function writable(source: Source) {
  return {
    blockers: requireCapability(source, 'blockers'),
    revokeGrant: requireCapability(source, 'revokeGrant'),
    erase: requireCapability(source, 'erase'),
  };
}

/** A read-only source: what an export file gives. */
function readOnlySource(name: string): Source {
  const empty = async function* <T>(): AsyncGenerator<T> {};
  return {
    name,
    members: () => empty(),
    findMember: async () => undefined,
    memberships: () => empty(),
    conversations: () => empty(),
    messages: () => empty(),
    grants: () => empty(),
  };
}

async function messagesOf(source: Source, memberId: string, conversationId: string): Promise<Message[]> {
  for await (const c of source.conversations(memberId)) if (c.id === conversationId) return collect(source.messages(c));
  throw new Error(`${memberId} is not in ${conversationId}`);
}

describe('source capabilities', () => {
  it('refuses erase on a read-only source with an error naming the source, the member and the way out', () => {
    const source = readOnlySource('slack:export.zip');
    expect(hasCapability(source, 'erase')).toBe(false);
    let error: unknown;
    try {
      requireCapability(source, 'erase', { memberId: 'U123' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CapabilityError);
    expect(error).toMatchObject({ code: 'E_SOURCE_READ_ONLY', sourceName: 'slack:export.zip', capability: 'erase' });
    expect((error as Error).message).toBe(
      "source 'slack:export.zip' is read-only: it cannot erase members; erase 'U123' in Slack itself, then record it with 'handover offboard --member U123 --erased-in-source --reason <text>'",
    );
    expect(() => requireCapability(source, 'revokeGrant', { memberId: 'U123' })).toThrow(/read-only: it cannot revoke grants; revoke the app grants of 'U123' in Slack itself/);
    expect(() => requireCapability(readOnlySource('mattermost:x.jsonl'), 'blockers')).toThrow(
      expect.objectContaining({ code: 'E_SOURCE_CAPABILITY', message: expect.stringContaining('Mattermost') }),
    );
  });

  it('declares all three on the demo source', () => {
    const source = createDemoSource();
    for (const c of ['blockers', 'revokeGrant', 'erase'] as const) expect(hasCapability(source, c)).toBe(true);
  });
});

describe('blocker rules', () => {
  const row = (memberId: string, organizationId: string, role: RoleRow['role'], extra: Partial<RoleRow> = {}): RoleRow => ({
    memberId,
    organizationId,
    organizationName: organizationId.toUpperCase(),
    role,
    ...extra,
  });
  const now = new Date(NOW);

  it('finds sole owners and sole admins, ignoring members who left or are gone', () => {
    const rows = [
      row('a', 'o1', 'owner'),
      row('b', 'o1', 'owner', { leftAt: new Date('2025-01-01T00:00:00Z') }),
      row('c', 'o2', 'admin'),
      row('d', 'o2', 'admin', { gone: true }),
      row('e', 'o3', 'admin'),
      row('f', 'o3', 'owner'),
      row('g', 'o4', 'owner'),
      row('h', 'o4', 'owner'),
    ];
    expect(ownershipBlockers('a', rows, now).map((b) => [b.code, b.details?.['organizationId']])).toEqual([['sole-owner', 'o1']]);
    expect(ownershipBlockers('c', rows, now).map((b) => b.code)).toEqual(['sole-admin']);
    // An admin of an organisation that has an owner, and one of two owners, are not blocked.
    expect(ownershipBlockers('e', rows, now)).toEqual([]);
    expect(ownershipBlockers('g', rows, now)).toEqual([]);
    // A former owner is no one's blocker.
    expect(ownershipBlockers('b', rows, now)).toEqual([]);
    expect(ownershipBlockers('a', rows, now)[0]!.message).toBe("'a' is the only owner of O1 (o1): transfer ownership to another member first.");
  });

  it('counts only grants neither revoked nor expired as active', () => {
    const g = (id: string, extra: Partial<Grant> = {}): Grant => ({ id, appId: `A-${id}`, appName: id, scopes: [], ...extra });
    const grants = [
      g('live'),
      g('later', { expiresAt: new Date('2030-01-01T00:00:00Z') }),
      g('expired', { expiresAt: new Date('2026-01-01T00:00:00Z') }),
      g('revoked', { revokedAt: new Date('2026-02-01T00:00:00Z') }),
    ];
    const blocker = activeGrantsBlocker('m', grants, now)!;
    expect(blocker).toMatchObject({ code: 'active-grants', legal: false });
    expect((blocker.details!['grants'] as { id: string }[]).map((x) => x.id)).toEqual(['live', 'later']);
    expect(activeGrantsBlocker('m', grants.slice(2), now)).toBeUndefined();
  });
});

describe('writable demo workspace', () => {
  it('reports each member its blockers: alice a sole owner, bob pending approvals, zoe only active grants, priya none', async () => {
    const source = createDemoSource({ clock: new ManualClock(NOW) });
    const { blockers } = writable(source);
    const codes = async (id: string) => (await blockers(id)).map((b) => b.code);
    expect(await codes('alice')).toEqual(['sole-owner', 'active-grants']);
    const [owner] = await blockers('alice');
    expect(owner!.message).toBe("'alice' is the only owner of Acme Robotics (acme): transfer ownership to another member first.");
    expect(await codes('bob')).toEqual(['pending-approvals', 'active-grants']);
    expect((await blockers('bob'))[0]!.message).toMatch(/^'bob' has 2 pending approvals \(APR-1041 .*; APR-1057 .*\): decide or reassign them first\.$/);
    expect(await codes('li.na')).toEqual(['pending-tasks']);
    expect(await codes('carol')).toEqual(['sole-owner', 'active-grants']);
    expect(await codes('zoe')).toEqual(['active-grants']);
    expect((await blockers('zoe'))[0]!.message).toBe("'zoe' still has 1 active app grant (Notion): revoke it before the account is erased.");
    expect(await codes('priya')).toEqual([]);
    for (const b of await blockers('alice')) expect(b.legal).toBe(false);
    await expect(blockers('nobody')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('tells expired grants from active ones by the injected clock', async () => {
    // alice's Google Drive grant expires 2029-03-01: active before, not after.
    const before = await createDemoSource({ clock: new ManualClock('2028-01-01T00:00:00Z') }).capabilities!.blockers!('alice');
    const after = await createDemoSource({ clock: new ManualClock('2029-06-01T00:00:00Z') }).capabilities!.blockers!('alice');
    const ids = (bs: typeof before) => (bs.find((b) => b.code === 'active-grants')?.details?.['grants'] as { id: string }[]).map((g) => g.id);
    expect(ids(before)).toContain('grant-alice-gdrive');
    expect(ids(after)).not.toContain('grant-alice-gdrive');
  });

  it('revokes a grant: revokedAt is now, the history says who and why, the blocker goes away', async () => {
    const clock = new ManualClock(NOW);
    const source = createDemoSource({ clock });
    const { revokeGrant, blockers } = writable(source);
    const revoked = await revokeGrant('zoe', 'grant-zoe-notion', ctx);
    expect(revoked.revokedAt?.toISOString()).toBe('2026-11-15T10:00:00.000Z');
    expect(revoked.history!.at(-1)).toEqual({ at: new Date(NOW), change: 'revoked', actorId: 'admin@acme', reason: 'offboarding ticket OFF-7' });
    const [listed] = await collect(source.grants('zoe'));
    expect(listed!.revokedAt?.toISOString()).toBe('2026-11-15T10:00:00.000Z');
    expect(await blockers('zoe')).toEqual([]);
    // Again, later: nothing changes.
    clock.advance(86_400_000);
    expect((await revokeGrant('zoe', 'grant-zoe-notion', ctx)).revokedAt?.toISOString()).toBe('2026-11-15T10:00:00.000Z');
    expect((await collect(source.grants('zoe')))[0]!.history).toHaveLength(2);
    await expect(revokeGrant('zoe', 'grant-nope', ctx)).rejects.toMatchObject({ code: 'E_GRANT_NOT_FOUND' });
    await expect(revokeGrant('zoe', 'grant-zoe-notion', { actor: '', reason: 'x' })).rejects.toMatchObject({ code: 'E_INPUT' });
  });

  it('keeps revocations and erasures across processes: a new source sharing the state store sees them', async () => {
    const clock = new ManualClock(NOW);
    const store = createMemoryStore({ clock });
    const first = createDemoSource({ state: demoStateInStore(store, 42), clock });
    await first.capabilities!.revokeGrant!('zoe', 'grant-zoe-notion', ctx);
    await first.capabilities!.erase!('zoe', ctx);

    const second = createDemoSource({ state: demoStateInStore(store, 42), clock });
    const ids = (await collect(second.members())).map((m) => m.id);
    expect(ids).not.toContain('zoe');
    expect(ids).toContain('alice');
    expect(await second.findMember('zoe')).toBeUndefined();
    expect(await second.findMember('Zoe.Muller@Globex.example')).toBeUndefined();
    expect(await collect(second.conversations('zoe'))).toEqual([]);
    expect(await collect(second.memberships('zoe'))).toEqual([]);
    expect(await collect(second.grants('zoe'))).toEqual([]);
    await expect(second.capabilities!.blockers!('zoe')).rejects.toMatchObject({ code: 'E_MEMBER_NOT_FOUND' });

    // Another seed is another workspace.
    const other = createDemoSource({ seed: 7, state: demoStateInStore(store, 7), clock });
    expect(await other.findMember('zoe')).toBeDefined();

    // Keys never carry the member id.
    const keys: string[] = [];
    for await (const e of store.list('sources/demo/')) keys.push(e.key);
    expect(keys).toHaveLength(2);
    for (const k of keys) expect(k).toMatch(/^sources\/demo\/seed-42\/(erased|revoked)\/[0-9a-f]{32}\.json$/);
  });

  it("attributes an erased member's messages, reactions, files and DM slots to one tombstone named 'deleted user'", async () => {
    const pristine = createDemoSource({ messages: 600 });
    const source = createDemoSource({ messages: 600, clock: new ManualClock(NOW) });
    const before = await messagesOf(pristine, 'alice', 'acme-random');
    expect(before.some((m) => m.authorId === 'zoe')).toBe(true);
    await source.capabilities!.erase!('zoe', ctx);
    const after = await messagesOf(source, 'alice', 'acme-random');

    // Same messages, same ids and times: only who they name changed.
    expect(after.map((m) => [m.id, m.sentAt.getTime()])).toEqual(before.map((m) => [m.id, m.sentAt.getTime()]));
    const everything = JSON.stringify(after, (k, v: unknown) => (k === 'text' ? undefined : v));
    expect(everything).not.toContain('"zoe"');
    const tombstones = new Set(after.filter((_, i) => before[i]!.authorId === 'zoe').map((m) => m.authorId));
    expect(tombstones.size).toBe(1);
    const [tombstone] = [...tombstones];
    expect(tombstone).toMatch(/^erased-[0-9a-f]{8}$/);
    for (const [i, m] of after.entries()) {
      if (before[i]!.authorId !== 'zoe') {
        expect(m.authorId).toBe(before[i]!.authorId);
        continue;
      }
      expect(m.authorName).toBe(DELETED_USER_NAME);
      // Bodies are kept as written; system notices that quoted her name no longer do.
      if (m.subtype === 'join') expect(m.text).toBe('deleted user has joined the channel');
      else expect(m.text).toBe(before[i]!.text);
    }
    expect(after.filter((m) => m.authorId === tombstone && m.subtype === 'join')).toHaveLength(1);
    const reacted = before.findIndex((m) => m.reactions.some((r) => r.userIds.includes('zoe')));
    expect(reacted).toBeGreaterThanOrEqual(0);
    expect(after[reacted]!.reactions.flatMap((r) => r.userIds)).toContain(tombstone);
  });

  it('erases once: a second erase and a concurrent one keep the first tombstone', async () => {
    const store = createMemoryStore();
    const a = createDemoSource({ state: demoStateInStore(store, 42) });
    const b = createDemoSource({ state: demoStateInStore(store, 42) });
    await Promise.all([a.capabilities!.erase!('priya', ctx), b.capabilities!.erase!('priya', ctx)]);
    await a.capabilities!.erase!('priya', ctx);
    const state = await demoStateInStore(store, 42).load();
    expect(state.erased.map((e) => e.memberId)).toEqual(['priya']);
    const fresh = createDemoSource({ state: demoStateInStore(store, 42) });
    const tombstoneOf = async (s: Source) => {
      for await (const c of s.conversations('carol')) {
        for await (const m of s.messages(c)) if (m.authorName === DELETED_USER_NAME) return m.authorId;
      }
      return undefined;
    };
    const t = await tombstoneOf(fresh);
    expect(t).toBe(state.erased[0]!.tombstoneId);
    expect(await tombstoneOf(a)).toBe(t);
    expect(await tombstoneOf(b)).toBe(t);
    await expect(a.capabilities!.erase!('nobody', ctx)).rejects.toMatchObject({ code: 'E_MEMBER_NOT_FOUND' });
  });

  it('refuses to load a damaged state object rather than bring an erased member back', async () => {
    const store = createMemoryStore();
    await createDemoSource({ state: demoStateInStore(store, 42) }).capabilities!.erase!('priya', ctx);
    const [entry] = await collect(store.list('sources/demo/seed-42/erased/'));
    await store.put(entry!.key, '{"kind":"erase"}');
    const source = createDemoSource({ state: demoStateInStore(store, 42) });
    await expect(source.findMember('priya')).rejects.toMatchObject({ code: 'E_INTEGRITY' });
  });

  it('keeps changes in memory for one source when given no state store', async () => {
    const source = createDemoSource({ state: memoryDemoState() });
    await source.capabilities!.erase!('priya', ctx);
    expect(await source.findMember('priya')).toBeUndefined();
    expect(await createDemoSource().findMember('priya')).toBeDefined();
  });
});
