import { ByteBuilder } from '../archive/byte-builder.js';
import type { ArchivedFile, ExportContext, ExportTotals, ExportView } from '../export/view.js';
import type { Conversation, ConversationKind, FileRecord, Grant, Message } from '../source/domain.js';
import { escapeHtml } from './escape.js';
import {
  clockHtml,
  dayHeadingHtml,
  dayOf,
  entryHref,
  formatSize,
  isActiveContent,
  isInlineImage,
  optionalTimeHtml,
  pad4,
  safeAnchor,
  slugify,
  timeHtml,
} from './format.js';
import { PAGE_END, pageStart } from './page.js';
import { RecentIdIndex } from './recent-id-index.js';
import { STYLESHEET } from './style.js';

/** Options of the human-readable HTML view. */
export interface HtmlViewOptions {
  /**
   * The archive entry path (`files/…`, relative to the archive root) that will hold a
   * file's bytes, or `undefined` when they will not be in the archive. Messages are
   * rendered before the exporter's `file()` hook reports where a file went, so the
   * exporter, which decides entry paths before writing bytes, supplies them here; with
   * it, images show inline and other files are linked from the message itself. Without
   * it (or when it returns `undefined`) the message lists the file's name, type and
   * size and points to the Files pages.
   */
  resolveFilePath?: (file: FileRecord) => string | undefined;
  /** Most messages on one conversation page. Default 1,000. */
  maxMessagesPerPage?: number;
  /**
   * Most characters of rendered messages on one page (≈ bytes for Latin text, up to 3×
   * for CJK). A page is closed before a message that would push it over, and a message
   * of more than half this (a pasted log, a 1 MB message) gets a page of its own, so no
   * page is much larger than the bound. Default 2,000,000 (~2 MB).
   */
  maxPageChars?: number;
  /** Most files on one Files page. Default 500 (each may be an inline image). */
  maxFilesPerPage?: number;
  /** Most rows on one app-authorizations page. Default 1,000. */
  maxGrantsPerPage?: number;
  /**
   * How many thread-starting message ids per conversation are remembered so replies can
   * link to the page their parent is on (as 64-bit fingerprints, about 32 bytes each).
   * Older ones are forgotten first; a reply to a forgotten parent says so instead of
   * linking. Default 100,000 (≈ 3 MB at most, for the open conversation only).
   */
  maxThreadRoots?: number;
  /**
   * BCP 47 language of the page chrome (headings, labels), for `<html lang>`. Default
   * `en`. Message text is marked `lang=""` (unknown) whatever this is, so the reader's
   * own locale picks the glyphs for CJK text rather than the chrome's language.
   */
  lang?: string;
}

/** Entry paths this view writes, relative to the archive root. */
export const HTML_VIEW_PATHS = {
  overview: 'index.html',
  stylesheet: 'view/style.css',
  grants: 'view/grants.html',
  firstFilesPage: 'view/files/page-0001.html',
} as const;

interface PageSummary {
  /** 1-based number of the first message on the page. */
  first: number;
  count: number;
  firstAt: Date;
  lastAt: Date;
}

/** What the overview needs of a conversation: kept for every conversation, so kept small. */
interface ConversationSummary {
  id: string;
  title: string;
  kind: ConversationKind;
  messageCount: number;
  pageCount: number;
  dir: string;
}

interface OpenConversation {
  conversation: Conversation;
  title: string;
  /** `view/c0001-general`. */
  dir: string;
  /** Number of the page being filled, 1-based. */
  page: number;
  /** The rendered messages of the page being filled, as UTF-8 outside the heap (shared by all pages). */
  body: ByteBuilder;
  /** Messages on the page being filled. */
  items: number;
  /** Length of `body`, or the bound once a huge message has filled the page. */
  chars: number;
  /** Messages rendered so far in this conversation. */
  count: number;
  pageFirstAt: Date | undefined;
  pageLastAt: Date | undefined;
  pages: PageSummary[];
  /** Thread-starting message id → page it is on; bounded, forgets the oldest. */
  roots: RecentIdIndex;
  /** UTC day (`dayOf`) under the last day heading of the page being filled; NaN before the first. */
  day: number;
}

/** A paged list (files, grants) filled one item at a time. */
interface PagedList {
  page: number;
  body: string;
  items: number;
  chars: number;
  /** Items on each page already written. */
  written: number[];
  total: number;
}

type GrantStatus = 'active' | 'expired' | 'revoked';

const KIND_LABEL: Readonly<Record<ConversationKind, string>> = {
  channel: 'Channel',
  'private-group': 'Private group',
  dm: 'Direct message',
  'group-dm': 'Group direct message',
};

const FILE_STATUS_TEXT: Readonly<Record<ArchivedFile['bytesStatus'], string>> = {
  included: 'included in this archive',
  'not-in-source': 'contents not available in the source',
  'shared-not-included': 'shared by someone else; contents not included',
};

/**
 * The pages are a reading aid beside the XML (the record), with more bytes than the XML:
 * zlib's fastest level deflates them about twice as fast as the default 6, for an archive
 * 1% larger (942 -> 952 MB for 1,000,000 demo messages).
 */
const HTML_DEFLATE_LEVEL = 1;

/** Conversation and Files pages sit two levels down (`view/<dir>/page-0001.html`). */
const UP2 = '../../';

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`html view: ${name} must be a positive integer, got ${value}`);
  return value;
}

function newList(): PagedList {
  return { page: 1, body: '', items: 0, chars: 0, written: [], total: 0 };
}

function grantsPagePath(page: number): string {
  return page === 1 ? HTML_VIEW_PATHS.grants : `view/grants-${pad4(page)}.html`;
}

function plural(n: number, one: string, many: string): string {
  return n.toLocaleString('en-US') + ' ' + (n === 1 ? one : many);
}

function conversationTitle(c: Conversation): string {
  if (c.name !== undefined && c.name !== '') return c.kind === 'channel' ? '#' + c.name : c.name;
  const label = KIND_LABEL[c.kind] ?? 'Conversation';
  const ids = c.participantIds ?? [];
  if (ids.length === 0) return label + ' ' + c.id;
  const shown = ids.slice(0, 5).join(', ');
  return label + ' with ' + shown + (ids.length > 5 ? ` and ${ids.length - 5} more` : '');
}

function grantStatus(g: Grant, at: number): GrantStatus {
  if (g.revokedAt !== undefined && g.revokedAt.getTime() <= at) return 'revoked';
  if (g.expiresAt !== undefined && g.expiresAt.getTime() <= at) return 'expired';
  return 'active';
}

function facts(rows: ReadonlyArray<readonly [string, string | undefined]>): string {
  let h = '<dl class="facts">';
  for (const [label, valueHtml] of rows) {
    if (valueHtml !== undefined) h += '<dt>' + label + '</dt><dd>' + valueHtml + '</dd>';
  }
  return h + '</dl>';
}

/** Plain text, escaped and isolated from surrounding bidi text (names may be RTL). */
function bdi(text: string): string {
  return '<bdi>' + escapeHtml(text) + '</bdi>';
}

class HtmlView implements ExportView {
  readonly name = 'html';

  readonly #resolveFilePath: ((file: FileRecord) => string | undefined) | undefined;
  readonly #maxMessages: number;
  readonly #maxChars: number;
  readonly #maxFiles: number;
  readonly #maxGrants: number;
  readonly #maxRoots: number;
  readonly #lang: string;

  #ctx: ExportContext | undefined;
  #generator = '';
  #subjectId = '';
  #subjectNameHtml = '';
  #open: OpenConversation | undefined;
  #conversationCount = 0;
  readonly #conversations: ConversationSummary[] = [];
  #files = newList();
  /** One builder for every conversation page: only one page is filled at a time. */
  readonly #pageBody = new ByteBuilder();
  #grants = newList();
  readonly #grantStatusCounts: Record<GrantStatus, number> = { active: 0, expired: 0, revoked: 0 };

  constructor(options: HtmlViewOptions) {
    this.#resolveFilePath = options.resolveFilePath;
    this.#maxMessages = positiveInteger('maxMessagesPerPage', options.maxMessagesPerPage, 1000);
    this.#maxChars = positiveInteger('maxPageChars', options.maxPageChars, 2_000_000);
    this.#maxFiles = positiveInteger('maxFilesPerPage', options.maxFilesPerPage, 500);
    this.#maxGrants = positiveInteger('maxGrantsPerPage', options.maxGrantsPerPage, 1000);
    this.#maxRoots = positiveInteger('maxThreadRoots', options.maxThreadRoots, 100_000);
    this.#lang = escapeHtml(options.lang ?? 'en');
  }

  // ── hooks ────────────────────────────────────────────────────────────────

  async begin(ctx: ExportContext): Promise<void> {
    this.#ctx = ctx;
    this.#generator = `${ctx.generator.name} ${ctx.generator.version}`;
    this.#subjectId = ctx.subject.id;
    this.#subjectNameHtml = escapeHtml(ctx.subject.displayName || ctx.subject.id);
    await ctx.sink.add(HTML_VIEW_PATHS.stylesheet, STYLESHEET, { kind: 'asset', store: false, date: ctx.createdAt });
  }

  async conversationStart(conversation: Conversation): Promise<void> {
    this.#context();
    if (this.#open !== undefined) throw new Error(`html view: conversation ${this.#open.conversation.id} was not ended`);
    this.#conversationCount++;
    const slug = slugify(conversation.name ?? conversation.kind);
    this.#open = {
      conversation,
      title: conversationTitle(conversation),
      // A counter, not the id or name: those can hold anything, and two may slug alike.
      dir: `view/c${pad4(this.#conversationCount)}${slug === '' ? '' : '-' + slug}`,
      page: 1,
      body: this.#pageBody,
      items: 0,
      chars: 0,
      count: 0,
      pageFirstAt: undefined,
      pageLastAt: undefined,
      pages: [],
      roots: new RecentIdIndex(this.#maxRoots),
      day: NaN,
    };
  }

  /**
   * Not `async`: this runs once per message, and the common case (the message joins the
   * page being filled) is synchronous, so it returns nothing and the exporter skips the
   * await; only closing a full page returns a promise. Misuse throws synchronously.
   */
  message(message: Message): void | Promise<void> {
    const c = this.#open;
    if (c === undefined) throw new Error('html view: message() outside a conversation');
    const html = this.#renderMessage(c, message);
    // Close the page before a message that would overfill it, and only then: closing
    // lazily means a page is written knowing whether a next page exists.
    if (
      c.items > 0 &&
      (c.items >= this.#maxMessages || c.chars + html.length > this.#maxChars || html.length * 2 > this.#maxChars)
    ) {
      return this.#writeConversationPage(c, false).then(() => this.#addToPage(c, message, html));
    }
    this.#addToPage(c, message, html);
  }

  #addToPage(c: OpenConversation, message: Message, html: string): void {
    if (c.items === 0) {
      c.pageFirstAt = message.sentAt;
      c.day = NaN;
    }
    c.pageLastAt = message.sentAt;
    // Each page, and each new UTC day on it, starts with the day's heading; messages show the clock time.
    const day = dayOf(message.sentAt);
    let heading = 0;
    if (day === day && day !== c.day) {
      const h = dayHeadingHtml(message.sentAt);
      c.body.append(h);
      heading = h.length;
      c.day = day;
    }
    c.body.append(html);
    c.items++;
    // A huge message fills its page: the next message starts a new one.
    c.chars = html.length * 2 > this.#maxChars ? this.#maxChars : c.chars + heading + html.length;
    c.count++;
    if (message.threadParentId === undefined || message.threadParentId === message.id) c.roots.set(message.id, c.page);
  }

  async conversationEnd(conversation: Conversation, messageCount: number): Promise<void> {
    const c = this.#open;
    if (c === undefined || c.conversation.id !== conversation.id) {
      throw new Error(`html view: conversationEnd(${conversation.id}) without a matching conversationStart`);
    }
    await this.#writeConversationPage(c, true);
    if (c.pages.length > 1) await this.#writeConversationContents(c);
    this.#conversations.push({
      id: conversation.id,
      title: c.title,
      kind: conversation.kind,
      messageCount,
      pageCount: c.pages.length,
      dir: c.dir,
    });
    this.#open = undefined;
  }

  async file(archived: ArchivedFile): Promise<void> {
    this.#context();
    const html = this.#renderFile(archived);
    const list = this.#files;
    if (list.items > 0 && (list.items >= this.#maxFiles || list.chars + html.length > this.#maxChars)) {
      await this.#writeFilesPage(false);
    }
    list.body += html;
    list.items++;
    list.chars += html.length;
    list.total++;
  }

  async grant(grant: Grant): Promise<void> {
    const ctx = this.#context();
    const status = grantStatus(grant, ctx.createdAt.getTime());
    this.#grantStatusCounts[status]++;
    const html = this.#renderGrant(grant, status);
    const list = this.#grants;
    if (list.items >= this.#maxGrants) await this.#writeGrantsPage(false);
    list.body += html;
    list.items++;
    list.total++;
  }

  async end(totals: ExportTotals): Promise<void> {
    this.#context();
    if (this.#open !== undefined) throw new Error(`html view: conversation ${this.#open.conversation.id} was not ended`);
    // Always write the first Files and grants pages, even empty: the overview links them.
    await this.#writeFilesPage(true);
    await this.#writeGrantsPage(true);
    await this.#writeOverview(totals);
  }

  // ── rendering: messages ──────────────────────────────────────────────────

  /**
   * The hot path: one string per message, built by concatenation (measured faster than
   * collecting pieces in an array and joining). Markup is kept terse (no wrapper
   * elements; the stylesheet targets `.msgs > article > bdi`, `p[dir]`… rather than a
   * class on every element) because every byte here is built, encoded and deflated once
   * per message. The `id` is the permalink (`page-0003.html#m-…`).
   */
  #renderMessage(c: OpenConversation, m: Message): string {
    const anchor = safeAnchor(m.id);
    const mine = m.authorId === this.#subjectId;
    const isReply = m.threadParentId !== undefined && m.threadParentId !== m.id;
    let h =
      (isReply ? (mine ? '<article class="r me" id="m-' : '<article class="r" id="m-') : mine ? '<article class="me" id="m-' : '<article id="m-') +
      anchor +
      '"><bdi>' +
      (mine && m.authorName === undefined ? this.#subjectNameHtml : escapeHtml(m.authorName ?? m.authorId)) +
      '</bdi> ' +
      clockHtml(m.sentAt);
    if (m.subtype !== undefined && m.subtype !== '') h += ' <span class="st">' + escapeHtml(m.subtype) + '</span>';
    const edits = m.edits;
    const lastEdit = m.editedAt ?? (edits !== undefined && edits.length > 0 ? edits[edits.length - 1]?.editedAt : undefined);
    if (lastEdit !== undefined) h += ' <span class="ed">edited ' + timeHtml(lastEdit) + '</span>';
    if (isReply) h += this.#parentLink(c, m.threadParentId as string);
    if (m.deleted) h += '<p class="note">message deleted</p>';
    if (m.text !== '') h += '<p dir="auto">' + escapeHtml(m.text) + '</p>';
    if (edits !== undefined && edits.length > 0) h += this.#editsHtml(m);
    if (m.attachments.length > 0) {
      h += '<ul class="att">';
      for (const f of m.attachments) h += this.#attachmentHtml(f);
      h += '</ul>';
    }
    if (m.reactions.length > 0) {
      h += '<ul class="rx">';
      for (const r of m.reactions) {
        const ids = r.userIds.length > 50 ? r.userIds.slice(0, 50).join(', ') + ', …' : r.userIds.join(', ');
        h += '<li title="' + escapeHtml(ids) + '">' + escapeHtml(r.emoji) + ' ' + r.userIds.length + '</li>';
      }
      h += '</ul>';
    }
    return h + '</article>\n';
  }

  #parentLink(c: OpenConversation, parentId: string): string {
    const page = c.roots.get(parentId);
    if (page !== 0) {
      return (
        '<p class="parent">↳ reply to <a href="page-' + pad4(page) + '.html#m-' + safeAnchor(parentId) + '">thread start</a></p>'
      );
    }
    return c.roots.evicted
      ? '<p class="parent">↳ reply in a thread that started too far back to link</p>'
      : '<p class="parent">↳ reply to a message that is not in this archive</p>';
  }

  #editsHtml(m: Message): string {
    const edits = m.edits ?? [];
    let h = '<details class="hist"><summary>Edit history (' + edits.length + ')</summary><ol>';
    for (const e of edits) {
      const by = e.editorId === undefined ? '' : ' by ' + bdi(e.editorId);
      h +=
        e.previousText === undefined
          ? '<li><span class="meta">Edited ' + timeHtml(e.editedAt) + by + '; the text before was not kept.</span></li>'
          : '<li><span class="meta">Before the edit of ' +
            timeHtml(e.editedAt) +
            by +
            ':</span><p dir="auto">' +
            escapeHtml(e.previousText) +
            '</p></li>';
    }
    return h + '</ol></details>';
  }

  #attachmentHtml(f: FileRecord): string {
    const name = f.name === '' ? '(unnamed file)' : f.name;
    const nameHtml = bdi(name);
    const meta = escapeHtml(f.mimeType === '' ? 'unknown type' : f.mimeType) + ' · ' + formatSize(f.size);
    if (f.availability === 'not-in-source') {
      return '<li>' + nameHtml + ' <span class="meta">' + meta + ' · <span class="status not-in-source">contents not available in the source</span></span></li>';
    }
    const path = this.#resolveFilePath?.(f);
    const href = path === undefined ? undefined : entryHref(UP2, path);
    if (href === undefined) {
      return '<li>' + nameHtml + ' <span class="meta">' + meta + ' · <a href="' + UP2 + 'index.html#files">contents not in this archive</a></span></li>';
    }
    return this.#linkedFileHtml(f, name, escapeHtml(href), meta);
  }

  /** A file whose bytes are in the archive: inline if it is a safe raster image, a link otherwise. */
  #linkedFileHtml(f: FileRecord, name: string, hrefAttr: string, meta: string): string {
    const nameHtml = bdi(name);
    if (isInlineImage(f.mimeType)) {
      return (
        '<li><a href="' + hrefAttr + '"><img src="' + hrefAttr + '" alt="' + escapeHtml(name) + '" loading="lazy" decoding="async"></a>' +
        '<a href="' + hrefAttr + '">' + nameHtml + '</a> <span class="meta">' + meta + '</span></li>'
      );
    }
    const download = isActiveContent(f.mimeType, f.name) ? ' download' : '';
    return '<li><a href="' + hrefAttr + '"' + download + '>' + nameHtml + '</a> <span class="meta">' + meta + '</span></li>';
  }

  // ── rendering: files and grants ──────────────────────────────────────────

  #renderFile(archived: ArchivedFile): string {
    const f = archived.file;
    const name = f.name === '' ? '(unnamed file)' : f.name;
    const owner = f.ownerId === this.#subjectId ? this.#subjectNameHtml : bdi(f.ownerId);
    const href = archived.bytesStatus === 'included' && archived.entryPath !== undefined ? entryHref(UP2, archived.entryPath) : undefined;
    const hrefAttr = href === undefined ? undefined : escapeHtml(href);
    let h = '<li id="f-' + safeAnchor(f.id) + '"><div class="name">';
    h += hrefAttr === undefined ? bdi(name) : '<a href="' + hrefAttr + '"' + (isActiveContent(f.mimeType, f.name) ? ' download' : '') + '>' + bdi(name) + '</a>';
    h += '</div>';
    if (hrefAttr !== undefined && isInlineImage(f.mimeType)) {
      h += '<a href="' + hrefAttr + '"><img src="' + hrefAttr + '" alt="' + escapeHtml(name) + '" loading="lazy" decoding="async"></a>';
    }
    h +=
      '<div class="meta">' +
      escapeHtml(f.mimeType === '' ? 'unknown type' : f.mimeType) +
      ' · ' +
      formatSize(f.size) +
      (f.size >= 1000 ? ' (' + f.size.toLocaleString('en-US') + ' bytes)' : '') +
      ' · owner ' +
      owner +
      ' · created ' +
      timeHtml(f.createdAt) +
      ' · <span class="status ' +
      archived.bytesStatus +
      '">' +
      (FILE_STATUS_TEXT[archived.bytesStatus] ?? escapeHtml(archived.bytesStatus)) +
      '</span>' +
      (archived.bytesStatus === 'included' && hrefAttr === undefined ? ' (entry path unknown)' : '') +
      '</div></li>\n';
    return h;
  }

  #renderGrant(g: Grant, status: GrantStatus): string {
    let scopes = '';
    for (const s of g.scopes) scopes += (scopes === '' ? '' : ' ') + '<code>' + escapeHtml(s) + '</code>';
    let h =
      '<tr><td>' +
      bdi(g.appName === '' ? g.appId : g.appName) +
      (g.target !== undefined && g.target !== '' ? '<div class="meta">for ' + bdi(g.target) + '</div>' : '') +
      '</td><td><code>' +
      escapeHtml(g.appId) +
      '</code></td><td>' +
      (scopes === '' ? '<span class="unk">—</span>' : scopes) +
      '</td><td>' +
      optionalTimeHtml(g.grantedAt) +
      '</td><td>' +
      (g.grantedBy === undefined ? '<span class="unk">—</span>' : bdi(g.grantedBy)) +
      '</td><td>' +
      optionalTimeHtml(g.expiresAt) +
      '</td><td>' +
      optionalTimeHtml(g.revokedAt) +
      '</td><td><span class="status ' +
      status +
      '">' +
      status +
      '</span></td><td>';
    const history = g.history ?? [];
    if (history.length === 0) {
      h += '<span class="unk">—</span>';
    } else {
      h += '<details><summary>' + plural(history.length, 'event', 'events') + '</summary><ol>';
      for (const e of history) {
        h += '<li>' + timeHtml(e.at) + ' ' + escapeHtml(e.change);
        if (e.actorId !== undefined) h += ' by ' + bdi(e.actorId);
        if (e.scopes !== undefined && e.scopes.length > 0) h += ': ' + e.scopes.map((s) => '<code>' + escapeHtml(s) + '</code>').join(' ');
        if (e.reason !== undefined && e.reason !== '') h += ' <span class="meta">(' + escapeHtml(e.reason) + ')</span>';
        h += '</li>';
      }
      h += '</ol></details>';
    }
    return h + '</td></tr>\n';
  }

  // ── pages ────────────────────────────────────────────────────────────────

  #start(title: string, stylesheet: string): string {
    return pageStart({ title, stylesheet, lang: this.#lang, generator: this.#generator });
  }

  /** Every page goes through here, awaited, so at most one page's text is held at a time. */
  async #add(path: string, html: string | Uint8Array): Promise<void> {
    const ctx = this.#context();
    await ctx.sink.add(path, html, { kind: 'html', store: false, level: HTML_DEFLATE_LEVEL, date: ctx.createdAt });
  }

  /** Writes the page being filled; `final` when the conversation has ended (so there is no next page). */
  async #writeConversationPage(c: OpenConversation, final: boolean): Promise<void> {
    const page = c.page;
    const first = c.count - c.items + 1;
    const last = c.count;
    // Lazy closing makes these exact: a non-final page is only written once its successor has a message.
    const hasContents = !final || page > 1;
    const nav =
      '<nav class="pager"><a href="' + UP2 + 'index.html">Overview</a>' +
      (page > 1 ? '<a href="page-' + pad4(page - 1) + '.html" rel="prev">‹ Previous page</a>' : '') +
      (hasContents ? '<span class="here">Page ' + page + '</span>' : '') +
      (!final ? '<a href="page-' + pad4(page + 1) + '.html" rel="next">Next page ›</a>' : '') +
      (hasContents ? '<a href="index.html">All pages</a>' : '') +
      '</nav>\n';
    const titleHtml = escapeHtml(c.title);
    let h = this.#start(hasContents ? `${c.title} — page ${page}` : c.title, '../style.css') + nav;
    h += '<header><h1 dir="auto">' + titleHtml + '</h1>';
    if (page === 1) {
      h += this.#conversationFacts(c.conversation);
    }
    let tail = '';
    if (c.items === 0) {
      h += '</header>\n<p class="note">No messages of this conversation are in this archive.</p>\n';
    } else {
      h +=
        '<p class="sub">Messages ' + first.toLocaleString('en-US') + '–' + last.toLocaleString('en-US') +
        (c.pageFirstAt !== undefined && c.pageLastAt !== undefined ? ', ' + timeHtml(c.pageFirstAt) + ' to ' + timeHtml(c.pageLastAt) : '') +
        '</p></header>\n<main class="msgs" lang="">\n';
      tail = '</main>\n';
    }
    tail += nav + PAGE_END;
    await this.#add(`${c.dir}/page-${pad4(page)}.html`, c.body.take(h, tail));
    if (c.items > 0 && c.pageFirstAt !== undefined && c.pageLastAt !== undefined) {
      c.pages.push({ first, count: c.items, firstAt: c.pageFirstAt, lastAt: c.pageLastAt });
    } else {
      c.pages.push({ first, count: 0, firstAt: new Date(NaN), lastAt: new Date(NaN) });
    }
    c.page++;
    c.items = 0;
    c.chars = 0;
    c.pageFirstAt = undefined;
    c.pageLastAt = undefined;
  }

  #conversationFacts(conv: Conversation): string {
    const ids = conv.participantIds ?? [];
    return facts([
      ['Kind', KIND_LABEL[conv.kind] ?? escapeHtml(conv.kind)],
      ['Id', '<code>' + escapeHtml(conv.id) + '</code>'],
      ['Topic', conv.topic !== undefined && conv.topic !== '' ? '<span dir="auto">' + escapeHtml(conv.topic) + '</span>' : undefined],
      ['Created', conv.createdAt === undefined ? undefined : timeHtml(conv.createdAt)],
      ['Member joined', conv.memberJoinedAt === undefined ? undefined : timeHtml(conv.memberJoinedAt)],
      ['Member left', conv.memberLeftAt === undefined ? undefined : timeHtml(conv.memberLeftAt)],
      ['Participants', ids.length === 0 ? undefined : ids.map(bdi).join(', ')],
    ]);
  }

  async #writeConversationContents(c: OpenConversation): Promise<void> {
    let h = this.#start(`${c.title} — all pages`, '../style.css');
    h += '<nav class="pager"><a href="' + UP2 + 'index.html">Overview</a><a href="page-0001.html">First page</a></nav>\n';
    h += '<header><h1 dir="auto">' + escapeHtml(c.title) + '</h1>';
    h += '<p class="sub">' + plural(c.count, 'message', 'messages') + ' on ' + c.pages.length + ' pages</p></header>\n<main>';
    h += '<div class="scroll"><table><thead><tr><th>Page</th><th class="n">Messages</th><th>From</th><th>To</th></tr></thead><tbody>\n';
    for (let i = 0; i < c.pages.length; i++) {
      const p = c.pages[i] as PageSummary;
      h +=
        '<tr><td><a href="page-' + pad4(i + 1) + '.html">Page ' + (i + 1) + '</a></td><td class="n">' +
        p.first.toLocaleString('en-US') + '–' + (p.first + p.count - 1).toLocaleString('en-US') +
        '</td><td>' + timeHtml(p.firstAt) + '</td><td>' + timeHtml(p.lastAt) + '</td></tr>\n';
    }
    h += '</tbody></table></div></main>' + PAGE_END;
    await this.#add(`${c.dir}/index.html`, h);
  }

  async #writeFilesPage(final: boolean): Promise<void> {
    const list = this.#files;
    const page = list.page;
    const first = list.total - list.items + 1;
    const nav =
      '<nav class="pager"><a href="' + UP2 + 'index.html">Overview</a>' +
      (page > 1 ? '<a href="page-' + pad4(page - 1) + '.html" rel="prev">‹ Previous page</a>' : '') +
      '<span class="here">Page ' + page + '</span>' +
      (!final ? '<a href="page-' + pad4(page + 1) + '.html" rel="next">Next page ›</a>' : '') +
      '</nav>\n';
    let h = this.#start(`Files — page ${page}`, '../style.css') + nav + '<header><h1>Files</h1>';
    if (list.items === 0) {
      h += '</header>\n<p class="note">No files are in this archive.</p>\n';
    } else {
      h += '<p class="sub">Files ' + first.toLocaleString('en-US') + '–' + list.total.toLocaleString('en-US') + '</p></header>\n';
      h += '<main><ul class="files" lang="">\n' + list.body + '</ul></main>\n';
    }
    h += nav + PAGE_END;
    await this.#add(`view/files/page-${pad4(page)}.html`, h);
    list.written.push(list.items);
    list.page++;
    list.body = '';
    list.items = 0;
    list.chars = 0;
  }

  async #writeGrantsPage(final: boolean): Promise<void> {
    const list = this.#grants;
    const page = list.page;
    const first = list.total - list.items + 1;
    const paged = page > 1 || !final;
    const nav =
      '<nav class="pager"><a href="../index.html">Overview</a>' +
      (page > 1 ? '<a href="' + grantsPagePath(page - 1).slice(5) + '" rel="prev">‹ Previous page</a>' : '') +
      (paged ? '<span class="here">Page ' + page + '</span>' : '') +
      (!final ? '<a href="' + grantsPagePath(page + 1).slice(5) + '" rel="next">Next page ›</a>' : '') +
      '</nav>\n';
    let h = this.#start(paged ? `App authorizations — page ${page}` : 'App authorizations', 'style.css') + nav;
    h += '<header><h1>App authorizations</h1>';
    if (list.items === 0) {
      h += '</header>\n<p class="note">No app authorizations are in this archive.</p>\n';
    } else {
      h +=
        '<p class="sub">Status as of the export, ' + timeHtml(this.#context().createdAt) +
        (paged ? '; authorizations ' + first.toLocaleString('en-US') + '–' + list.total.toLocaleString('en-US') : '') +
        '</p></header>\n<main lang=""><div class="scroll"><table><thead><tr><th>App</th><th>App id</th><th>Scopes</th><th>Granted</th><th>Granted by</th>' +
        '<th>Expires</th><th>Revoked</th><th>Status</th><th>History</th></tr></thead><tbody>\n' +
        list.body +
        '</tbody></table></div></main>\n';
    }
    h += nav + PAGE_END;
    await this.#add(grantsPagePath(page), h);
    list.written.push(list.items);
    list.page++;
    list.body = '';
    list.items = 0;
    list.chars = 0;
  }

  async #writeOverview(totals: ExportTotals): Promise<void> {
    const ctx = this.#context();
    const s = ctx.subject;
    const r = ctx.request;
    const name = s.displayName || s.id;
    let h = this.#start(`Archive of ${name}`, 'view/style.css');
    h +=
      '<header><h1>Archive of <bdi>' + escapeHtml(name) + '</bdi></h1><p class="sub">Exported ' + timeHtml(ctx.createdAt) +
      ' from ' + bdi(ctx.sourceName) + ' by ' + escapeHtml(this.#generator) + '</p></header>\n<main>\n';

    h += '<h2 id="who">Whose data</h2>';
    h += facts([
      ['Display name', bdi(s.displayName)],
      ['Real name', s.realName === undefined ? undefined : bdi(s.realName)],
      ['Username', s.username === undefined ? undefined : bdi(s.username)],
      ['Email', s.email === undefined ? undefined : bdi(s.email)],
      ['Member id', '<code>' + escapeHtml(s.id) + '</code>'],
      ['Account', s.deleted === true ? 'deactivated or deleted in the platform' : s.bot === true ? 'bot or integration' : undefined],
    ]);
    if (ctx.memberships.length > 0) {
      h += '<h3>Memberships</h3><div class="scroll"><table><thead><tr><th>Organization</th><th>Role</th><th>Joined</th><th>Left</th></tr></thead><tbody>\n';
      for (const m of ctx.memberships) {
        h +=
          '<tr><td>' + bdi(m.organizationName) + ' <span class="meta">(' + escapeHtml(m.organizationId) + ')</span></td><td>' +
          escapeHtml(m.role) + '</td><td>' + optionalTimeHtml(m.joinedAt) + '</td><td>' + optionalTimeHtml(m.leftAt) + '</td></tr>\n';
      }
      h += '</tbody></table></div>\n';
    }

    h += '<h2 id="why">Why this archive exists</h2>';
    h += facts([
      ['Request', '<code>' + escapeHtml(r.id) + '</code>'],
      ['Reason', '<span dir="auto">' + escapeHtml(r.reason) + '</span>'],
      ['Requested by', bdi(r.requester)],
      ['Legal basis', '<span dir="auto">' + escapeHtml(r.legalBasis) + '</span>'],
      [
        'Scope',
        r.scope === 'authored'
          ? 'authored: only messages this member wrote'
          : 'participant: messages in conversations while this member was in them',
      ],
      ['Other people', ctx.pseudonymized ? 'names and ids replaced by stable pseudonyms' : 'shown as the platform recorded them'],
    ]);

    h += '<h2 id="contents">What it contains</h2>';
    const gc = this.#grantStatusCounts;
    h += facts([
      ['Conversations', '<a href="#conversations">' + totals.conversations.toLocaleString('en-US') + '</a>'],
      ['Messages', totals.messages.toLocaleString('en-US')],
      ['Files', '<a href="#files">' + totals.files.toLocaleString('en-US') + '</a> (' + formatSize(totals.fileBytes) + ' of file contents)'],
      [
        'App authorizations',
        '<a href="' + HTML_VIEW_PATHS.grants + '">' + totals.grants.toLocaleString('en-US') + '</a> (' +
          gc.active + ' active, ' + gc.expired + ' expired, ' + gc.revoked + ' revoked)',
      ],
      [
        'Replaced characters',
        totals.replacedCharacters === 0
          ? undefined
          : totals.replacedCharacters.toLocaleString('en-US') + ' characters that XML cannot hold were replaced by �',
      ],
    ]);

    h += '<h2 id="conversations">Conversations</h2>';
    if (this.#conversations.length === 0) {
      h += '<p class="note">No conversations are in this archive.</p>\n';
    } else {
      h += '<div class="scroll"><table><thead><tr><th>Conversation</th><th>Kind</th><th class="n">Messages</th><th class="n">Pages</th></tr></thead><tbody lang="">\n';
      for (const c of this.#conversations) {
        h +=
          '<tr><td><a href="' + c.dir + '/page-0001.html" dir="auto">' + escapeHtml(c.title) + '</a> <span class="meta">' +
          escapeHtml(c.id) + '</span></td><td>' +
          (KIND_LABEL[c.kind] ?? escapeHtml(c.kind)) + '</td><td class="n">' + c.messageCount.toLocaleString('en-US') + '</td><td class="n">' +
          (c.pageCount > 1 ? '<a href="' + c.dir + '/index.html">' + c.pageCount + '</a>' : String(c.pageCount)) + '</td></tr>\n';
      }
      h += '</tbody></table></div>\n';
    }

    h += '<h2 id="files">Files</h2>';
    const fileTotal = this.#files.total;
    h += '<p>' + plural(fileTotal, 'file is', 'files are') + ' listed, with ' + formatSize(totals.fileBytes) + ' of contents in the archive.</p>';
    h += '<ul>';
    let from = 1;
    for (let i = 0; i < this.#files.written.length; i++) {
      const n = this.#files.written[i] as number;
      h +=
        '<li><a href="view/files/page-' + pad4(i + 1) + '.html">Files page ' + (i + 1) + '</a>' +
        (n > 0 ? ' <span class="meta">(files ' + from.toLocaleString('en-US') + '–' + (from + n - 1).toLocaleString('en-US') + ')</span>' : '') + '</li>';
      from += n;
    }
    h += '</ul>\n';

    h += '<h2 id="grants">App authorizations</h2><ul>';
    from = 1;
    for (let i = 0; i < this.#grants.written.length; i++) {
      const n = this.#grants.written[i] as number;
      h +=
        '<li><a href="' + grantsPagePath(i + 1) + '">App authorizations' + (this.#grants.written.length > 1 ? ', page ' + (i + 1) : '') + '</a>' +
        (n > 0 ? ' <span class="meta">(' + from.toLocaleString('en-US') + '–' + (from + n - 1).toLocaleString('en-US') + ')</span>' : '') + '</li>';
      from += n;
    }
    h += '</ul>\n</main>\n';
    h +=
      '<footer>These pages are a readable copy of the archive, for opening in any web browser without installing anything; ' +
      'they run no scripts and make no network requests. The archive’s data files remain the authoritative record.</footer>';
    h += PAGE_END;
    await this.#add(HTML_VIEW_PATHS.overview, h);
  }

  #context(): ExportContext {
    if (this.#ctx === undefined) throw new Error('html view: begin() was not called');
    return this.#ctx;
  }
}

/**
 * The human-readable view of an archive: `index.html` (overview) at the root, and
 * under `view/` one directory of pages per conversation, the Files pages, the app
 * authorizations and a shared stylesheet. Pages are static HTML with no script and no
 * external resource, readable offline by double-clicking `index.html`.
 */
export function createHtmlView(options: HtmlViewOptions = {}): ExportView {
  return new HtmlView(options);
}
