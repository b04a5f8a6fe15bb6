import { createHash } from 'node:crypto';
import { existsSync, readFileSync, openSync, readSync, writeSync, closeSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { NASTY_TEXTS, xmlSafe } from '@handover/exporter';
import { runCli, startCli, finished, tempDir, run } from './support/cli.js';
import { extract, listFiles, rawEntries } from './support/archive.js';

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, trimValues: false, htmlEntities: true, isArray: (n) => ['message', 'entry', 'file', 'grant', 'conversation', 'part'].includes(n) });

describe('handover export on the embedded default (demo source, local store)', () => {
  const tmp = tempDir();
  const archive = join(tmp.dir, 'alice.zip');
  let exported: { archive: string; sha256: string; bytes: number; counts: Record<string, number> };
  afterAll(() => tmp.cleanup());

  beforeAll(async () => {
    const r = await runCli(['export', '--member', 'alice', '--out', archive, '--no-encrypt', '--reason', 'backup before account deletion', '--json', '--store', tmp.dir]);
    expect(r.code, r.stderr).toBe(0);
    // An unencrypted archive is allowed for a local file only, and never silently.
    expect(r.stderr).toMatch(/warning: writing an UNENCRYPTED archive/);
    exported = JSON.parse(r.stdout);
  });

  it('prints exactly one JSON document with the archive, its sha256, bytes and counts', async () => {
    expect(exported.archive).toBe(archive);
    expect(exported.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(exported.bytes).toBe(readFileSync(archive).length);
    const sha = (await run('sha256sum', [archive])).stdout.split(' ')[0];
    expect(exported.sha256).toBe(sha);
    expect(exported.counts['messages']).toBeGreaterThan(100);
    expect(exported.counts['grants']).toBeGreaterThan(0);
    expect(exported.counts['filesIncluded']).toBeGreaterThan(0);
  });

  it('passes `unzip -t`', async () => {
    const r = await run('unzip', ['-t', archive]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/No errors detected/);
  });

  it('every XML document validates with `xmllint --schema` against the bundled XSD', async () => {
    const dir = join(tmp.dir, 'x');
    await extract(archive, dir);
    const files = listFiles(dir);
    expect(files).toContain('manifest.xml');
    expect(files).toContain('schema/handover-archive-v1.xsd');
    const xml = files.filter((f) => f.endsWith('.xml'));
    expect(xml.length).toBeGreaterThan(4);
    // One xmllint run per batch of documents keeps this quick.
    for (let i = 0; i < xml.length; i += 50) {
      const batch = xml.slice(i, i + 50);
      const r = await run('xmllint', ['--noout', '--schema', 'schema/handover-archive-v1.xsd', ...batch], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      for (const f of batch) expect(r.stderr).toContain(`${f} validates`);
    }
  });

  it('keeps nasty text exactly, replaces XML-illegal characters and records how many', async () => {
    const dir = join(tmp.dir, 'x');
    const manifest = parser.parse(readFileSync(join(dir, 'manifest.xml'), 'utf8')).manifest;
    const replaced = Number(manifest.replacements.characters);
    expect(replaced).toBeGreaterThan(20);
    const texts: string[] = [];
    for (const f of listFiles(dir).filter((p) => /^conversations\/.+\/messages-\d{4}\.xml$/.test(p))) {
      const doc = parser.parse(readFileSync(join(dir, f), 'utf8')).messages;
      for (const m of doc.message ?? []) texts.push(typeof m.text === 'string' ? m.text : '');
    }
    const all = texts.join('\n');
    // Every edge case of the demo workspace comes back exactly, illegal characters aside.
    for (const nasty of NASTY_TEXTS) expect(all, nasty.label).toContain(xmlSafe(nasty.text));
    expect(all).toContain('\uFFFD');
    expect(all).toContain('\r');
    expect(texts.some((t) => t.length >= 1_048_576)).toBe(true);
    expect(all).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/);
  });

  it('stores attachments under safe unique names and keeps the original names in files.xml', async () => {
    const dir = join(tmp.dir, 'x');
    const names = listFiles(dir).filter((f) => f.startsWith('files/'));
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(n).toMatch(/^files\/\d{6}-[A-Za-z0-9._-]+$/);
    const files = parser.parse(readFileSync(join(dir, 'files.xml'), 'utf8')).files.file as Record<string, any>[];
    const originals = files.map((f) => (typeof f.name === 'string' ? f.name : ''));
    expect(originals).toContain('../../etc/passwd');
    expect(originals).toContain('CON.txt');
    expect(originals).toContain('');
    expect(existsSync(join(dir, '..', 'etc', 'passwd'))).toBe(false);
  });

  it('`handover verify` passes, and `inspect` shows the manifest summary', async () => {
    const v = await runCli(['verify', archive, '--json']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const report = JSON.parse(v.stdout);
    expect(report.ok).toBe(true);
    expect(report.problems).toEqual([]);
    expect(report.summary.counts.messages).toBe(exported.counts['messages']);

    const i = await runCli(['inspect', archive]);
    expect(i.code).toBe(0);
    expect(i.stdout).toContain('alice');
    expect(i.stdout).toContain('backup before account deletion');
  });

  it('verify checks an archive of 50,000 more entries in a third of the heap the CLI allows', async () => {
    const dir = join(tmp.dir, 'many');
    await extract(archive, dir);
    const before = (await rawEntries(archive)).length;
    mkdirSync(join(dir, 'view', 'extra'), { recursive: true });
    const lines: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      const path = `view/extra/${String(i).padStart(6, '0')}.txt`;
      const bytes = Buffer.from(`entry ${i}\n`);
      writeFileSync(join(dir, path), bytes);
      lines.push(`    <entry path="${path}" size="${bytes.length}" sha256="${createHash('sha256').update(bytes).digest('hex')}" kind="asset"/>`);
    }
    const manifest = join(dir, 'manifest.xml');
    const text = readFileSync(manifest, 'utf8');
    expect(text).toContain('\n  </entries>\n');
    writeFileSync(manifest, text.replace('\n  </entries>\n', '\n' + lines.join('\n') + '\n  </entries>\n'));
    const many = join(tmp.dir, 'many.zip');
    const z = await run('zip', ['-q', '-r', '-0', many, '.'], { cwd: dir });
    expect(z.code, z.stderr).toBe(0);
    // 64 MB instead of the shebang's 192. yauzl's entries (~1 KB each) and the manifest parsed whole needed about 128.
    const v = await runCli(['verify', many, '--json'], { maxOldSpaceMB: 64 });
    expect(v.code, v.stderr.slice(-2000)).toBe(0);
    const report = JSON.parse(v.stdout);
    expect(report.problems).toEqual([]);
    // Every entry but the manifest is checked against it.
    expect(report.entries).toBe(before - 1 + 50_000);
  });

  it('verify fails naming the entry when one byte of a stored file is flipped', async () => {
    const copy = join(tmp.dir, 'flipped.zip');
    copyFileSync(archive, copy);
    const entries = await rawEntries(copy);
    const stored = entries.find((e) => e.name.startsWith('files/') && e.compressionMethod === 0 && e.compressedSize > 100)!;
    expect(stored).toBeDefined();
    // Local header is 30 bytes plus name and extra; read their lengths from the header itself.
    const fd = openSync(copy, 'r+');
    const header = Buffer.alloc(30);
    readSync(fd, header, 0, 30, stored.dataOffset);
    const start = stored.dataOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    const pos = start + Math.floor(stored.compressedSize / 2);
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, pos);
    b[0] = b[0]! ^ 0xff;
    writeSync(fd, b, 0, 1, pos);
    closeSync(fd);

    const v = await runCli(['verify', copy]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(stored.name);
    expect(v.stdout).toMatch(/SHA-256/);
  });

  it('verify fails when an entry is removed from the zip', async () => {
    const copy = join(tmp.dir, 'missing.zip');
    copyFileSync(archive, copy);
    const r = await run('zip', ['-q', '-d', copy, 'grants.xml']);
    expect(r.code).toBe(0);
    const v = await runCli(['verify', copy, '--json']);
    expect(v.code).toBe(1);
    const report = JSON.parse(v.stdout);
    expect(report.problems).toContainEqual(expect.objectContaining({ code: 'E_MISSING', entry: 'grants.xml' }));
  });
});

describe('handover export into the local store (the embedded default)', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('encrypts the archive with age, keeps it under a key without personal data, and verify/inspect/decrypt read it', async () => {
    const r = await runCli(['export', '--member', 'alice', '--store', tmp.dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.encrypted).toBe(true);
    expect(out.key).toMatch(/^archives\/\d{8}\/export-download\/[0-9a-f]{32}\/\d{8}T\d{6}Z-[0-9a-f]+\.zip\.age$/);
    expect(out.key).not.toContain('alice');
    expect(readFileSync(out.archive).subarray(0, 21).toString()).toBe('age-encryption.org/v1');

    const v = await runCli(['verify', out.archive, '--store', tmp.dir, '--json']);
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, encrypted: true });
    const i = await runCli(['inspect', out.key, '--store', tmp.dir, '--json']);
    expect(i.code, i.stderr).toBe(0);
    expect(JSON.parse(i.stdout).subject.id).toBe('alice');

    const plain = join(tmp.dir, 'plain.zip');
    const d = await runCli(['decrypt', out.archive, '--out', plain, '--store', tmp.dir]);
    expect(d.code, d.stderr).toBe(0);
    expect((await run('unzip', ['-t', plain])).code).toBe(0);
    // Without the master key the archive stays closed, and the error says why without leaking anything.
    const other = await runCli(['verify', out.archive, '--store', tmp.dir], { env: { HANDOVER_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') } });
    expect(other.code).toBe(1);
    expect(other.stderr).not.toMatch(/AGE-SECRET-KEY/);
  });
});

describe('handover export: scopes and pseudonyms', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('authored scope keeps only what the member wrote', async () => {
    const out = join(tmp.dir, 'authored.zip');
    const r = await runCli(['export', '--member', 'alice', '--scope', 'authored', '--out', out, '--no-encrypt', '--store', tmp.dir, '--json', '--no-html']);
    expect(r.code, r.stderr).toBe(0);
    const dir = join(tmp.dir, 'a');
    await extract(out, dir);
    const authors = new Set<string>();
    for (const f of listFiles(dir).filter((p) => p.includes('/messages-'))) {
      for (const m of parser.parse(readFileSync(join(dir, f), 'utf8')).messages.message ?? []) authors.add(m.author);
    }
    expect([...authors]).toEqual(['alice']);
    expect(listFiles(dir).some((f) => f.endsWith('.html'))).toBe(false);
  });

  it('--pseudonymize-others replaces other people consistently', async () => {
    const a = join(tmp.dir, 'p1.zip');
    const b = join(tmp.dir, 'p2.zip');
    for (const out of [a, b]) {
      const r = await runCli(['export', '--member', 'alice', '--pseudonymize-others', '--out', out, '--no-encrypt', '--store', tmp.dir, '--no-html']);
      expect(r.code, r.stderr).toBe(0);
    }
    const authorsOf = async (zip: string, d: string): Promise<string[]> => {
      await extract(zip, d);
      const out: string[] = [];
      for (const f of listFiles(d).filter((p) => p.includes('/messages-'))) {
        for (const m of parser.parse(readFileSync(join(d, f), 'utf8')).messages.message ?? []) out.push(m.author);
      }
      return out;
    };
    const first = await authorsOf(a, join(tmp.dir, 'p1'));
    const second = await authorsOf(b, join(tmp.dir, 'p2'));
    expect(first).toEqual(second);
    expect(first).toContain('alice');
    expect(first.filter((x) => x !== 'alice').every((x) => /^person-[0-9a-f]{12}$/.test(x))).toBe(true);
    expect(first).not.toContain('bob');
  });
});

describe('handover export: errors and crash safety', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('an unknown member exits 1 naming the member and the source, and writes nothing', async () => {
    const r = await runCli(['export', '--member', 'nobody', '--store', tmp.dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("member 'nobody' not found in source 'demo'");
    expect(filesUnder(join(tmp.dir, 'archives'))).toEqual([]);
  });

  it('a bad flag exits 2 with usage', async () => {
    const r = await runCli(['export', '--member', 'alice', '--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--frobnicate'/);
    expect(r.stderr).toMatch(/--help/);
    const s = await runCli(['export', '--member', 'alice', '--scope', 'everything']);
    expect(s.code).toBe(2);
  });

  it('kill -9 mid-export leaves nothing that looks like a finished archive, and a rerun succeeds', async () => {
    const store = join(tmp.dir, 'store');
    const child = startCli(['export', '--member', 'alice', '--source', 'demo:messages=400000,attachmentBytes=200000000', '--store', store, '--no-html']);
    const done = finished(child);
    // Wait until the export has started writing, then kill it without warning.
    await waitFor(() => filesUnder(join(store, 'archives')).length > 0);
    child.kill('SIGKILL');
    await done;
    const left = filesUnder(join(store, 'archives'));
    expect(left.length).toBeGreaterThan(0);
    expect(left.every((f) => f.includes('.partial-'))).toBe(true);

    const r = await runCli(['export', '--member', 'alice', '--store', store, '--json', '--no-html']);
    expect(r.code, r.stderr).toBe(0);
    const { archive } = JSON.parse(r.stdout);
    expect((await runCli(['verify', archive, '--store', store])).code).toBe(0);
  });

  it('Ctrl-C stops the export, removes the partial file and exits 130', async () => {
    const store = join(tmp.dir, 'store-int');
    const child = startCli(['export', '--member', 'alice', '--source', 'demo:messages=400000,attachmentBytes=200000000', '--store', store, '--no-html']);
    const done = finished(child);
    await waitFor(() => filesUnder(join(store, 'archives')).length > 0);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(filesUnder(join(store, 'archives'))).toEqual([]);
  });
});

/** Every file below `dir` (none when it does not exist). */
function filesUnder(dir: string): string[] {
  return existsSync(dir) ? listFiles(dir) : [];
}

async function waitFor(cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
