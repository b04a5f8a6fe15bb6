import type { FileRecord, Grant, GrantEvent, Member, Message, Reaction, Role } from '../../source/domain.js';
import { asArray, asNumber, asObject, asString, asStrings, secondsToDate, type JsonObject } from '../shared/json-values.js';
import { mimeTypeFromName } from '../shared/mime.js';
import { stripUrlSecrets } from '../shared/redact.js';
import { isSlackTs, tsToDate } from './slack-ts.js';

/** A user of users.json with what the source needs beyond `Member`. */
export interface SlackUser {
  member: Member;
  role: Role;
  teamId?: string;
}

/** Maps one users.json entry; a string is the reason it is invalid. */
export function mapSlackUser(raw: unknown): SlackUser | string {
  const u = asObject(raw);
  if (u === undefined) return 'user entry is not a JSON object';
  const id = asString(u.id);
  if (id === undefined) return 'user entry has no "id"';
  const profile = asObject(u.profile) ?? {};
  const name = asString(u.name);
  const realName = asString(profile.real_name) ?? asString(u.real_name);
  const member: Member = {
    id,
    displayName: asString(profile.display_name) ?? name ?? realName ?? id,
  };
  if (realName !== undefined) member.realName = realName;
  const email = asString(profile.email);
  if (email !== undefined) member.email = email;
  if (name !== undefined) member.username = name;
  if (u.deleted === true) member.deleted = true;
  if (u.is_bot === true || u.is_app_user === true || id === 'USLACKBOT') member.bot = true;
  const role: Role =
    u.is_primary_owner === true || u.is_owner === true
      ? 'owner'
      : u.is_admin === true
        ? 'admin'
        : u.is_restricted === true || u.is_ultra_restricted === true
          ? 'guest'
          : 'member';
  const user: SlackUser = { member, role };
  const teamId = asString(u.team_id) ?? asString(u.team);
  if (teamId !== undefined) user.teamId = teamId;
  return user;
}

/** Subtypes that mark a message as deleted (Slack keeps a tombstone when replies exist). */
const DELETED_SUBTYPES = new Set(['tombstone', 'message_deleted']);

/**
 * Maps one message of a day file; a string is the reason it is invalid. Blocks are not
 * read (the `text` field is Slack's own rendering of them), so unknown block types are
 * harmless. Legacy `attachments` (bots, unfurls) lend their fallback text when `text` is empty.
 */
export function mapSlackMessage(raw: unknown, conversationId: string): Message | string {
  const m = asObject(raw);
  if (m === undefined) return 'message is not a JSON object';
  const ts = m.ts;
  if (!isSlackTs(ts)) return typeof ts === 'string' ? 'message "ts" is not a Slack timestamp' : 'message has no "ts" string';
  const sentAt = tsToDate(ts);
  if (sentAt === undefined) return 'message "ts" is out of range';
  const subtype = asString(m.subtype);
  const botProfile = asObject(m.bot_profile);
  const userProfile = asObject(m.user_profile);
  const authorId = asString(m.user) ?? asString(m.bot_id) ?? asString(m.username) ?? 'unknown';
  const authorName =
    asString(m.username) ??
    asString(botProfile?.name) ??
    asString(userProfile?.display_name) ??
    asString(userProfile?.real_name) ??
    asString(userProfile?.name);
  let text = typeof m.text === 'string' ? m.text : '';
  if (text === '') {
    text = asArray(m.attachments)
      .map((a) => asString(asObject(a)?.fallback) ?? asString(asObject(a)?.text))
      .filter((t): t is string => t !== undefined)
      .join('\n');
  }
  const message: Message = {
    id: ts,
    conversationId,
    authorId,
    sentAt,
    deleted: subtype !== undefined && DELETED_SUBTYPES.has(subtype),
    text,
    reactions: mapReactions(m.reactions),
    attachments: [],
  };
  if (authorName !== undefined) message.authorName = authorName;
  if (subtype !== undefined) message.subtype = subtype;
  const threadTs = m.thread_ts;
  if (isSlackTs(threadTs) && threadTs !== ts) message.threadParentId = threadTs;
  const edited = asObject(m.edited);
  const editedTs = edited?.ts;
  if (isSlackTs(editedTs)) {
    const editedAt = tsToDate(editedTs);
    if (editedAt !== undefined) {
      message.editedAt = editedAt;
      const editorId = asString(edited?.user);
      message.edits = [editorId === undefined ? { editedAt } : { editedAt, editorId }];
    }
  }
  // Old exports carry one `file`, current ones a `files` array.
  const files = [...asArray(m.files), ...(asObject(m.file) === undefined ? [] : [m.file])];
  for (const f of files) {
    const record = mapSlackFile(f, authorId, sentAt);
    if (record !== undefined) message.attachments.push(record);
  }
  return message;
}

function mapReactions(raw: unknown): Reaction[] {
  const reactions: Reaction[] = [];
  for (const r of asArray(raw)) {
    const name = asString(asObject(r)?.name);
    if (name === undefined) continue;
    reactions.push({ emoji: `:${name}:`, userIds: asStrings(asObject(r)?.users) });
  }
  return reactions;
}

/**
 * A file shared in a message. Slack exports hold no file bytes, only links that need a
 * token: the record is metadata with availability `not-in-source`, its link stripped
 * of tokens. Deleted (`tombstone`) and over-the-limit (`hidden_by_limit`) files keep their id.
 */
export function mapSlackFile(raw: unknown, fallbackOwner: string, fallbackDate: Date): FileRecord | undefined {
  const f = asObject(raw);
  const id = asString(f?.id);
  if (f === undefined || id === undefined) return undefined;
  const name = asString(f.name) ?? asString(f.title) ?? '';
  const record: FileRecord = {
    id,
    name,
    mimeType: asString(f.mimetype) ?? mimeTypeFromName(name),
    size: Math.max(0, Math.trunc(asNumber(f.size) ?? 0)),
    ownerId: asString(f.user) ?? fallbackOwner,
    createdAt: secondsToDate(f.created) ?? secondsToDate(f.timestamp) ?? fallbackDate,
    availability: 'not-in-source',
  };
  const url = firstUrl(f, ['url_private', 'url_private_download', 'permalink', 'permalink_public']);
  if (url !== undefined) record.url = url;
  return record;
}

function firstUrl(f: JsonObject, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const url = stripUrlSecrets(f[key]);
    if (url !== undefined) return url;
  }
  return undefined;
}

/**
 * Grants of `memberId` from integration_logs.json: one per app (app_id, else
 * service_id) the member acted on, with every logged event of that app in date order.
 * Scopes come from the latest `added`/`expanded` event that lists some; the grant is
 * revoked when its last event is `removed`/`disabled`/`revoked`.
 */
export function buildSlackGrants(logs: readonly unknown[], memberId: string): Grant[] {
  interface Entry {
    at: Date;
    order: number;
    change: string;
    actorId?: string;
    scopes?: string[];
    reason?: string;
    channel?: string;
    appName?: string;
  }
  const byApp = new Map<string, Entry[]>();
  const mine = new Set<string>();
  logs.forEach((raw, order) => {
    const log = asObject(raw);
    if (log === undefined) return;
    const appId = asString(log.app_id) ?? asString(log.service_id) ?? (typeof log.service_id === 'number' ? String(log.service_id) : undefined);
    const at = secondsToDate(log.date);
    if (appId === undefined || at === undefined) return;
    const entry: Entry = { at, order, change: asString(log.change_type) ?? 'unknown' };
    const actorId = asString(log.user_id);
    if (actorId !== undefined) entry.actorId = actorId;
    const scopes = (asString(log.scope) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (scopes.length > 0) entry.scopes = scopes;
    const reason = asString(log.reason);
    if (reason !== undefined) entry.reason = reason;
    const channel = asString(log.channel);
    if (channel !== undefined) entry.channel = channel;
    const appName = asString(log.app_type) ?? asString(log.service_type);
    if (appName !== undefined) entry.appName = appName;
    let list = byApp.get(appId);
    if (list === undefined) byApp.set(appId, (list = []));
    list.push(entry);
    if (actorId === memberId) mine.add(appId);
  });
  const grants: Grant[] = [];
  for (const [appId, entries] of byApp) {
    if (!mine.has(appId)) continue;
    entries.sort((a, b) => a.at.getTime() - b.at.getTime() || a.order - b.order);
    const firstAdded = entries.find((e) => e.change === 'added');
    const scoped = [...entries].reverse().find((e) => (e.change === 'added' || e.change === 'expanded') && e.scopes !== undefined);
    const last = entries[entries.length - 1];
    const grant: Grant = {
      id: appId,
      appId,
      appName: [...entries].reverse().find((e) => e.appName !== undefined)?.appName ?? appId,
      scopes: scoped?.scopes ?? [],
      history: entries.map((e) => {
        const event: GrantEvent = { at: e.at, change: e.change };
        if (e.actorId !== undefined) event.actorId = e.actorId;
        if (e.scopes !== undefined) event.scopes = e.scopes;
        if (e.reason !== undefined) event.reason = e.reason;
        return event;
      }),
    };
    if (firstAdded !== undefined) {
      grant.grantedAt = firstAdded.at;
      if (firstAdded.actorId !== undefined) grant.grantedBy = firstAdded.actorId;
    }
    if (last !== undefined && (last.change === 'removed' || last.change === 'disabled' || last.change === 'revoked')) grant.revokedAt = last.at;
    const target = [...entries].reverse().find((e) => e.channel !== undefined)?.channel;
    if (target !== undefined) grant.target = target;
    grants.push(grant);
  }
  return grants.sort((a, b) => (a.grantedAt?.getTime() ?? 0) - (b.grantedAt?.getTime() ?? 0) || (a.id < b.id ? -1 : 1));
}
