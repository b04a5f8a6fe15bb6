import { XMLParser } from 'fast-xml-parser';
import type { XmlDocument as XmlDocumentType, XsdValidator } from 'libxml2-wasm';
import { ARCHIVE_NAMESPACE } from '../xml/namespace.js';

/** What checking one XML document found. */
export interface DocumentResult {
  name: string;
  /** XSD problems, each with its line. */
  schemaErrors: string[];
  /** fast-xml-parser could not read it back. */
  parseError?: string;
  /** Records counted by parsing it back. */
  records: number;
  /** For files documents: each file whose bytes are included, with its entry path and stated SHA-256. */
  includedFiles?: { path?: string; sha256?: string }[];
  /** The root is not in the archive namespace. */
  wrongNamespace?: boolean;
}

/** One XSD problem, at its line of the document when libxml2 gives one. */
export interface SchemaProblem {
  line?: number;
  message: string;
}

export interface DocumentJob {
  name: string;
  /** Entry kind from the manifest: messages, conversations, files, grants, subject. */
  kind: string;
  bytes: Uint8Array;
}

const ARRAYS = new Set(['entry', 'item', 'message', 'conversation', 'part', 'participant', 'file', 'grant', 'scope', 'event', 'membership', 'reaction', 'user', 'edit', 'attachment']);
const fullParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, parseAttributeValue: false, trimValues: false, htmlEntities: true, isArray: (name) => ARRAYS.has(name) });
// Messages are the bulk of an archive. Each <message> is read back as one record; what is
// inside it has just been checked, element by element, by the XSD validation above.
const messagesParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, trimValues: false, stopNodes: ['messages.message'], isArray: (name) => name === 'message' });

/**
 * Validates documents against the archive XSD (libxml2 compiled to WebAssembly, so no
 * system tool is needed) and parses them back with fast-xml-parser to count records.
 * One instance per thread: the schema is compiled once.
 */
export class DocumentChecker {
  readonly #validator: XsdValidator;
  readonly #lib: typeof import('libxml2-wasm');

  // libxml2 as WebAssembly takes ~50 MB once loaded; only verification loads it, not every export.
  static async create(xsd: string): Promise<DocumentChecker> {
    return new DocumentChecker(await import('libxml2-wasm'), xsd);
  }

  private constructor(lib: typeof import('libxml2-wasm'), xsd: string) {
    this.#lib = lib;
    const schema = lib.XmlDocument.fromString(xsd, { url: 'handover-archive-v1.xsd' });
    this.#validator = lib.XsdValidator.fromDoc(schema);
  }

  check(job: DocumentJob): DocumentResult {
    const result: DocumentResult = { name: job.name, schemaErrors: this.validate(job.name, job.bytes).map(formatProblem), records: 0 };
    try {
      const text = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength).toString('utf8');
      count(job.kind, text, result);
    } catch (err) {
      result.parseError = (err as Error).message;
    }
    return result;
  }

  /** The document's XSD problems (malformed XML included); empty when it is valid. */
  validate(name: string, bytes: Uint8Array): SchemaProblem[] {
    let doc: XmlDocumentType | undefined;
    try {
      doc = this.#lib.XmlDocument.fromBuffer(bytes, { url: name });
      this.#validator.validate(doc);
      return [];
    } catch (err) {
      return describe(err);
    } finally {
      doc?.dispose();
    }
  }
}

/** `line 12: message`, the form problems are reported in. */
export function formatProblem(p: SchemaProblem): string {
  return `${p.line ? `line ${p.line}: ` : ''}${p.message}`;
}

/** At most 20 problems of one document: the first ones say what is wrong, the rest repeat it. */
function describe(err: unknown): SchemaProblem[] {
  const details = (err as { details?: { message: string; line?: number }[] }).details;
  if (Array.isArray(details) && details.length > 0) {
    return details.slice(0, 20).map((d) => ({ ...(d.line ? { line: d.line } : {}), message: d.message.trim() }));
  }
  return [{ message: (err as Error).message ?? String(err) }];
}

function count(kind: string, text: string, into: DocumentResult): void {
  if (kind === 'messages') {
    const root = messagesParser.parse(text)?.messages;
    if (root === undefined) throw new Error('the root element is not <messages>');
    into.wrongNamespace = root.xmlns !== ARCHIVE_NAMESPACE;
    into.records = (root.message as unknown[] | undefined)?.length ?? 0;
    return;
  }
  const doc = fullParser.parse(text) as Record<string, any>;
  const rootName = Object.keys(doc).find((k) => k !== '?xml');
  const body = rootName === undefined ? undefined : doc[rootName];
  if (rootName === undefined || rootName !== kind) throw new Error(`the root element is <${rootName ?? 'none'}>, expected <${kind}>`);
  into.wrongNamespace = body?.xmlns !== ARCHIVE_NAMESPACE;
  switch (rootName) {
    case 'conversations':
      into.records = (body.conversation ?? []).length;
      break;
    case 'grants':
      into.records = (body.grant ?? []).length;
      break;
    case 'subject':
      into.records = 1 + (body.membership ?? []).length;
      break;
    case 'files': {
      const files = (body.file ?? []) as Record<string, string>[];
      into.records = files.length;
      into.includedFiles = files.filter((f) => f['bytes'] === 'included').map((f) => ({ ...(f['path'] ? { path: f['path'] } : {}), ...(f['sha256'] ? { sha256: f['sha256'] } : {}) }));
      break;
    }
    default:
      into.records = 0;
  }
}
