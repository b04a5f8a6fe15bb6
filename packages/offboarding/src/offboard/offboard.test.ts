import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { createAuditLog, createMemoryStore, ManualClock, type AuditRecord, type MemoryStore } from '@handover/core';
import { CapabilityError, createDemoSource, demoStateInStore, exportMember, type Source, type SourceCapabilities } from '@handover/exporter';
import { HoldRegistry } from '@handover/retention';
import { OffboardingError } from '../errors.js';
import { checkOffboarding, holdLookup } from './check.js';
import { journalKey, OFFBOARDING_STEPS, type OffboardingStep } from './journal.js';
import { readOffboardingJournal } from './journal-store.js';
import { offboard, type OffboardOptions } from './offboard.js';

const NOW = '2026-11-15T10:00:00Z';
const refOf = (id: string): string => `ref-${createHash('sha256').update(id).digest('hex').slice(0, 24)}`;

/** `demo`, seen through a plain object: a different name or capabilities, same data. */
function delegate(demo: Source, overrides: Partial<Source>): Source {
  return {
    name: demo.name,
    members: () => demo.members(),
    findMember: (selector) => demo.findMember(selector),
    memberships: (id) => demo.memberships(id),
    conversations: (id) => demo.conversations(id),
    messages: (c) => demo.messages(c),
    grants: (id) => demo.grants(id),
    ...overrides,
  };
}

type Failures = Partial<Record<'check' | 'export' | 'verify' | 'revoke' | 'erase' | 'erase-after' | 'file', number>>;

/**
 * The demo workspace in a memory store, with real exports (exportMember into the store),
 * a verification that re-hashes the stored bytes, and filing that copies the archive under
 * a post-deletion-backup key. `log` records what really happened, in order; `fail` makes
 * the next N calls of a step throw.
 */
function harness(options: { seedStore?: MemoryStore } = {}) {
  const clock = new ManualClock(NOW);
  const store = options.seedStore ?? createMemoryStore({ clock });
  const audit = createAuditLog({ store, clock, host: 'h', ip: '::1' });
  const holds = new HoldRegistry(store, { clock, audit });
  const log: string[] = [];
  const fail: Failures = {};
  const hashes = new Map<string, string>();
  let exports = 0;
  const tick = (): void => clock.advance(1000);
  const trip = (what: keyof Failures): void => {
    if ((fail[what] ?? 0) > 0) {
      fail[what]! -= 1;
      throw new Error(`injected failure in ${what}`);
    }
  };

  const newSource = (): Source => {
    const demo = createDemoSource({ messages: 120, attachmentBytes: 40_000, nasty: false, state: demoStateInStore(store, 42), clock });
    const caps = demo.capabilities!;
    const capabilities: SourceCapabilities = {
      blockers: (id) => caps.blockers!(id),
      revokeGrant: async (id, grant, ctx) => {
        trip('revoke');
        log.push(`revoke:${grant}`);
        return caps.revokeGrant!(id, grant, ctx);
      },
      erase: async (id, ctx) => {
        trip('erase');
        log.push(`erase:${id}`);
        await caps.erase!(id, ctx);
        // The platform erased, then we died before recording it.
        trip('erase-after');
      },
    };
    return delegate(demo, { capabilities });
  };

  const lookup = holdLookup(holds, clock);
  const base = (source: Source): OffboardOptions => ({
    memberId: 'zoe',
    reason: 'left the company (ticket HR-12)',
    actor: 'admin@globex',
    confirmed: true,
    source,
    store,
    keyRing: { subjectRef: refOf },
    audit,
    clock,
    holds: {
      activeFor: async (ref) => {
        trip('check');
        return lookup.activeFor(ref);
      },
    },
    exportToStore: async ({ memberId, subjectRef }) => {
      tick();
      trip('export');
      exports++;
      const key = `archives/20261215/export-download/${subjectRef}/export-${exports}.zip`;
      const hash = createHash('sha256');
      const tee = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          cb(null, chunk);
        },
      });
      await exportMember({ source, member: memberId, createdAt: clock.now() }, async (zip) => store.put(key, zip.pipe(tee)));
      hashes.set(key, hash.digest('hex'));
      log.push(`export:${key}`);
      return { key, sha256: hashes.get(key)! };
    },
    verifyStored: async ({ key }) => {
      tick();
      trip('verify');
      const hash = createHash('sha256');
      for await (const chunk of await store.get(key)) hash.update(chunk as Buffer);
      const ok = hash.digest('hex') === hashes.get(key);
      log.push(`verify:${ok ? 'ok' : 'bad'}:${key}`);
      return { ok, problems: ok ? [] : [`sha256 of ${key} differs from the export's`] };
    },
    fileBackup: async ({ key, subjectRef, retentionClass }) => {
      tick();
      trip('file');
      const to = `archives/20270514/${retentionClass}/${subjectRef}/backup.zip`;
      // Idempotent, as the contract asks: a rerun finds the copy made.
      if ((await store.head(to)) === undefined) await store.put(to, await store.get(key));
      log.push(`file:${to}`);
      return { key: to };
    },
  });

  const records = async (): Promise<AuditRecord[]> => {
    const out: AuditRecord[] = [];
    for await (const r of audit.list()) out.push(r);
    return out;
  };
  return { clock, store, audit, holds, log, fail, newSource, base, records, exportCount: () => exports };
}

async function grantsOf(source: Source, id: string) {
  const out = [];
  for await (const g of source.grants(id)) out.push(g);
  return out;
}

describe('offboard', () => {
  it('offboards zoe end to end: every step in order, recorded, and she is gone from a new source', async () => {
    const h = harness();
    const events: string[] = [];
    const summary = await offboard({ ...h.base(h.newSource()), onEvent: (e) => events.push(`${e.step}:${e.status}`) });

    expect(summary).toMatchObject({ status: 'completed', memberId: 'zoe', subjectRef: refOf('zoe'), erasure: 'performed', revokedGrants: ['grant-zoe-notion'] });
    expect(summary.ranSteps).toEqual([...OFFBOARDING_STEPS]);
    expect(summary.blockers.map((b) => b.code)).toEqual(['active-grants']);
    expect(summary.backupKey).toBe(`archives/20270514/post-deletion-backup/${refOf('zoe')}/backup.zip`);
    expect(events.filter((e) => e.endsWith(':done'))).toEqual(OFFBOARDING_STEPS.map((s) => `${s}:done`));
    // What really happened, in order: export, verify, revoke, erase, file.
    expect(h.log.map((l) => l.split(':')[0])).toEqual(['export', 'verify', 'revoke', 'erase', 'file']);

    const journal = (await readOffboardingJournal(h.store, refOf('zoe')))!;
    expect(journal.steps.map((s) => s.step)).toEqual([...OFFBOARDING_STEPS]);
    expect(journal.archive?.verifiedAt).toBeDefined();
    expect(journal.completedAt).toBeDefined();
    expect(JSON.stringify(journal)).not.toContain('"zoe"');
    expect(await h.store.head(journalKey(refOf('zoe')))).toBeDefined();

    const fresh = h.newSource();
    expect(await fresh.findMember('zoe')).toBeUndefined();
    expect((await h.newSource().capabilities!.blockers!('carol')).map((b) => b.code)).not.toContain('sole-admin');

    const audit = await h.records();
    expect(audit.map((r) => `${r.action}:${r.outcome}`)).toEqual(OFFBOARDING_STEPS.map((s) => `offboard.${s}:success`));
    for (const r of audit) {
      expect(r.subjectRef).toBe(refOf('zoe'));
      expect(r.reason).toBe('left the company (ticket HR-12)');
      expect(r.actor).toBe('admin@globex');
    }
    expect((await h.audit.verify()).ok).toBe(true);

    // Again: nothing more happens.
    const again = await offboard(h.base(h.newSource()));
    expect(again.status).toBe('already-completed');
    expect(again.ranSteps).toEqual([]);
    expect(h.exportCount()).toBe(1);
  });

  it('refuses while non-legal blockers remain, before exporting anything', async () => {
    const h = harness();
    const err = await offboard({ ...h.base(h.newSource()), memberId: 'alice' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OffboardingError);
    expect(err).toMatchObject({ code: 'E_OFFBOARD_BLOCKED', step: 'check-blockers' });
    expect((err as OffboardingError).blockers.map((b) => b.code)).toEqual(['sole-owner']);
    expect((err as Error).message).toContain("'alice' is the only owner of Acme Robotics (acme)");
    expect((err as Error).message).toContain('--force');
    expect(h.exportCount()).toBe(0);
    expect(await readOffboardingJournal(h.store, refOf('alice'))).toBeUndefined();
    expect((await h.records()).map((r) => `${r.action}:${r.outcome}`)).toEqual(['offboard.check-blockers:refused']);
  });

  it('--force overrides non-legal blockers only with a reason, and records it', async () => {
    const h = harness();
    await expect(offboard({ ...h.base(h.newSource()), memberId: 'alice', force: true })).rejects.toMatchObject({ code: 'E_OFFBOARD_INPUT', exitCode: 2 });
    const summary = await offboard({ ...h.base(h.newSource()), memberId: 'alice', force: true, forceReason: 'ownership moves to bob via HR-13' });
    expect(summary.status).toBe('completed');
    expect(summary.forced).toMatchObject({ overridden: ['sole-owner'], reason: 'ownership moves to bob via HR-13', actor: 'admin@globex' });
    const force = (await h.records()).find((r) => r.action === 'offboard.force')!;
    expect(force).toMatchObject({ outcome: 'success', reason: 'ownership moves to bob via HR-13', subjectRef: refOf('alice') });
    // Her active grants at this date (not the expired or already revoked ones), all revoked before the erasure.
    expect(summary.revokedGrants.sort()).toEqual(['grant-alice-deploy-webhook', 'grant-alice-dingtalk', 'grant-alice-feishu', 'grant-alice-gdrive', 'grant-alice-jira']);
    expect(h.log.findIndex((l) => l.startsWith('erase'))).toBeGreaterThan(h.log.findLastIndex((l) => l.startsWith('revoke')));
  });

  it('never lets --force override a legal hold', async () => {
    const h = harness();
    const hold = await h.holds.add({ subjectRef: refOf('zoe'), reason: 'Case 2026-4 (wrongful dismissal)', actor: 'legal@globex' });
    const err = await offboard({ ...h.base(h.newSource()), force: true, forceReason: 'urgent' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_OFFBOARD_LEGAL_HOLD' });
    expect((err as Error).message).toContain(hold.id);
    expect((err as Error).message).toContain('not even with --force');
    expect(h.exportCount()).toBe(0);
    expect(await h.newSource().findMember('zoe')).toBeDefined();
  });

  it('re-checks legal holds right before erasing: a hold placed during the export stops the erasure', async () => {
    const h = harness();
    const base = h.base(h.newSource());
    const exportStep = base.exportToStore;
    let holdId = '';
    const err = await offboard({
      ...base,
      exportToStore: async (input) => {
        const r = await exportStep(input);
        holdId = (await h.holds.add({ subjectRef: refOf('zoe'), reason: 'Subpoena 77', actor: 'legal@globex' })).id;
        return r;
      },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_OFFBOARD_LEGAL_HOLD', step: 'erase' });
    expect(await h.newSource().findMember('zoe')).toBeDefined();
    expect(h.log.some((l) => l.startsWith('erase'))).toBe(false);

    await h.holds.approveRelease(holdId, 'legal@globex');
    await h.holds.approveRelease(holdId, 'dpo@globex');
    const summary = await offboard(h.base(h.newSource()));
    expect(summary).toMatchObject({ status: 'completed', resumedFrom: 'erase', ranSteps: ['erase', 'file-backup'] });
    expect(h.exportCount()).toBe(1);
  });

  const interruptions: [keyof Failures, OffboardingStep][] = [
    ['check', 'check-blockers'],
    ['export', 'export'],
    ['verify', 'verify'],
    ['revoke', 'revoke-grants'],
    ['erase', 'erase'],
    ['file', 'file-backup'],
  ];
  it.each(interruptions)('stops at a failing %s step, then a rerun continues from it: erase once, only after a verified archive', async (what, step) => {
    const h = harness();
    h.fail[what] = 1;
    const err = await offboard(h.base(h.newSource())).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OffboardingError);
    expect(err).toMatchObject({ code: 'E_OFFBOARD_STEP_FAILED', step });
    expect((err as Error).message).toContain(`run the same command again to continue from '${step}'`);
    expect(((err as Error).cause as Error).message).toBe(`injected failure in ${what}`);
    const erasedYet = OFFBOARDING_STEPS.indexOf(step) > OFFBOARDING_STEPS.indexOf('erase');
    expect((await h.newSource().findMember('zoe')) === undefined).toBe(erasedYet);

    const summary = await offboard(h.base(h.newSource()));
    expect(summary.status).toBe('completed');
    if (step !== 'check-blockers') expect(summary.resumedFrom).toBe(step);
    expect(summary.ranSteps[0]).toBe(step);
    expect(h.exportCount()).toBe(1);
    const erases = h.log.filter((l) => l.startsWith('erase'));
    expect(erases).toHaveLength(1);
    expect(h.log.indexOf(erases[0]!)).toBeGreaterThan(h.log.findIndex((l) => l.startsWith('verify:ok')));
    expect(await h.newSource().findMember('zoe')).toBeUndefined();
    const failure = (await h.records()).find((r) => r.outcome === 'failure')!;
    expect(failure.action).toBe(`offboard.${step}`);
  });

  it('does not erase twice when a run erased but died before recording it', async () => {
    const h = harness();
    h.fail['erase-after'] = 1;
    await expect(offboard(h.base(h.newSource()))).rejects.toMatchObject({ code: 'E_OFFBOARD_STEP_FAILED', step: 'erase' });
    expect(await h.newSource().findMember('zoe')).toBeUndefined();
    const summary = await offboard(h.base(h.newSource()));
    expect(summary).toMatchObject({ status: 'completed', erasure: 'found-done' });
    expect(h.log.filter((l) => l.startsWith('erase'))).toHaveLength(1);
  });

  it('sets a failed archive aside: nothing is revoked or erased, and the next run exports afresh', async () => {
    const h = harness();
    const base = h.base(h.newSource());
    let corrupted = false;
    const err = await offboard({
      ...base,
      verifyStored: async (input) => {
        if (!corrupted) {
          corrupted = true;
          await h.store.put(input.key, 'not a zip');
        }
        return base.verifyStored(input);
      },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_OFFBOARD_VERIFY_FAILED', step: 'verify' });
    expect((err as Error).message).toContain('nothing was revoked or erased');
    const journal = (await readOffboardingJournal(h.store, refOf('zoe')))!;
    expect(journal.archive).toBeUndefined();
    expect(journal.rejectedArchives).toHaveLength(1);
    expect(journal.steps.map((s) => s.step)).toEqual(['check-blockers']);
    expect((await grantsOf(h.newSource(), 'zoe'))[0]!.revokedAt).toBeUndefined();

    const summary = await offboard(h.base(h.newSource()));
    expect(summary.resumedFrom).toBe('export');
    expect(h.exportCount()).toBe(2);
    expect(summary.archiveKey).toMatch(/export-2\.zip$/);
    expect(h.log.filter((l) => l.startsWith('erase'))).toHaveLength(1);
  });

  it('stops between steps when aborted, and continues on the next run', async () => {
    const h = harness();
    const controller = new AbortController();
    const err = await offboard({
      ...h.base(h.newSource()),
      signal: controller.signal,
      onEvent: (e) => {
        if (e.step === 'verify' && e.status === 'done') controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_OFFBOARD_ABORTED', step: 'revoke-grants' });
    expect(await h.newSource().findMember('zoe')).toBeDefined();
    const summary = await offboard(h.base(h.newSource()));
    expect(summary.ranSteps).toEqual(['revoke-grants', 'erase', 'file-backup']);
  });

  it('needs a confirmation, a reason, and the source it started with', async () => {
    const h = harness();
    await expect(offboard({ ...h.base(h.newSource()), confirmed: false })).rejects.toMatchObject({ code: 'E_OFFBOARD_NOT_CONFIRMED', exitCode: 2 });
    await expect(offboard({ ...h.base(h.newSource()), reason: '  ' })).rejects.toMatchObject({ code: 'E_OFFBOARD_INPUT' });
    await expect(offboard({ ...h.base(h.newSource()), memberId: 'nobody' })).rejects.toMatchObject({ code: 'E_MEMBER_NOT_FOUND' });
    expect(h.exportCount()).toBe(0);

    h.fail.verify = 1;
    await expect(offboard(h.base(h.newSource()))).rejects.toMatchObject({ step: 'verify' });
    const other = delegate(h.newSource(), { name: 'demo:7' });
    await expect(offboard(h.base(other))).rejects.toMatchObject({ code: 'E_OFFBOARD_SOURCE_MISMATCH' });
  });

  it('finds the journal by id after the member is gone, and by email before', async () => {
    const h = harness();
    h.fail.file = 1;
    await expect(offboard({ ...h.base(h.newSource()), memberId: 'zoe.muller@globex.example' })).rejects.toMatchObject({ step: 'file-backup' });
    const summary = await offboard(h.base(h.newSource()));
    expect(summary).toMatchObject({ status: 'completed', ranSteps: ['file-backup'], subjectRef: refOf('zoe') });
  });

  describe('read-only sources', () => {
    const readOnly = (demo: Source): Source => {
      const { capabilities: _none, ...rest } = delegate(demo, { name: 'slack:export.zip' });
      return rest;
    };

    it('refuse before exporting, naming the source and the way out', async () => {
      const h = harness();
      const err = await offboard(h.base(readOnly(h.newSource()))).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CapabilityError);
      expect((err as Error).message).toMatch(/^source 'slack:export.zip' is read-only: it cannot revoke grants/);
      expect(h.exportCount()).toBe(0);
    });

    it('record revocation and erasure as attested when the operator did them in the platform', async () => {
      const h = harness();
      const summary = await offboard({ ...h.base(readOnly(h.newSource())), erasedInSource: true });
      expect(summary).toMatchObject({ status: 'completed', erasure: 'attested' });
      expect(summary.journal.steps.map((s) => `${s.step}:${s.how}`)).toEqual([
        'check-blockers:performed',
        'export:performed',
        'verify:performed',
        'revoke-grants:attested',
        'erase:attested',
        'file-backup:performed',
      ]);
      expect(h.log.some((l) => l.startsWith('erase') || l.startsWith('revoke'))).toBe(false);
    });

    it('report only grants and holds as blockers, saying the source was not asked', async () => {
      const h = harness();
      const report = await checkOffboarding({
        memberId: 'alice',
        source: readOnly(h.newSource()),
        keyRing: { subjectRef: refOf },
        holds: holdLookup(h.holds, h.clock),
        clock: h.clock,
      });
      expect(report.sourceChecked).toBe(false);
      expect(report.blockers.map((b) => b.code)).toEqual(['active-grants']);
    });
  });

  it('checks without changing anything: what --check prints', async () => {
    const h = harness();
    await h.holds.add({ subjectRef: refOf('bob'), reason: 'Audit 2026', actor: 'legal@acme' });
    const check = (memberId: string) =>
      checkOffboarding({ memberId, source: h.newSource(), keyRing: { subjectRef: refOf }, holds: holdLookup(h.holds, h.clock), clock: h.clock });
    const bob = await check('bob@acme.example');
    expect(bob.memberId).toBe('bob');
    expect(bob.blockers.map((b) => b.code)).toEqual(['pending-approvals', 'active-grants', 'legal-hold']);
    expect(bob.refusing.map((b) => b.code)).toEqual(['legal-hold', 'pending-approvals']);
    expect(bob.legal.map((b) => b.code)).toEqual(['legal-hold']);
    expect(bob.handledByOffboarding.map((b) => b.code)).toEqual(['active-grants']);
    const zoe = await check('zoe');
    expect(zoe.refusing).toEqual([]);
    expect(zoe.blockers.map((b) => b.code)).toEqual(['active-grants']);
    expect((await check('priya')).blockers).toEqual([]);
    await expect(check('nobody')).rejects.toMatchObject({ code: 'E_MEMBER_NOT_FOUND' });
    expect(h.log).toEqual([]);
  });
});
