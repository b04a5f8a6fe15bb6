import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { archiveSchema, ARCHIVE_NAMESPACE, SCHEMA_ENTRY } from '../xml/namespace.js';
import { DocumentChecker, formatProblem, type DocumentResult } from './document-check.js';
import { parseManifest, readManifest, type ManifestEntryRecord } from './manifest-reader.js';
import { DocumentPool } from './document-pool.js';
import { openZip, readAll, type ZipReader } from './zip-reader.js';

export interface VerifyProblem {
  /** Stable code: E_ZIP, E_MANIFEST, E_MISSING, E_EXTRA, E_SIZE, E_SHA256, E_CRC, E_SCHEMA, E_SCHEMA_CHANGED, E_PARSE, E_COUNT. */
  code: string;
  /** The entry the problem is in, when there is one. */
  entry?: string;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  archive: string;
  problems: VerifyProblem[];
  /** Entries checked against the manifest, and their total uncompressed bytes. */
  entries: number;
  bytes: number;
  documents: number;
  summary?: ArchiveSummary;
}

export interface ArchiveSummary {
  formatVersion: string;
  generator: string;
  createdAt: string;
  source: string;
  subject: { id: string; displayName: string };
  request: { id: string; scope: string; reason: string; requester: string; legalBasis: string };
  counts: Record<string, number>;
  replacedCharacters: number;
  skipped: number;
  entries: number;
}

/** Bound of one XML document the verifier will hold; the format's parts are at most 16 MiB plus one oversized message. */
const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024;

const crc32: ((data: Uint8Array, value?: number) => number) | undefined = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;

/**
 * Checks an archive end to end: the zip, every manifest size and SHA-256, that no
 * entry is missing or extra, that every XML document is valid against the v1 XSD
 * (in-process, libxml2 compiled to WebAssembly) and parses back with fast-xml-parser
 * to the counts the manifest states. Documents are checked one part at a time, on a
 * thread per core, while the main thread reads and hashes the zip.
 */
export async function verifyArchive(path: string): Promise<VerifyReport> {
  const report: VerifyReport = { ok: false, archive: path, problems: [], entries: 0, bytes: 0, documents: 0 };
  const problem = (code: string, message: string, entry?: string): void => {
    report.problems.push({ code, message, ...(entry === undefined ? {} : { entry }) });
  };

  let zip: ZipReader;
  try {
    zip = await openZip(path);
  } catch (err) {
    problem('E_ZIP', `not a readable zip archive: ${(err as Error).message}`);
    return report;
  }
  try {
    await check(zip, report, problem);
  } finally {
    zip.close();
  }
  report.ok = report.problems.length === 0;
  return report;
}

async function check(zip: ZipReader, report: VerifyReport, problem: (code: string, message: string, entry?: string) => void): Promise<void> {
  const byName = new Map(zip.entries.map((e) => [e.fileName, e]));
  if (byName.size !== zip.entries.length) problem('E_ZIP', 'the zip holds two entries with the same name');
  const manifestEntry = byName.get('manifest.xml');
  if (!manifestEntry) {
    problem('E_MANIFEST', 'manifest.xml is missing: this is not a Handover archive, or it was cut short', 'manifest.xml');
    return;
  }

  const schema = archiveSchema();
  // The text is not kept: a manifest of 200,000 entries is 34 MB of the verifier's heap.
  const reading = readManifest(
    (await readAll(await zip.open(manifestEntry), MAX_DOCUMENT_BYTES, 'manifest.xml')).toString('utf8'),
    await DocumentChecker.create(schema),
  );
  for (const p of reading.schemaProblems) problem('E_SCHEMA', `not valid against the v1 XSD: ${formatProblem(p)}`, 'manifest.xml');
  const manifest = reading.root;
  if (manifest === undefined) {
    problem('E_MANIFEST', `manifest.xml does not parse: ${reading.parseError ?? 'no <manifest> root'}`, 'manifest.xml');
    return;
  }
  if (manifest['xmlns'] !== ARCHIVE_NAMESPACE) problem('E_MANIFEST', `manifest.xml is not in namespace ${ARCHIVE_NAMESPACE}`, 'manifest.xml');

  const listed = new Map<string, ManifestEntryRecord>();
  for (const rec of reading.entries) {
    // Two lines for one path: only one could be checked against the zip, so the other would pass unseen.
    if (listed.has(rec.path)) problem('E_MANIFEST', 'the manifest lists this entry more than once', rec.path);
    listed.set(rec.path, rec);
  }

  report.summary = summarize(manifest, listed.size);
  const counted: Record<string, number> = { conversations: 0, messages: 0, files: 0, grants: 0, filesIncluded: 0, fileBytes: 0 };
  const fileHashes = new Map<string, string>();
  const pool = new DocumentPool(schema);
  try {
    for (const entry of zip.entries) {
      const name = entry.fileName;
      if (name === 'manifest.xml') continue;
      if (name.endsWith('/') && entry.uncompressedSize === 0) continue; // a directory record
      const expected = listed.get(name);
      if (!expected) {
        problem('E_EXTRA', `entry is in the zip but not in the manifest`, name);
        continue;
      }
      const isDocument = name.endsWith('.xml') || name.endsWith('.xsd');
      const hash = createHash('sha256');
      let size = 0;
      let crc = 0;
      const chunks: Buffer[] = [];
      try {
        const stream = await zip.open(entry);
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          hash.update(chunk);
          if (crc32) crc = crc32(chunk, crc);
          size += chunk.length;
          if (isDocument) {
            if (size > MAX_DOCUMENT_BYTES) throw new Error(`document larger than ${MAX_DOCUMENT_BYTES} bytes`);
            chunks.push(chunk);
          }
        }
      } catch (err) {
        problem('E_ZIP', `cannot read the entry: ${(err as Error).message}`, name);
        continue;
      }
      report.entries++;
      report.bytes += size;
      const sha = hash.digest('hex');
      if (crc32 && crc >>> 0 !== entry.crc32 >>> 0) problem('E_CRC', 'CRC-32 does not match the zip directory', name);
      if (size !== expected.size) problem('E_SIZE', `size is ${size} bytes, the manifest says ${expected.size}`, name);
      if (sha !== expected.sha256) problem('E_SHA256', `SHA-256 is ${sha}, the manifest says ${expected.sha256}`, name);
      if (expected.kind === 'file') {
        // The manifest's string when they agree: one copy of each hash, not two, for archives of many files.
        fileHashes.set(name, sha === expected.sha256 ? expected.sha256 : sha);
        counted['fileBytes']! += size;
      }
      if (!isDocument) continue;
      const bytes = Buffer.concat(chunks, size);
      if (name === SCHEMA_ENTRY) {
        if (bytes.toString('utf8') !== schema) problem('E_SCHEMA_CHANGED', 'the bundled XSD differs from the published v1 schema', name);
        continue;
      }
      if (!name.endsWith('.xml')) continue;
      report.documents++;
      await pool.submit({ name, kind: expected.kind, bytes });
    }
    for (const r of await pool.results()) {
      const expected = listed.get(r.name)!;
      tally(r, expected, counted, fileHashes, problem);
    }
  } finally {
    await pool.close();
  }

  for (const path of listed.keys()) {
    if (!byName.has(path)) problem('E_MISSING', 'entry is in the manifest but not in the zip', path);
  }
  const stated = report.summary.counts;
  for (const key of ['conversations', 'messages', 'files', 'grants', 'filesIncluded', 'fileBytes'] as const) {
    if (stated[key] !== undefined && stated[key] !== counted[key]) {
      problem('E_COUNT', `the manifest counts ${stated[key]} ${key}, the archive holds ${counted[key]}`, 'manifest.xml');
    }
  }
}

function tally(
  r: DocumentResult,
  expected: ManifestEntryRecord,
  counted: Record<string, number>,
  fileHashes: Map<string, string>,
  problem: (code: string, message: string, entry?: string) => void,
): void {
  for (const e of r.schemaErrors) problem('E_SCHEMA', `not valid against the v1 XSD: ${e}`, r.name);
  if (r.parseError !== undefined) {
    problem('E_PARSE', `does not parse back: ${r.parseError}`, r.name);
    return;
  }
  if (r.wrongNamespace) problem('E_PARSE', `the root element is not in namespace ${ARCHIVE_NAMESPACE}`, r.name);
  const key = expected.kind === 'subject' ? undefined : expected.kind;
  if (key !== undefined && key in counted) counted[key]! += r.records;
  for (const f of r.includedFiles ?? []) {
    counted['filesIncluded']!++;
    if (f.path !== undefined && f.sha256 !== undefined && fileHashes.has(f.path) && fileHashes.get(f.path) !== f.sha256) {
      problem('E_SHA256', `files.xml gives SHA-256 ${f.sha256} for ${f.path}, its bytes hash to ${fileHashes.get(f.path)}`, r.name);
    }
  }
  if (expected.records !== undefined && expected.records !== r.records) {
    problem('E_COUNT', `holds ${r.records} records, the manifest says ${expected.records}`, r.name);
  }
}

function summarize(m: Record<string, any>, entries: number): ArchiveSummary {
  const counts: Record<string, number> = {};
  for (const [k, v] of Object.entries((m['counts'] ?? {}) as Record<string, string>)) counts[k] = Number(v);
  return {
    formatVersion: String(m['formatVersion'] ?? ''),
    generator: `${m['generator']?.name ?? '?'} ${m['generator']?.version ?? ''}`.trim(),
    createdAt: String(m['createdAt'] ?? ''),
    source: String(m['source'] ?? ''),
    subject: { id: String(m['subject']?.id ?? ''), displayName: String(m['subject']?.displayName ?? '') },
    request: {
      id: String(m['request']?.id ?? ''),
      scope: String(m['request']?.scope ?? ''),
      reason: String(m['request']?.reason ?? ''),
      requester: String(m['request']?.requester ?? ''),
      legalBasis: String(m['request']?.legalBasis ?? ''),
    },
    counts,
    replacedCharacters: Number(m['replacements']?.characters ?? 0),
    skipped: (m['skipped']?.item ?? []).length,
    entries,
  };
}

/** Reads only the manifest: what `handover inspect` shows, without extracting anything else. */
export async function inspectArchive(path: string): Promise<ArchiveSummary> {
  const zip = await openZip(path);
  try {
    const entry = zip.entries.find((e) => e.fileName === 'manifest.xml');
    if (!entry) throw new Error(`'${path}' has no manifest.xml: it is not a Handover archive`);
    const text = (await readAll(await zip.open(entry), MAX_DOCUMENT_BYTES, 'manifest.xml')).toString('utf8');
    const { root, entries } = parseManifest(text);
    if (!root) throw new Error(`'${path}': manifest.xml has no <manifest> root`);
    return summarize(root, entries.length);
  } finally {
    zip.close();
  }
}
