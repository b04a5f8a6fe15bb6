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
  entries: readonly ManifestEntry[];
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

// The manifest's head is small and built with fast-xml-parser; its strings are made
// XML-safe first because the builder escapes markup but not illegal characters.
export function renderManifest(m: Manifest): string {
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
  return head.slice(0, end) + renderEntries(m.entries) + head.slice(end);
}

/**
 * The entry list grows with the archive (23,000 lines at 10,000,000 demo messages):
 * written line by line like the message parts, since the builder's object tree and
 * output for that many took about 32 MB of heap at the very end of the export.
 */
function renderEntries(entries: readonly ManifestEntry[]): string {
  const esc = new Escaper();
  const lines: string[] = ['  <entries>\n'];
  for (const e of entries) {
    lines.push(
      `    <entry path="${esc.attr(e.path)}" size="${e.size}" sha256="${e.sha256}" kind="${e.kind}"${e.records === undefined ? '' : ` records="${e.records}"`}/>\n`,
    );
  }
  lines.push('  </entries>\n');
  return lines.join('');
}
