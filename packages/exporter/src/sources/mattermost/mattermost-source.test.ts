import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation, Grant, Member, Message } from '../../source/domain.js';
import type { Source } from '../../source/source.js';
import { SourceFormatError } from '../shared/source-format-error.js';
import { createMattermostSource } from './index.js';

const FIXTURES = fileURLToPath(new URL('../../../../../test/fixtures/', import.meta.url));
const EXPORT_DIR = join(FIXTURES, 'mattermost/export');
const JSONL = join(EXPORT_DIR, 'export.jsonl');
const BAD_JSONL = join(FIXTURES, 'mattermost/bad/export.jsonl');
const EXPECTED = JSON.parse(readFileSync(join(FIXTURES, 'mattermost/EXPECTED.json'), 'utf8')) as {
  member: string;
  memberId: string;
  source: {
    members: number;
    conversations: number;
    messages: number;
    files: number;
    availableFiles: number;
    grants: number;
    perConversation: Record<string, number>;
  };
  bad: { file: string; firstBadLine: number; skippedLines: number[]; messagesWhenSkipping: number };
};

let tmp: string;

function zipDir(dir: string, name: string): string {
  const out = join(tmp, name);
  execFileSync('zip', ['-r', '-q', '-X', out, '.'], { cwd: dir });
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

function byText(messages: Message[], t: string): Message {
  const m = messages.find((x) => x.text === t);
  if (m === undefined) throw new Error(`no message ${t}`);
  return m;
}

function spools(): string[] {
  return readdirSync(tmpdir()).filter((d) => d.startsWith('handover-mattermost-'));
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'handover-mm-test-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('Mattermost source on the fixture export', () => {
  const forms: Array<[string, () => string]> = [
    ['.jsonl file', () => JSONL],
    ['directory', () => EXPORT_DIR],
    ['zip', () => zipDir(EXPORT_DIR, 'mattermost-export.zip')],
  ];

  for (const [form, path] of forms) {
    it(`yields the counts of EXPECTED.json from the ${form}`, async () => {
      const source = createMattermostSource({ path: path() });
      try {
        const got = await collect(source, EXPECTED.member, true);
        expect(got.member.id).toBe(EXPECTED.memberId);
        expect(got.members).toHaveLength(EXPECTED.source.members);
        expect(got.conversations).toHaveLength(EXPECTED.source.conversations);
        expect(got.messages).toHaveLength(EXPECTED.source.messages);
        const files = got.messages.flatMap((m) => m.attachments);
        expect(new Set(files.map((f) => f.id)).size).toBe(EXPECTED.source.files);
        expect(files.filter((f) => f.availability === 'available')).toHaveLength(EXPECTED.source.availableFiles);
        expect(got.grants).toHaveLength(EXPECTED.source.grants);
        const perConversation = Object.fromEntries(got.conversations.map((c) => [c.id, got.messages.filter((m) => m.conversationId === c.id).length]));
        expect(perConversation).toEqual(EXPECTED.source.perConversation);
        expect(source.skipped?.()).toEqual([]);
        for (const f of files.filter((x) => x.open !== undefined)) {
          const bytes = await text(await f.open!());
          expect(bytes.length).toBeGreaterThan(0);
        }
      } finally {
        await source.close?.();
      }
    });
  }

  it('reads the same records from the zip as from the .jsonl, and removes its temporary files on close', async () => {
    const before = new Set(spools());
    const fromFile = createMattermostSource({ path: JSONL });
    const fromZip = createMattermostSource({ path: zipDir(EXPORT_DIR, 'same.zip') });
    try {
      const a = await collect(fromFile, 'alice', true);
      const b = await collect(fromZip, 'alice', true);
      expect(JSON.stringify(b)).toBe(JSON.stringify(a));
      // One private directory per source: the message index, and for the zip the spooled lines.
      const fresh = spools().filter((d) => !before.has(d));
      expect(fresh).toHaveLength(2);
      expect(fresh.map((d) => readdirSync(join(tmpdir(), d)).sort())).toEqual(expect.arrayContaining([['index.bin'], ['index.bin', 'messages.jsonl']]));
      for (const d of fresh) expect(statSync(join(tmpdir(), d)).mode & 0o777).toBe(0o700);
    } finally {
      await fromFile.close?.();
      await fromZip.close?.();
    }
    expect(spools().filter((d) => !before.has(d))).toHaveLength(0);
  });

  it('finds members by username or email and maps their teams', async () => {
    const source = createMattermostSource({ path: JSONL });
    expect(await source.findMember('@alice')).toEqual({
      id: 'alice',
      username: 'alice',
      displayName: 'ali',
      realName: 'Alice Example',
      email: 'alice@example.com',
    });
    expect((await source.findMember('CAROL@example.com'))?.realName).toBe('卡罗 陈');
    expect(await source.findMember('dave')).toMatchObject({ deleted: true });
    expect(await source.findMember('nobody')).toBeUndefined();
    const memberships = [];
    for await (const m of source.memberships('alice')) memberships.push(m);
    expect(memberships).toEqual([
      { organizationId: 'acme', organizationName: 'Acme Corp', role: 'admin' },
      { organizationId: 'side', organizationName: 'Side Project', role: 'member' },
    ]);
    const bob = [];
    for await (const m of source.memberships('bob')) bob.push(m.role);
    expect(bob).toEqual(['admin', 'admin']); // system_admin
    await source.close?.();
  });

  it("lists the member's channels, the channels they took part in, and their direct channels", async () => {
    const { conversations } = await collect(createMattermostSource({ path: JSONL }), 'alice');
    expect(conversations).toEqual([
      { id: 'acme/town-square', kind: 'channel', name: 'town-square', organizationId: 'acme', topic: 'Welcome & <hello>' },
      { id: 'acme/dev', kind: 'private-group', name: 'dev', organizationId: 'acme', topic: 'Dev talk' },
      { id: 'acme/random', kind: 'channel', name: 'random', organizationId: 'acme' },
      { id: 'dm:alice,bob', kind: 'dm', participantIds: ['bob'] },
      { id: 'gm:alice,bob,carol', kind: 'group-dm', topic: 'group chat', participantIds: ['bob', 'carol'] },
    ]);
  });

  it('maps posts, replies, edits, deletions, subtypes and reactions in sent order', async () => {
    const { messages } = await collect(createMattermostSource({ path: JSONL }), 'alice');
    const square = messages.filter((m) => m.conversationId === 'acme/town-square');
    expect(square.map((m) => m.text)).toEqual([
      'Kick-off thread 🚀',
      'Reply from alice ]]> & <tag> \u0001 bell\u0007',
      '你好 from carol مرحبا',
      'Notes attached',
      'Pixel and two missing files',
      'Poll: lunch?',
    ]);
    const root = byText(messages, 'Kick-off thread 🚀');
    expect(root).toMatchObject({ authorId: 'bob', sentAt: new Date(1705312800000), editedAt: new Date(1705312860000), deleted: false });
    expect(root.id).toMatch(/^mm-[0-9a-f]{32}$/);
    expect(root.threadParentId).toBeUndefined();
    expect(root.reactions).toEqual([
      { emoji: ':+1:', userIds: ['alice', 'carol'] },
      { emoji: ':tada:', userIds: ['bob'] },
    ]);
    expect(square[1]?.threadParentId).toBe(root.id);
    expect(square[2]?.threadParentId).toBe(root.id);
    expect(byText(messages, 'Poll: lunch?').subtype).toBe('custom_poll');
    expect(byText(messages, 'oops')).toMatchObject({ deleted: true, authorId: 'bob' });
    expect(byText(messages, 'שלום RTL مرحبا').authorId).toBe('alice');
    const dm = messages.filter((m) => m.conversationId === 'dm:alice,bob');
    expect(dm.map((m) => [m.text, m.threadParentId === dm[0]?.id])).toEqual([
      ['Hi Bob 😀', false],
      ['Hi Alice', true],
      ['Reverse order members', false],
    ]);
    expect(dm[2]?.reactions).toEqual([{ emoji: ':heart:', userIds: ['alice'] }]);
    const random = messages.filter((m) => m.conversationId === 'acme/random');
    expect(random.map((m) => m.text)).toEqual(['random root', 'alice chimes in', 'no alice here']);
  });

  it('gives exact duplicates distinct ids, the same in every run', async () => {
    const first = (await collect(createMattermostSource({ path: JSONL }), 'alice')).messages;
    const second = (await collect(createMattermostSource({ path: zipDir(EXPORT_DIR, 'again.zip') }), 'alice')).messages;
    const dups = first.filter((m) => m.text === 'duplicate').map((m) => m.id);
    expect(dups).toHaveLength(2);
    expect(dups[1]).toBe(`${dups[0]}-2`);
    expect(new Set(first.map((m) => m.id)).size).toBe(first.length);
    expect(second.map((m) => m.id)).toEqual(first.map((m) => m.id));
  });

  it('opens attachments present in the export and marks the others not-in-source', async () => {
    for (const path of [JSONL, zipDir(EXPORT_DIR, 'attachments.zip')]) {
      const source = createMattermostSource({ path });
      const { messages } = await collect(source, 'alice', true);
      const files = messages.flatMap((m) => m.attachments);
      expect(files.map((f) => [f.name, f.availability, f.mimeType, f.size])).toEqual([
        ['notes.txt', 'available', 'text/plain', 24],
        ['pixel.png', 'available', 'image/png', 70],
        ['gone.pdf', 'not-in-source', 'application/pdf', 0],
        ['passwd', 'not-in-source', 'application/octet-stream', 0],
      ]);
      expect(files[0]).toMatchObject({ ownerId: 'alice', createdAt: new Date(1705313100000) });
      expect(await text(await files[0]!.open!())).toBe('Meeting notes\n- ship it\n');
      const png = await files[1]!.open!();
      const chunks: Buffer[] = [];
      for await (const c of png) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks)).toEqual(readFileSync(join(EXPORT_DIR, 'data/2024/01/15/pixel.png')));
      expect(files[2]?.open).toBeUndefined();
      expect(files[3]?.open).toBeUndefined();
      await source.close?.();
    }
  });

  it('reads CRLF line ends, a BOM and blank lines', async () => {
    const dir = mkdtempSync(join(tmp, 'crlf-'));
    const lines = readFileSync(JSONL, 'utf8').trimEnd().split('\n');
    writeFileSync(join(dir, 'export.jsonl'), `\uFEFF${lines.join('\r\n')}\r\n\r\n`);
    const got = await collect(createMattermostSource({ path: join(dir, 'export.jsonl') }), 'alice');
    expect(got.messages).toHaveLength(EXPECTED.source.messages);
    expect(got.messages.map((m) => m.text)).not.toContainEqual(expect.stringMatching(/\r/));
  });
});

describe('Mattermost source on damaged input', () => {
  it('names the file and 1-based line of an invalid line', async () => {
    const source = createMattermostSource({ path: BAD_JSONL });
    const err = await source.findMember('alice').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SourceFormatError);
    expect(err).toMatchObject({ code: 'E_SOURCE_FORMAT', file: EXPECTED.bad.file, line: EXPECTED.bad.firstBadLine });
    expect((err as Error).message).toMatch(/^export\.jsonl, line 6: invalid JSON/);
  });

  it('names the zip too when the .jsonl is inside one', async () => {
    const dir = mkdtempSync(join(tmp, 'badzip-'));
    writeFileSync(join(dir, 'export.jsonl'), readFileSync(BAD_JSONL));
    const err = await createMattermostSource({ path: zipDir(dir, 'bad-mm.zip') })
      .findMember('alice')
      .then(
        () => undefined,
        (e: unknown) => e as SourceFormatError,
      );
    expect(err?.message).toMatch(/^export\.jsonl \(in bad-mm\.zip\), line 6: /);
  });

  it('skips and records invalid lines with skipInvalid', async () => {
    const source = createMattermostSource({ path: BAD_JSONL, skipInvalid: true });
    const got = await collect(source, 'alice');
    expect(got.messages.map((m) => m.text)).toEqual(['good line 5', 'good line 7']);
    expect(got.messages).toHaveLength(EXPECTED.bad.messagesWhenSkipping);
    expect(source.skipped?.()).toEqual([
      { file: 'export.jsonl', line: 6, reason: expect.stringContaining('invalid JSON') },
      { file: 'export.jsonl', line: 8, reason: 'post has no valid "create_at"' },
    ]);
  });

  it('fails on a damaged zip, naming it', async () => {
    const zip = zipDir(EXPORT_DIR, 'damaged.zip');
    const bytes = readFileSync(zip);
    writeFileSync(zip, bytes.subarray(0, bytes.length - 30));
    const err = await createMattermostSource({ path: zip })
      .findMember('alice')
      .then(
        () => undefined,
        (e: unknown) => e as SourceFormatError,
      );
    expect(err).toBeInstanceOf(SourceFormatError);
    expect(err?.file).toBe('damaged.zip');
  });
});

/**
 * Opt-in (HANDOVER_MEMORY_TEST=<MiB>, e.g. 1024; needs `pnpm run build`): writes a
 * JSON-lines export of that size where the member is in every channel (the worst case:
 * all ~5 million messages of 1 GB are theirs) and reads their whole history in a child
 * process from the built dist. The child runs with --max-old-space-size=128: that
 * fails if the source keeps more than that alive, and keeps V8 from growing its heap
 * with garbage (without it, a bare JSON.parse loop over 1 GB peaks at ~225 MB RSS in
 * a process that has loaded the exporter, whatever the source keeps).
 */
describe.skipIf(process.env.HANDOVER_MEMORY_TEST === undefined)('Mattermost source memory', () => {
  it('reads a large export in bounded memory', { timeout: 1_800_000 }, async () => {
    const mib = Number(process.env.HANDOVER_MEMORY_TEST);
    const dist = fileURLToPath(new URL('../../../dist/index.js', import.meta.url));
    expect(existsSync(dist)).toBe(true);
    const dir = mkdtempSync(join(tmp, 'big-'));
    const path = join(dir, 'export.jsonl');
    const out = createWriteStream(path);
    const write = (s: string): Promise<void> | undefined => (out.write(s) ? undefined : new Promise((r) => out.once('drain', r)));
    await write('{"type":"version","version":1}\n{"type":"team","team":{"name":"t","display_name":"T"}}\n');
    for (let c = 0; c < 50; c += 1) await write(`{"type":"channel","channel":{"team":"t","name":"c${c}","type":"O"}}\n`);
    for (let u = 0; u < 200; u += 1) {
      const channels = Array.from({ length: 50 }, (_, c) => `{"name":"c${c}"}`).join(',');
      await write(`{"type":"user","user":{"username":"u${u}","email":"u${u}@x.test","teams":[{"name":"t","roles":"team_user","channels":[${channels}]}]}}\n`);
    }
    let written = 0;
    let n = 0;
    const filler = 'lorem ipsum dolor sit amet '.repeat(8);
    while (written < mib * 1024 * 1024) {
      const line = `{"type":"post","post":{"team":"t","channel":"c${n % 50}","user":"u${n % 200}","message":"${filler}${n}","create_at":${1700000000000 + n},"replies":[{"user":"u${(n + 1) % 200}","message":"re ${n}","create_at":${1700000000000 + n + 1}}]}}\n`;
      written += Buffer.byteLength(line);
      n += 1;
      await write(line);
    }
    await new Promise<void>((resolve) => out.end(resolve));
    const script = `
      const { createMattermostSource } = await import(${JSON.stringify(dist)});
      const source = createMattermostSource({ path: ${JSON.stringify(path)} });
      const member = await source.findMember('u0');
      let messages = 0;
      for await (const c of source.conversations(member.id)) for await (const m of source.messages(c)) messages += 1;
      await source.close();
      console.log(JSON.stringify({ messages, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
    `;
    const run = spawnSync(process.execPath, ['--max-old-space-size=128', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { messages: number; maxRssMiB: number };
    console.log(`memory test: ${mib} MiB, ${n} posts, ${result.messages} messages read, peak RSS ${result.maxRssMiB.toFixed(0)} MiB`);
    expect(result.messages).toBe(n * 2);
    expect(result.maxRssMiB).toBeLessThan(200);
  });
});
