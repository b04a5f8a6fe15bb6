// Generates a Mattermost bulk export (`mmctl export` JSON lines) of a given size, streaming,
// deterministic for a seed: version, a team, 200 channels, 500 users (the subject
// `subject.user`, subject@example.com, listed in 30 channels), channel posts with replies,
// reactions, edits, deletions and attachment paths, then direct channels and direct posts.
// Also counts what a participant-scope export of the subject must hold.
import { renameSync, rmSync } from 'node:fs';
import { EMOJI, FILES, FileWriter, hex, int, messageText, pick, readMarker, rng, writeMarker } from './gen-common.mjs';

export const MATTERMOST_GEN_VERSION = 1;
const CHANNELS = 200;
const USERS = 500;
const SUBJECT = 'subject.user';
export const MATTERMOST_SUBJECT = 'subject@example.com';
/** The 30 channels the subject's user line lists. */
const SUBJECT_CHANNELS = new Set(Array.from({ length: 30 }, (_, k) => Math.floor((k * CHANNELS) / 30) + 3));
/** Channels the subject is not listed in but replies in now and then: included as "took part". */
const CHIME_CHANNELS = new Set([1, 2]);
const TEAM = 'acme';
const FIRST = ['Alice', 'Bob', 'Carol', 'Dave', 'Eve', 'Mallory', 'Zoë', 'José', 'Łukasz', 'Søren', '卡罗', '太郎', 'محمد', 'דנה', 'Игорь', 'Ngozi'];
const LAST = ['Example', 'Builder', 'Müller', 'García', 'Nguyễn', '陈', '山田', 'الفارسي', 'כהן', 'Петров', 'Okafor', "O'Brien"];
const TOPICS = ['general', 'dev', 'ops', 'design', 'sales', 'support', 'random', 'alerts', 'hiring', 'infra', 'mobile', 'web', 'data', 'security', 'qa', 'legal'];

const userName = (i) => (i === 0 ? SUBJECT : `user.${String(i).padStart(4, '0')}`);
const channelName = (i) => `${TOPICS[i % TOPICS.length]}-${String(i).padStart(3, '0')}`;

/**
 * Writes `path` (unless a marker shows it was generated already with these settings) and
 * returns what the generator recorded: bytes, lines, messages, and the subject's expected
 * conversations and messages.
 */
export function generateMattermost(path, targetBytes, seed = 1) {
  const expect = { generator: 'mattermost', version: MATTERMOST_GEN_VERSION, seed, targetBytes };
  const existing = readMarker(path, expect);
  if (existing) return { ...existing, reused: true };
  const started = performance.now();
  const r = rng(seed);
  const tmp = `${path}.tmp`;
  rmSync(tmp, { force: true });
  const w = new FileWriter(tmp);
  let lines = 0;
  const line = (obj) => {
    lines++;
    return w.write(`${JSON.stringify(obj)}\n`);
  };

  line({ type: 'version', version: 1 });
  line({ type: 'team', team: { name: TEAM, display_name: 'Acme Corp — 本社', type: 'O', description: 'The whole company', allow_open_invite: true } });
  for (let c = 0; c < CHANNELS; c++) {
    line({
      type: 'channel',
      channel: { team: TEAM, name: channelName(c), display_name: `${TOPICS[c % TOPICS.length]} ${c} 🚀`, type: c % 8 === 5 ? 'P' : 'O', header: `Header of ${c} <b>&amp;</b> ${pick(r, FIRST)}`, purpose: '' },
    });
  }
  for (let u = 0; u < USERS; u++) {
    const channels =
      u === 0
        ? [...SUBJECT_CHANNELS].sort((a, b) => a - b)
        : [...new Set(Array.from({ length: 10 + int(r, 21) }, () => int(r, CHANNELS)))].sort((a, b) => a - b);
    line({
      type: 'user',
      user: {
        username: userName(u),
        email: u === 0 ? MATTERMOST_SUBJECT : `${userName(u)}@example.com`,
        auth_service: '',
        nickname: u === 0 ? 'subj' : '',
        first_name: u === 0 ? 'Subject' : pick(r, FIRST),
        last_name: u === 0 ? 'Ünïcødé 主体' : pick(r, LAST),
        position: pick(r, ['Engineer', 'Manager', 'Designer', '']),
        roles: u === 1 ? 'system_user system_admin' : 'system_user',
        locale: pick(r, ['en', 'de', 'ja', 'ar']),
        ...(u % 97 === 13 ? { delete_at: 1640000000000 } : {}),
        teams: [{ name: TEAM, roles: u % 50 === 7 ? 'team_user team_admin' : 'team_user', channels: channels.map((c) => ({ name: channelName(c), roles: 'channel_user' })) }],
      },
    });
  }

  // Channel activity is uneven: a pseudo-random weight per channel, two busy ones.
  const weights = Array.from({ length: CHANNELS }, (_, c) => (c === 10 || c === 11 ? 12 : 0.2 + ((c * 37) % 100) / 33));
  const cumulative = [];
  let sum = 0;
  for (const x of weights) cumulative.push((sum += x));
  const pickChannel = () => {
    const x = r() * sum;
    let lo = 0;
    let hi = CHANNELS - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const other = () => userName(1 + int(r, USERS - 1));
  const reactions = (t, subjectMay) =>
    Array.from({ length: 1 + int(r, 4) }, (_, k) => ({ user: subjectMay && r() < 0.3 ? SUBJECT : other(), emoji_name: pick(r, EMOJI), create_at: t + 1000 * (k + 1) }));

  const perChannel = new Array(CHANNELS).fill(0);
  const chimed = new Set();
  let posts = 0;
  let messages = 0;
  let t = 1609754400000; // 2021-01-04T10:00Z
  const channelBudget = targetBytes * 0.95;
  while (w.bytes < channelBudget) {
    const c = pickChannel();
    const mine = SUBJECT_CHANNELS.has(c);
    const chime = CHIME_CHANNELS.has(c);
    t += 1 + int(r, 20000);
    const post = { team: TEAM, channel: channelName(c), user: mine && r() < 0.12 ? SUBJECT : other(), message: messageText(r), create_at: t };
    const x = r();
    if (x < 0.03) post.edit_at = t + 1 + int(r, 3_600_000);
    else if (x < 0.035) post.delete_at = t + 1 + int(r, 3_600_000);
    else if (x < 0.04) {
      post.type = 'custom_poll';
      post.props = { poll: { options: ['pizza', 'sushi', '🍜'] } };
    }
    if (r() < 0.15) post.reactions = reactions(t, mine);
    if (r() < 0.02) post.attachments = [{ path: `data/2021/01/04/${hex(r, 26)}/${pick(r, FILES)[0]}` }];
    let n = 1;
    if (r() < 0.25) {
      const k = 1 + int(r, 6);
      post.replies = [];
      for (let j = 0; j < k; j++) {
        let user = mine && r() < 0.12 ? SUBJECT : other();
        if (chime && r() < 0.01) {
          user = SUBJECT;
          chimed.add(c);
        }
        const reply = { user, message: messageText(r), create_at: t + (j + 1) * (1 + int(r, 600_000)) };
        if (r() < 0.05) reply.reactions = reactions(reply.create_at, mine);
        post.replies.push(reply);
      }
      n += k;
    }
    line({ type: 'post', post });
    perChannel[c] += n;
    posts++;
    messages += n;
  }

  // Direct channels: 12 DMs and 2 group DMs with the subject, 34 without.
  const directs = [];
  for (let i = 0; i < 40; i++) directs.push(i < 12 ? [SUBJECT, userName(2 + i * 7)] : [userName(2 + i * 11), userName(3 + i * 11)]);
  for (let i = 0; i < 8; i++) directs.push(i < 2 ? [SUBJECT, userName(5 + i), userName(40 + i), userName(80 + i)] : [userName(100 + i), userName(200 + i), userName(300 + i)]);
  for (const members of directs) line({ type: 'direct_channel', direct_channel: { members, favorited_by: null, header: members.length > 2 ? 'group chat 💬' : '' } });
  const perDirect = new Array(directs.length).fill(0);
  t = 1609754400000;
  while (w.bytes < targetBytes) {
    const d = int(r, directs.length);
    const members = directs[d];
    t += 1 + int(r, 200_000);
    const post = {
      channel_members: r() < 0.5 ? members : [...members].reverse(),
      user: pick(r, members),
      message: messageText(r),
      create_at: t,
    };
    if (r() < 0.1) post.reactions = [{ user: pick(r, members), emoji_name: pick(r, EMOJI), create_at: t + 1000 }];
    let n = 1;
    if (r() < 0.15) {
      post.replies = [{ user: pick(r, members), message: messageText(r), create_at: t + 1 + int(r, 60_000) }];
      n++;
    }
    line({ type: 'direct_post', direct_post: post });
    perDirect[d] += n;
    posts++;
    messages += n;
  }
  w.close();
  renameSync(tmp, path);

  const subjectDirects = directs.map((m, i) => [m, i]).filter(([m]) => m.includes(SUBJECT));
  const subjectChannels = [...SUBJECT_CHANNELS, ...chimed];
  const info = {
    ...expect,
    bytes: w.bytes,
    lines,
    posts,
    messages,
    subject: {
      selector: MATTERMOST_SUBJECT,
      conversations: subjectChannels.length + subjectDirects.length,
      messages: subjectChannels.reduce((a, c) => a + perChannel[c], 0) + subjectDirects.reduce((a, [, i]) => a + perDirect[i], 0),
    },
    generatedS: (performance.now() - started) / 1000,
  };
  writeMarker(path, info);
  return { ...info, reused: false };
}
