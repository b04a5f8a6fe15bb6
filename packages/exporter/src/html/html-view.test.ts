import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { AddEntryOptions, ArchivedFile, EntryKind, EntrySink, ExportContext, ExportView } from '../export/view.js';
import type { Conversation, FileRecord, Grant, Message } from '../source/domain.js';
import { createHtmlView, type HtmlViewOptions } from './html-view.js';

// ── harness ──────────────────────────────────────────────────────────────────

interface Entry {
  content: string | Uint8Array;
  kind: EntryKind;
  store: boolean | undefined;
}

/** Collects entries in memory; fails on duplicate paths and on overlapping `add` calls. */
class MemorySink implements EntrySink {
  readonly entries = new Map<string, Entry>();
  #inFlight = 0;

  async add(path: string, content: string | Uint8Array | Readable, options: AddEntryOptions): Promise<void> {
    if (this.entries.has(path)) throw new Error(`duplicate entry ${path}`);
    if (typeof content !== 'string' && !(content instanceof Uint8Array)) throw new Error('streams are not expected from the html view');
    if (this.#inFlight > 0) throw new Error(`add(${path}) while another add is in flight`);
    this.#inFlight++;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.entries.set(path, { content, kind: options.kind, store: options.store });
    this.#inFlight--;
  }

  html(path: string): string {
    const e = this.entries.get(path);
    if (e === undefined) throw new Error(`no entry ${path}; have ${[...this.entries.keys()].join(', ')}`);
    if (typeof e.content === 'string') return e.content;
    if (e.content instanceof Uint8Array) return new TextDecoder('utf-8', { fatal: true }).decode(e.content);
    throw new Error(`${path} is not text`);
  }

  htmlPaths(): string[] {
    return [...this.entries.entries()].filter(([, e]) => e.kind === 'html').map(([p]) => p);
  }
}

const CREATED_AT = new Date('2024-06-01T12:00:00Z');

function context(sink: EntrySink, overrides: Partial<ExportContext> = {}): ExportContext {
  return {
    subject: { id: 'U1', displayName: 'alice', realName: 'Alice Example', email: 'alice@example.com', username: 'alice' },
    memberships: [{ organizationId: 'T1', organizationName: 'Acme', role: 'member', joinedAt: new Date('2020-01-01T00:00:00Z') }],
    request: { id: 'REQ-1', reason: 'Account deletion', requester: 'hr@example.com', legalBasis: 'GDPR Art. 20', scope: 'participant' },
    createdAt: CREATED_AT,
    sourceName: 'demo',
    generator: { name: 'handover', version: '0.1.0' },
    pseudonymized: true,
    sink,
    ...overrides,
  };
}

/** The archive path the test exporter gives a file's bytes, and tells the view through `resolveFilePath`. */
function testFilePath(f: FileRecord): string | undefined {
  if (f.availability !== 'available' || f.id.startsWith('shared')) return undefined;
  return `files/${f.id}/${f.name.replace(/[/\\]/g, '_')}`;
}

interface Scenario {
  conversations: Array<{ conversation: Conversation; messages: Iterable<Message> }>;
  grants?: Grant[];
  /** Messages per "part": files are reported after each part, as the exporter does. */
  partSize?: number;
}

/**
 * Drives a view the way the exporter does: files are reported after the messages that
 * reference them (after each part, and after conversationEnd for the rest), with their
 * bytes written to the sink first.
 */
async function runExport(view: ExportView, sink: MemorySink, scenario: Scenario, ctx = context(sink)): Promise<void> {
  const seen = new Set<string>();
  let pending: FileRecord[] = [];
  const flushFiles = async (): Promise<void> => {
    for (const f of pending) {
      const path = testFilePath(f);
      const archived: ArchivedFile =
        path === undefined
          ? { file: f, bytesStatus: f.availability === 'available' ? 'shared-not-included' : 'not-in-source' }
          : { file: f, entryPath: path, bytesStatus: 'included' };
      if (path !== undefined) await sink.add(path, new Uint8Array([1, 2, 3]), { kind: 'file', store: true });
      await view.file(archived);
    }
    pending = [];
  };
  const partSize = scenario.partSize ?? 3;
  let messageTotal = 0;
  await view.begin(ctx);
  for (const { conversation, messages } of scenario.conversations) {
    await view.conversationStart(conversation);
    let count = 0;
    for (const m of messages) {
      await view.message(m);
      count++;
      for (const f of m.attachments) {
        if (!seen.has(f.id)) {
          seen.add(f.id);
          pending.push(f);
        }
      }
      if (count % partSize === 0) await flushFiles();
    }
    await view.conversationEnd(conversation, count);
    messageTotal += count;
    await flushFiles();
  }
  for (const g of scenario.grants ?? []) await view.grant(g);
  await view.end({
    conversations: scenario.conversations.length,
    messages: messageTotal,
    files: seen.size,
    fileBytes: 0,
    grants: scenario.grants?.length ?? 0,
    replacedCharacters: 0,
  });
}

let seq = 0;
function msg(conversationId: string, overrides: Partial<Message> = {}): Message {
  seq++;
  return {
    id: `${seq}`,
    conversationId,
    authorId: 'U2',
    authorName: 'bob',
    sentAt: new Date(Date.UTC(2024, 0, 1, 0, 0, seq)),
    deleted: false,
    text: `message ${seq}`,
    reactions: [],
    attachments: [],
    ...overrides,
  };
}

function file(id: string, name: string, mimeType: string, overrides: Partial<FileRecord> = {}): FileRecord {
  return { id, name, mimeType, size: 1234, ownerId: 'U2', createdAt: new Date('2024-01-01T00:00:00Z'), availability: 'available', ...overrides };
}

function* many(conversationId: string, n: number): Generator<Message> {
  for (let i = 0; i < n; i++) yield msg(conversationId);
}

// ── HTML inspection ─────────────────────────────────────────────────────────

const ATTR = /\s([a-zA-Z-]+)="([^"]*)"/g;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };

function unescapeAttr(v: string): string {
  return v.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ENTITIES[e] ?? '');
}

/** Every attribute of every tag, unescaped. Text never contains `<` (it is escaped), so a tag scan finds only real tags. */
function attributes(html: string): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  for (const tag of html.matchAll(/<[a-zA-Z][^>]*>/g)) {
    for (const m of tag[0].matchAll(ATTR)) out.push({ name: (m[1] as string).toLowerCase(), value: unescapeAttr(m[2] as string) });
  }
  return out;
}

/** Resolves a link the way a browser does for a file:// page, to an archive path and fragment. */
function resolveLink(from: string, url: string): { path: string; fragment: string } {
  const base = new URL('file:///archive/' + from.split('/').map(encodeURIComponent).join('/'));
  const u = new URL(url, base);
  expect(u.protocol).toBe('file:');
  expect(u.host).toBe('');
  const pathname = decodeURIComponent(u.pathname);
  expect(pathname.startsWith('/archive/'), `${url} from ${from} leaves the archive`).toBe(true);
  return { path: pathname.slice('/archive/'.length), fragment: decodeURIComponent(u.hash.slice(1)) };
}

/** Checks every href/src of every page resolves to an entry (and its fragment to an id there); returns the page graph. */
function checkLinks(sink: MemorySink): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  const idCache = new Map<string, Set<string>>();
  const idsOf = (path: string): Set<string> => {
    let ids = idCache.get(path);
    if (ids === undefined) {
      ids = new Set(attributes(sink.html(path)).filter((a) => a.name === 'id').map((a) => a.value));
      idCache.set(path, ids);
    }
    return ids;
  };
  for (const page of sink.htmlPaths()) {
    const targets = new Set<string>();
    for (const { name, value } of attributes(sink.html(page))) {
      if (name !== 'href' && name !== 'src') continue;
      const { path, fragment } = resolveLink(page, value);
      expect(sink.entries.has(path), `${page}: ${name}="${value}" → ${path} is not in the archive`).toBe(true);
      if (fragment !== '') {
        expect(idsOf(path).has(fragment), `${page}: ${value} → no id "${fragment}" in ${path}`).toBe(true);
      }
      targets.add(path);
    }
    graph.set(page, targets);
  }
  return graph;
}

const VOID = new Set(['meta', 'link', 'img', 'br', 'hr', 'input', 'wbr', 'source']);

/** Elements nest properly: every open tag closed in order. */
function checkBalanced(path: string, html: string): void {
  const stack: string[] = [];
  for (const m of html.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*>/g)) {
    const name = (m[2] as string).toLowerCase();
    if (VOID.has(name)) continue;
    if (m[1] === '/') {
      const open = stack.pop();
      expect(open, `${path}: </${name}> closes <${open}>`).toBe(name);
    } else {
      stack.push(name);
    }
  }
  expect(stack, `${path}: unclosed`).toEqual([]);
}

function count(haystack: string, needle: string | RegExp): number {
  return haystack.split(needle).length - 1;
}

// ── tests ────────────────────────────────────────────────────────────────────

describe('createHtmlView', () => {
  const XSS = '<script>alert(1)</script>';

  async function fullExport(options: HtmlViewOptions = {}): Promise<MemorySink> {
    const sink = new MemorySink();
    const view = createHtmlView({ resolveFilePath: testFilePath, ...options });
    const general: Conversation = { id: 'C1', kind: 'channel', name: 'general', topic: 'Company-wide', memberJoinedAt: new Date('2020-01-01T00:00:00Z') };
    const evil: Conversation = { id: '../../etc/passwd', kind: 'private-group', name: `../${XSS}` };
    const dm: Conversation = { id: 'D1', kind: 'dm', participantIds: ['P-7'] };
    const empty: Conversation = { id: 'C9', kind: 'channel', name: 'empty' };
    const root = msg('C1', { id: 'root.1', text: 'thread start' });
    const generalMessages: Message[] = [
      root,
      msg('C1', { threadParentId: 'root.1', text: 'a reply' }),
      msg('C1', { authorId: 'U1', authorName: undefined, text: XSS }),
      msg('C1', { text: 'שלום עולם' }),
      msg('C1', { text: 'bad\u0001chars\uFFFE\uD800 and 😀' }),
      msg('C1', { deleted: true, text: '' }),
      msg('C1', {
        text: 'final text',
        editedAt: new Date('2024-02-02T10:11:12Z'),
        edits: [{ editedAt: new Date('2024-02-02T10:11:12Z'), previousText: `first ${XSS}`, editorId: 'U2' }, { editedAt: new Date('2024-02-03T00:00:00Z') }],
      }),
      msg('C1', { reactions: [{ emoji: ':+1:', userIds: ['U1', 'U3'] }], text: 'see https://evil.example/x and http://x.test' }),
      msg('C1', {
        attachments: [
          file('F1', 'my photo #1 (ü) 100%.png', 'image/png', { url: 'https://files.example.com/F1?token=x' }),
          file('F2', 'drawing.svg', 'image/svg+xml'),
          file('F3', 'report.pdf', 'application/pdf'),
          file('F4', 'gone.txt', 'text/plain', { availability: 'not-in-source' }),
          file('shared-F5', 'theirs.docx', 'application/msword'),
          file('F6', `${XSS}.png`, 'image/png'),
        ],
      }),
      msg('C1', { threadParentId: 'missing-root', text: 'orphan reply' }),
      msg('C1', { attachments: [file('F1', 'my photo #1 (ü) 100%.png', 'image/png')], text: 'same photo again' }),
    ];
    const grants: Grant[] = [
      { id: 'G1', appId: 'A1', appName: 'Calendar', scopes: ['read', 'write'], grantedAt: new Date('2023-01-01T00:00:00Z'), grantedBy: 'U1' },
      { id: 'G2', appId: 'A2', appName: 'Old bot', scopes: ['chat:write'], expiresAt: new Date('2024-01-01T00:00:00Z') },
      {
        id: 'G3',
        appId: 'A3',
        appName: XSS,
        scopes: [],
        revokedAt: new Date('2024-03-01T00:00:00Z'),
        history: [{ at: new Date('2024-03-01T00:00:00Z'), change: 'revoked', actorId: 'U1', reason: `policy ${XSS}` }],
      },
      { id: 'G4', appId: 'A4', appName: 'Future expiry', scopes: ['x'], expiresAt: new Date('2030-01-01T00:00:00Z') },
    ];
    await runExport(view, sink, {
      conversations: [
        { conversation: general, messages: generalMessages },
        { conversation: evil, messages: [msg(evil.id, { authorName: XSS, subtype: XSS })] },
        { conversation: dm, messages: many(dm.id, 2) },
        { conversation: empty, messages: [] },
      ],
      grants,
    });
    return sink;
  }

  it('writes an overview that reaches every page, and every href/src resolves to an entry in the archive', async () => {
    const sink = await fullExport();
    const graph = checkLinks(sink);

    const index = sink.html('index.html');
    for (const dir of ['view/c0001-general', 'view/c0002-script-alert-1-script', 'view/c0003-dm', 'view/c0004-empty']) {
      expect(sink.entries.has(`${dir}/page-0001.html`)).toBe(true);
      expect(index).toContain(`href="${dir}/page-0001.html"`);
    }
    expect(index).toContain('href="view/files/page-0001.html"');
    expect(index).toContain('href="view/grants.html"');

    // Every page is reachable from index.html by following links.
    const reached = new Set(['index.html']);
    const queue = ['index.html'];
    while (queue.length > 0) {
      for (const t of graph.get(queue.shift() as string) ?? []) {
        if (graph.has(t) && !reached.has(t)) {
          reached.add(t);
          queue.push(t);
        }
      }
    }
    expect([...reached].sort()).toEqual(sink.htmlPaths().sort());
  });

  it('shows who, when and why on the overview', async () => {
    const index = (await fullExport()).html('index.html');
    for (const text of ['Alice Example', 'alice@example.com', 'Acme', 'REQ-1', 'Account deletion', 'hr@example.com', 'GDPR Art. 20', 'participant']) {
      expect(index).toContain(text);
    }
    expect(index).toContain('<time datetime="2024-06-01T12:00:00Z">2024-06-01 12:00 UTC</time>');
    expect(index).toContain('2 active, 1 expired, 1 revoked');
    expect(index).toMatch(/<dt>Messages<\/dt><dd>14<\/dd>/);
  });

  it('gives pages safe paths and declares kinds: html pages deflated, one stylesheet asset', async () => {
    const sink = await fullExport();
    for (const [path, e] of sink.entries) {
      if (e.kind === 'file') continue;
      expect(path).toMatch(/^(index\.html|view\/(style\.css|grants(-\d{4,})?\.html|files\/page-\d{4,}\.html|c\d{4,}(-[a-z0-9-]+)?\/(page-\d{4,}|index)\.html))$/);
      expect(e.store).toBe(false);
      expect(e.kind).toBe(path.endsWith('.css') ? 'asset' : 'html');
    }
    expect(sink.entries.get('view/style.css')?.kind).toBe('asset');
  });

  it('escapes every piece of text: no markup from the data survives', async () => {
    const sink = await fullExport();
    for (const path of sink.htmlPaths()) {
      const html = sink.html(path);
      expect(html, path).not.toMatch(/<script/i);
      expect(html, path).not.toMatch(/<[^>]*\son[a-z]+\s*=/i);
      checkBalanced(path, html);
    }
    const general = sink.html('view/c0001-general/page-0001.html');
    expect(general).toContain('<p dir="auto">&lt;script&gt;alert(1)&lt;/script&gt;</p>');
    expect(sink.html('view/c0002-script-alert-1-script/page-0001.html')).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(sink.html('view/grants.html')).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('replaces characters HTML cannot carry and keeps emoji', async () => {
    const general = (await fullExport()).html('view/c0001-general/page-0001.html');
    expect(general).toContain('bad\uFFFDchars\uFFFD\uFFFD and 😀');
    expect(general).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/);
  });

  it('marks message text dir="auto" so RTL renders right, under a language-neutral container', async () => {
    const general = (await fullExport()).html('view/c0001-general/page-0001.html');
    expect(general).toContain('<p dir="auto">שלום עולם</p>');
    expect(general).toMatch(/^<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">/);
    expect(general).toContain('<main class="msgs" lang="">');
  });

  it('has no external URL in any attribute, stylesheet or policy; URLs in messages stay text', async () => {
    const sink = await fullExport();
    for (const path of sink.htmlPaths()) {
      const html = sink.html(path);
      for (const { name, value } of attributes(html)) {
        if (name === 'content') continue; // meta content: checked below
        expect(value, `${path} ${name}`).not.toMatch(/^[a-z][a-z0-9+.-]*:|^\/\/|^\\/i);
      }
      const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1] ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toMatch(/https?:|\*|'unsafe/);
    }
    expect(sink.html('view/style.css')).not.toMatch(/url\(|@import|https?:/);
    const general = sink.html('view/c0001-general/page-0001.html');
    expect(general).toContain('see https://evil.example/x and http://x.test');
    expect(general).not.toContain('files.example.com');
  });

  it('renders threads, edits, deletions and reactions', async () => {
    const general = (await fullExport()).html('view/c0001-general/page-0001.html');
    expect(general).toMatch(/<article class="r" id="m-\d+">.*<a href="page-0001\.html#m-root\.1">thread start<\/a>/);
    expect(general).toContain('reply to a message that is not in this archive');
    expect(general).toContain('<span class="ed">edited <time datetime="2024-02-02T10:11:12Z">2024-02-02 10:11 UTC</time></span>');
    expect(general).toMatch(/<details class="hist"><summary>Edit history \(2\)<\/summary>.*first &lt;script&gt;/);
    expect(general).toContain('the text before was not kept');
    expect(general).toContain('<p class="note">message deleted</p>');
    expect(general).toContain('<li title="U1, U3">:+1: 2</li>');
    // The member's own messages are marked and carry their name.
    expect(general).toMatch(/<article class="me" id="m-\d+"><bdi>alice<\/bdi> <time/);
  });

  it('shows raster images inline, links other files, and never inlines SVG', async () => {
    const sink = await fullExport();
    const general = sink.html('view/c0001-general/page-0001.html');
    const photo = '../../files/F1/my%20photo%20%231%20(%C3%BC)%20100%25.png';
    expect(general).toContain(`<img src="${photo}" alt="my photo #1 (ü) 100%.png" loading="lazy" decoding="async">`);
    expect(count(general, `<img src="${photo}"`)).toBe(2);
    expect(general).toContain('<a href="../../files/F2/drawing.svg" download>');
    expect(general).not.toMatch(/<img[^>]*drawing\.svg/);
    expect(general).toContain('<a href="../../files/F3/report.pdf">');
    expect(general).toMatch(/gone\.txt<\/bdi> <span class="meta">text\/plain · 1\.2 kB · <span class="status not-in-source">/);
    expect(general).toMatch(/theirs\.docx<\/bdi> <span class="meta">[^<]*<a href="\.\.\/\.\.\/index\.html#files">contents not in this archive/);

    const files = sink.html('view/files/page-0001.html');
    expect(count(files, '<li id="f-')).toBe(6); // F1 once, though two messages attach it
    expect(files).toContain(`<img src="${photo}"`);
    expect(files).toContain('<span class="status shared-not-included">');
    expect(files).toContain('<span class="status not-in-source">');
    expect(files).toContain('<li id="f-shared-F5">');
  });

  it('links a conversation without messages to a page that says so', async () => {
    const page = (await fullExport()).html('view/c0004-empty/page-0001.html');
    expect(page).toContain('No messages of this conversation are in this archive.');
  });

  it('pages long conversations at the message bound, with prev/next links and a page index, writing as it goes', async () => {
    const sink = new MemorySink();
    const view = createHtmlView();
    await view.begin(context(sink));
    const conv: Conversation = { id: 'C1', kind: 'channel', name: 'long' };
    await view.conversationStart(conv);
    let n = 0;
    for (const m of many('C1', 2500)) {
      await view.message(m);
      n++;
      // The first page is written as soon as the 1,001st message shows it is full: nothing waits for the end.
      if (n === 1000) expect(sink.entries.has('view/c0001-long/page-0001.html')).toBe(false);
      if (n === 1001) expect(sink.entries.has('view/c0001-long/page-0001.html')).toBe(true);
    }
    await view.conversationEnd(conv, n);
    await view.end({ conversations: 1, messages: n, files: 0, fileBytes: 0, grants: 0, replacedCharacters: 0 });

    const pages = [1, 2, 3].map((p) => sink.html(`view/c0001-long/page-000${p}.html`));
    expect(pages.map((p) => count(p, '<article '))).toEqual([1000, 1000, 500]);
    expect(sink.entries.has('view/c0001-long/page-0004.html')).toBe(false);
    const [p1, p2, p3] = pages as [string, string, string];
    expect(p1).not.toContain('rel="prev"');
    expect(p1).toContain('<a href="page-0002.html" rel="next">');
    expect(p2).toContain('<a href="page-0001.html" rel="prev">');
    expect(p2).toContain('<a href="page-0003.html" rel="next">');
    expect(p3).not.toContain('rel="next"');
    expect(p3).toContain('Messages 2,001–2,500');
    const contents = sink.html('view/c0001-long/index.html');
    expect(count(contents, /<a href="page-\d{4}\.html">Page/)).toBe(3);
    expect(sink.html('index.html')).toContain('<a href="view/c0001-long/index.html">3</a>');
    checkLinks(sink);
  });

  it('heads each page and each new UTC day on it with the date, and shows messages with their clock time', async () => {
    const sink = new MemorySink();
    const view = createHtmlView({ maxMessagesPerPage: 3 });
    const conv: Conversation = { id: 'CD', kind: 'channel', name: 'days' };
    const at = ['2024-03-01T09:00:00Z', '2024-03-01T23:59:59Z', '2024-03-02T00:00:00Z', '2024-03-02T08:30:15Z', '2024-03-04T10:00:00Z'];
    await runExport(view, sink, { conversations: [{ conversation: conv, messages: at.map((t) => msg('CD', { sentAt: new Date(t) })) }] });
    const heading = (day: string): string => `<h2 class="day"><time datetime="${day}">${day}</time> UTC</h2>`;
    const p1 = sink.html('view/c0001-days/page-0001.html');
    const p2 = sink.html('view/c0001-days/page-0002.html');
    expect(count(p1, '<h2 class="day">')).toBe(2);
    expect(p1.indexOf(heading('2024-03-01'))).toBeLessThan(p1.indexOf('<time datetime="2024-03-01T09:00:00Z">09:00</time>'));
    expect(p1.indexOf('<time datetime="2024-03-01T23:59:59Z">23:59</time>')).toBeLessThan(p1.indexOf(heading('2024-03-02')));
    expect(p1).toContain('<time datetime="2024-03-02T00:00:00Z">00:00</time>');
    // The second page starts on a day the first already headed: it gets its own heading.
    expect(count(p2, '<h2 class="day">')).toBe(2);
    expect(p2.indexOf(heading('2024-03-02'))).toBeLessThan(p2.indexOf('<time datetime="2024-03-02T08:30:15Z">08:30</time>'));
    expect(p2).toContain(heading('2024-03-04'));
    checkLinks(sink);
  });

  it('writes no empty trailing page when the messages fill the last page exactly', async () => {
    const sink = new MemorySink();
    await runExport(createHtmlView({ maxMessagesPerPage: 2 }), sink, {
      conversations: [{ conversation: { id: 'C1', kind: 'channel', name: 'even' }, messages: many('C1', 4) }],
    });
    expect(sink.entries.has('view/c0001-even/page-0002.html')).toBe(true);
    expect(sink.entries.has('view/c0001-even/page-0003.html')).toBe(false);
    expect(sink.html('view/c0001-even/page-0002.html')).not.toContain('rel="next"');
    checkLinks(sink);
  });

  it('closes a page before a message that would overfill it, so a huge message gets a page of its own', async () => {
    const sink = new MemorySink();
    const view = createHtmlView({ maxPageChars: 10_000 });
    const huge = 'x'.repeat(50_000);
    await runExport(view, sink, {
      conversations: [
        {
          conversation: { id: 'C1', kind: 'channel', name: 'big' },
          messages: [msg('C1'), msg('C1'), msg('C1', { text: huge }), msg('C1'), msg('C1')],
        },
      ],
    });
    const articles = [1, 2, 3].map((p) => count(sink.html(`view/c0001-big/page-000${p}.html`), '<article '));
    expect(articles).toEqual([2, 1, 2]);
    expect(sink.html('view/c0001-big/page-0002.html')).toContain(huge);
    checkLinks(sink);
  });

  it('gives a 1 MB message a page of its own at the default bounds', async () => {
    const sink = new MemorySink();
    const big = 'é'.repeat(1_000_000);
    await runExport(createHtmlView(), sink, {
      conversations: [{ conversation: { id: 'C1', kind: 'channel', name: 'big' }, messages: [msg('C1'), msg('C1', { text: big }), msg('C1')] }],
    });
    const articles = [1, 2, 3].map((p) => count(sink.html(`view/c0001-big/page-000${p}.html`), '<article '));
    expect(articles).toEqual([1, 1, 1]);
  });

  it('links replies to a parent on an earlier page, and says so when the parent was forgotten', async () => {
    const sink = new MemorySink();
    const view = createHtmlView({ maxMessagesPerPage: 2, maxThreadRoots: 3 });
    const root = msg('C1', { id: 'R 1/é' });
    const messages = [root, msg('C1'), msg('C1'), msg('C1', { threadParentId: 'R 1/é' }), msg('C1'), msg('C1'), msg('C1', { threadParentId: 'R 1/é' })];
    await runExport(view, sink, { conversations: [{ conversation: { id: 'C1', kind: 'channel', name: 't' }, messages }] });
    const anchor = 'm-R_00201_002f_00e9';
    expect(sink.html('view/c0001-t/page-0001.html')).toContain(`id="${anchor}"`);
    expect(sink.html('view/c0001-t/page-0002.html')).toContain(`<a href="page-0001.html#${anchor}">`);
    // Three newer roots pushed the parent out of the bounded index.
    expect(sink.html('view/c0001-t/page-0004.html')).toContain('reply in a thread that started too far back to link');
    checkLinks(sink);
  });

  it('computes grant status as of the export and pages the grants table', async () => {
    const sink = await fullExport();
    const grants = sink.html('view/grants.html');
    const status = (app: string): string | undefined =>
      new RegExp(`<tr><td><bdi>${app}</bdi>.*?<span class="status (\\w+)">`).exec(grants)?.[1];
    expect(status('Calendar')).toBe('active');
    expect(status('Old bot')).toBe('expired');
    expect(status('&lt;script&gt;alert\\(1\\)&lt;/script&gt;')).toBe('revoked');
    expect(status('Future expiry')).toBe('active');
    expect(grants).toMatch(/<details><summary>1 event<\/summary><ol><li><time[^>]*>[^<]*<\/time> revoked by <bdi>U1<\/bdi>/);

    const paged = new MemorySink();
    const many12: Grant[] = Array.from({ length: 12 }, (_, i) => ({ id: `G${i}`, appId: `A${i}`, appName: `App ${i}`, scopes: [] }));
    await runExport(createHtmlView({ maxGrantsPerPage: 5 }), paged, { conversations: [], grants: many12 });
    expect(['view/grants.html', 'view/grants-0002.html', 'view/grants-0003.html'].map((p) => count(paged.html(p), '<tr><td>'))).toEqual([5, 5, 2]);
    expect(paged.html('view/grants.html')).toContain('<a href="grants-0002.html" rel="next">');
    expect(paged.html('view/grants-0002.html')).toContain('<a href="grants.html" rel="prev">');
    expect(paged.entries.has('view/grants-0004.html')).toBe(false);
    checkLinks(paged);
  });

  it('pages the Files list and falls back to the overview when the file path is unknown', async () => {
    const sink = new MemorySink();
    const view = createHtmlView({ maxFilesPerPage: 4 }); // no resolveFilePath
    const messages = Array.from({ length: 10 }, (_, i) => msg('C1', { attachments: [file(`F${i}`, `f${i}.png`, 'image/png')] }));
    await runExport(view, sink, { conversations: [{ conversation: { id: 'C1', kind: 'channel', name: 'f' }, messages }] });
    expect([1, 2, 3].map((p) => count(sink.html(`view/files/page-000${p}.html`), '<li id="f-'))).toEqual([4, 4, 2]);
    expect(sink.html('view/files/page-0002.html')).toContain('<img src="../../files/F5/f5.png"');
    const page = sink.html('view/c0001-f/page-0001.html');
    expect(page).not.toContain('<img');
    expect(count(page, 'href="../../index.html#files"')).toBe(10);
    expect(count(sink.html('index.html'), /href="view\/files\/page-\d{4}\.html"/)).toBe(3);
    checkLinks(sink);
  });

  it('rejects hooks out of order and bad options', async () => {
    expect(() => createHtmlView({ maxMessagesPerPage: 0 })).toThrow(RangeError);
    const view = createHtmlView();
    expect(() => view.message(msg('C1'))).toThrow(/outside a conversation/);
    await expect(view.conversationStart({ id: 'C1', kind: 'channel' })).rejects.toThrow(/begin\(\)/);
  });
});
