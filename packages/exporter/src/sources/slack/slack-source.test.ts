import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation, Grant, Member, Message } from '../../source/domain.js';
import type { Source } from '../../source/source.js';
import { findJsonSyntaxError } from '../shared/json-text.js';
import { stripUrlSecrets } from '../shared/redact.js';
import { SourceFormatError } from '../shared/source-format-error.js';
import { createSlackSource } from './index.js';
import { compareTs, tsToDate } from './slack-ts.js';

const FIXTURES = fileURLToPath(new URL('../../../../../test/fixtures/', import.meta.url));
const EXPORT_DIR = join(FIXTURES, 'slack/export');
const BAD_DIR = join(FIXTURES, 'slack-bad/export');
const EXPECTED = JSON.parse(readFileSync(join(FIXTURES, 'slack/EXPECTED.json'), 'utf8')) as {
  member: string;
  memberId: string;
  source: { members: number; conversations: number; messages: number; files: number; grants: number; perConversation: Record<string, number> };
};

let tmp: string;

/** Zips a directory's contents with the `zip` CLI, as Slack does (entries at the top). */
function zipDir(dir: string, name: string, extra: string[] = []): string {
  const out = join(tmp, name);
  execFileSync('zip', ['-r', '-q', '-X', ...extra, out, '.'], { cwd: dir });
  return out;
}

interface Collected {
  member: Member;
  conversations: Conversation[];
  messages: Message[];
  grants: Grant[];
  members: Member[];
}

/** Reads everything the source has for one member; closes the source unless `keepOpen` (to open files after). */
async function collect(source: Source, selector: string, keepOpen = false): Promise<Collected> {
  try {
    return await collectOpen(source, selector);
  } finally {
    if (!keepOpen) await source.close?.();
  }
}

async function collectOpen(source: Source, selector: string): Promise<Collected> {
  const member = await source.findMember(selector);
  if (member === undefined) throw new Error(`no member ${selector}`);
  const conversations: Conversation[] = [];
  const messages: Message[] = [];
  for await (const c of source.conversations(member.id)) {
    conversations.push(c);
    for await (const m of source.messages(c)) messages.push(m);
  }
  const grants: Grant[] = [];
  for await (const g of source.grants(member.id)) grants.push(g);
  const members: Member[] = [];
  for await (const m of source.members()) members.push(m);
  return { member, conversations, messages, grants, members };
}

function byId(messages: Message[], id: string): Message {
  const m = messages.find((x) => x.id === id);
  if (m === undefined) throw new Error(`no message ${id}`);
  return m;
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'handover-slack-test-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('Slack source on the fixture export', () => {
  const forms: Array<[string, () => string]> = [
    ['directory', () => EXPORT_DIR],
    ['zip', () => zipDir(EXPORT_DIR, 'slack-export.zip')],
  ];

  for (const [form, path] of forms) {
    it(`yields the counts of EXPECTED.json from the ${form}`, async () => {
      const source = createSlackSource({ path: path() });
      try {
        const got = await collect(source, EXPECTED.member);
        expect(got.member.id).toBe(EXPECTED.memberId);
        expect(got.members).toHaveLength(EXPECTED.source.members);
        expect(got.conversations).toHaveLength(EXPECTED.source.conversations);
        expect(got.messages).toHaveLength(EXPECTED.source.messages);
        expect(new Set(got.messages.flatMap((m) => m.attachments.map((f) => f.id))).size).toBe(EXPECTED.source.files);
        expect(got.grants).toHaveLength(EXPECTED.source.grants);
        const perConversation = Object.fromEntries(got.conversations.map((c) => [c.id, got.messages.filter((m) => m.conversationId === c.id).length]));
        expect(perConversation).toEqual(EXPECTED.source.perConversation);
        expect(source.skipped?.()).toEqual([]);
      } finally {
        await source.close?.();
      }
    });
  }

  it('reads the same records from the zip as from the directory', async () => {
    const fromDir = createSlackSource({ path: EXPORT_DIR });
    const fromZip = createSlackSource({ path: zipDir(EXPORT_DIR, 'same.zip') });
    try {
      const a = await collect(fromDir, 'alice');
      const b = await collect(fromZip, 'alice');
      expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    } finally {
      await fromDir.close?.();
      await fromZip.close?.();
    }
  });

  it('reads an export zipped with its folder on top', async () => {
    const parent = mkdtempSync(join(tmp, 'nested-'));
    cpSync(EXPORT_DIR, join(parent, 'Acme Slack export Jan 2024'), { recursive: true });
    const source = createSlackSource({ path: zipDir(parent, 'nested.zip') });
    try {
      expect((await collect(source, 'alice')).messages).toHaveLength(EXPECTED.source.messages);
    } finally {
      await source.close?.();
    }
  });

  it('finds a member by id, username (with or without @) and email, any case', async () => {
    const source = createSlackSource({ path: EXPORT_DIR });
    expect((await source.findMember('U01ALICE'))?.username).toBe('alice');
    expect((await source.findMember('@Alice'))?.id).toBe('U01ALICE');
    expect((await source.findMember('ALICE@example.com'))?.id).toBe('U01ALICE');
    expect((await source.findMember('carol@example.com'))?.realName).toBe('陈卡罗');
    expect(await source.findMember('nobody')).toBeUndefined();
    const dave = await source.findMember('dave');
    expect(dave).toMatchObject({ id: 'U04DAVE', deleted: true, realName: 'Dave Departed' });
    expect(await source.findMember('deploybot')).toMatchObject({ bot: true });
    const memberships = [];
    for await (const m of source.memberships('U01ALICE')) memberships.push(m);
    expect(memberships).toEqual([{ organizationId: 'T01ACME', organizationName: 'Slack workspace T01ACME', role: 'admin' }]);
    const eve = [];
    for await (const m of source.memberships('U05EVE')) eve.push(m.role);
    expect(eve).toEqual(['guest']);
  });

  it('maps conversations, kinds, join / leave windows and DM participants', async () => {
    const { conversations } = await collect(createSlackSource({ path: EXPORT_DIR }), 'alice');
    const by = Object.fromEntries(conversations.map((c) => [c.id, c]));
    expect(conversations.map((c) => [c.id, c.kind])).toEqual([
      ['C01GENERAL', 'channel'],
      ['C02RANDOM', 'channel'],
      ['C05QUIET', 'channel'],
      ['G01SECRET', 'private-group'],
      ['D01ALICEBOB', 'dm'],
      ['G02MPIM', 'group-dm'],
    ]);
    expect(by.C01GENERAL?.topic).toBe('Company-wide <announcements> & stuff');
    expect(by.C01GENERAL?.memberJoinedAt?.toISOString()).toBe('2024-01-15T10:00:00.000Z');
    expect(by.C01GENERAL?.memberLeftAt).toBeUndefined();
    // Alice left #random: it is still hers, with the window the join / leave messages give.
    expect(by.C02RANDOM?.memberJoinedAt?.toISOString()).toBe('2024-01-10T10:01:40.000Z');
    expect(by.C02RANDOM?.memberLeftAt?.toISOString()).toBe('2024-01-12T10:00:00.000Z');
    expect(by.C05QUIET?.memberJoinedAt).toBeUndefined();
    expect(by.D01ALICEBOB?.participantIds).toEqual(['U02BOB']);
    expect(by.G02MPIM?.participantIds).toEqual(['U02BOB', 'U03CAROL']);
    expect(by.G02MPIM?.name).toBe('mpdm-alice--bob--carol-1');
    expect(by.C01GENERAL?.createdAt?.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(conversations.map((c) => c.id)).not.toContain('C03ANNOUNCE');
    expect(conversations.map((c) => c.id)).not.toContain('D02BOBCAROL');
  });

  it('keeps ts ids exactly as written and dates to the millisecond', async () => {
    const { messages } = await collect(createSlackSource({ path: EXPORT_DIR }), 'alice');
    // As a float this would be 1705485700.1: the id must keep the trailing zeros.
    const dave = byId(messages, '1705485700.100000');
    expect(dave.sentAt.toISOString()).toBe('2024-01-17T10:01:40.100Z');
    expect(byId(messages, '1705485600.123456').sentAt.getTime()).toBe(1705485600123);
    expect(byId(messages, '1705485800.000001').sentAt.getTime()).toBe(1705485800000);
    // Every id is the ts string of the file.
    const raw = readFileSync(join(EXPORT_DIR, 'general/2024-01-17.json'), 'utf8');
    for (const m of messages.filter((x) => x.conversationId === 'C01GENERAL' && x.sentAt >= new Date('2024-01-17'))) {
      expect(raw).toContain(`"ts": "${m.id}"`);
    }
    // In sent order within each conversation.
    for (const c of new Set(messages.map((m) => m.conversationId))) {
      const ids = messages.filter((m) => m.conversationId === c).map((m) => m.id);
      expect([...ids].sort(compareTs)).toEqual(ids);
    }
  });

  it('maps threads, edits, reactions, bots, subtypes, deletions and missing fields', async () => {
    const { messages } = await collect(createSlackSource({ path: EXPORT_DIR }), 'alice');
    const root = byId(messages, '1705312900.000200');
    expect(root.threadParentId).toBeUndefined();
    expect(root.editedAt?.toISOString()).toBe('2024-01-15T10:03:20.000Z');
    expect(root.edits).toEqual([{ editedAt: new Date('2024-01-15T10:03:20.000Z'), editorId: 'U02BOB' }]);
    expect(root.reactions).toEqual([
      { emoji: ':thumbsup:', userIds: ['U01ALICE', 'U03CAROL'] },
      { emoji: ':heart:', userIds: ['U05EVE'] },
    ]);
    const reply = byId(messages, '1705312950.000300');
    expect(reply.threadParentId).toBe('1705312900.000200');
    expect(reply.text).toBe('Thanks ]]> <b>not bold</b> & \u0001 control \u000b chars');
    const broadcast = byId(messages, '1705313100.000400');
    expect(broadcast).toMatchObject({ subtype: 'thread_broadcast', threadParentId: '1705312900.000200', text: '你好，世界 🎉 مرحبا', authorName: '卡罗' });
    const bot = byId(messages, '1705313200.000500');
    expect(bot).toMatchObject({ subtype: 'bot_message', authorId: 'B0DEPLOY', authorName: 'deploybot', text: 'Deployed v1.2.3 to production' });
    expect(byId(messages, '1705313300.000600').text).toBe('Blocks test with *bold*');
    expect(byId(messages, '1705313400.000700').subtype).toBe('huddle_thread');
    expect(byId(messages, '1705312800.000100').subtype).toBe('channel_join');
    expect(byId(messages, '1705485700.100000')).toMatchObject({ authorId: 'U04DAVE', authorName: 'dave', text: 'שלום עולם — RTL text' });
    expect(byId(messages, '1705485800.000001').reactions).toEqual([{ emoji: ':+1:', userIds: ['U01ALICE'] }]);
    expect(byId(messages, '1705485800.000001').text).toBe('ZWJ family 👨‍👩‍👧 and combining e\u0301 and astral 𝄞');
    expect(byId(messages, '1705485900.000002')).toMatchObject({ authorId: 'unknown', text: '', reactions: [], attachments: [], deleted: false });
    expect(byId(messages, '1705744870.000300')).toMatchObject({ deleted: true, subtype: 'tombstone' });
    expect(messages.filter((m) => m.deleted)).toHaveLength(1);
  });

  it('records files as metadata only, links stripped of tokens', async () => {
    const got = await collect(createSlackSource({ path: EXPORT_DIR }), 'alice');
    const files = got.messages.flatMap((m) => m.attachments);
    expect(files.map((f) => f.id)).toEqual(['F01REPORT', 'F02GONE', 'F03IMG']);
    for (const f of files) {
      expect(f.availability).toBe('not-in-source');
      expect(f.open).toBeUndefined();
    }
    expect(files[0]).toMatchObject({
      name: 'report.pdf',
      mimeType: 'application/pdf',
      size: 12345,
      ownerId: 'U01ALICE',
      createdAt: new Date(1705485590000),
      url: 'https://files.slack.com/files-pri/T01ACME-F01REPORT/report.pdf',
    });
    expect(files[1]).toMatchObject({ name: '', size: 0, mimeType: 'application/octet-stream', ownerId: 'U02BOB' });
    expect(files[2]?.url).toBe('https://files.slack.com/files-pri/T01ACME-F03IMG/cat.png?foo=bar');
    // No token anywhere in anything the source produced.
    expect(JSON.stringify(got)).not.toMatch(/xox/i);
    expect(JSON.stringify(got)).not.toMatch(/token=/i);
  });

  it('builds one grant per app the member acted on, with its history', async () => {
    const { grants } = await collect(createSlackSource({ path: EXPORT_DIR }), 'alice');
    expect(grants.map((g) => g.id)).toEqual(['A01GITHUB', '1001', 'A03ZOOM']);
    const [github, drive, zoom] = grants;
    expect(github).toMatchObject({
      appName: 'GitHub',
      scopes: ['channels:read', 'chat:write', 'files:read'],
      grantedAt: new Date(1704067200000),
      grantedBy: 'U01ALICE',
    });
    expect(github?.revokedAt).toBeUndefined();
    expect(github?.history?.map((e) => e.change)).toEqual(['added', 'expanded']);
    expect(drive).toMatchObject({ appName: 'Google Drive', scopes: [], revokedAt: new Date(1704326400000), target: 'general' });
    expect(drive?.history?.[1]).toEqual({ at: new Date(1704326400000), change: 'removed', actorId: 'U01ALICE', reason: 'user request' });
    // Disabled then enabled again (by an admin): not revoked.
    expect(zoom?.history?.map((e) => [e.change, e.actorId])).toEqual([
      ['added', 'U01ALICE'],
      ['disabled', 'U01ALICE'],
      ['enabled', 'U02BOB'],
    ]);
    expect(zoom?.revokedAt).toBeUndefined();
    expect(grants.map((g) => g.id)).not.toContain('A02JIRA');
  });
});

describe('Slack source on damaged input', () => {
  async function failure(run: () => Promise<unknown>): Promise<SourceFormatError> {
    try {
      await run();
    } catch (err) {
      expect(err).toBeInstanceOf(SourceFormatError);
      return err as SourceFormatError;
    }
    throw new Error('expected a SourceFormatError');
  }

  it('names the day file and line of invalid JSON', async () => {
    const err = await failure(() => collect(createSlackSource({ path: BAD_DIR }), 'alice'));
    expect(err.code).toBe('E_SOURCE_FORMAT');
    expect(err.file).toBe('general/2024-01-02.json');
    expect(err.line).toBe(3);
    expect(err.message).toContain('general/2024-01-02.json');
    expect(err.message).toContain('line 3');
    expect(err.message).toContain('--skip-invalid');
  });

  it('skips and records invalid files and messages with skipInvalid', async () => {
    const source = createSlackSource({ path: zipDir(BAD_DIR, 'bad.zip'), skipInvalid: true });
    const got = await collect(source, 'alice');
    expect(got.messages.map((m) => m.text)).toEqual(['first day', 'hello', 'after the bad day']);
    expect(source.skipped?.()).toEqual([
      { file: 'general/2024-01-02.json', line: 3, reason: expect.stringContaining("expected ',' or ']'") },
      { file: 'general/2024-01-03.json', line: 2, reason: 'message has no "ts" string' },
    ]);
    await source.close?.();
  });

  it('fails on a truncated zip, naming it', async () => {
    const zip = zipDir(EXPORT_DIR, 'truncated.zip');
    truncateSync(zip, Math.floor(statSync(zip).size / 2));
    const err = await failure(() => createSlackSource({ path: zip }).findMember('alice'));
    expect(err.file).toBe('truncated.zip');
    expect(err.message).toMatch(/truncated\.zip: not a readable zip archive/);
    expect(err.message).toContain('download the export again');
  });

  it('fails on a file that is no zip at all', async () => {
    const path = join(tmp, 'garbage.zip');
    writeFileSync(path, 'this is not a zip archive'.repeat(10));
    const err = await failure(() => createSlackSource({ path }).findMember('alice'));
    expect(err.code).toBe('E_SOURCE_FORMAT');
    expect(err.file).toBe('garbage.zip');
  });

  it('detects a damaged entry by its CRC and names it', async () => {
    const zip = zipDir(EXPORT_DIR, 'stored.zip', ['-0']);
    const offset = await new Promise<number>((resolve, reject) => {
      yauzl.open(zip, { lazyEntries: true }, (err, zf) => {
        if (err) return reject(err);
        zf.on('entry', (e: yauzl.Entry) => {
          if (e.fileName === 'general/2024-01-15.json') {
            resolve(e.relativeOffsetOfLocalHeader + 30 + Buffer.byteLength(e.fileName) + 200);
            zf.close();
          } else zf.readEntry();
        });
        zf.readEntry();
      });
    });
    const bytes = readFileSync(zip);
    // Swap one letter of a message text for another: still valid JSON, so only the CRC can tell.
    const at = bytes.indexOf(Buffer.from('Welcome Alice!'), offset - 200);
    bytes[at] = 'w'.charCodeAt(0);
    writeFileSync(zip, bytes);
    const err = await failure(() => collect(createSlackSource({ path: zip }), 'alice'));
    expect(err.file).toBe('general/2024-01-15.json');
    expect(err.message).toContain('stored.zip');
    expect(err.message).toContain('CRC-32 mismatch');
  });

  it('says what is wrong when users.json is missing', async () => {
    const err = await failure(() => createSlackSource({ path: join(FIXTURES, 'mattermost/export') }).findMember('alice'));
    expect(err.file).toBe('users.json');
    expect(err.message).toContain('does not look like a Slack export');
  });

  it('never skips an invalid users.json', async () => {
    const dir = mkdtempSync(join(tmp, 'badusers-'));
    writeFileSync(join(dir, 'users.json'), '[\n  {"id": "U1",\n  oops\n]');
    const err = await failure(() => createSlackSource({ path: dir, skipInvalid: true }).findMember('U1'));
    expect(err).toMatchObject({ file: 'users.json', line: 3 });
  });
});

describe('Slack helpers', () => {
  it('strips tokens from links and refuses links it cannot clean', () => {
    expect(stripUrlSecrets('https://files.slack.com/a.pdf?t=xoxe-1-2')).toBe('https://files.slack.com/a.pdf');
    expect(stripUrlSecrets('https://x.test/a?token=abc&b=1')).toBe('https://x.test/a?b=1');
    expect(stripUrlSecrets('https://x.test/a?ACCESS_TOKEN=abc')).toBe('https://x.test/a');
    expect(stripUrlSecrets('https://x.test/a?v=xoxp-12')).toBe('https://x.test/a');
    expect(stripUrlSecrets('https://user:pw@x.test/a#token=1')).toBe('https://x.test/a');
    expect(stripUrlSecrets('https://x.test/xoxb-123/a')).toBeUndefined();
    expect(stripUrlSecrets('https://x.test/a?v=%78oxb-1')).toBe('https://x.test/a');
    expect(stripUrlSecrets('not a url')).toBeUndefined();
    expect(stripUrlSecrets(42)).toBeUndefined();
  });

  it('locates JSON syntax errors by line and column without quoting the text', () => {
    expect(findJsonSyntaxError('[1, 2]')).toBeUndefined();
    expect(findJsonSyntaxError('[\n  {"a": 1}\n  {"b": 2}\n]')).toEqual({ line: 3, column: 3, message: "expected ',' or ']' after an array element" });
    expect(findJsonSyntaxError('{"a": "xoxb-secret')).toMatchObject({ line: 1, message: 'unterminated string' });
    expect(findJsonSyntaxError('{"a": "x\u0001"}')?.message).toContain('control character');
    expect(findJsonSyntaxError('')?.message).toContain('ends');
  });

  it('orders and dates ts strings exactly', () => {
    expect(compareTs('1705485700.1', '1705485700.100000')).toBe(0);
    expect(compareTs('999999999.999999', '1000000000.000000')).toBeLessThan(0);
    expect(compareTs('1705485700.000002', '1705485700.000010')).toBeLessThan(0);
    expect(tsToDate('1705485700.999999')?.getTime()).toBe(1705485700999);
    expect(tsToDate('1705485700')?.getTime()).toBe(1705485700000);
    expect(tsToDate('17054857e0')).toBeUndefined();
  });
});
