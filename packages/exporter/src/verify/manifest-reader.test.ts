import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createDemoSource } from '../sources/demo/index.js';
import { exportMember } from '../export/export-member.js';
import { archiveSchema } from '../xml/namespace.js';
import { DocumentChecker } from './document-check.js';
import { readManifest } from './manifest-reader.js';
import { openZip, readAll } from './zip-reader.js';

const dir = mkdtempSync(join(tmpdir(), 'handover-manifest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let manifest = '';
let checker: DocumentChecker;

beforeAll(async () => {
  const archive = join(dir, 'a.zip');
  await exportMember({ source: createDemoSource({ messages: 300, attachmentBytes: 200_000 }), member: 'alice' }, (zip) => pipeline(zip, createWriteStream(archive)));
  const zip = await openZip(archive);
  manifest = (await readAll(await zip.open(zip.entries.find((e) => e.fileName === 'manifest.xml')!), 1 << 30, 'manifest.xml')).toString('utf8');
  zip.close();
  checker = await DocumentChecker.create(archiveSchema());
});

/** Whole: one piece bigger than any manifest here. */
const whole = (text: string) => readManifest(text, checker, 1_000_000);
/** In pieces of 3 entries. */
const pieces = (text: string) => readManifest(text, checker, 3);

/** The manifest with its `n`th entry line (0-based) changed by `edit`. */
function editEntry(n: number, edit: (line: string) => string): string {
  const lines = manifest.split('\n');
  const at = lines.findIndex((l) => l.startsWith('    <entry ')) + n;
  expect(lines[at]).toMatch(/^ {4}<entry /);
  lines[at] = edit(lines[at]!);
  return lines.join('\n');
}

describe('readManifest', () => {
  it('reads a manifest in pieces exactly as whole: the same entries and root, no problems', () => {
    const w = whole(manifest);
    const p = pieces(manifest);
    expect(w.entries.length).toBeGreaterThan(20);
    expect(p.entries).toEqual(w.entries);
    expect(p.root).toEqual(w.root);
    expect(p.root?.['counts']).toBeDefined();
    expect(p.root?.['entries']).toBeUndefined();
    expect(p.schemaProblems).toEqual([]);
    expect(w.schemaProblems).toEqual([]);
  });

  it('reports an invalid entry in a later piece at its line in the whole manifest', () => {
    const bad = editEntry(17, (l) => l.replace(/ kind="[^"]*"/, ' kind="bogus"').replace(/ size="\d+"/, ' size="-1"'));
    const w = whole(bad);
    const p = pieces(bad);
    expect(w.schemaProblems.length).toBeGreaterThan(0);
    expect(p.schemaProblems).toEqual(w.schemaProblems);
    const line = bad.split('\n').findIndex((l) => l.includes('kind="bogus"')) + 1;
    expect(p.schemaProblems.every((x) => x.line === line)).toBe(true);
  });

  it('says a problem of the frame around the entries once, at its own line', () => {
    // Past the entries, so its line in each piece differs from its line in the manifest.
    const bad = manifest.replace('</manifest>', '<unexpected/></manifest>');
    const w = whole(bad);
    const p = pieces(bad);
    expect(w.schemaProblems).toHaveLength(1);
    expect(p.schemaProblems).toEqual(w.schemaProblems);
    expect(p.schemaProblems[0]?.line).toBe(bad.split('\n').findIndex((l) => l.includes('<unexpected/>')) + 1);
  });

  it('keeps both lines of an entry listed twice in different pieces, for the caller to name', () => {
    const lines = manifest.split('\n');
    const first = lines.findIndex((l) => l.startsWith('    <entry '));
    lines.splice(first + 10, 0, lines[first]!);
    const twice = lines.join('\n');
    const r = pieces(twice);
    // The XSD's unique paths hold within a piece only; across pieces, the entries show it.
    expect(r.schemaProblems).toEqual([]);
    expect(r.entries.filter((e) => e.path === r.entries[0]!.path)).toHaveLength(2);
    expect(whole(twice).schemaProblems[0]?.message).toMatch(/uniqueEntryPath/);
  });

  it('checks a manifest laid out differently whole, with the same result', () => {
    const oneLine = manifest.replace(/\n\s*/g, '');
    expect(pieces(oneLine).entries).toEqual(whole(manifest).entries);
    expect(pieces(oneLine).schemaProblems).toEqual([]);
    const bad = oneLine.replace(/ kind="file"/, ' kind="bogus"');
    expect(pieces(bad).schemaProblems).toEqual(whole(bad).schemaProblems);
    expect(pieces(bad).schemaProblems.length).toBeGreaterThan(0);
  });

  it('reads one skipped source record as a list of one, as it reads many', () => {
    const one = manifest.replace('  <entries>\n', '  <skipped><item file="channels/general/2024-01-01.json" line="3">not JSON</item></skipped>\n  <entries>\n');
    const r = pieces(one);
    expect(r.schemaProblems).toEqual([]);
    expect(r.root?.['skipped']?.item).toEqual([{ file: 'channels/general/2024-01-01.json', line: '3', '#text': 'not JSON' }]);
  });

  it('says why a manifest without its root element cannot be read', () => {
    const r = pieces(manifest.replace('<manifest ', '<manifesto ').replace('</manifest>', '</manifesto>'));
    expect(r.root).toBeUndefined();
    expect(r.parseError).toMatch(/not <manifest>/);
    expect(r.schemaProblems.length).toBeGreaterThan(0);
  });
});
