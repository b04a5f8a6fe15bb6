import { createHmac } from 'node:crypto';
import type { Conversation, FileRecord, Grant, Message } from '../source/domain.js';

/**
 * Replaces other people's ids and names by stable pseudonyms: the same person gets
 * the same pseudonym in every export made with the same key, and nobody without the
 * key can map a pseudonym back to an id by hashing guesses. The subject stays as is.
 * Mentions inside message text are not rewritten (see docs/archive-format.md).
 */
export class Pseudonymizer {
  readonly #key: Buffer;
  readonly #subjectId: string;
  readonly #cache = new Map<string, string>();

  constructor(key: Uint8Array | string, subjectId: string) {
    this.#key = Buffer.from(key);
    this.#subjectId = subjectId;
  }

  id(id: string): string;
  id(id: string | undefined): string | undefined;
  id(id: string | undefined): string | undefined {
    if (id === undefined || id === this.#subjectId) return id;
    let p = this.#cache.get(id);
    if (p === undefined) {
      p = 'person-' + createHmac('sha256', this.#key).update(id).digest('hex').slice(0, 12);
      // Bounded: a workspace has a bounded number of people, but guard against id floods.
      if (this.#cache.size < 100_000) this.#cache.set(id, p);
    }
    return p;
  }

  message(m: Message): Message {
    const authorId = this.id(m.authorId);
    return {
      ...m,
      authorId,
      ...(m.authorName !== undefined && authorId !== m.authorId ? { authorName: authorId } : {}),
      ...(m.edits ? { edits: m.edits.map((e) => ({ ...e, editorId: this.id(e.editorId) })) } : {}),
      reactions: m.reactions.map((r) => ({ emoji: r.emoji, userIds: r.userIds.map((u) => this.id(u)) })),
      attachments: m.attachments.map((f) => this.file(f)),
    };
  }

  file(f: FileRecord): FileRecord {
    return { ...f, ownerId: this.id(f.ownerId) };
  }

  conversation(c: Conversation): Conversation {
    const out: Conversation = { ...c };
    if (c.participantIds) out.participantIds = c.participantIds.map((p) => this.id(p));
    // DM names are usually made of the participants' names.
    if (c.kind === 'dm' || c.kind === 'group-dm') delete out.name;
    return out;
  }

  grant(g: Grant): Grant {
    return {
      ...g,
      grantedBy: this.id(g.grantedBy),
      ...(g.history ? { history: g.history.map((e) => ({ ...e, actorId: this.id(e.actorId) })) } : {}),
    };
  }
}
