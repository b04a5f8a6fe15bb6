import { describe, expect, it } from 'vitest';
import type { Conversation, ConversationKind, FileRecord, Message, Source } from '@handover/exporter';

/**
 * What every `Source` adapter promises the exporter, as one suite each adapter runs
 * (test/source-contract.test.ts). Adapter-specific behaviour (formats, bad input, write
 * capabilities) stays in each adapter's own tests.
 */
export interface SourceContractSubject {
  /** Builds a fresh source over the same data each time. */
  make: () => Source;
  /** A member selector that has conversations and messages in that data. */
  member: string;
  /** The data holds file bytes for some of the member's attachments (Slack exports hold none). */
  fileBytes: boolean;
  /** The data holds grants of the member (Mattermost exports hold none). */
  grants: boolean;
}

const KINDS = new Set<string>(['channel', 'private-group', 'dm', 'group-dm'] satisfies ConversationKind[]);

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function withSource<T>(subject: SourceContractSubject, use: (source: Source) => Promise<T>): Promise<T> {
  const source = subject.make();
  try {
    return await use(source);
  } finally {
    await source.close?.();
  }
}

async function memberId(source: Source, selector: string): Promise<string> {
  const member = await source.findMember(selector);
  if (member === undefined) throw new Error(`contract subject: no member '${selector}'`);
  return member.id;
}

export function describeSourceContract(name: string, subject: SourceContractSubject): void {
  describe(`Source contract: ${name}`, () => {
    it('finds the member by id too, lists it among members, and finds no unknown member', async () => {
      await withSource(subject, async (source) => {
        const id = await memberId(source, subject.member);
        expect((await source.findMember(id))?.id).toBe(id);
        expect((await collect(source.members())).map((m) => m.id)).toContain(id);
        expect(await source.findMember('no-such-member-5f3a9c')).toBeUndefined();
      });
    });

    it("lists the member's conversations once each, with a known kind", async () => {
      await withSource(subject, async (source) => {
        const conversations = await collect(source.conversations(await memberId(source, subject.member)));
        expect(conversations.length).toBeGreaterThan(0);
        expect(new Set(conversations.map((c) => c.id)).size).toBe(conversations.length);
        for (const c of conversations) expect(KINDS.has(c.kind), `${c.id}: kind ${c.kind}`).toBe(true);
      });
    });

    it('gives each conversation its own messages in the order they were sent, with unique ids', async () => {
      await withSource(subject, async (source) => {
        let total = 0;
        for await (const c of source.conversations(await memberId(source, subject.member))) {
          const messages = await collect(source.messages(c));
          total += messages.length;
          expect(new Set(messages.map((m) => m.id)).size, `${c.id}: unique ids`).toBe(messages.length);
          for (const [i, m] of messages.entries()) {
            expect(m.conversationId, `${c.id}: message ${m.id}`).toBe(c.id);
            expect(Number.isNaN(m.sentAt.getTime()), `${m.id}: sentAt`).toBe(false);
            if (i > 0) expect(m.sentAt.getTime(), `${m.id} is sent before the message above it`).toBeGreaterThanOrEqual(messages[i - 1]!.sentAt.getTime());
            expect(Array.isArray(m.reactions) && Array.isArray(m.attachments), `${m.id}: reactions and attachments`).toBe(true);
          }
        }
        expect(total).toBeGreaterThan(0);
      });
    });

    it('hands out the same messages again on a second read', async () => {
      await withSource(subject, async (source) => {
        for await (const c of source.conversations(await memberId(source, subject.member))) {
          const ids = (messages: Message[]): string[] => messages.map((m) => `${m.id}@${m.sentAt.toISOString()}`);
          expect(ids(await collect(source.messages(c)))).toEqual(ids(await collect(source.messages(c))));
        }
      });
    });

    it('offers messageBatches, if at all, as exactly the messages of messages(), in non-empty batches', async () => {
      await withSource(subject, async (source) => {
        if (source.messageBatches === undefined) return;
        for await (const c of source.conversations(await memberId(source, subject.member))) {
          const batches = await collect(source.messageBatches(c));
          expect(batches.every((b) => b.length > 0)).toBe(true);
          expect(batches.flat().map((m) => m.id)).toEqual((await collect(source.messages(c))).map((m) => m.id));
        }
      });
    });

    it('opens every attached file that has bytes to exactly its stated size', async () => {
      await withSource(subject, async (source) => {
        const files = new Map<string, FileRecord>();
        const conversations: Conversation[] = await collect(source.conversations(await memberId(source, subject.member)));
        for (const c of conversations) for await (const m of source.messages(c)) for (const f of m.attachments) files.set(f.id, f);
        let opened = 0;
        for (const f of files.values()) {
          expect(f.size >= 0 && typeof f.name === 'string' && typeof f.mimeType === 'string', `${f.id}: metadata`).toBe(true);
          if (f.open === undefined || f.availability === 'not-in-source') continue;
          // A bounded sample keeps large sources fast; the first files are opened every time.
          if (opened++ >= 50) break;
          let bytes = 0;
          for await (const chunk of await f.open()) bytes += (chunk as Uint8Array).length;
          expect(bytes, `${f.id} (${f.name})`).toBe(f.size);
        }
        if (subject.fileBytes) expect(opened).toBeGreaterThan(0);
      });
    });

    it('gives grants with an app, scopes and a grant time no later than their revocation', async () => {
      await withSource(subject, async (source) => {
        const grants = await collect(source.grants(await memberId(source, subject.member)));
        if (subject.grants) expect(grants.length).toBeGreaterThan(0);
        for (const g of grants) {
          expect(g.appId, 'appId').not.toBe('');
          expect(Array.isArray(g.scopes), `${g.appId}: scopes`).toBe(true);
          if (g.revokedAt !== undefined && g.grantedAt !== undefined) expect(g.revokedAt.getTime()).toBeGreaterThanOrEqual(g.grantedAt.getTime());
        }
      });
    });
  });
}
