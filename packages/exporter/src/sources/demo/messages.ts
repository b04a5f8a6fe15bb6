import type { Edit, FileRecord, Message, Reaction } from '../../source/domain.js';
import { createFileRecord, type FileContext, type FileKind } from './files.js';
import type { PngStyle } from './file-content.js';
import type { ConversationPlan, FixedEvent, Participant, Sizing } from './plan.js';
import { type Prng, prngFor } from './random.js';

/**
 * The message stream of one conversation, generated as it is read. Memory is constant
 * in the conversation's length: the generator keeps a few recent thread roots and
 * files, never the messages it has produced.
 */

export interface GeneratorContext extends FileContext {
  sizing: Sizing;
}

// Probabilities per random message.
const P_EXTRA_SENTENCE = 0.2;
const P_MULTILINE = 0.05;
const P_DELETED = 0.02;
const P_REPLY = 0.2;
const P_NEW_ROOT = 0.08;
const P_EDITED = 0.05;
const P_REACTIONS = 0.12;
const P_RESHARE = 0.004;
const P_NOT_IN_SOURCE = 0.02;

const EMOJI = ['+1', 'heart', 'eyes', 'tada', 'rocket', 'white_check_mark', 'joy', 'pray', 'fire', '100', 'thinking_face', '+1::skin-tone-4'];
// Repetition sets the mix: media 35% PNG, 25% MP4, 25% PDF, 15% zip; text 45% plain, 30% CSV, 25% JSON.
const MEDIA_KINDS: readonly FileKind[] = [...rep('png', 7), ...rep('mp4', 5), ...rep('pdf', 5), ...rep('zip', 3)];
const TEXT_KINDS: readonly FileKind[] = [...rep('plain', 9), ...rep('csv', 6), ...rep('json', 5)];
const ROOTS = 4;
const RECENT_FILES = 4;

function rep<const T>(value: T, n: number): T[] {
  return new Array<T>(n).fill(value);
}

function pickAuthor(participants: readonly Participant[], at: number, rng: Prng): Participant {
  const n = participants.length;
  let k = rng.below(n);
  for (let tries = 0; tries < n; tries++) {
    const p = participants[k]!;
    if (p.joinedMs <= at && at < p.leftMs) return p;
    k = k + 1 === n ? 0 : k + 1;
  }
  // The creator is there for the conversation's whole life.
  return participants[0]!;
}

function fileName(kind: FileKind, n: number, atMs: number, rng: Prng, chinese: boolean): string {
  const iso = new Date(atMs).toISOString();
  const day = iso.slice(0, 10);
  switch (kind) {
    case 'png':
      switch (rng.below(chinese ? 4 : 3)) {
        case 0:
          return 'image.png'; // what pasted images are called: many files share it
        case 1:
          return `Screenshot ${day} at ${iso.slice(11, 19).replaceAll(':', '.')}.png`;
        case 2:
          return `IMG_${1000 + (n % 9000)}.png`;
        default:
          return `截图 ${day} ${n}.png`;
      }
    case 'mp4':
      return rng.below(2) === 0 ? `screen-recording-${n}.mp4` : `Demo video ${day}.mp4`;
    case 'pdf':
      return rng.pick([`invoice-${day.slice(0, 4)}-${String(n).padStart(4, '0')}.pdf`, `Q${1 + rng.below(4)} board deck.pdf`, 'contract (final) (2).pdf']);
    case 'zip':
      return rng.below(2) === 0 ? `logs-${day}.zip` : `design-assets-v${n}.zip`;
    case 'plain':
      return chinese && rng.below(2) === 0 ? `会议纪要-${n}.txt` : `meeting notes ${day}.txt`;
    case 'csv':
      return rng.below(2) === 0 ? `export-${day}.csv` : 'inventory.csv';
    case 'json':
      return rng.below(2) === 0 ? `payload-${n}.json` : `config.${rng.pick(['dev', 'staging', 'prod'])}.json`;
    case 'bin':
      return `blob-${n}.bin`;
  }
}

/**
 * Where the conversation's files go. File `j` lands on random message
 * ⌊(j + u)·R / F⌋, u drawn from the file's own stream: positions increase with `j`, so
 * the schedule needs only the next file, and a file's metadata and bytes do not depend
 * on how many random numbers the messages before it consumed.
 */
class FileSchedule {
  private readonly total: number;
  private j = 0;
  private rng: Prng | undefined;
  /** Random-message index the next file goes on; `Infinity` when none is left. */
  next = Infinity;

  constructor(
    private readonly plan: ConversationPlan,
    private readonly ctx: GeneratorContext,
    private readonly randomCount: number,
  ) {
    this.total = randomCount > 0 ? plan.mediaFiles + plan.textFiles : 0;
    this.prepare();
  }

  private prepare(): void {
    if (this.j >= this.total) {
      this.next = Infinity;
      this.rng = undefined;
      return;
    }
    this.rng = prngFor(this.ctx.seed, 'file', this.plan.id, this.j);
    this.next = Math.floor(((this.j + this.rng.float()) * this.randomCount) / this.total);
  }

  /** Appends the files due on random message `i` to `out`. */
  take(i: number, atMs: number, ownerId: string, out: FileRecord[]): void {
    while (this.next === i && this.rng !== undefined) {
      out.push(this.make(this.rng, atMs, ownerId));
      this.j++;
      this.prepare();
    }
  }

  private make(rng: Prng, atMs: number, ownerId: string): FileRecord {
    const { plan, ctx, j, total } = this;
    // Spread media evenly among the files instead of drawing it, so the counts are exact.
    const media = Math.floor(((j + 1) * plan.mediaFiles) / total) > Math.floor((j * plan.mediaFiles) / total);
    const kind = rng.pick(media ? MEDIA_KINDS : TEXT_KINDS);
    const mean = media ? ctx.sizing.meanMediaBytes : ctx.sizing.meanTextBytes;
    const targetSize = mean * (0.25 + 1.5 * rng.float());
    const available = rng.float() >= P_NOT_IN_SOURCE;
    const pngStyle: PngStyle = rng.below(2) === 0 ? 'noise' : 'gradient';
    const name = fileName(kind, j + 1, atMs, rng, plan.langs.includes('zh'));
    return createFileRecord(
      {
        id: `F-${plan.id}-${j + 1}`,
        name,
        kind,
        targetSize,
        ownerId,
        createdMs: atMs,
        host: plan.host,
        langs: plan.langs,
        pngStyle,
        available,
      },
      ctx,
    );
  }
}

function copyFile(file: FileRecord): FileRecord {
  return { ...file, createdAt: new Date(file.createdAt.getTime()) };
}

function fixedMessage(event: FixedEvent, id: string, plan: ConversationPlan, at: number, parentId: string | undefined, author: Participant | undefined): Message {
  const message: Message = {
    id,
    conversationId: plan.id,
    authorId: event.authorId,
    sentAt: new Date(at),
    deleted: false,
    text: event.text,
    reactions: event.reactions?.map((r) => ({ emoji: r.emoji, userIds: [...r.userIds] })) ?? [],
    attachments: event.files?.map(copyFile) ?? [],
  };
  if (author?.authorName !== undefined) message.authorName = author.authorName;
  if (event.subtype !== undefined) message.subtype = event.subtype;
  else if (author?.bot === true) message.subtype = 'bot_message';
  if (parentId !== undefined) message.threadParentId = parentId;
  if (event.edits !== undefined && event.edits.length > 0) {
    message.edits = event.edits.map((e) => ({ editedAt: new Date(e.atMs), previousText: e.previousText, editorId: event.authorId }));
    message.editedAt = new Date(event.edits[event.edits.length - 1]!.atMs);
  }
  return message;
}

/**
 * Messages of `plan` in sentAt order (strictly increasing, millisecond resolution).
 * Synchronous: generating needs no I/O, and the source batches them (see `messageBatches`).
 */
export function* generateMessages(plan: ConversationPlan, ctx: GeneratorContext): Generator<Message> {
  const rng = prngFor(ctx.seed, 'messages', plan.id);
  const { participants, fixed, langs } = plan;
  const byId = new Map(participants.map((p) => [p.id, p]));
  const randomCount = Math.max(0, plan.messageCount - fixed.length);
  const span = plan.endMs - plan.createdMs;
  const files = new FileSchedule(plan, ctx, randomCount);
  const pools = ctx.pools;
  const idPrefix = `${plan.id}-`;
  const fixedIds = new Map<FixedEvent, string>();

  const roots: string[] = [];
  let rootHead = 0;
  const recentFiles: FileRecord[] = [];
  let recentHead = 0;

  let n = 0;
  let last = -Infinity;
  let f = 0;
  for (let i = 0; i <= randomCount; i++) {
    const t = i < randomCount ? plan.createdMs + Math.floor(((i + rng.float()) * span) / randomCount) : Infinity;

    while (f < fixed.length && fixed[f]!.atMs <= t) {
      const event = fixed[f++]!;
      const at = event.atMs > last ? event.atMs : last + 1;
      last = at;
      const id = idPrefix + ++n;
      fixedIds.set(event, id);
      const parentId = event.replyTo === undefined ? undefined : fixedIds.get(event.replyTo);
      yield fixedMessage(event, id, plan, at, parentId, byId.get(event.authorId));
    }
    if (i === randomCount) break;

    const at = t > last ? t : last + 1;
    last = at;
    const id = idPrefix + ++n;
    const author = pickAuthor(participants, at, rng);
    const pool = pools[author.bot ? 'bot' : langs[rng.below(langs.length)]!].texts;

    const attachments: FileRecord[] = [];
    if (files.next === i) files.take(i, at, author.id, attachments);

    const deleted = attachments.length === 0 && rng.float() < P_DELETED;
    let text = '';
    if (!deleted) {
      text = pool[rng.below(pool.length)]!;
      const shape = rng.float();
      if (shape < P_MULTILINE) text += `\n${pool[rng.below(pool.length)]!}\n\n${pool[rng.below(pool.length)]!}`;
      else if (shape < P_MULTILINE + P_EXTRA_SENTENCE) text += ` ${pool[rng.below(pool.length)]!}`;
    }

    const message: Message = {
      id,
      conversationId: plan.id,
      authorId: author.id,
      sentAt: new Date(at),
      deleted,
      text,
      reactions: [],
      attachments,
    };
    if (author.authorName !== undefined) message.authorName = author.authorName;
    if (author.bot) message.subtype = 'bot_message';

    const thread = rng.float();
    if (roots.length > 0 && thread < P_REPLY) {
      message.threadParentId = roots[rng.below(roots.length)]!;
    } else if (thread < P_REPLY + P_NEW_ROOT) {
      // A ring of recent roots: replies go to fresh threads, and memory stays constant.
      if (roots.length < ROOTS) roots.push(id);
      else roots[rootHead++ % ROOTS] = id;
    }

    if (!deleted) {
      if (rng.float() < P_EDITED) {
        const edits: Edit[] = [];
        let editedAt = at;
        const count = rng.below(4) === 0 ? 2 : 1;
        for (let e = 0; e < count; e++) {
          editedAt += 1000 * (1 + rng.below(3600));
          edits.push({ editedAt: new Date(editedAt), previousText: pool[rng.below(pool.length)]!, editorId: author.id });
        }
        message.edits = edits;
        message.editedAt = new Date(editedAt);
      }
      if (rng.float() < P_REACTIONS) message.reactions = reactionsFor(participants, rng);
      if (attachments.length > 0) {
        for (const file of attachments) {
          // A copy: consumers may rewrite the records they are given (pseudonymization).
          if (recentFiles.length < RECENT_FILES) recentFiles.push(copyFile(file));
          else recentFiles[recentHead++ % RECENT_FILES] = copyFile(file);
        }
      } else if (recentFiles.length > 0 && rng.float() < P_RESHARE) {
        // The same file shared again: one file, several messages.
        attachments.push(copyFile(recentFiles[rng.below(recentFiles.length)]!));
      }
    }
    yield message;
  }
}

function reactionsFor(participants: readonly Participant[], rng: Prng): Reaction[] {
  const kinds = 1 + rng.below(3);
  const first = rng.below(EMOJI.length);
  const out: Reaction[] = [];
  for (let k = 0; k < kinds; k++) {
    const users = 1 + rng.below(Math.min(4, participants.length));
    const start = rng.below(participants.length);
    const userIds: string[] = [];
    for (let u = 0; u < users; u++) userIds.push(participants[(start + u) % participants.length]!.id);
    out.push({ emoji: EMOJI[(first + k * 5) % EMOJI.length]!, userIds });
  }
  return out;
}
