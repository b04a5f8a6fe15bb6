// Generates a Slack workspace export directory of a given size, deterministic for a seed,
// one day file at a time (never more than one in memory): users.json (500 users, the
// subject `subject.user`, subject@example.com), channels.json (180), groups.json (20),
// dms.json (30), mpims.json (8), integration_logs.json, and day files (pretty-printed
// like Slack's: 4-space indent) with threads, reactions, edits, mentions, bot messages
// and file metadata whose links carry `?t=xoxe-…` / `?token=xoxp-…`. The subject is a
// member of 30 channels/groups, 10 DMs and 3 group DMs, and joined then left 2 more
// channels. Also counts what a participant-scope export of the subject must hold.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EMOJI, FILES, day, hex, int, messageText, pick, readMarker, rng, uuid, writeMarker } from './gen-common.mjs';

export const SLACK_GEN_VERSION = 1;
export const SLACK_SUBJECT = 'subject@example.com';
const TEAM = 'T0ACME0001';
const USERS = 500;
const SUBJECT_ID = 'U0SUBJECT0';
const PUBLIC = 180;
const PRIVATE = 20;
const DMS = 30;
const MPIMS = 8;
/** Mean messages per conversation per day, before its weight. */
const MEAN = 8;
/** The subject's two channels joined on day JOIN_DAY and left on day LEAVE_DAY (not in their `members`). */
const JOIN_DAY = 3;
const LEAVE_DAY = 12;
const FIRST = ['Alice', 'Bob', 'Carol', 'Dave', 'Eve', 'Mallory', 'Zoë', 'José', 'Łukasz', 'Søren', '卡罗', '太郎', 'محمد', 'דנה', 'Игорь', 'Ngozi'];
const LAST = ['Example', 'Builder', 'Müller', 'García', 'Nguyễn', '陈', '山田', 'الفارسي', 'כהן', 'Петров', 'Okafor', "O'Brien"];
const TOPICS = ['general', 'dev', 'ops', 'design', 'sales', 'support', 'random', 'alerts', 'hiring', 'infra', 'mobile', 'web', 'data', 'security', 'qa', 'legal'];

const userId = (i) => (i === 0 ? SUBJECT_ID : `U1${String(i).padStart(8, '0')}`);
const userName = (i) => (i === 0 ? 'subject.user' : `user.${String(i).padStart(4, '0')}`);

function makeUsers(r) {
  return Array.from({ length: USERS }, (_, i) => {
    const first = i === 0 ? 'Subject' : pick(r, FIRST);
    const last = i === 0 ? 'Ünïcødé 主体' : pick(r, LAST);
    const avatar = hex(r, 12);
    const user = {
      id: userId(i),
      team_id: TEAM,
      name: userName(i),
      deleted: i % 97 === 13,
      color: hex(r, 6),
      real_name: `${first} ${last}`,
      tz: 'Europe/Berlin',
      tz_label: 'Central European Time',
      tz_offset: 3600,
      profile: {
        title: pick(r, ['Engineer', 'Manager', 'Designer', '']),
        phone: '',
        skype: '',
        real_name: `${first} ${last}`,
        real_name_normalized: `${first} ${last}`,
        display_name: i === 0 ? 'subj' : i % 3 === 0 ? '' : userName(i),
        display_name_normalized: i === 0 ? 'subj' : userName(i),
        status_text: i % 5 === 0 ? 'In a meeting 📅' : '',
        status_emoji: i % 5 === 0 ? ':calendar:' : '',
        avatar_hash: avatar,
        email: i === 0 ? SLACK_SUBJECT : `${userName(i)}@example.com`,
        first_name: first,
        last_name: last,
        image_72: `https://avatars.slack-edge.com/2021-01-04/${avatar}_72.png`,
        image_192: `https://avatars.slack-edge.com/2021-01-04/${avatar}_192.png`,
        team: TEAM,
      },
      is_admin: i === 1,
      is_owner: i === 1,
      is_primary_owner: i === 1,
      is_restricted: i % 61 === 7,
      is_ultra_restricted: false,
      is_bot: false,
      is_app_user: false,
      updated: 1609750000,
    };
    return user;
  });
}

/**
 * Writes the export directory `path` (unless a marker shows it was generated already with
 * these settings) and returns what the generator recorded.
 */
export function generateSlack(path, targetBytes, seed = 2) {
  const expect = { generator: 'slack', version: SLACK_GEN_VERSION, seed, targetBytes };
  const existing = readMarker(path, expect);
  if (existing) return { ...existing, reused: true };
  const started = performance.now();
  const r = rng(seed);
  const tmp = `${path}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  rmSync(path, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  let bytes = 0;
  let files = 0;
  const writeJson = (rel, value) => {
    const buf = Buffer.from(JSON.stringify(value, null, 4));
    writeFileSync(join(tmp, rel), buf);
    bytes += buf.length;
    files++;
  };

  const users = makeUsers(r);
  writeJson('users.json', users);
  const profileOf = users.map((u) => ({
    avatar_hash: u.profile.avatar_hash,
    image_72: u.profile.image_72,
    first_name: u.profile.first_name,
    real_name: u.real_name,
    display_name: u.profile.display_name,
    team: TEAM,
    name: u.name,
    is_restricted: u.is_restricted,
    is_ultra_restricted: false,
  }));
  const other = () => 1 + int(r, USERS - 1);

  // Conversations. `mine`: the subject is in `members`; `left`: joined and left; weight: activity.
  const conversations = [];
  const subjectPublic = new Set(Array.from({ length: 26 }, (_, k) => Math.floor((k * PUBLIC) / 26) + 4));
  const leftChannels = new Set([1, 2]);
  for (let i = 0; i < PUBLIC + PRIVATE; i++) {
    const isPrivate = i >= PUBLIC;
    const mine = isPrivate ? i - PUBLIC < 4 : subjectPublic.has(i);
    const others = [...new Set(Array.from({ length: 5 + int(r, 60) }, other))];
    const name = `${TOPICS[i % TOPICS.length]}-${String(i).padStart(3, '0')}`;
    conversations.push({
      kind: isPrivate ? 'group' : 'channel',
      id: `${isPrivate ? 'G0GR' : 'C0CH'}${String(i).padStart(6, '0')}`,
      name,
      folder: name,
      members: mine ? [0, ...others] : others,
      mine,
      left: !isPrivate && leftChannels.has(i),
      // Two firehose channels (alerts, bots), one of them the subject's; the rest uneven.
      weight: i === 8 || i === 9 ? 40 : 0.2 + ((i * 37) % 100) / 40,
    });
  }
  for (let i = 0; i < DMS; i++) {
    const a = i < 10 ? 0 : 2 + i * 13;
    const b = 3 + i * 7;
    const id = `D0DM${String(i).padStart(6, '0')}`;
    conversations.push({ kind: 'dm', id, folder: id, members: [a, b], mine: a === 0, left: false, weight: 0.3 });
  }
  for (let i = 0; i < MPIMS; i++) {
    const members = i < 3 ? [0, 5 + i, 40 + i, 80 + i] : [100 + i, 200 + i, 300 + i];
    const name = `mpdm-${members.map(userName).join('--')}-1`;
    conversations.push({ kind: 'mpim', id: `G0MP${String(i).padStart(6, '0')}`, name, folder: name, members, mine: members.includes(0), left: false, weight: 0.5 });
  }
  const listed = (kind) =>
    conversations
      .filter((c) => c.kind === kind)
      .map((c, i) => ({
        id: c.id,
        ...(c.name !== undefined ? { name: c.name } : {}),
        created: 1609750000 + i,
        creator: userId(c.members.at(-1)),
        is_archived: false,
        ...(kind === 'channel' ? { is_general: i === 0 } : {}),
        members: c.members.map(userId),
        ...(kind === 'dm' ? {} : { topic: { value: `Topic ${i} <b>&</b> 🚀`, creator: userId(1), last_set: 1609750000 }, purpose: { value: i % 2 ? '' : 'Purpose — 目的', creator: '', last_set: 0 } }),
      }));
  writeJson('channels.json', listed('channel'));
  writeJson('groups.json', listed('group'));
  writeJson('dms.json', listed('dm'));
  writeJson('mpims.json', listed('mpim'));
  const logs = [];
  for (let i = 0; i < 300; i++) {
    const who = i % 15 === 0 ? 0 : other();
    const app = i % 3 === 0 ? { service_id: String(1000 + (i % 40)), service_type: pick(r, ['Google Drive', 'RSS', 'Incoming WebHooks']) } : { app_id: `A0APP${String(i % 60).padStart(5, '0')}`, app_type: pick(r, ['GitHub', 'Jira Cloud', 'Zoom', 'PagerDuty']) };
    const change = pick(r, ['added', 'added', 'expanded', 'removed', 'disabled', 'enabled']);
    logs.push({ user_id: userId(who), user_name: userName(who), date: String(1609750000 + i * 3600), change_type: change, ...app, ...(change === 'added' || change === 'expanded' ? { scope: 'channels:read,chat:write' } : {}), ...(i % 7 === 0 ? { channel: 'general-000' } : {}), ...(change === 'removed' ? { reason: 'user request' } : {}) });
  }
  writeJson('integration_logs.json', { logs });
  for (const c of conversations) mkdirSync(join(tmp, c.folder));

  // Now and then someone mentions the subject, in any channel.
  const text = () => (r() < 0.01 ? `<@${SUBJECT_ID}> ${messageText(r)}` : messageText(r));
  const message = (c, u, sec, seq) => {
    const ts = `${sec}.${String(seq).padStart(6, '0')}`;
    const body = text();
    const m = {
      client_msg_id: uuid(r),
      type: 'message',
      text: body,
      user: userId(u),
      ts,
      team: TEAM,
      user_team: TEAM,
      source_team: TEAM,
      user_profile: profileOf[u],
      blocks: [{ type: 'rich_text', block_id: hex(r, 5), elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: body }] }] }],
    };
    if (r() < 0.03) m.edited = { user: userId(u), ts: `${sec + 1 + int(r, 3000)}.000000` };
    if (r() < 0.15) {
      const reactors = c.members.length > 1 && c.kind !== 'channel' && c.kind !== 'group' ? c.members : [other(), other(), ...(c.mine && r() < 0.3 ? [0] : [])];
      m.reactions = Array.from({ length: 1 + int(r, 3) }, () => {
        const who = [...new Set(reactors.filter(() => r() < 0.6))];
        if (who.length === 0) who.push(reactors[0]);
        return { name: pick(r, EMOJI), users: who.map(userId), count: who.length };
      });
    }
    if (r() < 0.03) {
      const [name, mimetype, filetype] = pick(r, FILES);
      const id = `F0${hex(r, 9).toUpperCase()}`;
      const enc = encodeURIComponent(name);
      m.upload = true;
      m.files = [
        {
          id,
          created: sec - 2,
          timestamp: sec - 2,
          name,
          title: name,
          mimetype,
          filetype,
          pretty_type: filetype.toUpperCase(),
          user: userId(u),
          user_team: TEAM,
          editable: false,
          size: 1000 + int(r, 5_000_000),
          mode: 'hosted',
          is_external: false,
          external_type: '',
          is_public: true,
          public_url_shared: false,
          display_as_bot: false,
          username: '',
          url_private: `https://files.slack.com/files-pri/${TEAM}-${id}/${enc}?t=xoxe-${hex(r, 10)}-${hex(r, 24)}`,
          url_private_download: `https://files.slack.com/files-pri/${TEAM}-${id}/download/${enc}?token=xoxp-${hex(r, 10)}-${hex(r, 12)}`,
          thumb_64: `https://files.slack.com/files-tmb/${TEAM}-${id}-${hex(r, 10)}/${enc}_64.png?t=xoxe-${hex(r, 16)}`,
          permalink: `https://acme.slack.com/files/${userId(u)}/${id}/${enc}`,
          permalink_public: `https://slack-files.com/${TEAM}-${id}-${hex(r, 10)}`,
          has_rich_preview: false,
          file_access: 'visible',
        },
      ];
    }
    return m;
  };
  const author = (c) => {
    if (c.kind === 'dm' || c.kind === 'mpim') return pick(r, c.members);
    return c.mine && r() < 0.1 ? 0 : other();
  };

  // Day by day, every conversation, until the target size is reached.
  const expected = new Map(conversations.filter((c) => c.mine).map((c) => [c.id, 0]));
  let messages = 0;
  let days = 0;
  for (let d = 0; bytes < targetBytes; d++) {
    days++;
    const { s: dayStart, name: dayName } = day(d);
    for (const c of conversations) {
      if (bytes >= targetBytes) break;
      const n = Math.floor(MEAN * c.weight * 2 * r());
      const list = [];
      let seq = 0;
      const inWindow = c.left && d >= JOIN_DAY && d <= LEAVE_DAY;
      if (c.mine && d === 0 && c.kind !== 'dm' && c.kind !== 'mpim') {
        list.push({ type: 'message', subtype: c.kind === 'group' ? 'group_join' : 'channel_join', user: SUBJECT_ID, ts: `${dayStart + 30}.${String(seq++).padStart(6, '0')}`, text: `<@${SUBJECT_ID}> has joined the channel` });
      }
      if (c.left && d === JOIN_DAY) list.push({ type: 'message', subtype: 'channel_join', user: SUBJECT_ID, ts: `${dayStart + 30}.${String(seq++).padStart(6, '0')}`, text: `<@${SUBJECT_ID}> has joined the channel` });
      if (c.left && d === LEAVE_DAY) list.push({ type: 'message', subtype: 'channel_leave', user: SUBJECT_ID, ts: `${dayStart + 86390}.${String(seq++).padStart(6, '0')}`, text: `<@${SUBJECT_ID}> has left the channel` });
      for (let k = 0; k < n; k++) {
        const sec = dayStart + 60 + int(r, 80_000);
        const u = inWindow && r() < 0.1 ? 0 : author(c);
        if (c.kind === 'channel' && r() < 0.01) {
          list.push({ type: 'message', subtype: 'bot_message', text: '', bot_id: 'B0DEPLOY01', username: 'deploybot', ts: `${sec}.${String(seq++).padStart(6, '0')}`, attachments: [{ fallback: `Deployed v1.${k}.${d} to production ✅`, color: 'good', id: 1 }] });
          continue;
        }
        const m = message(c, u, sec, seq++);
        list.push(m);
        if (r() < 0.2) {
          const replies = 1 + int(r, 5);
          const users = new Set();
          m.thread_ts = m.ts;
          m.replies = [];
          let rs = sec;
          for (let j = 0; j < replies; j++) {
            rs += 1 + int(r, 300);
            const ru = inWindow && r() < 0.1 ? 0 : author(c);
            const reply = message(c, ru, rs, seq++);
            reply.thread_ts = m.ts;
            reply.parent_user_id = m.user;
            if (j === 0 && r() < 0.1) reply.subtype = 'thread_broadcast';
            list.push(reply);
            users.add(reply.user);
            m.replies.push({ user: reply.user, ts: reply.ts });
          }
          m.reply_count = replies;
          m.reply_users_count = users.size;
          m.latest_reply = m.replies.at(-1).ts;
          m.reply_users = [...users];
          m.is_locked = false;
          m.subscribed = false;
        }
      }
      if (list.length === 0) continue;
      list.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
      writeJson(`${c.folder}/${dayName}.json`, list);
      messages += list.length;
      if (c.mine) expected.set(c.id, expected.get(c.id) + list.length);
      else if (c.left && d >= JOIN_DAY && d <= LEAVE_DAY) expected.set(c.id, (expected.get(c.id) ?? 0) + list.length);
    }
  }
  renameSync(tmp, path);
  const info = {
    ...expect,
    bytes,
    files,
    days,
    messages,
    subject: { selector: SLACK_SUBJECT, conversations: expected.size, messages: [...expected.values()].reduce((a, b) => a + b, 0) },
    generatedS: (performance.now() - started) / 1000,
  };
  writeMarker(path, info);
  return { ...info, reused: false };
}
