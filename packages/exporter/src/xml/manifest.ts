import { XMLBuilder } from 'fast-xml-parser';
import type { SkippedItem } from '../source/source.js';
import type { ExportRequest } from '../export/view.js';
import type { ManifestEntry } from '../archive/zip-sink.js';
import type { PartLimits } from './xml-view.js';
import { ARCHIVE_NAMESPACE, FORMAT_VERSION } from './namespace.js';
import { Escaper, xmlSafe } from './escape.js';

export interface ManifestCounts {
  memberships: number;
  conversations: number;
  messages: number;
  files: number;
  filesIncluded: number;
  fileBytes: number;
  grants: number;
}

export interface Manifest {
  formatVersion: string;
  generator: { name: string; version: string };
  createdAt: Date;
  source: string;
  subject: { id: string; displayName: string };
  request: ExportRequest;
  options: { pseudonymizeOthers: boolean; includeSharedFiles: boolean; html: boolean; limits: PartLimits };
  counts: ManifestCounts;
  replacedCharacters: number;
  skipped: readonly SkippedItem[];
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  format: true,
  indentBy: '  ',
  suppressEmptyNode: true,
  // "true" must stay html="true": XML has no bare boolean attributes.
  suppressBooleanAttributes: false,
});

/** The manifest around its entry list: `head + entry lines + tail` is the whole document. */
export interface ManifestFrame {
  head: string;
  tail: string;
}

// The manifest's head is small and built with fast-xml-parser; its strings are made
// XML-safe first because the builder escapes markup but not illegal characters.
export function renderManifestFrame(m: Manifest): ManifestFrame {
  const doc = {
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    manifest: {
      '@_xmlns': ARCHIVE_NAMESPACE,
      '@_formatVersion': FORMAT_VERSION,
      generator: { '@_name': m.generator.name, '@_version': m.generator.version },
      createdAt: m.createdAt.toISOString(),
      source: xmlSafe(m.source),
      subject: { '@_id': xmlSafe(m.subject.id), displayName: xmlSafe(m.subject.displayName) },
      request: {
        '@_id': xmlSafe(m.request.id),
        '@_scope': m.request.scope,
        reason: xmlSafe(m.request.reason),
        requester: xmlSafe(m.request.requester),
        legalBasis: xmlSafe(m.request.legalBasis),
      },
      options: {
        '@_pseudonymizeOthers': String(m.options.pseudonymizeOthers),
        '@_includeSharedFiles': String(m.options.includeSharedFiles),
        '@_html': String(m.options.html),
        '@_maxMessagesPerPart': String(m.options.limits.maxRecords),
        '@_maxBytesPerPart': String(m.options.limits.maxBytes),
      },
      counts: Object.fromEntries(Object.entries(m.counts).map(([k, v]) => [`@_${k}`, String(v)])),
      replacements: { '@_characters': String(m.replacedCharacters), '@_replacement': 'U+FFFD' },
      ...(m.skipped.length > 0
        ? { skipped: { item: m.skipped.map((s) => ({ '@_file': xmlSafe(s.file), ...(s.line ? { '@_line': String(s.line) } : {}), '#text': xmlSafe(s.reason) })) } }
        : {}),
    },
  };
  const head = builder.build(doc) as string;
  const end = head.lastIndexOf('</manifest>');
  if (end < 0) throw new Error('manifest: the builder wrote no </manifest>');
  return { head: head.slice(0, end) + '  <entries>\n', tail: '  </entries>\n' + head.slice(end) };
}

const lineEscaper = new Escaper();

/**
 * One entry's line. The entry list grows with the archive (23,000 lines at 10,000,000
 * demo messages): the zip sink renders each line once the entry is hashed and keeps it
 * as UTF-8 outside the heap, instead of an object per entry until the end.
 */
export function manifestEntryLine(e: ManifestEntry): string {
  return `    <entry path="${lineEscaper.attr(e.path)}" size="${e.size}" sha256="${e.sha256}" kind="${e.kind}"${e.records === undefined ? '' : ` records="${e.records}"`}/>\n`;
}
