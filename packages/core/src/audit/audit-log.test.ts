import { ManualClock } from '../clock.js';
import { createMemoryStore, type MemoryStore } from '../store/memory-store.js';
import { auditRecordKey, createAuditLog, GENESIS_HASH, hashAuditRecord, type AuditLog, type AuditRecord } from './audit-log.js';
import { canonicalJson } from './canonical-json.js';

async function readRecord(store: MemoryStore, key: string): Promise<AuditRecord> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as AuditRecord;
}

async function writeRecord(store: MemoryStore, key: string, rec: unknown): Promise<void> {
  await store.put(key, `${JSON.stringify(rec)}\n`);
}

async function seeded(n: number): Promise<{ store: MemoryStore; log: AuditLog; clock: ManualClock }> {
  const clock = new ManualClock('2024-01-01T00:00:00Z');
  const store = createMemoryStore({ clock });
  const log = createAuditLog({ store, clock, host: 'test-host', ip: '192.0.2.1' });
  for (let i = 1; i <= n; i++) {
    clock.advance(60_000);
    await log.append({
      actor: i % 2 === 0 ? 'alice' : 'bob',
      action: i % 3 === 0 ? 'hold.add' : 'retention.purge',
      target: `archives/obj-${i}`,
      ...(i % 4 === 0 ? { subjectRef: 's-1' } : {}),
      reason: `reason ${i}`,
      outcome: 'success',
      details: { i },
    });
  }
  return { store, log, clock };
}

const key = (seq: number): string => auditRecordKey('audit/', seq);

describe('canonicalJson', () => {
  it('sorts keys recursively and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x', null], c: undefined } })).toBe('{"a":{"d":[1,"x",null]},"b":1}');
    expect(canonicalJson({ z: 1, a: 2 })).toBe(canonicalJson({ a: 2, z: 1 }));
  });
});

describe('audit log', () => {
  it('chains records: seq, prevHash, hash, host, ip, retention class', async () => {
    const { store, log } = await seeded(3);
    const r1 = await readRecord(store, key(1));
    const r2 = await readRecord(store, key(2));
    expect(r1.seq).toBe(1);
    expect(r1.prevHash).toBe(GENESIS_HASH);
    expect(r1.hash).toBe(hashAuditRecord(r1));
    expect(r2.prevHash).toBe(r1.hash);
    expect(r1.host).toBe('test-host');
    expect(r1.ip).toBe('192.0.2.1');
    expect(r1.time).toBe('2024-01-01T00:01:00.000Z');
    const info = await store.head(key(1));
    expect(info?.tags['class']).toBe('financial-audit-log');
    expect(info?.metadata['retention-class']).toBe('financial-audit-log');
    expect(await log.verify()).toEqual({ ok: true, records: 3, head: { seq: 3, hash: (await readRecord(store, key(3))).hash } });
  });

  it('refuses entries without actor, action or target, and bad outcomes', async () => {
    const { log } = await seeded(0);
    await expect(log.append({ actor: ' ', action: 'a', target: 't', reason: 'r', outcome: 'success' })).rejects.toThrow(/actor/);
    await expect(
      log.append({ actor: 'a', action: 'a', target: 't', reason: 'r', outcome: 'maybe' as 'success' }),
    ).rejects.toThrow(/outcome/);
  });

  it('two writers never both write a seq: the loser chains onto the winner', async () => {
    const clock = new ManualClock('2024-01-01T00:00:00Z');
    const store = createMemoryStore({ clock });
    const a = createAuditLog({ store, clock, host: 'a', ip: '::1' });
    const b = createAuditLog({ store, clock, host: 'b', ip: '::1' });
    const entry = (actor: string, i: number) => ({ actor, action: 'x', target: `t${i}`, reason: 'r', outcome: 'success' as const });
    // Both load the head first, so they race for the same seqs.
    await a.append(entry('a', 0));
    await b.append(entry('b', 0));
    const results = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => a.append(entry('a', i + 1))),
      ...Array.from({ length: 20 }, (_, i) => b.append(entry('b', i + 1))),
    ]);
    const seqs = results.map((r) => r.seq).sort((x, y) => x - y);
    expect(new Set(seqs).size).toBe(40);
    expect(seqs[seqs.length - 1]).toBe(42);
    const v = await a.verify();
    expect(v.ok).toBe(true);
    expect(v.records).toBe(42);
  });

  it('lists with filters, streaming in seq order', async () => {
    const { log, clock } = await seeded(12);
    const bySubject = [];
    for await (const r of log.list({ subjectRef: 's-1' })) bySubject.push(r.seq);
    expect(bySubject).toEqual([4, 8, 12]);
    const holds = [];
    for await (const r of log.list({ action: 'hold.add', since: 5 })) holds.push(r.seq);
    expect(holds).toEqual([6, 9, 12]);
    const recent = [];
    for await (const r of log.list({ since: new Date('2024-01-01T00:10:00Z') })) recent.push(r.seq);
    expect(recent).toEqual([10, 11, 12]);
    const back = [];
    for await (const r of log.readBackwards()) back.push(r.seq);
    expect(back).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(clock.now().toISOString()).toBe('2024-01-01T00:12:00.000Z');
  });

  describe('verify names the first bad record', () => {
    it('edited (content changed, hash left alone)', async () => {
      const { store, log } = await seeded(6);
      const r = await readRecord(store, key(3));
      await writeRecord(store, key(3), { ...r, reason: 'nothing to see here' });
      expect((await log.verify()).firstBad).toMatchObject({ seq: 3, key: key(3), problem: 'edited' });
    });

    it('edited with its hash recomputed: the successor no longer links to it', async () => {
      const { store, log } = await seeded(6);
      const r = await readRecord(store, key(3));
      const forged = { ...r, actor: 'mallory' };
      await writeRecord(store, key(3), { ...forged, hash: hashAuditRecord(forged) });
      expect((await log.verify()).firstBad).toMatchObject({ seq: 3, key: key(3), problem: 'edited' });
    });

    it('deleted (a gap)', async () => {
      const { store, log } = await seeded(6);
      await store.delete([key(4)]);
      const v = await log.verify();
      expect(v.ok).toBe(false);
      expect(v.firstBad).toMatchObject({ seq: 4, key: key(4), problem: 'deleted' });
      expect(v.records).toBe(3);
    });

    it('deleted, later records renumbered to close the gap', async () => {
      const { store, log } = await seeded(6);
      for (let s = 4; s <= 5; s++) await writeRecord(store, key(s), await readRecord(store, key(s + 1)));
      await store.delete([key(6)]);
      expect((await log.verify()).firstBad).toMatchObject({ seq: 4, key: key(4), problem: 'deleted' });
    });

    it('deleted at the end: detected against an expected head', async () => {
      const { store, log } = await seeded(6);
      const head = await log.head();
      await store.delete([key(6)]);
      expect((await log.verify()).ok).toBe(true); // a shorter chain is still a chain…
      expect((await log.verify({ expectedHead: head as { seq: number; hash: string } })).firstBad).toMatchObject({
        seq: 6,
        problem: 'deleted',
      }); // …but not the one we knew
    });

    it('inserted (a forged record, later ones shifted up)', async () => {
      const { store, log } = await seeded(6);
      const r2 = await readRecord(store, key(2));
      for (let s = 6; s >= 3; s--) await writeRecord(store, key(s + 1), await readRecord(store, key(s)));
      const forged = { ...r2, seq: 3, prevHash: r2.hash, reason: 'forged', target: 'archives/evidence' };
      await writeRecord(store, key(3), { ...forged, hash: hashAuditRecord(forged) });
      expect((await log.verify()).firstBad).toMatchObject({ seq: 3, key: key(3), problem: 'inserted' });
    });

    it('inserted (a stray object among the records)', async () => {
      const { store, log } = await seeded(4);
      await store.put('audit/000000000002a.json', '{}');
      expect((await log.verify()).firstBad).toMatchObject({ problem: 'inserted', key: 'audit/000000000002a.json' });
    });

    it('reordered (two records swapped)', async () => {
      const { store, log } = await seeded(6);
      const r3 = await readRecord(store, key(3));
      const r4 = await readRecord(store, key(4));
      await writeRecord(store, key(3), r4);
      await writeRecord(store, key(4), r3);
      expect((await log.verify()).firstBad).toMatchObject({ seq: 3, key: key(3), problem: 'reordered' });
    });

    it('a record whose genesis link was changed', async () => {
      const { store, log } = await seeded(2);
      const r1 = await readRecord(store, key(1));
      const forged = { ...r1, prevHash: 'f'.repeat(64) };
      await writeRecord(store, key(1), { ...forged, hash: hashAuditRecord(forged) });
      expect((await log.verify()).firstBad).toMatchObject({ seq: 1, problem: 'edited' });
    });

    it('a new writer on the same store continues the chain from the listed tail', async () => {
      const { store, log, clock } = await seeded(3);
      const later = createAuditLog({ store, clock, host: 'other', ip: '::1' });
      const r = await later.append({ actor: 'carol', action: 'x', target: 't', reason: 'r', outcome: 'refused' });
      expect(r.seq).toBe(4);
      expect((await readRecord(store, key(4))).prevHash).toBe((await readRecord(store, key(3))).hash);
      expect((await log.verify()).ok).toBe(true);
    });
  });
});
