import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Store, type S3Store } from '@handover/core';
import { runCli, startCli, finished, tempDir } from './support/cli.js';
import { createBucket, motoEnv, startMotoServer, type MotoServer } from './support/moto-server.js';
import { archiveKeyFor, cliJson, DAY, lifecycleRulesOf, listKeys, pool, randomRef, readText, seedObjects } from './support/retention-fixtures.js';
import { getObjectLegalHold, getObjectTagging, s3Http, type S3Http } from './support/s3-http.js';

// Credentials and region for the S3 stores this process opens itself; the endpoint is set once moto runs.
Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' });

const iso = (t: number): string => new Date(t).toISOString();
const sorted = <T>(xs: T[]): T[] => [...xs].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
const TEST_CLOCK = { HANDOVER_ALLOW_CLOCK_OVERRIDE: 'test' };

let moto: MotoServer;
const bucket = 'handover-retention';

beforeAll(async () => {
  moto = await startMotoServer();
  process.env['AWS_ENDPOINT_URL_S3'] = moto.endpoint;
  await createBucket(moto.endpoint, bucket);
});

afterAll(async () => {
  await moto?.stop();
});

/** The CLI's environment for a store at `prefix` of the test bucket. */
function envFor(prefix: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...motoEnv(moto.endpoint), HANDOVER_STORE: `s3://${bucket}/${prefix}`, HANDOVER_ACTOR: 'ops@example.com', ...extra };
}

interface Exported {
  member: string;
  cls: string;
  key: string;
  subjectRef: string;
}

describe('retention of a store seeded by real exports (S3 on moto)', () => {
  const prefix = `seeded-${randomUUID()}`;
  let store: S3Store;
  const tmp = tempDir();
  let t0: number;
  const exported: Exported[] = [];
  const at = (member: string, cls: string): Exported => exported.find((e) => e.member === member && e.cls === cls)!;
  let now1: string;
  let now2: string;
  let now3: string;
  let bobHold: string;
  let dmitriHold: string;

  beforeAll(() => {
    store = createS3Store({ bucket, prefix });
  });
  afterAll(async () => {
    await store.close();
    tmp.cleanup();
  });

  it('seeds archives of every class with `handover export`, and places holds by subject and by object', async () => {
    t0 = Date.now();
    const plan: [string, string][] = [
      ['alice', 'export-download'],
      ['bob', 'gdpr-appeal'],
      ['carol', 'post-deletion-backup'],
      ['carol', 'export-download'],
      ['zoe', 'oauth-token'],
      ['dmitri', 'export-download'],
      ['priya', 'post-deletion-backup'],
      ['priya', 'financial-audit-log'],
      ['erin', 'gdpr-appeal'],
    ];
    await pool(plan, 3, async ([member, cls]) => {
      const r = await cliJson(['export', '--member', member, '--class', cls, '--no-html'], envFor(prefix));
      expect(r.code, r.stderr).toBe(0);
      expect(r.json.class).toBe(cls);
      exported.push({ member, cls, key: r.json.key, subjectRef: r.json.subjectRef });
    });
    // Months ahead of every archive's creation; the exports took well under a day.
    now1 = iso(t0 + 45 * DAY);
    now2 = iso(t0 + 200 * DAY);
    now3 = iso(t0 + 201 * DAY);

    const byObject = await cliJson(['hold', 'add', '--object', at('bob', 'gdpr-appeal').key, '--reason', 'litigation hold, matter 2026-17', '--actor', 'counsel@example.com'], envFor(prefix));
    expect(byObject.code, byObject.stderr).toBe(0);
    bobHold = byObject.json.hold.id;
    const bySubject = await cliJson(['hold', 'add', '--subject', 'dmitri', '--reason', 'regulator request R-88'], envFor(prefix));
    expect(bySubject.code, bySubject.stderr).toBe(0);
    dmitriHold = bySubject.json.hold.id;
    // The hold names the subject by its ref, never by the raw id.
    expect(bySubject.json.hold.scope).toEqual({ subjectRef: at('dmitri', 'export-download').subjectRef });
    const stored = await readText(store, `holds/${dmitriHold}/hold.json`);
    expect(stored).not.toContain('dmitri');

    const list = await cliJson(['hold', 'list'], envFor(prefix));
    expect(list.code).toBe(0);
    expect(list.json.holds.map((h: { id: string; active: boolean }) => [h.id, h.active]).sort()).toEqual([[bobHold, true], [dmitriHold, true]].sort());
    const audit = await cliJson(['audit', 'list', '--action', 'hold.add'], envFor(prefix));
    expect(audit.json.records).toHaveLength(2); // recorded once each, by the registry
  });

  it('`retention plan` at a date months ahead is exact, gives reasons, and changes nothing', async () => {
    const before = await listKeys(store);
    const r = await cliJson(['retention', 'plan'], envFor(prefix, { HANDOVER_NOW: now1 }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.now).toBe(now1);
    expect(r.json.changed).toBe(false);
    expect(r.json.clockOverride).toEqual({ now: now1, source: 'HANDOVER_NOW' });
    // 30-day and 7-day classes are due; 60-day, 180-day and 7-year ones are not; dmitri is held.
    expect(sorted(r.json.decisions.map((d: { key: string; action: string }) => [d.key, d.action]))).toEqual(
      sorted([
        [at('alice', 'export-download').key, 'delete'],
        [at('carol', 'export-download').key, 'delete'],
        [at('zoe', 'oauth-token').key, 'delete'],
        [at('dmitri', 'export-download').key, 'keep'],
      ]),
    );
    const zoe = r.json.decisions.find((d: { key: string }) => d.key === at('zoe', 'oauth-token').key);
    expect(zoe.reason).toMatch(/^due since .* under oauth-token \(P7D from /);
    const dmitri = r.json.decisions.find((d: { key: string }) => d.key === at('dmitri', 'export-download').key);
    expect(dmitri).toMatchObject({ holdId: dmitriHold, reason: `held by ${dmitriHold}: regulator request R-88` });
    expect(r.json.totals.delete.count).toBe(3);
    expect(r.json.totals.delete.bytes).toBe(r.json.decisions.filter((d: { action: string }) => d.action === 'delete').reduce((s: number, d: { size: number }) => s + d.size, 0));
    expect(r.json.totals.held.count).toBe(1);
    expect(r.json.shreds).toEqual([]);

    // --now says the same as HANDOVER_NOW; the human table names every due key and why.
    const flag = await cliJson(['retention', 'plan', '--now', now1], envFor(prefix));
    expect(flag.json.fingerprint).toBe(r.json.fingerprint);
    const human = await runCli(['retention', 'plan', '--now', now1], { env: envFor(prefix) });
    expect(human.code).toBe(0);
    for (const e of [at('alice', 'export-download'), at('zoe', 'oauth-token')]) expect(human.stdout).toContain(e.key);
    expect(human.stdout).toContain('keep (held)');
    expect(human.stdout).toMatch(/delete: 3 objects/);

    expect(await listKeys(store)).toEqual(before);
  });

  it('`retention run` refuses a clock override without the test switch (exit 2) and destroys nothing', async () => {
    const before = await listKeys(store);
    const r = await runCli(['retention', 'run', '--json'], { env: envFor(prefix, { HANDOVER_NOW: now1 }) });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('E_CLOCK_OVERRIDE');
    expect(r.stderr).toContain('HANDOVER_ALLOW_CLOCK_OVERRIDE=test');
    const flag = await runCli(['retention', 'run', '--now', now1], { env: envFor(prefix) });
    expect(flag.code).toBe(2);
    expect(await listKeys(store)).toEqual(before);
  });

  it('`retention run` deletes exactly what is due, keeps held objects, certifies and audits it (with the clock override on record), and a second run does nothing', async () => {
    const r = await cliJson(['retention', 'run'], envFor(prefix, { HANDOVER_NOW: now1, ...TEST_CLOCK }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.deleted.count).toBe(3);
    expect(r.json.deletedByAction).toEqual({ delete: 3, shred: 0 });
    expect(r.json.keyShreds).toBe(0);
    expect(r.json.certificates).toBe(3); // one per subject in the batch
    const keys = new Set(await listKeys(store, 'archives/'));
    for (const e of [at('alice', 'export-download'), at('carol', 'export-download'), at('zoe', 'oauth-token')]) expect(keys.has(e.key)).toBe(false);
    for (const e of exported.filter((x) => !['alice', 'zoe'].includes(x.member) && !(x.member === 'carol' && x.cls === 'export-download'))) expect(keys.has(e.key), e.key).toBe(true);

    const runs = await cliJson(['audit', 'list', '--action', 'retention.run'], envFor(prefix));
    expect(runs.json.records).toHaveLength(1);
    expect(runs.json.records[0].details).toMatchObject({ clockOverride: { now: now1, source: 'HANDOVER_NOW' }, runId: r.json.runId, deleted: 3 });
    // One audit record for the batch, naming its three subjects; `--subject-ref` finds it by any of them.
    const purges = await cliJson(['audit', 'list', '--action', 'retention.purge'], envFor(prefix));
    expect(purges.json.records).toHaveLength(1);
    for (const rec of purges.json.records) expect(rec.details.clockOverride).toEqual({ now: now1, source: 'HANDOVER_NOW' });
    expect(purges.json.records[0].details.subjects).toHaveLength(3);
    const bySubject = await cliJson(['audit', 'list', '--action', 'retention.purge', '--subject-ref', at('zoe', 'oauth-token').subjectRef], envFor(prefix));
    expect(bySubject.json.records).toHaveLength(1);

    const again = await cliJson(['retention', 'run'], envFor(prefix, { HANDOVER_NOW: now1, ...TEST_CLOCK }));
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.runId).toBeNull();
    expect(again.json.deleted.count).toBe(0);
    const certs = await cliJson(['audit', 'certificates'], envFor(prefix));
    expect(certs.json.certificates).toHaveLength(3);
    // One per subject, in one document for the batch; each prints as a certificate of its own.
    expect(new Set(certs.json.certificates.map((c: { key: string }) => c.key)).size).toBe(1);
    for (const c of certs.json.certificates as { id: string }[]) {
      const one = await cliJson(['audit', 'certificate', c.id], envFor(prefix));
      expect(one.code, one.stderr).toBe(0);
      expect(one.json.xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<erasureCertificate xmlns="urn:handover:erasure:v1" schemaVersion="1" id="/);
      expect(one.json.xml.match(/<subject ref=/g)).toHaveLength(1);
    }
  });

  it("crypto-shreds a subject's key once nothing of theirs may be kept: a backup copy no longer decrypts (E_KEY_SHREDDED); a subject with a retained archive keeps the key", async () => {
    const carolPdb = at('carol', 'post-deletion-backup');
    // A copy outside archives/ (a backup, a replica): deleting the archive cannot reach it, shredding the key does.
    const backup = 'backups/carol-post-deletion.zip.age';
    const info = (await store.head(carolPdb.key))!;
    await store.put(backup, await store.get(carolPdb.key), { metadata: info.metadata, contentType: 'application/octet-stream' });
    const before = await cliJson(['decrypt', backup, '--out', join(tmp.dir, 'before.zip')], envFor(prefix));
    expect(before.code, before.stderr).toBe(0);

    const p = await cliJson(['retention', 'plan'], envFor(prefix, { HANDOVER_NOW: now2 }));
    expect(p.code, p.stderr).toBe(0);
    expect(sorted(p.json.decisions.map((d: { key: string; action: string }) => [d.key, d.action]))).toEqual(
      sorted([
        [carolPdb.key, 'shred'],
        [at('priya', 'post-deletion-backup').key, 'delete'],
        [at('erin', 'gdpr-appeal').key, 'delete'],
        [at('bob', 'gdpr-appeal').key, 'keep'],
        [at('dmitri', 'export-download').key, 'keep'],
      ]),
    );
    expect(p.json.shreds.map((s: { subjectRef: string }) => s.subjectRef)).toEqual([carolPdb.subjectRef]);
    expect(p.json.deferredShreds).toHaveLength(1);
    expect(p.json.deferredShreds[0].subjectRef).toBe(at('priya', 'financial-audit-log').subjectRef);
    expect(Date.parse(p.json.deferredShreds[0].notBefore)).toBeGreaterThan(t0 + 7 * 365 * DAY);
    const priya = p.json.decisions.find((d: { key: string }) => d.key === at('priya', 'post-deletion-backup').key);
    expect(priya.reason).toContain('key shred deferred: subject has objects retained until');

    const r = await cliJson(['retention', 'run'], envFor(prefix, { HANDOVER_NOW: now2, ...TEST_CLOCK }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.deleted.count).toBe(3);
    expect(r.json.deletedByAction).toEqual({ delete: 2, shred: 1 });
    expect(r.json.keyShreds).toBe(1);
    expect(r.json.deferredShreds).toBe(1);

    const keys = await cliJson(['keys', 'list'], envFor(prefix));
    const state = (ref: string): string => keys.json.keys.find((k: { ref: string }) => k.ref === ref)?.state;
    expect(state(carolPdb.subjectRef)).toBe('shredded');
    expect(state(at('priya', 'financial-audit-log').subjectRef)).toBe('active');
    expect(state(at('dmitri', 'export-download').subjectRef)).toBe('active');

    const after = await cliJson(['decrypt', backup, '--out', join(tmp.dir, 'after.zip')], envFor(prefix));
    expect(after.code).toBe(1);
    expect(after.json.error.code).toBe('E_KEY_SHREDDED');
    const kept = await cliJson(['decrypt', at('priya', 'financial-audit-log').key, '--out', join(tmp.dir, 'priya.zip')], envFor(prefix));
    expect(kept.code, kept.stderr).toBe(0);

    const shreds = await cliJson(['audit', 'list', '--subject', 'carol', '--action', 'retention.crypto-shred'], envFor(prefix));
    expect(shreds.json.records).toHaveLength(1);
    expect(shreds.json.records[0]).toMatchObject({ outcome: 'success', subjectRef: carolPdb.subjectRef });
    const certId = shreds.json.records[0].details.certificateId as string;
    const cert = await cliJson(['audit', 'certificate', certId], envFor(prefix));
    expect(cert.code).toBe(0);
    expect(cert.json.id).toBe(certId);
    expect(cert.json.xml).toContain('crypto-shred');
    expect(cert.json.xml).toContain(carolPdb.subjectRef);
    const plain = await runCli(['audit', 'certificate', certId], { env: envFor(prefix) });
    expect(plain.stdout.trim()).toBe(cert.json.xml.trim());
    const missing = await cliJson(['audit', 'certificate', 'run-nope-b000001-000000000000'], envFor(prefix));
    expect(missing.code).toBe(1);
    expect(missing.json.error.code).toBe('E_CERTIFICATE_NOT_FOUND');
  });

  it('a hold stands until two different people approve its release; then the next run deletes what it kept', async () => {
    const bob = at('bob', 'gdpr-appeal');
    const first = await cliJson(['hold', 'approve-release', bobHold, '--actor', 'counsel@example.com', '--reason', 'matter settled'], envFor(prefix));
    expect(first.code, first.stderr).toBe(0);
    expect(first.json).toMatchObject({ released: false, approvals: 1, needed: 1 });
    const same = await cliJson(['hold', 'release', bobHold, '--actor', ' COUNSEL@example.com ', '--reason', 'really settled'], envFor(prefix));
    expect(same.json).toMatchObject({ released: false, approvals: 1, needed: 1, duplicate: true });
    const human = await runCli(['hold', 'release', bobHold, '--actor', 'counsel@example.com', '--reason', 'again'], { env: envFor(prefix) });
    expect(human.stdout).toContain('1 more approval by a different person needed');

    const stillHeld = await cliJson(['retention', 'plan'], envFor(prefix, { HANDOVER_NOW: now3 }));
    expect(stillHeld.json.decisions.find((d: { key: string }) => d.key === bob.key)).toMatchObject({ action: 'keep', holdId: bobHold });

    const second = await cliJson(['hold', 'release', bobHold, '--actor', 'dpo@example.com', '--reason', 'confirmed with counsel'], envFor(prefix));
    expect(second.json).toMatchObject({ released: true, approvals: 2, needed: 0 });
    const list = await cliJson(['hold', 'list', '--active'], envFor(prefix));
    expect(list.json.holds.map((h: { id: string }) => h.id)).toEqual([dmitriHold]);

    const approvals = await cliJson(['audit', 'list', '--action', 'hold.approve-release'], envFor(prefix));
    expect(approvals.json.records.map((r: { actor: string }) => r.actor)).toEqual(['counsel@example.com', 'dpo@example.com']);
    const releases = await cliJson(['audit', 'list', '--action', 'hold.release'], envFor(prefix));
    expect(releases.json.records).toHaveLength(1);

    const r = await cliJson(['retention', 'run'], envFor(prefix, { HANDOVER_NOW: now3, ...TEST_CLOCK }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.deleted.count).toBe(1);
    expect(await store.head(bob.key)).toBeUndefined();
    expect(await store.head(at('dmitri', 'export-download').key)).toBeDefined();
  });

  it('`audit verify` passes, and after one record is edited in the store it exits 1 naming that record', async () => {
    const ok = await cliJson(['audit', 'verify'], envFor(prefix));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json.ok).toBe(true);
    expect(ok.json.records).toBeGreaterThan(20);

    const victim = 'audit/000000000007.json';
    const rec = JSON.parse(await readText(store, victim));
    rec.reason = `${rec.reason} (edited)`;
    await store.put(victim, `${JSON.stringify(rec)}\n`, { contentType: 'application/json' });

    const bad = await cliJson(['audit', 'verify'], envFor(prefix));
    expect(bad.code).toBe(1);
    expect(bad.json.ok).toBe(false);
    expect(bad.json.firstBad).toMatchObject({ seq: 7, key: victim, problem: 'edited' });
    const human = await runCli(['audit', 'verify'], { env: envFor(prefix) });
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(`record 7 (${victim}): edited`);
  });
});

describe('kill -9 in the middle of `retention run`, then a rerun (S3 on moto)', () => {
  const prefix = `kill-${randomUUID()}`;
  let store: S3Store;
  const N = 300;
  const keys: string[] = [];
  beforeAll(async () => {
    store = createS3Store({ bucket, prefix });
    const created = Date.now() - 40 * DAY; // export-download (30 days): due for 10 days
    for (let i = 0; i < N; i++) keys.push(archiveKeyFor({ cls: 'export-download', days: 30, subjectRef: randomRef(), createdAt: created + i * 1000 }));
    await seedObjects(store, keys);
  });
  afterAll(() => store.close());

  it('loses nothing and doubles nothing: every due object is gone and certified exactly once', async () => {
    const t = Date.now();
    // 10 keys per delete, 30 per journal batch (certificate document): 10 batches.
    const env = envFor(prefix, { HANDOVER_NOW: iso(t), ...TEST_CLOCK, HANDOVER_TEST_PURGE_BATCH: '10/30' });
    const child = startCli(['retention', 'run', '--json'], { env });
    const done = finished(child);
    let exited = false;
    void done.then(() => (exited = true));
    // Kill it once some (not all) batches are certified: a later batch is being deleted.
    let certified = 0;
    while (!exited) {
      certified = (await listKeys(store, 'certificates/')).length;
      if (certified >= 3) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal, `the run finished before it could be killed: ${killed.stdout}`).toBe('SIGKILL');
    const partial = (await listKeys(store, 'certificates/')).length;
    expect(partial).toBeLessThan(N / 30);
    expect((await listKeys(store, 'retention/open-runs/')).length).toBe(1);

    // A crashed holder's lease lapses within two 10-minute windows: run again an hour later.
    const again = await cliJson(['retention', 'run'], envFor(prefix, { HANDOVER_NOW: iso(t + 3_600_000), ...TEST_CLOCK }));
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.resumedRuns).toHaveLength(1);
    expect(await listKeys(store, 'archives/')).toEqual([]);
    expect(await listKeys(store, 'retention/open-runs/')).toEqual([]);

    const certs = await cliJson(['audit', 'certificates'], envFor(prefix));
    expect(certs.json.certificates).toHaveLength(N); // one per subject, none twice
    const purges = await cliJson(['audit', 'list', '--action', 'retention.purge'], envFor(prefix));
    const certified_ = purges.json.records.filter((r: { outcome: string }) => r.outcome === 'success').flatMap((r: { details: { keys: string[] } }) => r.details.keys);
    expect(certified_).toHaveLength(N);
    expect(new Set(certified_)).toEqual(new Set(keys));
    const verify = await cliJson(['audit', 'verify'], envFor(prefix));
    expect(verify.json.ok).toBe(true);

    const third = await cliJson(['retention', 'run'], envFor(prefix, { HANDOVER_NOW: iso(t + 7_200_000), ...TEST_CLOCK }));
    expect(third.json.deleted.count).toBe(0);
    expect((await cliJson(['audit', 'certificates'], envFor(prefix))).json.certificates).toHaveLength(N);
  });
});

describe('`retention sync-lifecycle` (S3 on moto)', () => {
  const lcBucket = 'handover-lifecycle';
  const prefix = 'tenant-a';
  beforeAll(async () => {
    await createBucket(moto.endpoint, lcBucket);
  });
  const env = (): NodeJS.ProcessEnv => ({ ...motoEnv(moto.endpoint), HANDOVER_STORE: `s3://${lcBucket}/${prefix}`, HANDOVER_ACTOR: 'ops@example.com' });

  it('--dry-run prints the rules and writes none', async () => {
    const r = await cliJson(['retention', 'sync-lifecycle', '--dry-run'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.dryRun).toBe(true);
    expect(r.json.rules.find((x: { class?: string }) => x.class === 'export-download')).toMatchObject({ days: 37, id: 'handover:tenant-a/:export-download' });
    expect((await lifecycleRulesOf(moto.endpoint, lcBucket)).status).toBe(404);
  });

  it('writes one tag-filtered Expiration rule per class (duration + 7 days) and an AbortIncompleteMultipartUpload rule; idempotent', async () => {
    const r = await cliJson(['retention', 'sync-lifecycle'], env());
    expect(r.code, r.stderr).toBe(0);
    const { status, xml } = await lifecycleRulesOf(moto.endpoint, lcBucket);
    expect(status).toBe(200);
    const rules = xml.split('<Rule>').slice(1);
    const expected: Record<string, number> = { 'export-download': 37, 'gdpr-appeal': 67, 'oauth-token': 14, 'post-deletion-backup': 187, 'financial-audit-log': 7 * 366 + 7 };
    for (const [cls, days] of Object.entries(expected)) {
      const rule = rules.find((x) => x.includes(`<ID>handover:tenant-a/:${cls}</ID>`));
      expect(rule, cls).toBeDefined();
      expect(rule).toContain(`<Days>${days}</Days>`);
      expect(rule).toContain('<Prefix>tenant-a/archives/</Prefix>');
      expect(rule).toMatch(new RegExp(`<Tag>\\s*<Key>handover-class</Key>\\s*<Value>${cls}</Value>\\s*</Tag>`));
    }
    const abort = rules.find((x) => x.includes('AbortIncompleteMultipartUpload'));
    expect(abort).toContain('<DaysAfterInitiation>1</DaysAfterInitiation>');
    expect(rules).toHaveLength(6);

    const again = await cliJson(['retention', 'sync-lifecycle'], env());
    expect(again.code).toBe(0);
    expect(again.json.replaced).toHaveLength(6);
    expect((await lifecycleRulesOf(moto.endpoint, lcBucket)).xml.split('<Rule>')).toHaveLength(7);

    const audit = await cliJson(['audit', 'list', '--action', 'retention.sync-lifecycle'], env());
    expect(audit.json.records).toHaveLength(2);
  });

  it("the rules' tag is the one real archives carry", async () => {
    const e = await cliJson(['export', '--member', 'sam', '--class', 'gdpr-appeal', '--no-html'], env());
    expect(e.code, e.stderr).toBe(0);
    const store = createS3Store({ bucket: lcBucket, prefix });
    try {
      expect((await store.head(e.json.key))!.tags['handover-class']).toBe('gdpr-appeal');
    } finally {
      await store.close();
    }
  });

  it('refuses a local store (exit 2)', async () => {
    const tmp = tempDir();
    try {
      const r = await cliJson(['retention', 'sync-lifecycle', '--store', tmp.dir], {});
      expect(r.code).toBe(2);
      expect(r.json.error.code).toBe('E_NOT_S3');
    } finally {
      tmp.cleanup();
    }
  });
});

describe('retention policies in the config file', () => {
  it('a bad `retention` section exits 2 with `path: message` lines, for plan, run and worker', async () => {
    const tmp = tempDir();
    try {
      const config = join(tmp.dir, 'handover.config.yaml');
      writeFileSync(config, ['retention:', '  classes:', '    export-download: { duration: P3X }', '    chat-evidence: { duration: P2Y }', ''].join('\n'));
      for (const cmd of [['retention', 'plan'], ['retention', 'run'], ['worker', '--once']]) {
        const r = await runCli(['--config', config, '--store', join(tmp.dir, 'store'), ...cmd]);
        expect(r.code, cmd.join(' ')).toBe(2);
        expect(r.stderr).toContain("retention.classes.export-download.duration: invalid duration 'P3X'");
        expect(r.stderr).toContain("retention.classes.chat-evidence.legalBasis: required for the new class 'chat-evidence'");
      }
      const json = await cliJson(['--config', config, '--store', join(tmp.dir, 'store'), 'retention', 'plan'], {});
      expect(json.json.error.code).toBe('E_CONFIG');

      // A valid override applies: export-download lengthened to 45 days is not due at day 40.
      writeFileSync(config, ['retention:', '  classes:', '    export-download: { duration: P45D }', ''].join('\n'));
      const e = await cliJson(['--config', config, '--store', join(tmp.dir, 'store'), 'export', '--member', 'alice', '--no-html'], {});
      expect(e.code, e.stderr).toBe(0);
      const at40 = await cliJson(['--config', config, '--store', join(tmp.dir, 'store'), 'retention', 'plan', '--now', iso(Date.now() + 40 * DAY)], {});
      expect(at40.json.decisions).toEqual([]);
      const at46 = await cliJson(['--config', config, '--store', join(tmp.dir, 'store'), 'retention', 'plan', '--now', iso(Date.now() + 46 * DAY)], {});
      expect(at46.json.decisions.map((d: { key: string }) => d.key)).toEqual([e.json.key]);
    } finally {
      tmp.cleanup();
    }
  });
});

/** The lifecycle rules (as written to the bucket) whose filter selects an object with this key and these tags. */
function rulesMatching(xml: string, key: string, tags: Record<string, string>): string[] {
  const matching: string[] = [];
  for (const rule of xml.split('<Rule>').slice(1)) {
    if (!rule.includes('<Expiration>')) continue;
    const id = /<ID>([^<]*)<\/ID>/.exec(rule)?.[1] ?? '';
    const prefix = /<Prefix>([^<]*)<\/Prefix>/.exec(rule)?.[1] ?? '';
    const wanted = [...rule.matchAll(/<Tag>\s*<Key>([^<]*)<\/Key>\s*<Value>([^<]*)<\/Value>\s*<\/Tag>/g)].map((m) => [m[1]!, m[2]!] as const);
    if (key.startsWith(prefix) && wanted.every(([k, v]) => tags[k] === v)) matching.push(id);
  }
  return matching;
}

describe('a legal hold reaches the storage: no lifecycle rule matches a held archive, and Object Lock holds it (S3 on moto)', () => {
  const lockBucket = 'handover-lock';
  const prefix = 'tenant-held';
  let http: S3Http;
  const archives: { member: string; cls: string; key: string }[] = [];
  let holdId: string;
  const env = (): NodeJS.ProcessEnv => ({ ...motoEnv(moto.endpoint), HANDOVER_STORE: `s3://${lockBucket}/${prefix}`, HANDOVER_ACTOR: 'ops@example.com' });
  const full = (key: string): string => `${prefix}/${key}`;
  const tagsOf = (key: string): Promise<Record<string, string>> => getObjectTagging(http, lockBucket, full(key));
  const lockOf = (key: string): Promise<string | undefined> => getObjectLegalHold(http, lockBucket, full(key));

  beforeAll(async () => {
    http = s3Http(moto.endpoint);
    await createBucket(moto.endpoint, lockBucket, { objectLock: true });
    for (const [member, cls] of [['alice', 'export-download'], ['alice', 'gdpr-appeal'], ['bob', 'export-download']] as const) {
      const e = await cliJson(['export', '--member', member, '--class', cls, '--no-html'], env());
      expect(e.code, e.stderr).toBe(0);
      expect(e.json.heldBy).toBeUndefined();
      archives.push({ member, cls, key: e.json.key });
    }
    const r = await cliJson(['retention', 'sync-lifecycle'], env());
    expect(r.code, r.stderr).toBe(0);
  });

  it('`hold add --subject` takes the class tag out of every rule and turns the Object Lock legal hold ON, for the subject only', async () => {
    const { xml } = await lifecycleRulesOf(moto.endpoint, lockBucket);
    for (const a of archives) expect(rulesMatching(xml, full(a.key), await tagsOf(a.key)), a.key).toEqual([`handover:${prefix}/:${a.cls}`]);

    const add = await cliJson(['hold', 'add', '--subject', 'alice', '--reason', 'litigation hold, matter 2026-40', '--actor', 'counsel@example.com'], env());
    expect(add.code, add.stderr).toBe(0);
    holdId = add.json.hold.id;
    expect(add.json.storage).toMatchObject({ objects: 2, retagged: 2, legalHolds: 2, legalHoldUnsupported: false, failed: [] });
    for (const a of archives) {
      const tags = await tagsOf(a.key);
      if (a.member === 'alice') {
        expect(tags).toMatchObject({ 'handover-class': 'handover:held', 'handover-held-class': a.cls });
        expect(tags['handover-sha256']).toMatch(/^[0-9a-f]{64}$/); // the other tags stay
        expect(rulesMatching(xml, full(a.key), tags), a.key).toEqual([]);
        expect(await lockOf(a.key)).toBe('ON');
      } else {
        expect(tags['handover-class']).toBe(a.cls);
        expect(rulesMatching(xml, full(a.key), tags)).toHaveLength(1);
        expect(await lockOf(a.key)).not.toBe('ON');
      }
    }
    const audit = await cliJson(['audit', 'list', '--action', 'hold.storage-apply'], env());
    expect(audit.json.records).toHaveLength(1);
  });

  it('an archive written for the subject after the hold is held as it is written', async () => {
    const e = await cliJson(['export', '--member', 'alice', '--class', 'export-download', '--no-html'], env());
    expect(e.code, e.stderr).toBe(0);
    expect(e.json.heldBy).toBe(holdId);
    archives.push({ member: 'alice', cls: 'export-download', key: e.json.key });
    expect(await tagsOf(e.json.key)).toMatchObject({ 'handover-class': 'handover:held', 'handover-held-class': 'export-download' });
    expect(await lockOf(e.json.key)).toBe('ON');

    // sync-lifecycle re-applies the storage holds before writing rules, and now says so.
    const sync = await cliJson(['retention', 'sync-lifecycle'], env());
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.json.storageHolds).toMatchObject({ held: 3, released: 0, retagged: 0, failed: [] });
    expect(sync.json.warnings[0]).toContain('handover-class=handover:held');
    expect(sync.json.warnings.join('\n')).not.toMatch(/would still expire|knows nothing of legal holds/);

    // The repair command on its own: nothing left to change, and every run is on record with its reason.
    const repair = await cliJson(['hold', 'sync-storage'], env());
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.json.storage).toMatchObject({ held: 3, released: 0, retagged: 0, failed: [] });
    const synced = await cliJson(['audit', 'list', '--action', 'hold.storage-sync'], env());
    expect(synced.json.records.map((r: { reason: string; outcome: string }) => `${r.outcome}: ${r.reason}`)).toEqual([
      'success: keep held archives out of the lifecycle rules about to be written',
      'success: keep held archives out of the lifecycle rules about to be written',
      'success: make the storage holds agree with the legal holds',
    ]);
  });

  it('releasing with two approvals gives every archive its class tag back and turns the legal hold OFF', async () => {
    const first = await cliJson(['hold', 'approve-release', holdId, '--actor', 'counsel@example.com', '--reason', 'matter settled'], env());
    expect(first.json).toMatchObject({ released: false });
    expect(first.json.storage).toBeUndefined();
    for (const a of archives.filter((x) => x.member === 'alice')) expect(await lockOf(a.key)).toBe('ON');

    const second = await cliJson(['hold', 'approve-release', holdId, '--actor', 'dpo@example.com', '--reason', 'confirmed'], env());
    expect(second.code, second.stderr).toBe(0);
    expect(second.json).toMatchObject({ released: true, storage: { objects: 3, retagged: 3, legalHolds: 3, failed: [] } });
    const { xml } = await lifecycleRulesOf(moto.endpoint, lockBucket);
    for (const a of archives) {
      const tags = await tagsOf(a.key);
      expect(tags['handover-class'], a.key).toBe(a.cls);
      expect(tags['handover-held-class']).toBeUndefined();
      expect(rulesMatching(xml, full(a.key), tags), a.key).toEqual([`handover:${prefix}/:${a.cls}`]);
      if (a.member === 'alice') expect(await lockOf(a.key)).toBe('OFF');
    }
    const audit = await cliJson(['audit', 'list', '--action', 'hold.storage-release'], env());
    expect(audit.json.records).toHaveLength(1);
  });
});
