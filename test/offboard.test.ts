// End to end: `handover offboard` on the writable demo workspace, in a local store. Blockers,
// legal holds, confirmation, the six steps, a kill at each of them followed by a rerun, and
// read-only sources.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir, type CliResult } from './support/cli.js';
import { extract } from './support/archive.js';

/** Small demo workspace: quick exports, same cast. */
const SOURCE = 'demo:messages=100,attachmentBytes=0';
const STEPS = ['check-blockers', 'export', 'verify', 'revoke-grants', 'erase', 'file-backup'];

function json<T = Record<string, any>>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${r.code}):\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

function cli(store: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(['--store', store, ...args], { env });
}

/** Every file under `dir`, relative, or [] when it does not exist. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => statSync(join(dir, f)).isFile()).sort();
}

async function members(store: string): Promise<string[]> {
  const r = await cli(store, ['demo', 'members', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return json<{ members: { id: string }[] }>(r).members.map((m) => m.id);
}

async function auditRecords(store: string, args: string[] = []): Promise<{ seq: number; action: string; outcome: string; target: string; reason: string; subjectRef?: string; details: Record<string, any> }[]> {
  const r = await cli(store, ['audit', 'list', ...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return json(r)['records'];
}

async function auditIntact(store: string): Promise<void> {
  const r = await cli(store, ['audit', 'verify', '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(json(r)['ok']).toBe(true);
}

describe('handover offboard: a demo member end to end', () => {
  const tmp = tempDir('handover-offboard-');
  const store = join(tmp.dir, 'store');
  afterAll(() => tmp.cleanup());
  let done: Record<string, any>;

  it('--check lists the blockers with a code and a sentence, and exits 1', async () => {
    const r = await cli(store, ['offboard', '--member', 'fatima', '--check', '--source', SOURCE, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const report = json(r);
    expect(report['memberId']).toBe('fatima');
    expect(report['blockers'].map((b: any) => b.code)).toEqual(['active-grants']);
    expect(report['blockers'][0].message).toMatch(/^'fatima' still has 1 active app grant \(Google Drive\)/);
    // Active grants do not refuse: the offboarding revokes them itself.
    expect(report['refusing']).toEqual([]);
    expect(report['handledByOffboarding'].map((b: any) => b.code)).toEqual(['active-grants']);

    const human = await cli(store, ['offboard', '--member', 'fatima', '--check', '--source', SOURCE]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/active-grants\s+resolved by the offboarding/);

    const clear = await cli(store, ['offboard', '--member', 'priya', '--check', '--source', SOURCE, '--json']);
    expect(clear.code, clear.stderr).toBe(0);
    expect(json(clear)['blockers']).toEqual([]);
  });

  it('refuses while a legal hold stands, even with --force, and erases nothing', async () => {
    const add = await cli(store, ['hold', 'add', '--subject', 'fatima', '--reason', 'matter 2026-17: records preserved', '--actor', 'legal-a', '--json']);
    expect(add.code, add.stderr).toBe(0);
    const holdId = json(add)['hold'].id as string;

    const check = await cli(store, ['offboard', '--member', 'fatima', '--check', '--source', SOURCE, '--json']);
    expect(check.code).toBe(1);
    const legal = json(check)['blockers'].find((b: any) => b.code === 'legal-hold');
    expect(legal.legal).toBe(true);
    expect(legal.message).toContain(holdId);

    const forced = await cli(store, ['offboard', '--member', 'fatima', '--source', SOURCE, '--reason', 'left the company', '--yes', '--force', '--force-reason', 'urgent', '--json']);
    expect(forced.code, forced.stderr).toBe(1);
    const err = json(forced)['error'];
    expect(err.code).toBe('E_OFFBOARD_LEGAL_HOLD');
    expect(err.blockers.map((b: any) => b.code)).toEqual(['legal-hold']);
    expect(forced.stderr).toMatch(/cannot be overridden, not even with --force/);
    expect(await members(store)).toContain('fatima');
    expect(filesUnder(join(store, 'archives'))).toEqual([]);

    // Two different people release it (the registry's four-eyes rule).
    for (const actor of ['legal-a', 'legal-b']) {
      const r = await cli(store, ['hold', 'approve-release', holdId, '--reason', 'matter settled', '--actor', actor]);
      expect(r.code, r.stderr).toBe(0);
    }
    const after = await cli(store, ['offboard', '--member', 'fatima', '--check', '--source', SOURCE, '--json']);
    expect(json(after)['blockers'].map((b: any) => b.code)).toEqual(['active-grants']);
  });

  it('asks for confirmation: without a terminal and without --yes it is a usage error (exit 2) and nothing happens', async () => {
    const r = await cli(store, ['offboard', '--member', 'fatima', '--source', SOURCE, '--reason', 'left the company']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot be undone.*pass --yes/);
    expect(await members(store)).toContain('fatima');
    expect(filesUnder(join(store, 'offboarding'))).toEqual([]);

    const noReason = await cli(store, ['offboard', '--member', 'fatima', '--source', SOURCE, '--yes']);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason/);
  });

  it('runs every step in order: export, verify, revoke, erase, backup', async () => {
    const r = await cli(store, ['offboard', '--member', 'fatima', '--source', SOURCE, '--reason', 'left the company', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    done = json(r);
    expect(done['status']).toBe('completed');
    expect(done['ranSteps']).toEqual(STEPS);
    expect(done['steps'].map((s: any) => s.step)).toEqual(STEPS);
    expect(done['blockers'].map((b: any) => b.code)).toEqual(['active-grants']);
    expect(done['revokedGrants']).toEqual(['grant-fatima-gdrive']);
    expect(done['erasure']).toBe('performed');
    // The export is the backup: one archive, filed under post-deletion-backup by its key.
    expect(done['archiveKey']).toMatch(/^archives\/\d{8}\/post-deletion-backup\/[0-9a-f]+\/\d{8}T\d{6}Z-[0-9a-f]+\.zip\.age$/);
    expect(done['backupKey']).toBe(done['archiveKey']);
    expect(done['export'].counts.messages).toBeGreaterThan(10);
    expect(filesUnder(join(store, 'archives'))).toEqual([done['archiveKey'].slice('archives/'.length)]);
  });

  it('the stored archive verifies on its own and holds the grants as they were', async () => {
    const v = await cli(store, ['verify', done['backupKey'], '--json']);
    expect(v.code, v.stderr).toBe(0);
    expect(json(v)['ok']).toBe(true);
    expect(json(v)['encrypted']).toBe(true);

    const out = join(tmp.dir, 'plain.zip');
    const d = await cli(store, ['decrypt', done['backupKey'], '--out', out]);
    expect(d.code, d.stderr).toBe(0);
    const dir = join(tmp.dir, 'plain');
    await extract(out, dir);
    expect(readFileSync(join(dir, 'grants.xml'), 'utf8')).toMatch(/<grant id="grant-fatima-gdrive"[^>]*status="active"/);
  });

  it('the member is gone from listings and later exports; the revocation is recorded in the workspace', async () => {
    expect(await members(store)).not.toContain('fatima');
    const e = await cli(store, ['export', '--member', 'fatima', '--source', SOURCE]);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/member 'fatima' not found/);
    const revoked = filesUnder(join(store, 'sources/demo/seed-42/revoked')).map((f) => JSON.parse(readFileSync(join(store, 'sources/demo/seed-42/revoked', f), 'utf8')));
    expect(revoked).toEqual([expect.objectContaining({ kind: 'revoke', memberId: 'fatima', grantId: 'grant-fatima-gdrive', reason: 'left the company' })]);
    expect(Date.parse(revoked[0].at)).toBeGreaterThan(0);
  });

  it('the backup is under retention: kept now, crypto-shredded 180 days on', async () => {
    const retainUntil = done['backupRetainUntil'] as string;
    expect(retainUntil).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const early = await cli(store, ['retention', 'plan', '--full', '--json']);
    expect(early.code, early.stderr).toBe(0);
    const kept = json(early)['decisions'].find((d: any) => d.key === done['backupKey']);
    expect(kept).toMatchObject({ action: 'keep', class: 'post-deletion-backup' });

    const later = new Date(Date.parse(`${retainUntil}T00:00:00Z`) + 2 * 86_400_000).toISOString();
    const due = await cli(store, ['retention', 'plan', '--now', later, '--json']);
    expect(due.code, due.stderr).toBe(0);
    expect(json(due)['decisions'].find((d: any) => d.key === done['backupKey'])).toMatchObject({ action: 'shred', class: 'post-deletion-backup' });
  });

  it('every step is in the audit log, in order, and the chain verifies', async () => {
    const records = await auditRecords(store, ['--subject-ref', done['subjectRef']]);
    const offboarding = records.filter((r) => r.action.startsWith('offboard.')).map((r) => `${r.action}:${r.outcome}`);
    expect(offboarding).toEqual([
      'offboard.check-blockers:refused',
      ...STEPS.map((s) => `offboard.${s}:success`),
    ]);
    const erase = records.find((r) => r.action === 'offboard.erase')!;
    expect(erase.details['archiveKey']).toBe(done['archiveKey']);
    // Audit records name the subject by ref only (the demo's grant ids happen to contain the member id).
    expect(JSON.stringify(records).replace(/grant-fatima-[a-z]+/g, '')).not.toContain('fatima');
    await auditIntact(store);
  });

  it('a rerun finds it completed and changes nothing', async () => {
    const before = (await auditRecords(store)).length;
    const r = await cli(store, ['offboard', '--member', 'fatima', '--source', SOURCE, '--reason', 'left the company', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ status: 'already-completed', ranSteps: [], backupKey: done['backupKey'] });
    expect((await auditRecords(store)).length).toBe(before);
  });

  it('--force overrides pending approvals with its own reason, recorded; without that reason it is a usage error', async () => {
    const check = await cli(store, ['offboard', '--member', 'bob', '--check', '--source', SOURCE, '--json']);
    expect(check.code).toBe(1);
    expect(json(check)['blockers'].map((b: any) => b.code)).toEqual(['pending-approvals', 'active-grants']);

    const refused = await cli(store, ['offboard', '--member', 'bob', '--source', SOURCE, '--reason', 'contract ended', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cannot offboard 'bob' while 1 blocker remains:\n- 'bob' has 2 pending approvals/);

    const noReason = await cli(store, ['offboard', '--member', 'bob', '--source', SOURCE, '--reason', 'contract ended', '--yes', '--force']);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--force-reason/);

    const r = await cli(store, ['offboard', '--member', 'bob', '--source', SOURCE, '--reason', 'contract ended', '--yes', '--force', '--force-reason', 'approvals reassigned to carol', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)['forced']).toMatchObject({ reason: 'approvals reassigned to carol', overridden: ['pending-approvals'] });
    const force = (await auditRecords(store, ['--action', 'offboard.force']))[0]!;
    expect(force.reason).toBe('approvals reassigned to carol');
    expect(await members(store)).not.toContain('bob');
    await auditIntact(store);
  });
});

describe('handover offboard on a read-only source', () => {
  const tmp = tempDir('handover-offboard-ro-');
  afterAll(() => tmp.cleanup());
  const slack = `slack:${join(process.cwd(), 'test/fixtures/slack/export')}`;

  it('refuses to erase, naming the source and saying what to do instead', async () => {
    const r = await cli(join(tmp.dir, 'store'), ['offboard', '--member', 'alice', '--source', slack, '--reason', 'left', '--yes', '--json']);
    expect(r.code).toBe(1);
    const err = json(r)['error'];
    expect(err.code).toBe('E_SOURCE_READ_ONLY');
    expect(err.message).toContain(`source '${slack}' is read-only: it cannot erase members`);
    expect(err.message).toMatch(/erase 'U01ALICE' in Slack itself, then record it with 'handover offboard --member U01ALICE --erased-in-source/);
    expect(filesUnder(join(tmp.dir, 'store', 'archives'))).toEqual([]);
  });

  it('with --erased-in-source: exports and verifies, then records revocation and erasure as attested', async () => {
    const r = await cli(join(tmp.dir, 'store'), ['offboard', '--member', 'alice', '--source', slack, '--reason', 'left', '--yes', '--erased-in-source', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const o = json(r);
    expect(o['erasure']).toBe('attested');
    expect(o['steps'].map((s: any) => `${s.step}:${s.how}`)).toEqual([
      'check-blockers:performed',
      'export:performed',
      'verify:performed',
      'revoke-grants:attested',
      'erase:attested',
      'file-backup:performed',
    ]);
  });
});

/*
 * A kill at each step, then a rerun. HANDOVER_TEST_CRASH_AFTER=<step> SIGKILLs the CLI right
 * after the step is journaled; HANDOVER_TEST_CRASH_IN=<step> inside it, after its work and
 * before its journal entry (test-only switches of offboard-service.ts).
 */
describe('handover offboard: killed at each step, then run again', () => {
  const tmp = tempDir('handover-offboard-kill-');
  afterAll(() => tmp.cleanup());
  const member = 'zoe';

  const cases: { variable: 'HANDOVER_TEST_CRASH_AFTER' | 'HANDOVER_TEST_CRASH_IN'; step: string }[] = [
    ...STEPS.map((step) => ({ variable: 'HANDOVER_TEST_CRASH_AFTER' as const, step })),
    { variable: 'HANDOVER_TEST_CRASH_IN', step: 'export' },
    { variable: 'HANDOVER_TEST_CRASH_IN', step: 'revoke-grants' },
    { variable: 'HANDOVER_TEST_CRASH_IN', step: 'erase' },
  ];

  it.each(cases)('$variable=$step', async ({ variable, step }) => {
    const store = join(tmp.dir, `${variable === 'HANDOVER_TEST_CRASH_AFTER' ? 'after' : 'in'}-${step}`);
    const args = ['offboard', '--member', member, '--source', SOURCE, '--reason', 'left the company', '--yes', '--json'];
    const killed = await cli(store, args, { [variable]: step });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(killed.stdout).toBe('');

    const journalFile = filesUnder(join(store, 'offboarding')).find((f) => f.endsWith('journal.json'));
    const journal = journalFile === undefined ? undefined : JSON.parse(readFileSync(join(store, 'offboarding', journalFile), 'utf8'));
    const journaled: string[] = journal?.steps.map((s: any) => s.step) ?? [];
    const index = STEPS.indexOf(step);
    // After: the step is the last journaled one. In: the step did its work but is not journaled.
    expect(journaled).toEqual(STEPS.slice(0, variable === 'HANDOVER_TEST_CRASH_AFTER' ? index + 1 : index));

    if (variable === 'HANDOVER_TEST_CRASH_AFTER' && step === 'revoke-grants') {
      // Revoked, not yet erased: a later export of the member shows the grant revoked, with its time.
      const out = join(tmp.dir, 'zoe-after-revoke.zip');
      const e = await cli(store, ['export', '--member', member, '--source', SOURCE, '--out', out, '--no-encrypt']);
      expect(e.code, e.stderr).toBe(0);
      const dir = join(tmp.dir, 'zoe-after-revoke');
      await extract(out, dir);
      expect(readFileSync(join(dir, 'grants.xml'), 'utf8')).toMatch(/<grant id="grant-zoe-notion"[^>]* revoked="\d{4}-\d{2}-\d{2}T[^"]+"[^>]*status="revoked"/);
    }
    const erasedBefore = filesUnder(join(store, 'sources/demo/seed-42/erased')).length;
    expect(erasedBefore).toBe(index > 4 || (index === 4 && (variable === 'HANDOVER_TEST_CRASH_AFTER' || step === 'erase')) ? 1 : 0);

    const rerun = await cli(store, args);
    expect(rerun.code, rerun.stderr).toBe(0);
    const o = json(rerun);
    if (step === 'file-backup' && variable === 'HANDOVER_TEST_CRASH_AFTER') {
      expect(o['status']).toBe('already-completed');
    } else {
      expect(o['status']).toBe('completed');
      expect(o['resumedFrom'] ?? 'check-blockers').toBe(variable === 'HANDOVER_TEST_CRASH_AFTER' ? STEPS[index + 1] : step);
      expect(o['ranSteps']).toEqual(STEPS.slice(variable === 'HANDOVER_TEST_CRASH_AFTER' ? index + 1 : index));
    }
    expect(o['steps'].map((s: any) => s.step)).toEqual(STEPS);
    expect(o['revokedGrants']).toEqual(['grant-zoe-notion']);
    // Erased after the crash in erase: found done, not erased twice.
    expect(o['erasure']).toBe(variable === 'HANDOVER_TEST_CRASH_IN' && step === 'erase' ? 'found-done' : 'performed');

    // One erasure and one revocation in the workspace, whatever happened.
    expect(filesUnder(join(store, 'sources/demo/seed-42/erased'))).toHaveLength(1);
    expect(filesUnder(join(store, 'sources/demo/seed-42/revoked'))).toHaveLength(1);
    expect(await members(store)).not.toContain(member);

    // A single verified archive is the backup; a crash inside export leaves one orphan, never used.
    const archives = filesUnder(join(store, 'archives')).map((f) => `archives/${f}`);
    expect(archives).toContain(o['backupKey']);
    expect(archives).toHaveLength(variable === 'HANDOVER_TEST_CRASH_IN' && step === 'export' ? 2 : 1);
    expect(o['archiveKey']).toBe(o['backupKey']);

    const records = await auditRecords(store);
    const successes = (action: string) => records.filter((r) => r.action === action && r.outcome === 'success');
    // Each step is audited once, except that a step killed after its work (and before its journal entry) is audited again by the rerun.
    expect(successes('offboard.erase')).toHaveLength(1);
    expect(successes('offboard.verify')).toHaveLength(1);
    expect(successes('offboard.verify')[0]!.target).toBe(o['backupKey']);
    expect(successes('offboard.file-backup')).toHaveLength(1);
    // The erase record comes after the verify record of the archive kept.
    expect(successes('offboard.erase')[0]!.seq).toBeGreaterThan(successes('offboard.verify')[0]!.seq);
    await auditIntact(store);
  });
});

describe('handover offboard: never erases without a verified backup', () => {
  const tmp = tempDir('handover-offboard-damaged-');
  afterAll(() => tmp.cleanup());

  it('a stored archive damaged after the export fails verification: nothing is revoked or erased, and the next run exports afresh', async () => {
    const store = join(tmp.dir, 'store');
    const args = ['offboard', '--member', 'zoe', '--source', SOURCE, '--reason', 'left the company', '--yes', '--json'];
    const killed = await cli(store, args, { HANDOVER_TEST_CRASH_AFTER: 'export' });
    expect(killed.signal).toBe('SIGKILL');
    const [stored] = filesUnder(join(store, 'archives'));
    const path = join(store, 'archives', stored!);
    const bytes = readFileSync(path);
    const middle = bytes.length >> 1;
    bytes[middle] = bytes[middle]! ^ 1;
    writeFileSync(path, bytes);

    const refused = await cli(store, args);
    expect(refused.code).toBe(1);
    const err = json(refused)['error'];
    expect(err).toMatchObject({ code: 'E_OFFBOARD_VERIFY_FAILED', step: 'verify' });
    expect(err.message).toMatch(/failed verification \(.*E_AGE_CHUNK_AUTH.*\): nothing was revoked or erased/);
    expect(await members(store)).toContain('zoe');
    expect(filesUnder(join(store, 'sources'))).toEqual([]);

    const r = await cli(store, args);
    expect(r.code, r.stderr).toBe(0);
    const o = json(r);
    expect(o['resumedFrom']).toBe('export');
    expect(o['backupKey']).not.toBe(`archives/${stored}`);
    expect(o['erasure']).toBe('performed');
    const records = await auditRecords(store);
    expect(records.filter((x) => x.action === 'offboard.verify').map((x) => `${x.outcome}:${x.target}`)).toEqual([
      `failure:archives/${stored}`,
      `success:${o['backupKey']}`,
    ]);
    await auditIntact(store);
  });
});
