import { XMLParser } from 'fast-xml-parser';
import type { DocumentChecker, SchemaProblem } from './document-check.js';

/** One `<entry>` of the manifest. */
export interface ManifestEntryRecord {
  path: string;
  size: number;
  sha256: string;
  kind: string;
  records?: number;
}

/** What reading the manifest found. */
export interface ManifestReading {
  /** XSD problems, with their lines in the whole manifest; at most 20. */
  schemaProblems: SchemaProblem[];
  /** The `<manifest>` element as parsed, without its entries; undefined when it does not parse. */
  root: Record<string, any> | undefined;
  /** Why it does not parse. */
  parseError?: string;
  entries: ManifestEntryRecord[];
}

/**
 * Entries per piece when a long manifest is checked in pieces. A manifest grows by
 * ~170 bytes an entry, and checked whole, libxml2's tree of 50,000 entries took
 * 143 MB of WebAssembly memory (which never shrinks) and fast-xml-parser's 73 MB
 * more; a piece of 5,000 takes a tenth of that, whatever the archive holds.
 */
export const MANIFEST_PIECE_ENTRIES = 5000;

const MAX_PROBLEMS = 20;
const ENTRIES_OPEN = '\n  <entries>\n';
const ENTRIES_CLOSE = '\n  </entries>\n';
/** An entry as the exporter writes it: one line, with no markup inside its attribute values. */
const ENTRY_LINE = /^ {4}<entry [^<>\n]*\/>$/;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  htmlEntities: true,
  // The manifest's repeated elements: the entries and the skipped source records.
  isArray: (name) => name === 'entry' || name === 'item',
});

/**
 * Checks the manifest against the XSD and reads it back. A manifest laid out as the
 * exporter writes it (one `<entry>` a line between `<entries>` and `</entries>`) is
 * checked in pieces: each piece is the manifest with a run of its entries, so the XSD
 * checks every entry and the frame around them, and memory stays bounded however many
 * entries there are. The XSD's one rule across entries, that paths are unique, then
 * holds within each piece only: callers check it across `entries`. Any other layout is
 * checked whole.
 */
export function readManifest(text: string, checker: DocumentChecker, pieceEntries = MANIFEST_PIECE_ENTRIES): ManifestReading {
  const layout = entryLines(text, pieceEntries);
  if (layout === undefined) {
    const reading = parseManifest(text);
    return { ...reading, schemaProblems: checker.validate('manifest.xml', Buffer.from(text, 'utf8')).slice(0, MAX_PROBLEMS) };
  }
  const { head, lines, tail } = layout;
  const headLines = head.split('\n').length - 1;
  const problems: SchemaProblem[] = [];
  const seenElsewhere = new Set<string>();
  const entries: ManifestEntryRecord[] = [];
  let root: Record<string, any> | undefined;
  for (let first = 0; first < lines.length; first += pieceEntries) {
    const piece = lines.slice(first, first + pieceEntries);
    const doc = head + piece.join('\n') + '\n' + tail;
    for (const p of checker.validate('manifest.xml', Buffer.from(doc, 'utf8'))) {
      if (p.line !== undefined && p.line > headLines && p.line <= headLines + piece.length) {
        problems.push({ line: p.line + first, message: p.message });
        continue;
      }
      // The frame (and problems without a line) is in every piece: say it once.
      const key = `${p.line === undefined ? '' : p.line > headLines ? 'tail ' + (p.line - headLines - piece.length) : p.line} ${p.message}`;
      if (seenElsewhere.has(key)) continue;
      seenElsewhere.add(key);
      const line = p.line === undefined ? undefined : p.line > headLines ? p.line - piece.length + lines.length : p.line;
      problems.push({ ...(line === undefined ? {} : { line }), message: p.message });
    }
    const reading = parseManifest(doc);
    if (reading.root === undefined) return { schemaProblems: problems.slice(0, MAX_PROBLEMS), root: undefined, parseError: reading.parseError ?? 'no <manifest> root', entries: [] };
    root ??= reading.root;
    for (const e of reading.entries) entries.push(e);
  }
  return { schemaProblems: problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)).slice(0, MAX_PROBLEMS), root, entries };
}

/** The manifest cut around its entry lines, or undefined when it is not laid out one entry a line or has no more than a piece of them. */
function entryLines(text: string, pieceEntries: number): { head: string; lines: string[]; tail: string } | undefined {
  const open = text.indexOf(ENTRIES_OPEN);
  if (open < 0) return undefined;
  const bodyStart = open + ENTRIES_OPEN.length;
  const close = text.indexOf(ENTRIES_CLOSE, bodyStart - 1);
  if (close < bodyStart) return undefined;
  const lines = text.slice(bodyStart, close).split('\n');
  if (lines.length <= pieceEntries) return undefined;
  for (const line of lines) if (!ENTRY_LINE.test(line)) return undefined;
  return { head: text.slice(0, bodyStart), lines, tail: text.slice(close + 1) };
}

/** Reads the manifest back without checking it against the XSD (what `handover inspect` needs). */
export function parseManifest(text: string): Omit<ManifestReading, 'schemaProblems'> {
  let root: Record<string, any> | undefined;
  try {
    root = parser.parse(text)?.manifest;
    if (!root || typeof root !== 'object') throw new Error('the root element is not <manifest>');
  } catch (err) {
    return { root: undefined, parseError: (err as Error).message, entries: [] };
  }
  const entries: ManifestEntryRecord[] = [];
  for (const e of (root['entries']?.entry ?? []) as Record<string, string>[]) {
    const rec: ManifestEntryRecord = { path: String(e['path']), size: Number(e['size']), sha256: String(e['sha256']), kind: String(e['kind']) };
    if (e['records'] !== undefined) rec.records = Number(e['records']);
    entries.push(rec);
  }
  delete root['entries'];
  return { root, entries };
}
