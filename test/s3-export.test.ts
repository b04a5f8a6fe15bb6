// End to end against a loopback S3 (moto): export into s3://…, look at the object from
// outside Handover, decrypt it with the system `age`, share it, rotate the master key,
// shred the subject's key, and kill the endpoint mid-upload.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { finished, run, runCli, startCli, tempDir, type CliResult } from './support/cli.js';
import { createBucket, listMultipartUploads, motoEnv, startMotoServer, type MotoServer } from './support/moto-server.js';
import { getObject, getObjectTagging, headObject, listObjects, listObjectVersions, putObject, s3Http, type S3Http } from './support/s3-http.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** `s3://bucket/a/b` → { bucket, key: 'a/b' } */
function splitUrl(url: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!m) throw new Error(`not an s3:// object URL: ${url}`);
  return { bucket: m[1]!, key: m[2]! };
}

function parseJson<T = Record<string, any>>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${r.code}):\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/** Every secret a command could leak, in the forms it could leak them. */
function secretForms(base64Key: string): string[] {
  const raw = Buffer.from(base64Key, 'base64');
  return [base64Key, raw.toString('hex'), raw.toString('base64url')];
}

/** Runs the system `age` on a pseudo-terminal (util-linux `script`): age reads passphrases only from a TTY. */
function ageOnPty(args: string[], input: string): Promise<CliResult> {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return run('script', ['-qec', `age ${quoted}`, '/dev/null'], { input });
}

async function waitFor(cond: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`${what}: not seen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('handover with an S3 store (moto, object-lock bucket)', () => {
  const bucket = 'handover';
  const store = `s3://${bucket}/prod`;
  // Made in beforeAll, so that a run filtered to other tests leaves no directory behind.
  let tmp: ReturnType<typeof tempDir>;
  /** stdout and stderr of every command run here, checked for key material at the end. */
  const outputs: string[] = [];
  const secrets: string[] = [];
  let moto: MotoServer;
  let s3: S3Http;
  let masterKey = randomBytes(32).toString('base64');
  const firstMasterKey = masterKey;
  let subjectId: string;
  let subjectRecipient: string;
  /** alice exported to the key ring only. */
  let ringOnly: Record<string, any>;
  /** alice exported to the key ring and to her own age key. */
  let withRecipient: Record<string, any>;

  const env = (): NodeJS.ProcessEnv => ({ ...motoEnv(moto.endpoint), HANDOVER_MASTER_KEY: masterKey, XDG_CONFIG_HOME: join(tmp.dir, 'config') });

  async function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> {
    const r = await runCli(args, { cwd: tmp.dir, env: { ...env(), ...extraEnv } });
    outputs.push(`$ handover ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
    return r;
  }

  async function sh(cmd: string, args: string[]): Promise<CliResult> {
    const r = await run(cmd, args, { cwd: tmp.dir });
    outputs.push(`$ ${cmd} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
    return r;
  }

  beforeAll(async () => {
    tmp = tempDir('handover-s3-');
    subjectId = join(tmp.dir, 'subject-identity.txt');
    moto = await startMotoServer();
    s3 = s3Http(moto.endpoint);
    // As docker-compose.yml creates it: object lock, hence versioning.
    await createBucket(moto.endpoint, bucket, { objectLock: true });

    const kg = await run('age-keygen', ['-o', subjectId]);
    expect(kg.code, kg.stderr).toBe(0);
    const identityText = readFileSync(subjectId, 'utf8');
    const secret = /AGE-SECRET-KEY-1[0-9A-Z]+/.exec(identityText)![0];
    secrets.push(secret, secret.toLowerCase());
    subjectRecipient = /public key: (age1[0-9a-z]+)/.exec(identityText)![1]!;

    const a = await cli(['export', '--member', 'alice', '--store', store, '--reason', 'access request 2026-17', '--json']);
    expect(a.code, a.stderr).toBe(0);
    ringOnly = parseJson(a);
    const b = await cli(['export', '--member', 'alice', '--store', store, '--recipient', subjectRecipient, '--no-html', '--json']);
    expect(b.code, b.stderr).toBe(0);
    withRecipient = parseJson(b);
  });

  afterAll(async () => {
    await moto?.stop();
    tmp?.cleanup();
  });

  it('prints the s3:// URL of an encrypted archive whose key ends in .zip.age and carries no subject id', () => {
    for (const x of [ringOnly, withRecipient]) {
      expect(x['encrypted']).toBe(true);
      expect(x['archive']).toBe(`${store}/${x['key']}`);
      expect(x['key']).toMatch(/^archives\/.+\.zip\.age$/);
      expect(x['key']).not.toContain('alice');
      expect(x['subjectRef']).toMatch(/^[0-9a-f]{16,}$/);
      expect(x['key']).toContain(x['subjectRef']);
      expect(x['sha256']).toMatch(/^[0-9a-f]{64}$/);
      expect(x['zipSha256']).toMatch(/^[0-9a-f]{64}$/);
      expect(x['class']).toBe('export-download');
      expect(Date.parse(x['retainUntil'])).toBeGreaterThan(Date.now());
      expect(x['counts']['messages']).toBeGreaterThan(100);
    }
    expect(withRecipient['key']).not.toBe(ringOnly['key']);
  });

  it('the object exists with its retention metadata and tags, and its bytes are the printed size and SHA-256', async () => {
    const { bucket: b, key } = splitUrl(ringOnly['archive']);
    expect(b).toBe(bucket);
    const head = await headObject(s3, bucket, key);
    expect(head, `HeadObject ${key}`).toBeDefined();
    expect(head!.size).toBe(ringOnly['bytes']);
    expect(head!.metadata).toMatchObject({
      'handover-format': 'handover-archive-v1+age',
      'handover-class': 'export-download',
      'handover-retain-until': ringOnly['retainUntil'],
      'handover-subject-ref': ringOnly['subjectRef'],
    });
    expect(Date.parse(head!.metadata['handover-created-at']!)).toBeLessThanOrEqual(Date.now());
    expect(JSON.stringify(head!.metadata)).not.toContain('alice');

    const tags = await getObjectTagging(s3, bucket, key);
    expect(tags).toEqual({
      'handover-class': 'export-download',
      'handover-retain-until': ringOnly['retainUntil'].slice(0, 10),
      'handover-sha256': ringOnly['sha256'],
    });

    const bytes = await getObject(s3, bucket, key);
    expect(bytes.length).toBe(ringOnly['bytes']);
    expect(sha256(bytes)).toBe(ringOnly['sha256']);
    expect(bytes.subarray(0, 22).toString('latin1')).toBe('age-encryption.org/v1\n');
    // Nothing of the member's plaintext shows through.
    expect(bytes.includes(Buffer.from('manifest.xml'))).toBe(false);
  });

  it('`handover verify s3://…` passes and `inspect s3://…` shows the manifest summary', async () => {
    const v = await cli(['verify', ringOnly['archive'], '--store', store, '--json']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const report = parseJson(v);
    expect(report['ok']).toBe(true);
    expect(report['encrypted']).toBe(true);
    expect(report['problems']).toEqual([]);
    expect(report['summary']['counts']['messages']).toBe(ringOnly['counts']['messages']);

    const i = await cli(['inspect', ringOnly['archive'], '--store', store]);
    expect(i.code, i.stderr).toBe(0);
    expect(i.stdout).toContain('(encrypted, age v1)');
    expect(i.stdout).toContain('access request 2026-17');
    expect(i.stdout).toMatch(/subject\s+alice/);

    // HANDOVER_STORE works as well as --store, and a store key as well as the URL.
    const byKey = await cli(['verify', ringOnly['key']], { HANDOVER_STORE: store });
    expect(byKey.code, byKey.stderr).toBe(0);
    expect(byKey.stdout).toMatch(/^OK /);
  });

  it('the downloaded object decrypts with the system `age -d -i <identity>`; the zip passes `unzip -t` and is the zip Handover hashed', async () => {
    const { key } = splitUrl(withRecipient['archive']);
    const file = join(tmp.dir, 'downloaded.zip.age');
    writeFileSync(file, await getObject(s3, bucket, key));
    const out = join(tmp.dir, 'age-decrypted.zip');
    const d = await sh('age', ['-d', '-i', subjectId, '-o', out, file]);
    expect(d.code, d.stderr).toBe(0);
    expect(sha256(readFileSync(out))).toBe(withRecipient['zipSha256']);
    const t = await sh('unzip', ['-t', out]);
    expect(t.code, t.stdout + t.stderr).toBe(0);
    expect(t.stdout).toContain('No errors detected');
    expect(t.stdout).toContain('manifest.xml');

    // The archive written to the key ring only is not readable with somebody else's key.
    const other = join(tmp.dir, 'ring-only.zip.age');
    writeFileSync(other, await getObject(s3, bucket, splitUrl(ringOnly['archive']).key));
    const refused = await sh('age', ['-d', '-i', subjectId, '-o', join(tmp.dir, 'nope.zip'), other]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/no identity matched/i);
  });

  it('`handover decrypt s3://… --out` gives the same zip with the key ring and with --identity', async () => {
    const viaRing = join(tmp.dir, 'ring.zip');
    const r = await cli(['decrypt', ringOnly['archive'], '--store', store, '--out', viaRing, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson(r)).toMatchObject({ encrypted: true, out: viaRing });
    expect(sha256(readFileSync(viaRing))).toBe(ringOnly['zipSha256']);
    expect((await sh('unzip', ['-tq', viaRing])).code).toBe(0);

    const viaRing2 = join(tmp.dir, 'ring2.zip');
    const r2 = await cli(['decrypt', withRecipient['archive'], '--store', store, '--out', viaRing2]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(sha256(readFileSync(viaRing2))).toBe(withRecipient['zipSha256']);

    const viaIdentity = join(tmp.dir, 'identity.zip');
    const i = await cli(['decrypt', withRecipient['archive'], '--store', store, '--identity', subjectId, '--out', viaIdentity]);
    expect(i.code, i.stderr).toBe(0);
    expect(sha256(readFileSync(viaIdentity))).toBe(withRecipient['zipSha256']);
  });

  // BUG (reported to the lead): the decrypting stream errors before anything listens to it
  // and the process dies of an unhandled 'error' event, printing a stack trace.
  it('an identity that does not match: decrypt and verify fail with a clear error, not a crash, and write nothing', async () => {
    const refused = join(tmp.dir, 'refused.zip');
    const no = await cli(['decrypt', ringOnly['archive'], '--store', store, '--identity', subjectId, '--out', refused, '--json']);
    expect(no.code).toBe(1);
    expect(existsSync(refused)).toBe(false);
    expect(no.stderr).not.toMatch(/Unhandled 'error' event|^\s+at /m);
    expect(no.stderr).toMatch(/^error: cannot decrypt .*no identity matches/m);
    expect(parseJson(no)['error']['code']).toBe('E_AGE_NO_MATCH');

    const v = await cli(['verify', ringOnly['archive'], '--store', store, '--identity', subjectId]);
    expect(v.code).toBe(1);
    expect(v.stderr).not.toMatch(/Unhandled 'error' event|^\s+at /m);
    expect(v.stderr).toMatch(/^error: cannot decrypt .*no identity matches/m);
  });

  it('Handover decrypts and verifies what the system `age -r` writes', async () => {
    const plain = join(tmp.dir, 'ring.zip');
    const byAge = join(tmp.dir, 'by-age.zip.age');
    const e = await sh('age', ['-r', subjectRecipient, '-o', byAge, plain]);
    expect(e.code, e.stderr).toBe(0);
    const v = await cli(['verify', byAge, '--identity', subjectId, '--json']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(parseJson(v)).toMatchObject({ ok: true, encrypted: true });
    const back = join(tmp.dir, 'by-age-decrypted.zip');
    const d = await cli(['decrypt', byAge, '--identity', subjectId, '--out', back]);
    expect(d.code, d.stderr).toBe(0);
    expect(readFileSync(back).equals(readFileSync(plain))).toBe(true);
  });

  it('`share --expires 7d` prints a presigned GET URL that downloads the object; more than 7 days is refused', async () => {
    const s = await cli(['share', ringOnly['archive'], '--store', store, '--expires', '7d', '--json']);
    expect(s.code, s.stderr).toBe(0);
    const shared = parseJson(s);
    expect(shared['url']).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/handover\/prod\/archives\/.+\.zip\.age\?.*X-Amz-Signature=/);
    expect(shared['url']).toContain('X-Amz-Expires=604800');
    expect(Date.parse(shared['expiresAt']) - Date.now()).toBeGreaterThan(7 * 86400_000 - 600_000);
    const res = await fetch(shared['url']);
    expect(res.status).toBe(200);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(ringOnly['sha256']);

    for (const too of ['8d', '169h', 'P8D']) {
      const r = await cli(['share', ringOnly['archive'], '--store', store, '--expires', too]);
      expect(r.code, too).toBe(2);
      expect(r.stderr).toMatch(/7 days/);
      expect(r.stdout).not.toMatch(/https?:\/\//);
    }
    // A local store has no download links.
    const local = await cli(['share', join(tmp.dir, 'ring.zip'), '--store', join(tmp.dir, 'local-store')]);
    expect(local.code).toBe(2);
    expect(local.stderr).toMatch(/S3/);
  });

  it('`--passphrase-file` with `--out` writes a passphrase-only file the system `age -d` opens', async () => {
    const pw = join(tmp.dir, 'passphrase.txt');
    const passphrase = 'correct horse battery staple 7';
    secrets.push(passphrase);
    writeFileSync(pw, passphrase + '\n', { mode: 0o600 });
    const file = join(tmp.dir, 'for-alice.zip.age');
    const r = await cli(['export', '--member', 'alice', '--store', store, '--out', file, '--passphrase-file', pw, '--no-html', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = parseJson(r);
    expect(result['encrypted']).toBe(true);
    const head = readFileSync(file).subarray(0, 200).toString('latin1');
    expect(head).toMatch(/^age-encryption\.org\/v1\n-> scrypt /);
    // The passphrase is the only recipient: age allows nothing else beside it.
    expect(head).not.toMatch(/-> X25519/);
    const out = join(tmp.dir, 'for-alice.zip');
    const d = await ageOnPty(['-d', '-o', out, file], passphrase + '\n');
    expect(d.code, d.stdout + d.stderr).toBe(0);
    expect(sha256(readFileSync(out))).toBe(result['zipSha256']);
    expect((await sh('unzip', ['-tq', out])).code).toBe(0);

    const wrong = await ageOnPty(['-d', '-o', join(tmp.dir, 'wrong.zip'), file], 'not the passphrase\n');
    expect(wrong.code).not.toBe(0);

    // A stored archive must stay readable by the key ring, so no passphrase there.
    const stored = await cli(['export', '--member', 'alice', '--store', store, '--passphrase-file', pw]);
    expect(stored.code).toBe(2);
    expect(stored.stderr).toMatch(/--passphrase-file needs --out/);
  });

  it('`--no-encrypt` writes a plain zip only to a local --out file, and says so loudly', async () => {
    const before = await listObjects(s3, bucket, 'prod/archives/');
    const refused = await cli(['export', '--member', 'alice', '--store', store, '--no-encrypt', '--json']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--no-encrypt is allowed only with --out/);
    expect(await listObjects(s3, bucket, 'prod/archives/')).toEqual(before);

    const plain = join(tmp.dir, 'plain.zip');
    const r = await cli(['export', '--member', 'alice', '--store', store, '--out', plain, '--no-encrypt', '--no-html', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: .*UNENCRYPTED/);
    expect(r.stderr).toContain(plain);
    expect(parseJson(r)['encrypted']).toBe(false);
    expect(readFileSync(plain).subarray(0, 2).toString('latin1')).toBe('PK');
    expect((await sh('unzip', ['-tq', plain])).code).toBe(0);
  });

  it('`keys rotate-master` re-wraps the key ring: the new master key decrypts an earlier archive, the old one no longer does, the archive is untouched', async () => {
    const { key } = splitUrl(ringOnly['archive']);
    const etagBefore = (await headObject(s3, bucket, key))!.headers.get('etag');
    const newKey = randomBytes(32).toString('base64');
    const newKeyFile = join(tmp.dir, 'new-master.key');
    writeFileSync(newKeyFile, newKey + '\n', { mode: 0o600 });
    secrets.push(...secretForms(firstMasterKey), ...secretForms(newKey));

    const r = await cli(['keys', 'rotate-master', '--store', store, '--new-key-file', newKeyFile, '--reason', 'yearly rotation', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson(r)['rewrapped']).toBeGreaterThanOrEqual(1);

    const old = await cli(['decrypt', ringOnly['archive'], '--store', store, '--out', join(tmp.dir, 'old-master.zip')]);
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/master key/);
    expect(existsSync(join(tmp.dir, 'old-master.zip'))).toBe(false);

    masterKey = newKey;
    const out = join(tmp.dir, 'new-master.zip');
    const ok = await cli(['decrypt', ringOnly['archive'], '--store', store, '--out', out]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(sha256(readFileSync(out))).toBe(ringOnly['zipSha256']);
    expect((await headObject(s3, bucket, key))!.headers.get('etag')).toBe(etagBefore);
  });

  it('after `keys shred`, decrypting, verifying or exporting that subject fails with a clear E_KEY_SHREDDED error', async () => {
    const s = await cli(['keys', 'shred', '--store', store, '--subject', 'alice', '--reason', 'erasure request 2026-17', '--json']);
    expect(s.code, s.stderr).toBe(0);
    expect(parseJson(s)).toMatchObject({ subjectRef: ringOnly['subjectRef'], shredded: true });

    const out = join(tmp.dir, 'after-shred.zip');
    const d = await cli(['decrypt', ringOnly['archive'], '--store', store, '--out', out, '--json']);
    expect(d.code).toBe(1);
    expect(parseJson(d)['error']['code']).toBe('E_KEY_SHREDDED');
    expect(d.stderr).toMatch(/^error: .*shredded/m);
    expect(existsSync(out)).toBe(false);

    const v = await cli(['verify', ringOnly['archive'], '--store', store]);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/shredded/);

    const again = await cli(['export', '--member', 'alice', '--store', store, '--no-html', '--json']);
    expect(again.code).toBe(1);
    expect(parseJson(again)['error']['code']).toBe('E_KEY_SHREDDED');

    const l = await cli(['keys', 'list', '--store', store, '--json']);
    expect(l.code, l.stderr).toBe(0);
    expect(parseJson(l)['keys']).toContainEqual(expect.objectContaining({ ref: ringOnly['subjectRef'], state: 'shredded' }));

    // The archive itself is still there, untouched: only the key is gone.
    expect(await headObject(s3, bucket, splitUrl(ringOnly['archive']).key)).toBeDefined();
    // What was also encrypted to the subject's own key stays readable by the subject.
    const own = join(tmp.dir, 'own-after-shred.zip');
    const o = await cli(['decrypt', withRecipient['archive'], '--store', store, '--identity', subjectId, '--out', own]);
    expect(o.code, o.stderr).toBe(0);
  });

  // BUG (reported to the lead): in a versioned bucket — and an object-lock bucket is always
  // versioned, as docker-compose.yml creates it — `keys shred` only adds a delete marker:
  // the wrapped key stays as a noncurrent version, and with the master key the system
  // decrypts the "shredded" subject's archives again.
  it('after `keys shred` no version of the wrapped key remains that the system could decrypt with', async () => {
    const ref = ringOnly['subjectRef'] as string;
    const versions = await listObjectVersions(s3, bucket, `prod/keys/subjects/${ref}.json`);
    const kept = versions.filter((v) => !v.deleteMarker);
    // Put the newest surviving version back where a key ring reads it, under another prefix,
    // and ask Handover to decrypt the archive with it.
    const newest = kept.find((v) => v.isLatest) ?? kept[0];
    if (newest !== undefined) {
      await putObject(s3, bucket, `recovered/keys/subjects/${ref}.json`, await getObject(s3, bucket, newest.key, newest.versionId));
      await putObject(s3, bucket, 'recovered/keys/ring.json', await getObject(s3, bucket, 'prod/keys/ring.json'));
    }
    const out = join(tmp.dir, 'recovered.zip');
    const r = await cli(['decrypt', ringOnly['archive'], '--store', `s3://${bucket}/recovered`, '--out', out]);
    expect(r.code, `decrypted a shredded subject's archive from a noncurrent version of keys/subjects/${ref}.json`).toBe(1);
    expect(kept.map((v) => v.versionId)).toEqual([]);
  });

  // BUG? (reported to the lead): the archive's URL says which store it is in, yet without
  // --store / HANDOVER_STORE the key ring is looked for in the default local store, and the
  // error ("no key exists for subject ref …") names neither that store nor --store. On the
  // way it writes a new keys/ring.json into that local store.
  it('`handover verify s3://…` works from the URL alone, with no --store configured', async () => {
    const v = await cli(['verify', withRecipient['archive'], '--identity', subjectId]);
    expect(v.code, v.stderr).toBe(0);
    const fresh = await cli(['export', '--member', 'bob', '--store', store, '--json']);
    expect(fresh.code, fresh.stderr).toBe(0);
    const r = await cli(['verify', parseJson(fresh)['archive']]);
    expect.soft(r.code, r.stderr).toBe(0);
    // A read-only command must not leave a key ring behind in the default local store.
    expect.soft(existsSync(join(tmp.dir, 'handover-data', 'keys')), 'verify created ./handover-data/keys').toBe(false);
  });

  it('no command printed key material: no age secret key, master key or passphrase in any output', () => {
    expect(outputs.length).toBeGreaterThan(20);
    const all = outputs.join('\n');
    expect(all).not.toMatch(/AGE-SECRET-KEY-1/i);
    for (const s of [...secrets, ...secretForms(firstMasterKey), ...secretForms(masterKey)]) expect(all.includes(s), 'a secret appears in the output').toBe(false);
  });
});

describe('export to S3 when the endpoint fails mid-upload', () => {
  const bucket = 'handover-fault';
  // Big enough that the multipart upload is well under way when we strike.
  const big = ['--source', 'demo:messages=300000,attachmentBytes=400000000', '--no-html'];
  let tmp: ReturnType<typeof tempDir>;
  const masterKey = randomBytes(32).toString('base64');
  let moto: MotoServer;
  let s3: S3Http;
  const env = (endpoint: string): NodeJS.ProcessEnv => ({ ...motoEnv(endpoint), HANDOVER_MASTER_KEY: masterKey, XDG_CONFIG_HOME: join(tmp.dir, 'config') });

  beforeAll(() => {
    tmp = tempDir('handover-s3-fault-');
  });
  // A server of its own for each test: one of them kills it.
  beforeEach(async () => {
    moto = await startMotoServer();
    s3 = s3Http(moto.endpoint);
    await createBucket(moto.endpoint, bucket);
  });
  afterEach(async () => {
    await moto?.stop();
  });
  afterAll(() => tmp?.cleanup());

  /** Starts a big export and resolves once its multipart upload is open on the server. */
  async function startBigExport(prefix: string, endpoint: string) {
    const child = startCli(['export', '--member', 'alice', '--store', `s3://${bucket}/${prefix}`, ...big, '--json'], { cwd: tmp.dir, env: env(endpoint) });
    const done = finished(child);
    let exited = false;
    void done.then(() => (exited = true), () => (exited = true));
    await waitFor(async () => exited || (await listMultipartUploads(moto.endpoint, bucket, `${prefix}/archives/`)).length > 0, 'a multipart upload of the archive');
    expect(exited, 'the export finished before the upload could be interrupted').toBe(false);
    return { child, done };
  }

  it('the endpoint killed mid-upload: exit 1 with an error naming the object; a rerun after a restart succeeds and is the only object', async () => {
    const prefix = 'killed';
    const { done } = await startBigExport(prefix, moto.endpoint);
    moto.kill();
    const r = await done;
    // Soft: whatever the exit, the rest (nothing visible, a clean rerun) is still checked.
    expect.soft(r.code, `exit ${r.code}${r.code === 13 ? ' (Node: main() never settled)' : ''}\n${r.stderr}`).toBe(1);
    expect.soft(r.stderr).toMatch(new RegExp(`^error: writing s3://${bucket}/${prefix}/archives/\\S+\\.zip\\.age failed: `, 'm'));
    expect.soft(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m); // a message, not a stack trace
    expect.soft(r.stdout).toMatch(/"error":\{"code":"E_/);

    // moto keeps everything in memory: it comes back empty, so the bucket is made again.
    await moto.restart();
    await createBucket(moto.endpoint, bucket);
    const again = await runCli(['export', '--member', 'alice', '--store', `s3://${bucket}/${prefix}`, ...big, '--json'], { cwd: tmp.dir, env: env(moto.endpoint) });
    expect(again.code, again.stderr).toBe(0);
    const result = parseJson(again);
    expect(await listObjects(s3, bucket, `${prefix}/archives/`)).toEqual([`${prefix}/${result['key']}`]);
    expect(await listMultipartUploads(moto.endpoint, bucket, prefix)).toEqual([]);
    const v = await runCli(['verify', result['archive'], '--store', `s3://${bucket}/${prefix}`], { cwd: tmp.dir, env: env(moto.endpoint) });
    expect(v.code, v.stdout + v.stderr).toBe(0);
  });

  it('the connection cut mid-upload while the server keeps its state: no object is visible; after it comes back the rerun is the only archive', async () => {
    const prefix = 'cut';
    const proxy: TcpProxy = await startTcpProxy(moto.port);
    try {
      const { done } = await startBigExport(prefix, proxy.endpoint);
      await proxy.cut();
      const r = await done;
      expect.soft(r.code, `exit ${r.code}${r.code === 13 ? ' (Node: main() never settled)' : ''}\n${r.stderr}`).toBe(1);
      expect.soft(r.stderr).toMatch(new RegExp(`^error: writing s3://${bucket}/${prefix}/archives/\\S+\\.zip\\.age failed: `, 'm'));
      // Seen straight on the server: the half-written archive is nowhere to be listed or read.
      expect(await listObjects(s3, bucket, `${prefix}/archives/`)).toEqual([]);

      await proxy.resume();
      const again = await runCli(['export', '--member', 'alice', '--store', `s3://${bucket}/${prefix}`, ...big, '--json'], { cwd: tmp.dir, env: env(proxy.endpoint) });
      expect(again.code, again.stderr).toBe(0);
      const result = parseJson(again);
      expect(await listObjects(s3, bucket, `${prefix}/archives/`)).toEqual([`${prefix}/${result['key']}`]);
      const v = await runCli(['verify', result['archive'], '--store', `s3://${bucket}/${prefix}`], { cwd: tmp.dir, env: env(proxy.endpoint) });
      expect(v.code, v.stdout + v.stderr).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('Ctrl-C mid-upload with the endpoint up: exit 130, no object and no open multipart upload', async () => {
    const prefix = 'interrupted';
    const { child, done } = await startBigExport(prefix, moto.endpoint);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/interrupted/);
    expect(await listObjects(s3, bucket, `${prefix}/archives/`)).toEqual([]);
    expect(await listMultipartUploads(moto.endpoint, bucket, prefix)).toEqual([]);
  });
});
