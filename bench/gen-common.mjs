// Shared pieces of the benchmark input generators (gen-mattermost.mjs, gen-slack.mjs):
// a seeded PRNG, message text, a buffered synchronous file writer, and the marker file
// that lets a generated input be reused by later runs.
import { closeSync, existsSync, openSync, readFileSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';

/** mulberry32: small, fast, deterministic. Returns floats in [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const int = (r, n) => Math.floor(r() * n);
export const pick = (r, list) => list[Math.floor(r() * list.length)];
export const hex = (r, n) => {
  let s = '';
  while (s.length < n) s += Math.floor(r() * 0x100000000).toString(16).padStart(8, '0');
  return s.slice(0, n);
};
export const uuid = (r) => {
  const h = hex(r, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/** Mostly plain words, with the text real chats carry: CJK, Arabic/Hebrew (RTL), emoji (ZWJ, astral), markup and characters XML and JSON must escape. */
const WORDS = [
  ...'the a to and of in is it for on that this we you with be are was have will can just not but so if at or do what all about from get one my our up out an new more time now like some there then when make see need think know good work team review deploy build ticket release meeting today tomorrow yesterday please thanks fixed broken merge branch test coverage latency customer budget roadmap sprint'.split(
    ' ',
  ),
  ...'hello world update question answer idea issue bug feature config server client database query cache queue worker shard backup restore migrate rollback'.split(' '),
  '你好', '世界', '会议', '部署', '谢谢', 'こんにちは', 'ありがとう', '안녕하세요', 'مرحبا', 'شكرا', 'שלום', 'תודה', 'Привет', 'спасибо', 'Grüße', 'café', 'naïve', 'e\u0301',
  '🚀', '🎉', '👍', '😀', '🙏', '👨‍👩‍👧', '𝄞', '🔥', '✅', '❤️',
  '<b>bold</b>', 'a&b', '"quoted"', "it's", 'back\\slash', ']]>', '<tag attr="x">', '`code`', '*bold*', '_italic_', '~strike~', 'C:\\temp\\file',
  'https://example.com/path?q=1&r=2', '#channel', '@here',
];

/** `min`–`max` words; now and then a line break or a longer paragraph. */
export function sentence(r, min, max) {
  const n = min + int(r, max - min + 1);
  const parts = new Array(n);
  for (let i = 0; i < n; i++) {
    const w = WORDS[int(r, WORDS.length)];
    parts[i] = i > 0 && r() < 0.02 ? `\n${w}` : w;
  }
  const s = parts.join(' ');
  return s.charAt(0).toUpperCase() + s.slice(1) + (r() < 0.5 ? '.' : r() < 0.5 ? '?' : '');
}

/** A message's text: usually short, sometimes long. */
export function messageText(r) {
  const x = r();
  if (x < 0.6) return sentence(r, 3, 18);
  if (x < 0.95) return sentence(r, 15, 60);
  return sentence(r, 80, 300);
}

export const EMOJI = ['+1', 'tada', 'heart', 'eyes', 'rocket', 'white_check_mark', 'joy', 'pray', 'fire', 'thinking_face', '100', 'wave'];
export const FILES = [
  ['report.pdf', 'application/pdf', 'pdf'],
  ['screenshot.png', 'image/png', 'png'],
  ['notes.txt', 'text/plain', 'text'],
  ['budget 2021 (final).xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'xlsx'],
  ['设计稿.jpg', 'image/jpeg', 'jpg'],
  ['demo.mp4', 'video/mp4', 'mp4'],
];

/** Appends to a file with synchronous writes of ~1 MiB, counting bytes; the generator never holds more than that. */
export class FileWriter {
  constructor(path) {
    this.fd = openSync(path, 'w');
    this.parts = [];
    this.pending = 0;
    this.bytes = 0;
  }

  write(text) {
    const n = Buffer.byteLength(text);
    this.parts.push(text);
    this.pending += n;
    this.bytes += n;
    if (this.pending >= 1 << 20) this.flush();
    return n;
  }

  flush() {
    if (this.parts.length === 0) return;
    const buf = Buffer.from(this.parts.join(''));
    let done = 0;
    while (done < buf.length) done += writeSync(this.fd, buf, done, buf.length - done);
    this.parts = [];
    this.pending = 0;
  }

  close() {
    this.flush();
    closeSync(this.fd);
  }
}

/**
 * A generated input is reused when its marker (`<path>.gen.json`) names the same generator
 * version, seed and target size, and (for a file) the file still has the recorded size.
 */
export function readMarker(path, expect) {
  const marker = `${path}.gen.json`;
  if (!existsSync(marker) || !existsSync(path)) return undefined;
  try {
    const m = JSON.parse(readFileSync(marker, 'utf8'));
    for (const [k, v] of Object.entries(expect)) if (m[k] !== v) return undefined;
    if (statSync(path).isFile() && statSync(path).size !== m.bytes) return undefined;
    return m;
  } catch {
    return undefined;
  }
}

export function writeMarker(path, info) {
  writeFileSync(`${path}.gen.json.tmp`, `${JSON.stringify(info, null, 2)}\n`);
  renameSync(`${path}.gen.json.tmp`, `${path}.gen.json`);
}

/** Day at `i` days after 2021-01-04 (a Monday), as epoch seconds and `YYYY-MM-DD`. */
export const EPOCH_S = Date.UTC(2021, 0, 4) / 1000;
export function day(i) {
  const s = EPOCH_S + i * 86400;
  return { s, name: new Date(s * 1000).toISOString().slice(0, 10) };
}
