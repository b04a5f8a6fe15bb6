import { createHash } from 'node:crypto';
import { InputError, NotFoundError } from '@handover/core';
import type { Conversation, FileRecord, Message } from '../../source/domain.js';
import type { Source } from '../../source/source.js';
import { createDemoSource, DEMO_DEFAULTS, DEMO_TIMELINE, NASTY_FILE_NAMES, NASTY_TEXTS } from './index.js';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

interface ConversationDump {
  conversation: Conversation;
  messages: Message[];
}

async function dump(source: Source, memberId: string): Promise<ConversationDump[]> {
  const out: ConversationDump[] = [];
  for await (const conversation of source.conversations(memberId)) {
    out.push({ conversation, messages: await collect(source.messages(conversation)) });
  }
  return out;
}

async function sha256(file: FileRecord): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of await file.open!()) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Everything observable about a message except file bytes, as one string. */
function fingerprint(m: Message): string {
  return JSON.stringify([
    m.id,
    m.authorId,
    m.authorName,
    m.sentAt.toISOString(),
    m.text,
    m.deleted,
    m.threadParentId,
    m.subtype,
    m.editedAt?.toISOString(),
    m.edits?.map((e) => [e.editedAt.toISOString(), e.previousText]),
    m.reactions,
    m.attachments.map((f) => [f.id, f.name, f.mimeType, f.size, f.availability]),
  ]);
}

const files = (d: readonly ConversationDump[]): FileRecord[] => {
  const byId = new Map<string, FileRecord>();
  for (const c of d) for (const m of c.messages) for (const f of m.attachments) if (!byId.has(f.id)) byId.set(f.id, f);
  return [...byId.values()];
};

describe('demo source', () => {
  let alice: ConversationDump[];
  let all: Message[];

  beforeAll(async () => {
    alice = await dump(createDemoSource(), 'alice');
    all = alice.flatMap((c) => c.messages);
  });

  describe('members', () => {
    it('lists the cast the README cites, with a bot and a deleted member', async () => {
      const members = await collect(createDemoSource().members());
      const ids = members.map((m) => m.id);
      for (const id of ['alice', 'bob', 'carol', 'dmitri', 'fatima', 'wang.wei', 'zoe', 'bot.deploy']) expect(ids).toContain(id);
      expect(members.length).toBeGreaterThanOrEqual(12);
      expect(members.some((m) => m.bot === true)).toBe(true);
      expect(members.some((m) => m.deleted === true)).toBe(true);
      expect(members.find((m) => m.id === 'fatima')!.displayName).toMatch(/[\u0600-\u06ff]/);
      expect(members.find((m) => m.id === 'wang.wei')!.displayName).toMatch(/[\u4e00-\u9fff]/);
    });

    it('finds members by id, username, or email in any case', async () => {
      const source = createDemoSource();
      expect((await source.findMember('alice'))?.id).toBe('alice');
      expect((await source.findMember('ALICE@ACME.EXAMPLE'))?.id).toBe('alice');
      expect((await source.findMember('zoe.muller@globex.example'))?.id).toBe('zoe');
      expect((await source.findMember('carol.nguyen'))?.id).toBe('carol');
      expect((await source.findMember('deploy-bot'))?.id).toBe('bot.deploy');
      expect((await source.findMember('erin'))?.deleted).toBe(true);
      expect(await source.findMember('nobody')).toBeUndefined();
      expect(await source.findMember('')).toBeUndefined();
      // Usernames are not case-folded: only emails are.
      expect(await source.findMember('ALICE')).toBeUndefined();
    });

    it('hands out copies: changing a returned record does not change the workspace', async () => {
      const source = createDemoSource();
      const member = (await source.findMember('alice'))!;
      member.displayName = 'changed';
      expect((await source.findMember('alice'))!.displayName).toBe('alice');
      const [grant] = await collect(source.grants('alice'));
      grant!.scopes.push('admin');
      const [again] = await collect(source.grants('alice'));
      expect(again!.scopes).not.toContain('admin');
    });

    it('gives alice memberships as owner, admin and a former member', async () => {
      const memberships = await collect(createDemoSource().memberships('alice'));
      expect(memberships.map((m) => m.role).sort()).toEqual(['admin', 'member', 'owner']);
      expect(memberships.find((m) => m.role === 'owner')!.organizationName).toBe('Acme Robotics');
      expect(memberships.find((m) => m.role === 'admin')!.organizationName).toBe('北京云科技');
      const left = memberships.filter((m) => m.leftAt !== undefined);
      expect(left.map((m) => m.organizationName)).toEqual(['Globex']);
      expect(await collect(createDemoSource().memberships('nobody'))).toEqual([]);
    });
  });

  describe('conversations', () => {
    it('lists only the conversations the member is or was in, of every kind', async () => {
      const source = createDemoSource();
      const mine = await collect(source.conversations('alice'));
      const ids = mine.map((c) => c.id);
      expect(new Set(mine.map((c) => c.kind))).toEqual(new Set(['channel', 'private-group', 'dm', 'group-dm']));
      expect(ids).not.toContain('acme-sales');
      expect(ids).not.toContain('dm-bob-carol');
      expect((await collect(source.conversations('bob'))).map((c) => c.id)).toContain('acme-sales');
      const dm = mine.find((c) => c.id === 'dm-alice-bob')!;
      expect(dm.participantIds).toEqual(['bob']);
      expect(mine.find((c) => c.kind === 'group-dm')!.participantIds!.length).toBe(2);
      expect(mine.find((c) => c.kind === 'channel')!.participantIds).toBeUndefined();
    });

    it('has messages before the member joined and after she left, so the participant window matters', () => {
      let before = 0;
      let after = 0;
      for (const { conversation, messages } of alice) {
        const joined = conversation.memberJoinedAt!.getTime();
        const left = conversation.memberLeftAt?.getTime() ?? Infinity;
        before += messages.filter((m) => m.sentAt.getTime() < joined).length;
        after += messages.filter((m) => m.sentAt.getTime() > left).length;
      }
      expect(before).toBeGreaterThan(0);
      expect(after).toBeGreaterThan(0);
      expect(alice.filter((c) => c.conversation.memberLeftAt !== undefined).length).toBeGreaterThan(0);
    });

    it('authors every message with someone in the conversation at that moment', async () => {
      // Checked through bob's view of his own windows and alice's: nobody writes outside their window.
      const source = createDemoSource();
      for (const memberId of ['alice', 'bob', 'dmitri']) {
        for await (const conversation of source.conversations(memberId)) {
          const joined = conversation.memberJoinedAt!.getTime();
          const left = conversation.memberLeftAt?.getTime() ?? Infinity;
          for await (const m of source.messages(conversation)) {
            if (m.authorId !== memberId) continue;
            expect(m.sentAt.getTime()).toBeGreaterThanOrEqual(joined);
            expect(m.sentAt.getTime()).toBeLessThanOrEqual(left);
          }
        }
      }
    });

    it('rejects an unknown conversation when its messages are read', async () => {
      const messages = createDemoSource().messages({ id: 'no-such-conversation', kind: 'channel' });
      await expect(collect(messages)).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('messages', () => {
    it('gives alice exactly the requested number of messages', () => {
      expect(all.length).toBe(DEMO_DEFAULTS.messages);
    });

    it('yields each conversation in sentAt order, with unique ids', () => {
      for (const { conversation, messages } of alice) {
        const ids = new Set<string>();
        let last = -Infinity;
        for (const m of messages) {
          expect(m.conversationId).toBe(conversation.id);
          expect(ids.has(m.id)).toBe(false);
          ids.add(m.id);
          expect(m.sentAt.getTime()).toBeGreaterThan(last);
          last = m.sentAt.getTime();
        }
      }
    });

    it('points thread replies at an earlier root of the same conversation', () => {
      let replies = 0;
      for (const { messages } of alice) {
        const seen = new Map<string, Message>();
        for (const m of messages) {
          if (m.threadParentId !== undefined) {
            replies++;
            const parent = seen.get(m.threadParentId);
            expect(parent, `${m.id} replies to ${m.threadParentId}`).toBeDefined();
            expect(parent!.threadParentId).toBeUndefined();
          }
          seen.set(m.id, m);
        }
      }
      expect(replies).toBeGreaterThan(50);
    });

    it('has edits, deletions, reactions, joins and bot messages', () => {
      const edited = all.filter((m) => m.edits !== undefined);
      expect(edited.length).toBeGreaterThan(10);
      for (const m of edited) {
        expect(m.editedAt!.getTime()).toBe(m.edits!.at(-1)!.editedAt.getTime());
        expect(m.edits!.every((e) => e.editedAt > m.sentAt && typeof e.previousText === 'string')).toBe(true);
      }
      const deleted = all.filter((m) => m.deleted);
      expect(deleted.length).toBeGreaterThan(5);
      expect(deleted.every((m) => m.text === '' && m.attachments.length === 0)).toBe(true);
      expect(all.filter((m) => m.reactions.length > 0).every((m) => m.reactions.every((r) => r.userIds.length > 0))).toBe(true);
      expect(all.some((m) => m.reactions.length > 0)).toBe(true);
      expect(all.some((m) => m.subtype === 'join' && m.authorId === 'alice')).toBe(true);
      const bot = all.filter((m) => m.subtype === 'bot_message');
      expect(bot.length).toBeGreaterThan(0);
      expect(bot.every((m) => m.authorId === 'bot.deploy' && m.authorName === 'Deploy Bot')).toBe(true);
      expect(all.some((m) => m.authorId === 'erin' && m.authorName === 'Erin Walsh')).toBe(true);
    });

    it('contains every nasty text, inside alice’s window of a channel, written by her and by others', () => {
      const random = alice.find((c) => c.conversation.id === 'acme-random')!;
      expect(random.conversation.kind).toBe('channel');
      const joined = random.conversation.memberJoinedAt!.getTime();
      const left = random.conversation.memberLeftAt?.getTime() ?? Infinity;
      const authors = new Set<string>();
      for (const nasty of NASTY_TEXTS) {
        const hit = random.messages.find((m) => m.text === nasty.text);
        expect(hit, nasty.label).toBeDefined();
        expect(hit!.sentAt.getTime()).toBeGreaterThanOrEqual(joined);
        expect(hit!.sentAt.getTime()).toBeLessThanOrEqual(left);
        authors.add(hit!.authorId === 'alice' ? 'alice' : 'others');
      }
      expect(authors).toEqual(new Set(['alice', 'others']));
    });

    it('covers each required kind of nasty character', () => {
      const joined = NASTY_TEXTS.map((n) => n.text).join('\n');
      const required = [
        ...Array.from({ length: 9 }, (_, c) => c),
        0x0b,
        0x0c,
        ...Array.from({ length: 0x20 - 0x0e }, (_, c) => c + 0x0e),
        0xfffe,
        0xffff,
      ];
      for (const code of required) expect(joined.includes(String.fromCharCode(code)), `U+${code.toString(16)}`).toBe(true);
      expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(joined)).toBe(true); // lone high surrogate
      expect(/(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(joined)).toBe(true); // lone low surrogate
      for (const s of [']]>', '<script>alert(1)</script>', '&amp;', ' & ', '"', "'", '\r\n', '\t', '\u200D', '🇯🇵', '\u0301']) {
        expect(joined.includes(s), JSON.stringify(s)).toBe(true);
      }
      expect(/\r(?!\n)/.test(joined)).toBe(true);
      expect(/[\u0600-\u06ff]/.test(joined) && /[\u0590-\u05ff]/.test(joined) && /[\u4e00-\u9fff]/.test(joined)).toBe(true);
      expect(Math.max(...NASTY_TEXTS.map((n) => n.text.length))).toBeGreaterThanOrEqual(1_048_576);
    });

    it('attaches every nasty file name, the same name to different files included', () => {
      const attached = files(alice);
      const wanted = new Map<string, number>();
      for (const name of NASTY_FILE_NAMES) wanted.set(name, (wanted.get(name) ?? 0) + 1);
      for (const [name, count] of wanted) {
        expect(attached.filter((f) => f.name === name).length, JSON.stringify(name)).toBeGreaterThanOrEqual(count);
      }
      const reports = attached.filter((f) => f.name === 'report.pdf');
      expect(new Set(reports.map((f) => f.id)).size).toBe(reports.length);
      expect(reports.length).toBeGreaterThanOrEqual(2);
      expect(NASTY_FILE_NAMES.some((n) => n.length === 300)).toBe(true);
      expect(attached.some((f) => f.availability === 'not-in-source' && f.open === undefined)).toBe(true);
    });

    it('has messages with several attachments and files shared more than once', () => {
      expect(all.some((m) => m.attachments.length > 1)).toBe(true);
      const uses = new Map<string, number>();
      for (const m of all) for (const f of m.attachments) uses.set(f.id, (uses.get(f.id) ?? 0) + 1);
      expect([...uses.values()].some((n) => n > 1)).toBe(true);
    });

    it('streams a conversation of any length lazily', async () => {
      // A billion messages cannot be built up front: reaching the first ones proves the stream is lazy.
      const source = createDemoSource({ messages: 1_000_000_000, attachmentBytes: 0 });
      for await (const conversation of source.conversations('alice')) {
        let n = 0;
        for await (const m of source.messages(conversation)) {
          expect(m.conversationId).toBe(conversation.id);
          if (++n === 5) break;
        }
        expect(n).toBe(5);
      }
    });

    it('hands the same messages out in batches of at most 256, in the same order', async () => {
      const source = createDemoSource({ messages: 3_000 });
      for await (const conversation of source.conversations('alice')) {
        const single = (await collect(source.messages(conversation))).map(fingerprint);
        const batches = await collect(source.messageBatches!(conversation));
        expect(batches.flat().map(fingerprint)).toEqual(single);
        expect(batches.every((b) => b.length > 0 && b.length <= 256)).toBe(true);
        // Full batches but the last: a batch per message would defeat the point.
        expect(batches.slice(0, -1).every((b) => b.length === 256)).toBe(true);
      }
    });

    it('streams 200,000 messages and gives exactly that many', async () => {
      const source = createDemoSource({ messages: 200_000, attachmentBytes: 0 });
      let count = 0;
      let withText = 0;
      for await (const conversation of source.conversations('alice')) {
        for await (const m of source.messages(conversation)) {
          count++;
          if (m.text.length > 0) withText++;
        }
      }
      expect(count).toBe(200_000);
      expect(withText).toBeGreaterThan(190_000);
    });
  });

  describe('files', () => {
    it('spends roughly the attachment budget, mostly on media', () => {
      const attached = files(alice).filter((f) => f.availability === 'available' && !f.id.includes('nasty'));
      const total = attached.reduce((a, f) => a + f.size, 0);
      expect(total).toBeGreaterThan(DEMO_DEFAULTS.attachmentBytes * 0.7);
      expect(total).toBeLessThan(DEMO_DEFAULTS.attachmentBytes * 1.3);
      const text = attached.filter((f) => /^(text\/|application\/json)/.test(f.mimeType)).reduce((a, f) => a + f.size, 0);
      expect(text / total).toBeLessThan(0.25);
      const mimes = new Set(attached.map((f) => f.mimeType));
      for (const mime of ['image/png', 'video/mp4', 'application/pdf', 'application/zip', 'text/plain', 'text/csv', 'application/json']) {
        expect(mimes).toContain(mime);
      }
    });

    it('opens every available file to exactly its stated size', async () => {
      for (const file of files(alice)) {
        if (file.availability !== 'available') continue;
        let bytes = 0;
        for await (const chunk of await file.open!()) bytes += (chunk as Buffer).length;
        expect(bytes, `${file.id} ${file.name}`).toBe(file.size);
      }
    });
  });

  describe('grants', () => {
    it('gives alice active, expired and revoked grants with scopes and history', async () => {
      const grants = await collect(createDemoSource().grants('alice'));
      const end = new Date(DEMO_TIMELINE.end);
      const revoked = grants.filter((g) => g.revokedAt !== undefined);
      const expired = grants.filter((g) => g.revokedAt === undefined && g.expiresAt !== undefined && g.expiresAt < end);
      const active = grants.filter((g) => g.revokedAt === undefined && (g.expiresAt === undefined || g.expiresAt > end));
      expect(revoked.length).toBeGreaterThan(0);
      expect(expired.length).toBeGreaterThan(0);
      expect(active.length).toBeGreaterThan(0);
      expect(active.some((g) => g.expiresAt !== undefined)).toBe(true);
      expect(grants.map((g) => g.appName)).toEqual(expect.arrayContaining(['Jira Cloud', 'Google Drive', '钉钉审批']));
      for (const g of grants) {
        expect(Array.isArray(g.scopes)).toBe(true);
        expect(g.history!.length).toBeGreaterThan(0);
      }
      expect((await collect(createDemoSource().grants('bob'))).length).toBeGreaterThan(0);
    });
  });

  describe('determinism', () => {
    it('produces the same messages and file bytes from the same options', async () => {
      const options = { seed: 7, messages: 3_000, attachmentBytes: 2_000_000 };
      const a = await dump(createDemoSource(options), 'alice');
      const b = await dump(createDemoSource(options), 'alice');
      const hashOf = (d: ConversationDump[]): string => {
        const h = createHash('sha256');
        for (const c of d) for (const m of c.messages) h.update(fingerprint(m));
        return h.digest('hex');
      };
      expect(hashOf(a)).toBe(hashOf(b));
      expect(a.flatMap((c) => c.messages.map((m) => m.id))).toEqual(b.flatMap((c) => c.messages.map((m) => m.id)));
      const filesA = files(a).filter((f) => f.open !== undefined);
      const filesB = new Map(files(b).map((f) => [f.id, f]));
      expect(filesA.length).toBeGreaterThan(10);
      for (const file of filesA) expect(await sha256(file), file.id).toBe(await sha256(filesB.get(file.id)!));
      // And the same file opened twice.
      expect(await sha256(filesA[0]!)).toBe(await sha256(filesA[0]!));
    });

    it('changes with the seed', async () => {
      const texts = async (seed: number): Promise<string[]> => {
        const d = await dump(createDemoSource({ seed, messages: 500, attachmentBytes: 0 }), 'alice');
        return d.flatMap((c) => c.messages.map((m) => m.text));
      };
      const [one, two] = await Promise.all([texts(1), texts(2)]);
      expect(one.length).toBe(two.length);
      expect(one).not.toEqual(two);
    });
  });

  describe('options', () => {
    it('rejects invalid sizes as usage errors', () => {
      for (const bad of [{ messages: -1 }, { messages: 1.5 }, { attachmentBytes: Number.NaN }, { seed: 0.5 }]) {
        let error: unknown;
        try {
          createDemoSource(bad);
        } catch (err) {
          error = err;
        }
        expect(error, JSON.stringify(bad)).toBeInstanceOf(InputError);
        expect((error as InputError).exitCode).toBe(2);
      }
    });

    it('leaves the edge cases out on request', async () => {
      const d = await dump(createDemoSource({ nasty: false, messages: 500, attachmentBytes: 0 }), 'alice');
      const texts = new Set(d.flatMap((c) => c.messages.map((m) => m.text)));
      expect(NASTY_TEXTS.some((n) => texts.has(n.text))).toBe(false);
      expect(d.reduce((a, c) => a + c.messages.length, 0)).toBe(500);
    });
  });
});
