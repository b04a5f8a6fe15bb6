import { createHash } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { mkdtemp, open as openFile, readdir, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import { InputError } from '@handover/core';
import type { Conversation, ConversationKind, FileRecord, Grant, Member, Membership, Message } from '../../source/domain.js';
import type { SkippedItem, Source } from '../../source/source.js';
import { DirectoryTree, normalizeInnerPath, subTree, ZipTree, type ExportTree } from '../shared/export-tree.js';
import { InvalidItems } from '../shared/invalid-items.js';
import { readFileLines, readLines, type RawLine } from '../shared/json-lines.js';
import { parseJsonText } from '../shared/json-text.js';
import { asString, millisToDate } from '../shared/json-values.js';
import { mimeTypeFromName } from '../shared/mime.js';
import { SourceFormatError } from '../shared/source-format-error.js';
import { ZipIndex } from '../shared/zip-index.js';
import {
  attachmentPaths,
  channelConversationId,
  directConversationId,
  mapReactions,
  parseMattermostLine,
  participantsOf,
  postId,
  type MattermostLine,
  type MattermostMessage,
  type MattermostPost,
  type MattermostUser,
} from './mattermost-records.js';
import { LineReader, MessageIndex, sentOrder } from './post-index.js';

export interface MattermostSourceOptions {
  /**
   * A Mattermost bulk export: the .zip `mmctl export` produces (one .jsonl plus `data/…`
   * attachments), a .jsonl file (attachment paths resolved from its directory), or a
   * directory holding one .jsonl.
   */
  path: string;
  /** Skip invalid lines (recording each, with its 1-based line, in `skipped()`) instead of failing. */
  skipInvalid?: boolean;
}

interface Input {
  /** The tree holding the .jsonl, and its path there. */
  lineTree: ExportTree;
  jsonl: string;
  /** Attachments are resolved from the .jsonl's folder. */
  attachments: ExportTree;
  container?: string;
  /** Absolute path of a plain .jsonl: read back by position directly instead of spooling. */
  filePath?: string;
}

interface ConversationMeta {
  id: string;
  kind: ConversationKind;
  name?: string;
  team?: string;
  topic?: string;
  members?: string[];
}

interface MattermostIndex {
  teams: Map<string, string | undefined>;
  /** Channels and direct channels in the order the file first mentions them. */
  conversations: Map<string, ConversationMeta>;
  users: MattermostUser[];
  userByName: Map<string, MattermostUser>;
  /** Username → small integer, so the participant sets hold numbers. */
  userNumbers: Map<string, number>;
  /** conversation id → who took part in it (authors, repliers, reactors). */
  participants: Map<string, Set<number>>;
}

interface Window {
  firstJoin?: number;
  lastLeave?: number;
  lastEvent?: 'join' | 'leave';
}

/** The selected member's messages, located: where to read each one back from. */
interface Collection {
  memberId: string | undefined;
  conversationIds: Set<string>;
  index: MessageIndex;
  windows: Map<string, Window>;
  /** The file the located lines are read back from: the .jsonl itself, or the spool. */
  readerPath: string;
  /** Private temporary directory holding the message index (and the spool for a zip). */
  spoolDir: string;
}

/** Spool directories still on disk, removed at exit should `close()` not run. */
const liveSpools = new Set<string>();
let exitHookInstalled = false;

function trackSpool(dir: string): void {
  liveSpools.add(dir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const d of liveSpools) rmSync(d, { recursive: true, force: true });
    });
  }
}

/** Posts with replies are kept parsed until their replies are read; beyond this much text, the oldest are dropped (and re-read if needed). */
const MAX_CACHED_TEXT = 4 * 1024 * 1024;

/**
 * Reads a Mattermost bulk export in bounded memory. A first streaming pass indexes
 * teams, channels, users and who took part where. When a member's conversations are
 * asked for, a second pass locates that member's messages (line offset, length,
 * create_at, reply number: 24 bytes each, written to a temporary index file in 1.5 KiB
 * blocks per conversation, see `MessageIndex`). Each conversation's messages are then
 * loaded (28 bytes each, for that conversation only), sorted by time and read back by
 * position. A .jsonl inside a zip cannot be read by position (deflate is not
 * seekable), so the second pass also copies the member's lines into the temporary
 * directory. That directory is private (0700), and removed by `close()` or at exit.
 *
 * Bulk exports hold no OAuth or app grants: `grants()` yields nothing.
 */
export function createMattermostSource(options: MattermostSourceOptions): Source {
  return new MattermostSource(options);
}

class MattermostSource implements Source {
  readonly name: string;
  private readonly invalid: InvalidItems;
  private input?: Promise<Input>;
  private index?: Promise<MattermostIndex>;
  private collection?: Promise<Collection>;

  constructor(private readonly options: MattermostSourceOptions) {
    this.name = `mattermost:${options.path}`;
    this.invalid = new InvalidItems(options.skipInvalid === true);
  }

  private openInput(): Promise<Input> {
    this.input ??= openInput(this.options.path);
    return this.input;
  }

  private async lines(input: Input): Promise<AsyncGenerator<RawLine>> {
    const options = { file: input.jsonl, container: input.container };
    return input.filePath === undefined ? readLines(await input.lineTree.openStream(input.jsonl), options) : readFileLines(input.filePath, options);
  }

  private parseLine(input: Input, raw: RawLine, report: boolean): MattermostLine | undefined {
    if (raw.text.trim() === '') return undefined;
    let result: MattermostLine | string;
    try {
      result = parseMattermostLine(parseJsonText(raw.text, input.jsonl, { line: raw.line, container: input.container }));
    } catch (err) {
      if (!(err instanceof SourceFormatError)) throw err;
      if (report) this.invalid.report(err);
      return undefined;
    }
    if (typeof result === 'string') {
      if (report) this.invalid.report(new SourceFormatError(input.jsonl, result, { line: raw.line, container: input.container }));
      return undefined;
    }
    return result;
  }

  private load(): Promise<MattermostIndex> {
    this.index ??= this.buildIndex();
    return this.index;
  }

  /** First pass: everything but the messages themselves. Invalid lines are reported here, once. */
  private async buildIndex(): Promise<MattermostIndex> {
    const input = await this.openInput();
    const index: MattermostIndex = {
      teams: new Map(),
      conversations: new Map(),
      users: [],
      userByName: new Map(),
      userNumbers: new Map(),
      participants: new Map(),
    };
    const number = (username: string): number => {
      let n = index.userNumbers.get(username);
      if (n === undefined) index.userNumbers.set(username, (n = index.userNumbers.size));
      return n;
    };
    for await (const raw of await this.lines(input)) {
      const line = this.parseLine(input, raw, true);
      if (line === undefined) continue;
      switch (line.type) {
        case 'team':
          index.teams.set(line.name, line.displayName);
          break;
        case 'channel': {
          const id = channelConversationId(line.team, line.name);
          const meta: ConversationMeta = { id, kind: line.kind, name: line.name, team: line.team };
          if (line.topic !== undefined) meta.topic = line.topic;
          index.conversations.set(id, meta);
          break;
        }
        case 'user':
          if (!index.userByName.has(line.user.member.id)) {
            index.users.push(line.user);
            index.userByName.set(line.user.member.id, line.user);
            number(line.user.member.id);
          }
          break;
        case 'direct_channel': {
          const direct = directConversationId(line.members);
          const meta: ConversationMeta = { id: direct.id, kind: direct.kind, members: direct.members };
          if (line.topic !== undefined) meta.topic = line.topic;
          index.conversations.set(direct.id, meta);
          break;
        }
        case 'post': {
          const post = line.post;
          // A bad reply is skipped alone; the post and its other replies are kept.
          for (const reply of post.replies) {
            if ('invalid' in reply) this.invalid.report(new SourceFormatError(input.jsonl, reply.invalid, { line: raw.line, container: input.container }));
          }
          if (!index.conversations.has(post.conversationId)) index.conversations.set(post.conversationId, metaFromPost(post));
          let set = index.participants.get(post.conversationId);
          if (set === undefined) index.participants.set(post.conversationId, (set = new Set()));
          for (const user of participantsOf(post)) set.add(number(user));
          break;
        }
        case 'ignored':
          break;
      }
    }
    return index;
  }

  async *members(): AsyncIterable<Member> {
    for (const user of (await this.load()).users) yield user.member;
  }

  async findMember(selector: string): Promise<Member | undefined> {
    const { users, userByName } = await this.load();
    const wanted = selector.trim().replace(/^@/, '');
    return (
      userByName.get(wanted)?.member ??
      users.find((u) => u.member.id.toLowerCase() === wanted.toLowerCase())?.member ??
      users.find((u) => u.member.email?.toLowerCase() === selector.trim().toLowerCase())?.member
    );
  }

  async *memberships(memberId: string): AsyncIterable<Membership> {
    const { userByName, teams } = await this.load();
    const user = userByName.get(memberId);
    if (user === undefined) return;
    for (const team of user.teams) {
      yield {
        organizationId: team.name,
        organizationName: teams.get(team.name) ?? team.name,
        role: user.systemAdmin && team.role === 'member' ? 'admin' : team.role,
      };
    }
  }

  /** The member's channels (as the user line lists them), direct channels, and anywhere they posted, replied or reacted. */
  private async memberConversations(memberId: string): Promise<ConversationMeta[]> {
    const index = await this.load();
    const user = index.userByName.get(memberId);
    const listed = new Set(user?.teams.flatMap((t) => t.channels.map((c) => `${t.name}/${c}`)) ?? []);
    const n = index.userNumbers.get(memberId);
    return [...index.conversations.values()].filter(
      (c) =>
        listed.has(c.id) ||
        (c.members?.includes(memberId) ?? false) ||
        (n !== undefined && (index.participants.get(c.id)?.has(n) ?? false)),
    );
  }

  async *conversations(memberId: string): AsyncIterable<Conversation> {
    const index = await this.load();
    const metas = await this.memberConversations(memberId);
    const collection = await this.collect(memberId, new Set(metas.map((m) => m.id)));
    for (const meta of metas) {
      const conversation: Conversation = { id: meta.id, kind: meta.kind };
      if (meta.name !== undefined) conversation.name = meta.name;
      if (meta.team !== undefined) conversation.organizationId = meta.team;
      if (meta.topic !== undefined) conversation.topic = meta.topic;
      if (meta.members !== undefined) conversation.participantIds = meta.members.filter((m) => m !== memberId);
      const window = collection.windows.get(meta.id);
      if (window?.firstJoin !== undefined) conversation.memberJoinedAt = new Date(window.firstJoin);
      const stillListed = index.userByName.get(memberId)?.teams.some((t) => meta.team === t.name && t.channels.includes(meta.name ?? '')) ?? false;
      if (!stillListed && window?.lastEvent === 'leave' && window.lastLeave !== undefined) conversation.memberLeftAt = new Date(window.lastLeave);
      yield conversation;
    }
  }

  /**
   * Second pass: the byte range, create_at and reply number of every message of the
   * given conversations, and the member's join / leave events (system posts, when the
   * export has them). Kept for the last member asked for.
   */
  private collect(memberId: string | undefined, conversationIds: Set<string>): Promise<Collection> {
    const previous = this.collection;
    this.collection = (async () => {
      const old = await previous?.catch(() => undefined);
      if (old !== undefined && old.memberId === memberId && [...conversationIds].every((id) => old.conversationIds.has(id))) return old;
      if (old !== undefined) await discard(old);
      const input = await this.openInput();
      const spoolDir = await mkdtemp(join(tmpdir(), 'handover-mattermost-'));
      trackSpool(spoolDir);
      const collection: Collection = {
        memberId,
        conversationIds,
        index: await MessageIndex.create(join(spoolDir, 'index.bin')),
        windows: new Map(),
        readerPath: input.filePath ?? join(spoolDir, 'messages.jsonl'),
        spoolDir,
      };
      // A .jsonl in a zip cannot be read by position: the member's lines are copied out.
      const spool = input.filePath === undefined ? createWriteStream(collection.readerPath, { mode: 0o600 }) : undefined;
      let spoolBytes = 0;
      try {
        for await (const raw of await this.lines(input)) {
          if (!raw.text.includes('post')) continue;
          const line = this.parseLine(input, raw, false);
          if (line?.type !== 'post' || !conversationIds.has(line.post.conversationId)) continue;
          const post = line.post;
          let offset = raw.offset;
          let bytes = raw.bytes;
          if (spool !== undefined) {
            const buf = Buffer.from(`${raw.text}\n`, 'utf8');
            offset = spoolBytes;
            bytes = buf.length - 1;
            spoolBytes += buf.length;
            if (!spool.write(buf)) await new Promise<void>((resolve) => spool.once('drain', resolve));
          }
          await collection.index.add(post.conversationId, post.root.createAt, offset, bytes, -1);
          for (let i = 0; i < post.replies.length; i += 1) {
            const reply = post.replies[i];
            if (reply !== undefined && !('invalid' in reply)) await collection.index.add(post.conversationId, reply.createAt, offset, bytes, i);
          }
          if (memberId !== undefined) recordWindow(collection.windows, post, memberId);
        }
        await collection.index.finish();
      } catch (err) {
        await discard(collection);
        throw err;
      } finally {
        if (spool !== undefined) await new Promise<void>((resolve) => spool.end(() => resolve()));
      }
      return collection;
    })();
    return this.collection;
  }

  async *messages(conversation: Conversation): AsyncIterable<Message> {
    let collection = await this.collection?.catch(() => undefined);
    if (collection === undefined || !collection.conversationIds.has(conversation.id)) {
      // Asked for a conversation of no member's list: locate just its messages.
      collection = await this.collect(undefined, new Set([conversation.id]));
    }
    const input = await this.openInput();
    const locations = await collection.index.read(conversation.id);
    if (locations.length === 0) return;
    const order = sentOrder(locations);
    const reader = await LineReader.open(collection.readerPath);
    /** Parsed posts whose replies are still to come, with how many of their messages are. */
    const cache = new Map<number, { post: MattermostPost; left: number; size: number }>();
    let cachedText = 0;
    const resolvedRoots = new Map<number, string>();
    let groupAt = Number.NaN;
    const groupIds = new Set<string>();
    try {
      for (let k = 0; k < order.length; k += 1) {
        const i = order[k] ?? 0;
        const offset = locations.offset[i] ?? 0;
        const reply = locations.reply[i] ?? -1;
        const createdAt = locations.createdAt[i] ?? 0;
        let cached = cache.get(offset);
        let post = cached?.post;
        if (post === undefined) {
          const text = await reader.line(locations, order, k);
          const line = parseMattermostLine(JSON.parse(text));
          if (typeof line === 'string' || line.type !== 'post') continue;
          post = line.post;
          const messages = 1 + post.replies.filter((r) => !('invalid' in r)).length;
          if (messages > 1) {
            cached = { post, left: messages, size: text.length };
            cache.set(offset, cached);
            cachedText += text.length;
            for (const [key, entry] of cache) {
              if (cachedText <= MAX_CACHED_TEXT) break;
              cache.delete(key);
              cachedText -= entry.size;
            }
          }
        }
        if (cached !== undefined) {
          cached.left -= 1;
          if (cached.left === 0 && cache.delete(offset)) cachedText -= cached.size;
        }
        const m = reply === -1 ? post.root : post.replies[reply];
        if (m === undefined || 'invalid' in m) continue;
        const rootId = resolvedRoots.get(offset) ?? postId(conversation.id, post.root);
        let id = reply === -1 ? rootId : postId(rootId, m);
        if (createdAt !== groupAt) {
          groupAt = createdAt;
          groupIds.clear();
        }
        if (groupIds.has(id)) {
          let n = 2;
          while (groupIds.has(`${id}-${n}`)) n += 1;
          id = `${id}-${n}`;
          if (reply === -1) resolvedRoots.set(offset, id);
        }
        groupIds.add(id);
        yield await this.toMessage(input, conversation.id, m, id, reply === -1 ? undefined : rootId);
      }
    } finally {
      await reader.close();
    }
  }

  private async toMessage(input: Input, conversationId: string, m: MattermostMessage, id: string, parentId: string | undefined): Promise<Message> {
    const sentAt = new Date(m.createAt);
    const message: Message = {
      id,
      conversationId,
      authorId: m.user,
      sentAt,
      deleted: m.deleteAt !== undefined,
      text: m.message,
      reactions: mapReactions(m.reactions),
      attachments: [],
    };
    if (parentId !== undefined) message.threadParentId = parentId;
    if (m.type !== undefined) message.subtype = m.type;
    const editedAt = millisToDate(m.editAt);
    if (editedAt !== undefined) {
      message.editedAt = editedAt;
      message.edits = [{ editedAt }];
    }
    for (const path of attachmentPaths(m)) message.attachments.push(await this.attachment(input, path, m.user, sentAt));
    return message;
  }

  /**
   * An attachment's record. Its path is looked up as given and under `data/` (where
   * `mmctl export --attachments` puts files), always inside the export: absolute paths
   * and `..` are never followed, and such files are `not-in-source`.
   */
  private async attachment(input: Input, path: string, owner: string, createdAt: Date): Promise<FileRecord> {
    const name = posix.basename(path.replace(/\\/g, '/'));
    const record: FileRecord = {
      id: `mmf-${createHash('sha256').update(path).digest('hex').slice(0, 32)}`,
      name,
      mimeType: mimeTypeFromName(name),
      size: 0,
      ownerId: owner,
      createdAt,
      availability: 'not-in-source',
    };
    const inner = normalizeInnerPath(path);
    if (inner === undefined || path.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(path)) return record;
    for (const candidate of inner.startsWith('data/') ? [inner] : [inner, `data/${inner}`]) {
      const size = await input.attachments.size(candidate);
      if (size === undefined) continue;
      record.size = size;
      record.availability = 'available';
      record.open = () => input.attachments.openStream(candidate);
      break;
    }
    return record;
  }

  async *grants(_memberId: string): AsyncIterable<Grant> {
    // Mattermost bulk exports carry no OAuth apps or authorizations.
  }

  skipped(): readonly SkippedItem[] {
    return this.invalid.list();
  }

  async close(): Promise<void> {
    const collection = await this.collection?.catch(() => undefined);
    if (collection !== undefined) await discard(collection);
    const input = await this.input?.catch(() => undefined);
    await input?.lineTree.close();
  }
}

function metaFromPost(post: MattermostPost): ConversationMeta {
  if (post.members !== undefined) {
    const direct = directConversationId(post.members);
    return { id: direct.id, kind: direct.kind, members: direct.members };
  }
  const meta: ConversationMeta = { id: post.conversationId, kind: 'channel' };
  if (post.channel !== undefined) meta.name = post.channel;
  if (post.team !== undefined) meta.team = post.team;
  return meta;
}

/** Join / leave system posts about `memberId` (exports made with system posts have them). */
function recordWindow(windows: Map<string, Window>, post: MattermostPost, memberId: string): void {
  const m = post.root;
  const type = m.type ?? '';
  let event: 'join' | 'leave' | undefined;
  if ((type === 'system_join_channel' || type === 'system_join_team') && m.user === memberId) event = 'join';
  else if ((type === 'system_leave_channel' || type === 'system_leave_team') && m.user === memberId) event = 'leave';
  else if (type === 'system_add_to_channel' && asString(m.props?.addedUsername) === memberId) event = 'join';
  else if (type === 'system_remove_from_channel' && asString(m.props?.removedUsername) === memberId) event = 'leave';
  if (event === undefined) return;
  let w = windows.get(post.conversationId);
  if (w === undefined) windows.set(post.conversationId, (w = {}));
  if (event === 'join' && (w.firstJoin === undefined || m.createAt < w.firstJoin)) w.firstJoin = m.createAt;
  if (event === 'leave' && (w.lastLeave === undefined || m.createAt > w.lastLeave)) w.lastLeave = m.createAt;
  const lastAt = Math.max(w.firstJoin ?? 0, w.lastLeave ?? 0);
  w.lastEvent = w.lastLeave !== undefined && w.lastLeave === lastAt ? 'leave' : 'join';
}

async function discard(collection: Collection): Promise<void> {
  await collection.index.close().catch(() => undefined);
  liveSpools.delete(collection.spoolDir);
  await rm(collection.spoolDir, { recursive: true, force: true });
}

/** A zip (by content), a .jsonl file, or a directory holding exactly one .jsonl. */
async function openInput(path: string): Promise<Input> {
  let info;
  try {
    info = await stat(path);
  } catch (cause) {
    throw new InputError(`cannot read the export '${path}': ${(cause as NodeJS.ErrnoException).code ?? String(cause)}. Check the path.`, { cause });
  }
  if (info.isDirectory()) {
    const jsonls = (await readdir(path)).filter((f) => f.toLowerCase().endsWith('.jsonl'));
    if (jsonls.length !== 1 || jsonls[0] === undefined) {
      throw new InputError(
        `the directory '${path}' holds ${jsonls.length} .jsonl files; pass the Mattermost bulk export .zip or its .jsonl file itself.`,
      );
    }
    return openInput(join(path, jsonls[0]));
  }
  // By content first: a .zip that does not start like one is a damaged zip, not JSON lines.
  if (!(await looksLikeZip(path)) && !/\.zip$/i.test(path)) {
    const real = await realpath(path);
    const tree = new DirectoryTree(dirname(real));
    return { lineTree: tree, jsonl: basename(real), attachments: tree, filePath: real };
  }
  const zip = new ZipTree(await ZipIndex.open(path));
  const jsonls = (await allNames(zip)).filter((n) => n.toLowerCase().endsWith('.jsonl'));
  // Prefer the shallowest: `data/` may hold attached .jsonl files of users'.
  const depth = (n: string): number => n.split('/').length;
  const top = Math.min(...jsonls.map(depth));
  const candidates = jsonls.filter((n) => depth(n) === top);
  if (candidates.length !== 1 || candidates[0] === undefined) {
    await zip.close();
    throw new SourceFormatError(basename(path), `expected one .jsonl file at the top of the zip, found ${candidates.length}`, {
      hint: 'Pass the zip `mmctl export create` produced, or the .jsonl file itself.',
    });
  }
  const jsonl = candidates[0];
  const folder = jsonl.includes('/') ? jsonl.slice(0, jsonl.lastIndexOf('/') + 1) : '';
  return { lineTree: zip, jsonl, attachments: subTree(zip, folder), container: basename(path) };
}

async function allNames(tree: ExportTree, dir = ''): Promise<string[]> {
  const names = (await tree.list(dir)).map((f) => (dir === '' ? f : `${dir}/${f}`));
  // Only two levels: the .jsonl sits at the top, or under the folder the export was zipped with.
  if (dir === '') for (const sub of await tree.listDirs('')) if (sub !== 'data') names.push(...(await tree.list(sub)).map((f) => `${sub}/${f}`));
  return names;
}

async function looksLikeZip(path: string): Promise<boolean> {
  const handle = await openFile(path, 'r');
  try {
    const buf = Buffer.alloc(4);
    await handle.read(buf, 0, 4, 0);
    return buf.readUInt32LE(0) === 0x04034b50 || buf.readUInt32LE(0) === 0x06054b50;
  } finally {
    await handle.close();
  }
}
