import type { Conversation, ConversationKind, Grant, Member, Membership, Message } from '../../source/domain.js';
import type { SkippedItem, Source } from '../../source/source.js';
import { openExportTree, readText, subTree, type ExportTree } from '../shared/export-tree.js';
import { InvalidItems } from '../shared/invalid-items.js';
import { parseJsonText } from '../shared/json-text.js';
import { asArray, asObject, asString, secondsToDate } from '../shared/json-values.js';
import { SourceFormatError } from '../shared/source-format-error.js';
import { buildSlackGrants, mapSlackMessage, mapSlackUser, type SlackUser } from './slack-records.js';
import { compareTs, isSlackTs, tsToDate } from './slack-ts.js';

export interface SlackSourceOptions {
  /** A Slack export: the .zip Slack produced, or the directory it unpacks to. */
  path: string;
  /**
   * Skip invalid files and messages (recording each in `skipped()`) instead of failing.
   * users.json is never skipped: without it no member can be found.
   */
  skipInvalid?: boolean;
}

interface SlackConversation {
  id: string;
  kind: ConversationKind;
  name?: string;
  createdAt?: Date;
  topic?: string;
  /** Member ids, interned: see `SlackIndex.ids`. */
  members: Uint32Array;
}

interface SlackIndex {
  users: SlackUser[];
  userById: Map<string, SlackUser>;
  /** Every user id seen (users.json, then members arrays) → a small integer, so member lists are typed arrays. */
  ids: Map<string, number>;
  conversations: SlackConversation[];
  /** Top-level folders of the export: the conversations' day files. */
  folders: Set<string>;
}

const USERS_FILES = ['users.json', 'org_users.json'] as const;
const CONVERSATION_FILES: ReadonlyArray<readonly [string, ConversationKind]> = [
  ['channels.json', 'channel'],
  ['groups.json', 'private-group'],
  ['dms.json', 'dm'],
  ['mpims.json', 'group-dm'],
];
const DAY_FILE = /^\d{4}-\d{2}-\d{2}\.json$/;
const JOIN_SUBTYPES = new Set(['channel_join', 'group_join']);
const LEAVE_SUBTYPES = new Set(['channel_leave', 'group_leave']);

/**
 * Reads a Slack workspace export (zip or directory). Metadata files (users.json,
 * channels.json…) are parsed whole; day files one at a time, on demand. A zip is
 * opened once and indexed by entry name; nothing is extracted.
 */
export function createSlackSource(options: SlackSourceOptions): Source {
  return new SlackSource(options);
}

class SlackSource implements Source {
  readonly name: string;
  private readonly invalid: InvalidItems;
  private tree?: Promise<ExportTree>;
  private index?: Promise<SlackIndex>;
  private readonly folderOf = new Map<string, string | undefined>();

  constructor(private readonly options: SlackSourceOptions) {
    this.name = `slack:${options.path}`;
    this.invalid = new InvalidItems(options.skipInvalid === true);
  }

  private openTree(): Promise<ExportTree> {
    this.tree ??= (async () => {
      const tree = await openExportTree(this.options.path);
      // A re-zipped export has everything under one folder: read from there.
      if (!(await hasAny(tree, USERS_FILES))) {
        const dirs = await tree.listDirs('');
        for (const dir of dirs) {
          const inner = subTree(tree, `${dir}/`);
          if (await hasAny(inner, USERS_FILES)) return inner;
        }
      }
      return tree;
    })();
    return this.tree;
  }

  private load(): Promise<SlackIndex> {
    this.index ??= this.buildIndex();
    return this.index;
  }

  private async buildIndex(): Promise<SlackIndex> {
    const tree = await this.openTree();
    const usersFile = (await tree.has('users.json')) ? 'users.json' : (await tree.has('org_users.json')) ? 'org_users.json' : undefined;
    if (usersFile === undefined) {
      throw new SourceFormatError('users.json', 'missing: this does not look like a Slack export', {
        container: tree.label,
        hint: 'Pass the .zip Slack produced (Workspace settings → Import/Export) or the directory it unpacks to; it holds users.json and channels.json.',
      });
    }
    // users.json is parsed whole: one object per user, ~1-2 KB each, so tens of MB for the biggest workspaces.
    const rawUsers = parseJsonText(await readText(tree, usersFile), usersFile, {
      container: tree.label,
      hint: 'users.json is required to find members and cannot be skipped; download the export again.',
    });
    if (!Array.isArray(rawUsers)) {
      throw new SourceFormatError(usersFile, 'expected a JSON array of users', { container: tree.label, hint: 'Download the export again.' });
    }
    const users: SlackUser[] = [];
    const userById = new Map<string, SlackUser>();
    const ids = new Map<string, number>();
    rawUsers.forEach((raw, i) => {
      const user = mapSlackUser(raw);
      if (typeof user === 'string') {
        this.invalid.report(new SourceFormatError(usersFile, user, { line: i + 1, unit: 'entry', container: tree.label }));
        return;
      }
      if (userById.has(user.member.id)) return;
      users.push(user);
      userById.set(user.member.id, user);
      ids.set(user.member.id, ids.size);
    });
    const intern = (id: string): number => {
      let n = ids.get(id);
      if (n === undefined) ids.set(id, (n = ids.size));
      return n;
    };
    const conversations: SlackConversation[] = [];
    for (const [file, kind] of CONVERSATION_FILES) {
      if (!(await tree.has(file))) continue;
      let raw: unknown;
      try {
        raw = parseJsonText(await readText(tree, file), file, { container: tree.label });
        if (!Array.isArray(raw)) throw new SourceFormatError(file, 'expected a JSON array of conversations', { container: tree.label });
      } catch (err) {
        if (!(err instanceof SourceFormatError)) throw err;
        this.invalid.report(err);
        continue;
      }
      raw.forEach((entry, i) => {
        const c = asObject(entry);
        const id = asString(c?.id);
        if (c === undefined || id === undefined) {
          this.invalid.report(new SourceFormatError(file, 'conversation entry has no "id"', { line: i + 1, unit: 'entry', container: tree.label }));
          return;
        }
        const conversation: SlackConversation = {
          id,
          kind,
          members: Uint32Array.from(asArray(c.members).filter((m): m is string => typeof m === 'string'), intern),
        };
        const name = asString(c.name);
        if (name !== undefined) conversation.name = name;
        const createdAt = secondsToDate(c.created);
        if (createdAt !== undefined) conversation.createdAt = createdAt;
        const topic = asString(asObject(c.topic)?.value) ?? asString(asObject(c.purpose)?.value);
        if (topic !== undefined) conversation.topic = topic;
        conversations.push(conversation);
      });
    }
    return { users, userById, ids, conversations, folders: new Set(await tree.listDirs('')) };
  }

  async *members(): AsyncIterable<Member> {
    for (const user of (await this.load()).users) yield user.member;
  }

  async findMember(selector: string): Promise<Member | undefined> {
    const { users, userById } = await this.load();
    const wanted = selector.trim();
    const byId = userById.get(wanted);
    if (byId !== undefined) return byId.member;
    const lower = wanted.replace(/^@/, '').toLowerCase();
    return (
      users.find((u) => u.member.username?.toLowerCase() === lower)?.member ??
      users.find((u) => u.member.email?.toLowerCase() === wanted.toLowerCase())?.member
    );
  }

  async *memberships(memberId: string): AsyncIterable<Membership> {
    const user = (await this.load()).userById.get(memberId);
    if (user === undefined) return;
    // Slack exports name no workspace: the team id is the organization.
    const teamId = user.teamId ?? 'slack';
    yield { organizationId: teamId, organizationName: `Slack workspace ${teamId}`, role: user.role };
  }

  /**
   * DMs and group DMs by their member lists. Channels and private groups also when the
   * member left them: their day files are scanned (raw text first, so files that never
   * mention the member are not parsed) for the member's messages, reactions and
   * join / leave events, which set the window.
   */
  async *conversations(memberId: string): AsyncIterable<Conversation> {
    const index = await this.load();
    const memberIndex = index.ids.get(memberId);
    let idOf: string[] | undefined;
    for (const c of index.conversations) {
      const isMember = memberIndex !== undefined && c.members.includes(memberIndex);
      const conversation: Conversation = { id: c.id, kind: c.kind };
      if (c.name !== undefined) conversation.name = c.name;
      if (c.createdAt !== undefined) conversation.createdAt = c.createdAt;
      if (c.topic !== undefined) conversation.topic = c.topic;
      if (c.kind === 'dm' || c.kind === 'group-dm') {
        if (!isMember) continue;
        idOf ??= [...index.ids.keys()];
        const names = idOf;
        conversation.participantIds = [...c.members].map((n) => names[n]).filter((id): id is string => id !== undefined && id !== memberId);
        yield conversation;
        continue;
      }
      const activity = await this.scanActivity(c, memberId);
      if (!isMember && !activity.participated) continue;
      const joinedAt = activity.firstJoin === undefined ? undefined : tsToDate(activity.firstJoin);
      if (joinedAt !== undefined) conversation.memberJoinedAt = joinedAt;
      // Still listed as a member: a leave followed by an unlogged rejoin, so no end to the window.
      const leftAt = !isMember && activity.lastEvent === 'leave' && activity.lastLeave !== undefined ? tsToDate(activity.lastLeave) : undefined;
      if (leftAt !== undefined) conversation.memberLeftAt = leftAt;
      yield conversation;
    }
  }

  private async scanActivity(c: SlackConversation, memberId: string) {
    const activity: { participated: boolean; firstJoin?: string; lastLeave?: string; lastEvent?: 'join' | 'leave'; lastEventTs?: string } = {
      participated: false,
    };
    for await (const { raw } of this.dayMessages(c, memberId)) {
      const m = asObject(raw);
      if (m === undefined) continue;
      const ts = m.ts;
      if (!isSlackTs(ts)) continue;
      const subtype = asString(m.subtype) ?? '';
      if (asString(m.user) === memberId) {
        activity.participated = true;
        const event = JOIN_SUBTYPES.has(subtype) ? 'join' : LEAVE_SUBTYPES.has(subtype) ? 'leave' : undefined;
        if (event === 'join' && (activity.firstJoin === undefined || compareTs(ts, activity.firstJoin) < 0)) activity.firstJoin = ts;
        if (event === 'leave' && (activity.lastLeave === undefined || compareTs(ts, activity.lastLeave) > 0)) activity.lastLeave = ts;
        if (event !== undefined && (activity.lastEventTs === undefined || compareTs(ts, activity.lastEventTs) >= 0)) {
          activity.lastEvent = event;
          activity.lastEventTs = ts;
        }
      } else if (asArray(m.reactions).some((r) => asArray(asObject(r)?.users).includes(memberId))) {
        activity.participated = true;
      }
    }
    return activity;
  }

  /** The folder of a conversation's day files: channels, groups and group DMs by name, DMs by id. */
  private async folder(c: { id: string; name?: string }): Promise<string | undefined> {
    if (this.folderOf.has(c.id)) return this.folderOf.get(c.id);
    const { folders } = await this.load();
    const folder = c.name !== undefined && folders.has(c.name) ? c.name : folders.has(c.id) ? c.id : undefined;
    this.folderOf.set(c.id, folder);
    return folder;
  }

  /**
   * The raw messages of a conversation, day file by day file (sorted by date), each file
   * sorted by ts. `mustMention` skips files whose text does not contain that string
   * before parsing them (the activity scan).
   */
  private async *dayMessages(c: { id: string; name?: string }, mustMention?: string): AsyncGenerator<{ file: string; raw: unknown; index: number }> {
    const folder = await this.folder(c);
    if (folder === undefined) return;
    const tree = await this.openTree();
    const days = (await tree.list(folder)).filter((f) => DAY_FILE.test(f)).sort();
    for (const day of days) {
      const file = `${folder}/${day}`;
      let parsed: unknown;
      try {
        const text = await readText(tree, file);
        if (mustMention !== undefined && !text.includes(mustMention)) continue;
        parsed = parseJsonText(text, file, { container: tree.label });
        if (!Array.isArray(parsed)) throw new SourceFormatError(file, 'expected a JSON array of messages', { container: tree.label });
      } catch (err) {
        if (!(err instanceof SourceFormatError)) throw err;
        this.invalid.report(err);
        continue;
      }
      const entries = parsed.map((raw, index) => ({ file, raw, index }));
      // Exports are sorted already; a stable sort by exact ts keeps them so and fixes those that are not.
      entries.sort((a, b) => compareTs(tsOf(a.raw), tsOf(b.raw)));
      yield* entries;
    }
  }

  async *messages(conversation: Conversation): AsyncIterable<Message> {
    const tree = await this.openTree();
    // The folder comes from our own record of the conversation, not from the (possibly rewritten) one passed in.
    const known = (await this.load()).conversations.find((c) => c.id === conversation.id) ?? { id: conversation.id };
    for await (const { file, raw, index } of this.dayMessages(known)) {
      const message = mapSlackMessage(raw, conversation.id);
      if (typeof message === 'string') {
        this.invalid.report(new SourceFormatError(file, message, { line: index + 1, unit: 'entry', container: tree.label }));
        continue;
      }
      yield message;
    }
  }

  async *grants(memberId: string): AsyncIterable<Grant> {
    const tree = await this.openTree();
    const file = 'integration_logs.json';
    if (!(await tree.has(file))) return;
    let logs: unknown[];
    try {
      const parsed = parseJsonText(await readText(tree, file), file, { container: tree.label });
      const list = Array.isArray(parsed) ? parsed : asObject(parsed)?.logs;
      if (!Array.isArray(list)) throw new SourceFormatError(file, 'expected {"logs": [...]}', { container: tree.label });
      logs = list;
    } catch (err) {
      if (!(err instanceof SourceFormatError)) throw err;
      this.invalid.report(err);
      return;
    }
    yield* buildSlackGrants(logs, memberId);
  }

  skipped(): readonly SkippedItem[] {
    return this.invalid.list();
  }

  async close(): Promise<void> {
    if (this.tree === undefined) return;
    const tree = await this.tree.catch(() => undefined);
    await tree?.close();
  }
}

function tsOf(raw: unknown): string {
  const ts = asObject(raw)?.ts;
  return typeof ts === 'string' ? ts : '';
}

async function hasAny(tree: ExportTree, names: readonly string[]): Promise<boolean> {
  for (const name of names) if (await tree.has(name)) return true;
  return false;
}
