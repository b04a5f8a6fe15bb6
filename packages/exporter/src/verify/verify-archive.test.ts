import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ZipArchive } from 'archiver';
import { createDemoSource } from '../sources/demo/index.js';
import { exportMember } from '../export/export-member.js';
import { openZip, readAll } from './zip-reader.js';
import { verifyArchive } from './verify-archive.js';

const dir = mkdtempSync(join(tmpdir(), 'handover-verify-'));
const good = join(dir, 'good.zip');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await exportMember({ source: createDemoSource({ messages: 300, attachmentBytes: 200_000 }), member: 'alice' }, (zip) => pipeline(zip, createWriteStream(good)));
});

/**
 * Rewrites an archive, changing entries with `edit` and keeping the manifest's sizes and hashes in step when
 * `fixManifest`; then the manifest itself with `editManifest`.
 */
async function rewrite(
  out: string,
  edit: (name: string, text: string) => string | undefined,
  fixManifest: boolean,
  editManifest: (text: string) => string = (text) => text,
): Promise<void> {
  const zip = await openZip(good);
  const contents = new Map<string, Buffer>();
  for (const e of zip.entries) contents.set(e.fileName, await readAll(await zip.open(e), 1 << 30, e.fileName));
  zip.close();
  let manifest = contents.get('manifest.xml')!.toString('utf8');
  for (const [name, bytes] of contents) {
    if (name === 'manifest.xml' || !name.endsWith('.xml')) continue;
    const changed = edit(name, bytes.toString('utf8'));
    if (changed === undefined) continue;
    const next = Buffer.from(changed, 'utf8');
    if (fixManifest) {
      const before = `path="${name}" size="${bytes.length}" sha256="${createHash('sha256').update(bytes).digest('hex')}"`;
      const after = `path="${name}" size="${next.length}" sha256="${createHash('sha256').update(next).digest('hex')}"`;
      expect(manifest).toContain(before);
      manifest = manifest.replace(before, after);
    }
    contents.set(name, next);
  }
  contents.set('manifest.xml', Buffer.from(editManifest(manifest), 'utf8'));
  const archive = new ZipArchive();
  const done = pipeline(archive, createWriteStream(out));
  for (const [name, bytes] of contents) archive.append(bytes, { name });
  await archive.finalize();
  await done;
}

describe('verifyArchive', () => {
  it('accepts a fresh export', async () => {
    const r = await verifyArchive(good);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.documents).toBeGreaterThan(3);
  });

  it('names a document that is not valid against the XSD even when the manifest agrees with it', async () => {
    const out = join(dir, 'invalid.zip');
    await rewrite(out, (name, text) => (name === 'grants.xml' ? text.replace(/ status="(active|expired|revoked)"/, ' status="maybe"') : undefined), true);
    const r = await verifyArchive(out);
    expect(r.ok).toBe(false);
    expect(r.problems).toContainEqual(expect.objectContaining({ code: 'E_SCHEMA', entry: 'grants.xml' }));
    expect(r.problems.find((p) => p.entry === 'grants.xml')?.message).toMatch(/line \d+/);
  });

  it('names a document whose record count disagrees with the manifest', async () => {
    const out = join(dir, 'count.zip');
    // Drop one grant: still valid XML, but the counts no longer add up.
    await rewrite(out, (name, text) => (name === 'grants.xml' ? text.replace(/<grant [^]*?<\/grant>\n/, '') : undefined), true);
    const r = await verifyArchive(out);
    expect(r.problems).toContainEqual(expect.objectContaining({ code: 'E_COUNT', entry: 'grants.xml' }));
    expect(r.problems).toContainEqual(expect.objectContaining({ code: 'E_COUNT', entry: 'manifest.xml' }));
  });

  it('names a malformed document', async () => {
    const out = join(dir, 'malformed.zip');
    await rewrite(out, (name, text) => (name === 'subject.xml' ? text.replace('</subject>', '</subjec>') : undefined), true);
    const r = await verifyArchive(out);
    expect(r.problems.some((p) => p.entry === 'subject.xml' && (p.code === 'E_SCHEMA' || p.code === 'E_PARSE'))).toBe(true);
  });

  it('names an entry the manifest lists twice, which only one line could vouch for', async () => {
    const out = join(dir, 'twice.zip');
    await rewrite(out, () => undefined, false, (text) => text.replace(/\n( {4}<entry path="grants\.xml"[^\n]*)/, '\n$1\n$1'));
    const r = await verifyArchive(out);
    expect(r.ok).toBe(false);
    // The XSD says so too here; a manifest checked in pieces has the two lines in different pieces.
    expect(r.problems).toContainEqual(expect.objectContaining({ code: 'E_SCHEMA', entry: 'manifest.xml', message: expect.stringMatching(/uniqueEntryPath/) }));
    expect(r.problems).toContainEqual({ code: 'E_MANIFEST', entry: 'grants.xml', message: 'the manifest lists this entry more than once' });
  });

  it('reports a file that is not a zip', async () => {
    const r = await verifyArchive(join(dir, 'nothing-here.zip'));
    expect(r.ok).toBe(false);
    expect(r.problems[0]?.code).toBe('E_ZIP');
  });
});
