import { createHash } from 'node:crypto';
import type { ConversationKind, Member, Reaction, Role } from '../../source/domain.js';
import { asArray, asNumber, asObject, asString, asStrings, type JsonObject } from '../shared/json-values.js';

/** One line of a Mattermost bulk export, narrowed to what the source reads. */
export type MattermostLine =
  | { type: 'team'; name: string; displayName?: string }
  | { type: 'channel'; team: string; name: string; displayName?: string; kind: ConversationKind; topic?: string }
  | { type: 'user'; user: MattermostUser }
  | { type: 'direct_channel'; members: string[]; topic?: string }
  | { type: 'post'; post: MattermostPost }
  | { type: 'ignored' };

export interface MattermostUser {
  member: Member;
  teams: Array<{ name: string; role: Role; channels: string[] }>;
  systemAdmin: boolean;
}

/** A post or a reply, as the bulk format has them (no ids: see `postId`). */
export interface MattermostMessage {
  user: string;
  message: string;
  createAt: number;
  editAt?: number;
  deleteAt?: number;
  type?: string;
  reactions: unknown;
  attachments: unknown;
  props?: JsonObject;
}

export interface MattermostPost {
  /** `team/channel` for channel posts, `dm:a,b` / `gm:a,b,c` for direct ones. */
  conversationId: string;
  /** For direct posts: the channel's members (the conversation is created from them when no direct_channel line exists). */
  members?: string[];
  team?: string;
  channel?: string;
  root: MattermostMessage;
  replies: Array<MattermostMessage | { invalid: string }>;
}

export function channelConversationId(team: string, channel: string): string {
  return `${team}/${channel}`;
}

/** Direct channels are named by their members; order in the file varies, so they are sorted. */
export function directConversationId(members: readonly string[]): { id: string; kind: ConversationKind; members: string[] } {
  const unique = [...new Set(members)].sort();
  const kind: ConversationKind = unique.length > 2 ? 'group-dm' : 'dm';
  return { id: `${kind === 'dm' ? 'dm' : 'gm'}:${unique.join(',')}`, kind, members: unique };
}

function roleOf(roles: string | undefined): Role {
  const list = (roles ?? '').split(/\s+/);
  if (list.includes('team_admin')) return 'admin';
  if (list.includes('team_guest')) return 'guest';
  return 'member';
}

function mapMessage(raw: unknown, what: string): MattermostMessage | string {
  const p = asObject(raw);
  if (p === undefined) return `${what} is not a JSON object`;
  const user = asString(p.user);
  if (user === undefined) return `${what} has no "user"`;
  const createAt = asNumber(p.create_at);
  if (createAt === undefined || createAt <= 0 || !Number.isSafeInteger(createAt)) return `${what} has no valid "create_at"`;
  const message: MattermostMessage = {
    user,
    message: typeof p.message === 'string' ? p.message : '',
    createAt,
    reactions: p.reactions,
    attachments: p.attachments,
  };
  const editAt = asNumber(p.edit_at);
  if (editAt !== undefined && editAt > 0) message.editAt = editAt;
  const deleteAt = asNumber(p.delete_at);
  if (deleteAt !== undefined && deleteAt > 0) message.deleteAt = deleteAt;
  const type = asString(p.type);
  if (type !== undefined) message.type = type;
  const props = asObject(p.props);
  if (props !== undefined) message.props = props;
  return message;
}

/**
 * Narrows one parsed line. A string is the reason the line is invalid. Line types the
 * source has no use for (version, emoji, scheme, role, bot…) come back as `ignored`.
 */
export function parseMattermostLine(value: unknown): MattermostLine | string {
  const line = asObject(value);
  if (line === undefined) return 'not a JSON object';
  const type = asString(line.type);
  if (type === undefined) return 'no "type"';
  switch (type) {
    case 'team': {
      const t = asObject(line.team);
      const name = asString(t?.name);
      if (name === undefined) return 'team line has no "team.name"';
      const displayName = asString(t?.display_name);
      return displayName === undefined ? { type, name } : { type, name, displayName };
    }
    case 'channel': {
      const c = asObject(line.channel);
      const team = asString(c?.team);
      const name = asString(c?.name);
      if (team === undefined || name === undefined) return 'channel line has no "channel.team" or "channel.name"';
      const result: MattermostLine = { type, team, name, kind: asString(c?.type) === 'P' ? 'private-group' : 'channel' };
      const displayName = asString(c?.display_name);
      if (displayName !== undefined) result.displayName = displayName;
      const topic = asString(c?.header) ?? asString(c?.purpose);
      if (topic !== undefined) result.topic = topic;
      return result;
    }
    case 'user':
    case 'bot': {
      const u = asObject(line[type]);
      const username = asString(u?.username);
      if (u === undefined || username === undefined) return `${type} line has no "${type}.username"`;
      const first = asString(u.first_name);
      const last = asString(u.last_name);
      const realName = [first, last].filter((x) => x !== undefined).join(' ');
      const member: Member = { id: username, displayName: asString(u.nickname) ?? asString(u.display_name) ?? username, username };
      if (realName !== '') member.realName = realName;
      const email = asString(u.email);
      if (email !== undefined) member.email = email;
      const deleteAt = asNumber(u.delete_at);
      if (deleteAt !== undefined && deleteAt > 0) member.deleted = true;
      if (type === 'bot' || u.is_bot === true) member.bot = true;
      const teams = asArray(u.teams).flatMap((raw) => {
        const t = asObject(raw);
        const name = asString(t?.name);
        if (t === undefined || name === undefined) return [];
        return [{ name, role: roleOf(asString(t.roles)), channels: asArray(t.channels).flatMap((c) => asString(asObject(c)?.name) ?? []) }];
      });
      return { type: 'user', user: { member, teams, systemAdmin: (asString(u.roles) ?? '').split(/\s+/).includes('system_admin') } };
    }
    case 'direct_channel': {
      const d = asObject(line.direct_channel);
      const members = asStrings(d?.members);
      if (members.length === 0) return 'direct_channel line has no "direct_channel.members"';
      const topic = asString(d?.header);
      return topic === undefined ? { type, members } : { type, members, topic };
    }
    case 'post':
    case 'direct_post': {
      const p = asObject(line[type]);
      if (p === undefined) return `${type} line has no "${type}" object`;
      const root = mapMessage(p, type);
      if (typeof root === 'string') return root;
      const replies = asArray(p.replies).map((r, i) => {
        const reply = mapMessage(r, `reply ${i + 1}`);
        return typeof reply === 'string' ? { invalid: reply } : reply;
      });
      if (type === 'post') {
        const team = asString(p.team);
        const channel = asString(p.channel);
        if (team === undefined || channel === undefined) return 'post has no "team" or "channel"';
        return { type: 'post', post: { conversationId: channelConversationId(team, channel), team, channel, root, replies } };
      }
      const members = asStrings(p.channel_members);
      if (members.length === 0) return 'direct_post has no "channel_members"';
      const direct = directConversationId(members);
      return { type: 'post', post: { conversationId: direct.id, members: direct.members, root, replies } };
    }
    default:
      return { type: 'ignored' };
  }
}

/** Users who took part in a post: authors of the post and its replies, and reactors. */
export function participantsOf(post: MattermostPost): string[] {
  const users = [post.root.user, ...reactorsOf(post.root)];
  for (const reply of post.replies) if (!('invalid' in reply)) users.push(reply.user, ...reactorsOf(reply));
  return users;
}

function reactorsOf(m: MattermostMessage): string[] {
  return asArray(m.reactions).flatMap((r) => asString(asObject(r)?.user) ?? []);
}

export function mapReactions(raw: unknown): Reaction[] {
  const byEmoji = new Map<string, string[]>();
  for (const r of asArray(raw)) {
    const o = asObject(r);
    const name = asString(o?.emoji_name);
    if (name === undefined) continue;
    let users = byEmoji.get(name);
    if (users === undefined) byEmoji.set(name, (users = []));
    const user = asString(o?.user);
    if (user !== undefined && !users.includes(user)) users.push(user);
  }
  return [...byEmoji].map(([name, userIds]) => ({ emoji: `:${name}:`, userIds }));
}

/**
 * Bulk exports carry no post ids. A post's id is a hash of what the Mattermost importer
 * itself treats as a post's identity (conversation, author, create_at; with the text,
 * to tell apart the odd same-millisecond pair), so it is the same in every export of the
 * same data; a reply's hash starts from its root's id. Exact duplicates get `-2`, `-3`…
 */
export function postId(scope: string, m: MattermostMessage): string {
  const hash = createHash('sha256').update(`${scope}\n${m.user}\n${m.createAt}\n${m.message}`).digest('hex');
  return `mm-${hash.slice(0, 32)}`;
}

export function attachmentPaths(m: MattermostMessage): string[] {
  return asArray(m.attachments).flatMap((a) => asString(asObject(a)?.path) ?? []);
}
