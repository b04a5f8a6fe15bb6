import type { Conversation, Grant, Message } from '../source/domain.js';
import type { ArchivedFile, EntryKind, EntrySink, ExportContext, ExportTotals, ExportView } from '../export/view.js';
import { conversationDirName, partName } from '../archive/entry-names.js';
import { ByteBuilder } from '../archive/byte-builder.js';
import { Escaper, isoDate } from './escape.js';
import { ARCHIVE_NAMESPACE, archiveSchema, SCHEMA_ENTRY } from './namespace.js';

/** Bounds of every XML document, so that any reader, DOM-based ones too, needs bounded memory. */
export interface PartLimits {
  /** Records (messages, files, grants, conversations) per document. Default 10,000. */
  maxRecords: number;
  /** UTF-8 bytes per document; a part is closed before it would pass this, unless it is empty. Default 16 MiB. */
  maxBytes: number;
}

export const DEFAULT_PART_LIMITS: PartLimits = { maxRecords: 10_000, maxBytes: 16 * 1024 * 1024 };

const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

/**
 * Collects records of one kind into bounded documents and hands each finished
 * document to the sink. `open(part)` gives the root's start tag for a part.
 */
class PartWriter {
  #records = 0;
  part = 0;
  readonly paths: { path: string; records: number }[] = [];

  constructor(
    private readonly sink: EntrySink,
    private readonly limits: PartLimits,
    private readonly kind: EntryKind,
    private readonly pathFor: (part: number) => string,
    private readonly open: (part: number) => string,
    private readonly close: string,
    /** Keep the list of written parts (for the conversation index). */
    private readonly rememberPaths = false,
    /** Where the current part collects; empty again after each flush, so writers used one after another may share one. */
    private readonly body = new ByteBuilder(),
  ) {}

  get records(): number {
    return this.#records;
  }

  /** Returns a promise only when a finished part had to be written first. */
  add(xml: string): void | Promise<void> {
    if (this.#records > 0 && (this.#records >= this.limits.maxRecords || this.#wouldOverflow(xml))) {
      return this.flush().then(() => this.#push(xml));
    }
    this.#push(xml);
  }

  /** Measured only near the bound: UTF-8 takes at most three bytes per UTF-16 unit. */
  #wouldOverflow(xml: string): boolean {
    const room = this.limits.maxBytes - this.body.byteLength;
    return xml.length * 3 > room && Buffer.byteLength(xml, 'utf8') > room;
  }

  #push(xml: string): void {
    this.body.append(xml);
    this.#records++;
  }

  /** Writes the current part; with `always`, writes an empty document when nothing was added at all. */
  async flush(always = false): Promise<void> {
    if (this.#records === 0 && !(always && this.part === 0)) return;
    this.part++;
    const path = this.pathFor(this.part);
    const bytes = this.body.take(XML_DECL + this.open(this.part) + '\n', this.close + '\n');
    const records = this.#records;
    this.#records = 0;
    await this.sink.add(path, bytes, { kind: this.kind, records });
    if (this.rememberPaths) this.paths.push({ path, records });
  }
}

function optAttr(name: string, value: string | undefined, esc: Escaper): string {
  return value === undefined ? '' : ` ${name}="${esc.attr(value)}"`;
}
function optDate(name: string, value: Date | undefined): string {
  return value === undefined ? '' : ` ${name}="${isoDate(value)}"`;
}
function optElem(name: string, value: string | undefined, esc: Escaper): string {
  return value === undefined ? '' : `<${name}>${esc.text(value)}</${name}>`;
}

/** Grant status at the time of the export. */
export function grantStatus(grant: Grant, at: Date): 'active' | 'expired' | 'revoked' {
  if (grant.revokedAt && grant.revokedAt.getTime() <= at.getTime()) return 'revoked';
  if (grant.expiresAt && grant.expiresAt.getTime() <= at.getTime()) return 'expired';
  return 'active';
}

/**
 * Renders the machine-readable half of the archive: subject.xml, the conversation
 * index, the messages of each conversation in numbered parts, files.xml and
 * grants.xml, each split at `limits`, plus the XSD. Text goes through one Escaper,
 * whose count of replaced characters ends up in the manifest.
 */
export class XmlView implements ExportView {
  readonly name = 'xml';
  readonly escaper = new Escaper();
  readonly #limits: PartLimits;
  #ctx!: ExportContext;
  #conversations!: PartWriter;
  #files!: PartWriter;
  #grants!: PartWriter;
  #messages: PartWriter | undefined;
  #conversationSeq = 0;
  /** One collector for every conversation's messages, written one conversation after another. */
  readonly #messageBody = new ByteBuilder();
  #dir = '';

  constructor(limits: Partial<PartLimits> = {}) {
    this.#limits = { ...DEFAULT_PART_LIMITS, ...limits };
  }

  get limits(): PartLimits {
    return this.#limits;
  }

  async begin(ctx: ExportContext): Promise<void> {
    this.#ctx = ctx;
    const esc = this.escaper;
    const ns = ` xmlns="${ARCHIVE_NAMESPACE}"`;
    await ctx.sink.add(SCHEMA_ENTRY, archiveSchema(), { kind: 'schema' });

    const m = ctx.subject;
    let subject = `${XML_DECL}<subject${ns}>\n<member id="${esc.attr(m.id)}"${m.deleted ? ' deleted="true"' : ''}${m.bot ? ' bot="true"' : ''}>`;
    subject += `<displayName>${esc.text(m.displayName)}</displayName>${optElem('realName', m.realName, esc)}${optElem('email', m.email, esc)}${optElem('username', m.username, esc)}</member>\n`;
    for (const ms of ctx.memberships) {
      subject += `<membership organization="${esc.attr(ms.organizationId)}" role="${ms.role}"${optDate('joined', ms.joinedAt)}${optDate('left', ms.leftAt)}><organizationName>${esc.text(ms.organizationName)}</organizationName></membership>\n`;
    }
    subject += '</subject>\n';
    await ctx.sink.add('subject.xml', subject, { kind: 'subject', records: 1 + ctx.memberships.length });

    const lim = this.#limits;
    this.#conversations = new PartWriter(ctx.sink, lim, 'conversations', (p) => (p === 1 ? 'conversations.xml' : partName('conversations', p)), (p) => `<conversations${ns} part="${p}">`, '</conversations>');
    this.#files = new PartWriter(ctx.sink, lim, 'files', (p) => (p === 1 ? 'files.xml' : partName('files', p)), (p) => `<files${ns} part="${p}">`, '</files>');
    this.#grants = new PartWriter(ctx.sink, lim, 'grants', (p) => (p === 1 ? 'grants.xml' : partName('grants', p)), (p) => `<grants${ns} part="${p}">`, '</grants>');
  }

  async conversationStart(conversation: Conversation): Promise<void> {
    this.#conversationSeq++;
    this.#dir = `conversations/${conversationDirName(this.#conversationSeq, conversation.name)}`;
    const idAttr = this.escaper.attr(conversation.id);
    const dir = this.#dir;
    this.#messages = new PartWriter(
      this.#ctx.sink, this.#limits, 'messages',
      (p) => `${dir}/${partName('messages', p)}`,
      (p) => `<messages xmlns="${ARCHIVE_NAMESPACE}" conversation="${idAttr}" part="${p}">`,
      '</messages>', true, this.#messageBody,
    );
  }

  message(m: Message): void | Promise<void> {
    const esc = this.escaper;
    let x = `<message id="${esc.attr(m.id)}" author="${esc.attr(m.authorId)}" sent="${isoDate(m.sentAt)}"`;
    if (m.editedAt) x += ` edited="${isoDate(m.editedAt)}"`;
    if (m.deleted) x += ' deleted="true"';
    if (m.threadParentId !== undefined) x += ` thread="${esc.attr(m.threadParentId)}"`;
    if (m.subtype !== undefined) x += ` subtype="${esc.attr(m.subtype)}"`;
    x += '>';
    if (m.authorName !== undefined) x += `<authorName>${esc.text(m.authorName)}</authorName>`;
    x += `<text>${esc.text(m.text)}</text>`;
    if (m.edits) {
      for (const e of m.edits) {
        x += `<edit at="${isoDate(e.editedAt)}"${optAttr('editor', e.editorId, esc)}>${optElem('previousText', e.previousText, esc)}</edit>`;
      }
    }
    for (const r of m.reactions) {
      x += `<reaction emoji="${esc.attr(r.emoji)}">`;
      for (const u of r.userIds) x += `<user>${esc.text(u)}</user>`;
      x += '</reaction>';
    }
    for (const a of m.attachments) x += `<attachment file="${esc.attr(a.id)}"/>`;
    x += '</message>\n';
    return this.#messages!.add(x);
  }

  async conversationEnd(c: Conversation, messageCount: number): Promise<void> {
    const writer = this.#messages!;
    await writer.flush(true);
    const esc = this.escaper;
    let x = `<conversation id="${esc.attr(c.id)}" kind="${c.kind}"${optAttr('organization', c.organizationId, esc)}${optDate('created', c.createdAt)}${optDate('joined', c.memberJoinedAt)}${optDate('left', c.memberLeftAt)} messages="${messageCount}">`;
    x += optElem('name', c.name, esc) + optElem('topic', c.topic, esc);
    for (const p of c.participantIds ?? []) x += `<participant id="${esc.attr(p)}"/>`;
    for (const p of writer.paths) x += `<part path="${p.path}" messages="${p.records}"/>`;
    x += '</conversation>\n';
    this.#messages = undefined;
    await this.#conversations.add(x);
  }

  async file(f: ArchivedFile): Promise<void> {
    const esc = this.escaper;
    const r = f.file;
    let x = `<file id="${esc.attr(r.id)}" mime="${esc.attr(r.mimeType)}" size="${r.size}" owner="${esc.attr(r.ownerId)}" created="${isoDate(r.createdAt)}" bytes="${f.bytesStatus}"`;
    if (f.entryPath !== undefined) x += ` path="${f.entryPath}"`;
    if (f.sha256 !== undefined) x += ` sha256="${f.sha256}"`;
    x += `><name>${esc.text(r.name)}</name>${optElem('url', r.url, esc)}</file>\n`;
    await this.#files.add(x);
  }

  async grant(g: Grant): Promise<void> {
    const esc = this.escaper;
    let x = `<grant id="${esc.attr(g.id)}" app="${esc.attr(g.appId)}"${optDate('granted', g.grantedAt)}${optAttr('grantedBy', g.grantedBy, esc)}${optDate('expires', g.expiresAt)}${optDate('revoked', g.revokedAt)}${optAttr('target', g.target, esc)} status="${grantStatus(g, this.#ctx.createdAt)}">`;
    x += `<appName>${esc.text(g.appName)}</appName>`;
    for (const s of g.scopes) x += `<scope>${esc.text(s)}</scope>`;
    for (const e of g.history ?? []) {
      x += `<event at="${isoDate(e.at)}" change="${esc.attr(e.change)}"${optAttr('actor', e.actorId, esc)}>`;
      for (const s of e.scopes ?? []) x += `<scope>${esc.text(s)}</scope>`;
      x += `${optElem('reason', e.reason, esc)}</event>`;
    }
    x += '</grant>\n';
    await this.#grants.add(x);
  }

  async end(_totals: ExportTotals): Promise<void> {
    await this.#conversations.flush(true);
    await this.#files.flush(true);
    await this.#grants.flush(true);
  }
}
