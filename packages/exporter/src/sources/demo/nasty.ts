import type { Reaction } from '../../source/domain.js';
import { createFileRecord, type FileContext, type FileKind } from './files.js';
import { ms } from './people.js';
import type { FixedEvent } from './plan.js';

/**
 * The inputs real chat data contains and exporters get wrong: XML-illegal characters,
 * markup, line-ending and bidi oddities, huge messages, hostile file names. All of them
 * are in alice's #random (`acme-random`), inside her window, some written by her and
 * some by others, so the default `handover export --member alice` exercises every one.
 */

export interface NastyText {
  readonly label: string;
  readonly text: string;
}

/** U+0000–U+0008, U+000B, U+000C, U+000E–U+001F: every C0 control XML 1.0 forbids. */
const XML_ILLEGAL_C0 = (() => {
  let s = '';
  for (let c = 0; c <= 0x1f; c++) if (c !== 0x09 && c !== 0x0a && c !== 0x0d) s += String.fromCharCode(c);
  return s;
})();

/** Just over 1 MiB of text in numbered lines: larger than any page or buffer an exporter should assume. */
const ONE_MEBIBYTE_TEXT = (() => {
  const lines: string[] = [];
  let length = 0;
  for (let i = 1; length < 1_048_576; i++) {
    const line = `${String(i).padStart(6, '0')} The quick brown fox jumps over the lazy dog; 敏捷的棕色狐狸 🦊\n`;
    lines.push(line);
    length += line.length;
  }
  return lines.join('') + 'END OF THE 1 MiB MESSAGE';
})();

const NASTY_TEXT_LIST: NastyText[] = [
  { label: 'xml-illegal-c0', text: `C0 controls [${XML_ILLEGAL_C0}] end` },
  { label: 'nul', text: 'before\u0000after' },
  { label: 'noncharacters', text: 'U+FFFE [\uFFFE] and U+FFFF [\uFFFF]' },
  { label: 'lone-high-surrogate', text: 'a lone high surrogate [\uD83D] here' },
  { label: 'lone-low-surrogate', text: 'a lone low surrogate [\uDE00] here' },
  { label: 'reversed-surrogates', text: 'low then high [\uDE00\uD83D] is not a pair' },
  { label: 'cdata-end', text: 'CDATA ends with ]]> and ]]]]><![CDATA[> in the middle' },
  { label: 'script', text: '<script>alert(1)</script>' },
  { label: 'html-injection', text: '<img src=x onerror="alert(1)"> <a href="javascript:alert(1)">click</a> <!-- comment -->' },
  { label: 'entities', text: 'already escaped &amp; raw & and &lt;b&gt; and &#x1F600; and &nbsp; and &unknown;' },
  { label: 'quotes', text: `She said "it's fine" and he said 'no' — “curly” ‘too’` },
  { label: 'crlf', text: 'line one\r\nline two\r\nline three' },
  { label: 'lone-cr', text: 'classic Mac\rline ending' },
  { label: 'tabs', text: 'col1\tcol2\t\tcol4\t' },
  { label: 'whitespace-only', text: '  \t \n  ' },
  { label: 'arabic-rtl', text: 'مرحبا بالعالم! هذا نص عربي يُكتب من اليمين إلى اليسار.' },
  { label: 'hebrew-rtl', text: 'שלום עולם! זה טקסט בעברית.' },
  { label: 'bidi-mixed', text: 'Invoice #123 for فاطمة (45.00 USD) then שלום 2024, ok?' },
  { label: 'bidi-override', text: 'harmless\u202Egnp.exe and \u2066isolate\u2069 and \u200Fmark' },
  { label: 'cjk', text: '你好，世界！これは日本語のテキストです。한국어 텍스트도 있습니다. 𠀀𪚥 (astral CJK)' },
  { label: 'emoji', text: 'family 👨‍👩‍👧‍👦, rainbow 🏳️‍🌈, flags 🇯🇵🇺🇦🇧🇷, skin tones 👍🏽👋🏿, keycap 1️⃣, 🧑🏻‍💻' },
  { label: 'combining', text: 'e\u0301 vs é, a\u0308\u0301, Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǒ̖̤̐ zalgo, ﷽' },
  { label: 'zero-width', text: 'zero\u200Bwidth\u200Cnon\u200Djoiner\uFEFFbom' },
  { label: 'line-separators', text: 'U+2028 [\u2028] U+2029 [\u2029] U+0085 [\u0085]' },
  { label: 'markdown', text: '**bold** _it_ `code` ~~strike~~ [link](https://example.com) > quote' },
  { label: 'long-1mib', text: ONE_MEBIBYTE_TEXT },
];

export const NASTY_TEXTS: readonly NastyText[] = Object.freeze(NASTY_TEXT_LIST.map((n) => Object.freeze(n)));

const LONG_NAME = (() => {
  const name = 'Very long file name with spaces and ünïcödé, repeated until it passes 255 bytes '.repeat(5);
  return `${name.slice(0, 296)}.txt`;
})();

export const NASTY_FILE_NAMES: readonly string[] = Object.freeze([
  '../../etc/passwd',
  '/abs/path',
  'C:\\x',
  'CON.txt',
  '',
  LONG_NAME,
  // Two different files with the same name, and one that differs only in case.
  'report.pdf',
  'report.pdf',
  'Report.PDF',
  'résumé 履歴書.txt',
  // The same name in NFD: looks identical, different bytes.
  'résumé 履歴書.txt'.normalize('NFD'),
  'a/b/c.txt',
  'tab\tname.txt',
  'trailing dot.',
  'photo 📷.png',
]);

interface NastyFileSeed {
  name: string;
  kind: FileKind;
  size: number;
  ownerId: string;
  /** Files sharing a group number are attached to the same message. */
  group: number;
  text: string;
  mimeType?: string;
  available?: boolean;
}

// Index-aligned with NASTY_FILE_NAMES (plus the last one, whose point is its missing bytes).
const NASTY_FILES: readonly NastyFileSeed[] = [
  { name: '../../etc/passwd', kind: 'plain', size: 2_000, ownerId: 'bob', group: 0, text: 'the passwd file you asked for' },
  { name: '/abs/path', kind: 'bin', size: 3_000, ownerId: 'alice', group: 1, text: '' },
  { name: 'C:\\x', kind: 'bin', size: 1_500, ownerId: 'alice', group: 2, text: 'two files, one message' },
  { name: 'CON.txt', kind: 'plain', size: 800, ownerId: 'alice', group: 2, text: '' },
  { name: '', kind: 'bin', size: 1_024, ownerId: 'bob', group: 3, text: 'no name on this one' },
  { name: LONG_NAME, kind: 'plain', size: 4_000, ownerId: 'alice', group: 4, text: '' },
  { name: 'report.pdf', kind: 'pdf', size: 30_000, ownerId: 'alice', group: 5, text: 'my report' },
  { name: 'report.pdf', kind: 'pdf', size: 45_000, ownerId: 'bob', group: 6, text: 'no, *this* is the report' },
  { name: 'Report.PDF', kind: 'pdf', size: 12_000, ownerId: 'zoe', group: 7, text: 'REPORT' },
  { name: 'résumé 履歴書.txt', kind: 'plain', size: 5_000, ownerId: 'alice', group: 8, text: '' },
  { name: 'résumé 履歴書.txt'.normalize('NFD'), kind: 'plain', size: 5_100, ownerId: 'bob', group: 9, text: 'same name?' },
  { name: 'a/b/c.txt', kind: 'plain', size: 600, ownerId: 'dmitri', group: 10, text: '' },
  { name: 'tab\tname.txt', kind: 'plain', size: 700, ownerId: 'alice', group: 11, text: '' },
  { name: 'trailing dot.', kind: 'bin', size: 900, ownerId: 'yossi', group: 12, text: '' },
  { name: 'photo 📷.png', kind: 'png', size: 20_000, ownerId: 'fatima', group: 13, text: '📷' },
  {
    name: 'lost-in-migration.mov',
    kind: 'bin',
    size: 1_572_864,
    ownerId: 'alice',
    group: 14,
    text: 'the recording (its bytes never made it into the export)',
    mimeType: 'video/quicktime',
    available: false,
  },
];

// Everyone here is in #random from 2024-04-01 on, so the edge cases start after that, inside alice's window.
const NASTY_START = ms('2024-05-06T09:00:00Z');
const STEP = 37 * 60_000;
const AUTHORS = ['alice', 'bob', 'alice', 'fatima', 'alice', 'yossi', 'alice', 'dmitri', 'alice', 'zoe'] as const;

function reactions(...entries: [string, ...string[]][]): Reaction[] {
  return entries.map(([emoji, ...userIds]) => ({ emoji, userIds }));
}

/** The edge-case messages and files of #random, in time order. */
export function nastyEvents(ctx: FileContext, host: string): FixedEvent[] {
  let at = NASTY_START;
  const next = (): number => (at += STEP);
  const events: FixedEvent[] = [];

  const root: FixedEvent = {
    atMs: at,
    authorId: 'alice',
    text: 'Collecting weird inputs for the exporter tests in this thread 🧪',
    reactions: reactions(['eyes', 'bob', 'fatima'], ['👨‍👩‍👧‍👦', 'alice'], ['flag-jp', 'zoe']),
  };
  events.push(root);

  NASTY_TEXTS.forEach((nasty, i) => {
    const event: FixedEvent = { atMs: next(), authorId: AUTHORS[i % AUTHORS.length]!, text: nasty.text };
    // Half of them in the thread, so thread views meet them too.
    if (i % 2 === 1) event.replyTo = root;
    if (nasty.label === 'emoji') event.reactions = reactions(['🏳️‍🌈', 'alice', 'bob'], ['🇺🇦', 'fatima']);
    events.push(event);
  });

  // Nasty text in edit history: exporters that escape message text but not previous versions fail here.
  const editedAt = next();
  events.push({
    atMs: editedAt,
    authorId: 'alice',
    text: 'Fixed: the earlier versions had control characters and markup in them.',
    edits: [
      { atMs: editedAt + 60_000, previousText: `${NASTY_TEXTS[0]!.text} <script>alert("v1")</script>` },
      { atMs: editedAt + 120_000, previousText: 'v2 ]]> & \uD83D' },
    ],
  });

  let group = -1;
  let event: FixedEvent | undefined;
  NASTY_FILES.forEach((seed, i) => {
    if (seed.group !== group || event === undefined) {
      group = seed.group;
      event = { atMs: next(), authorId: seed.ownerId, text: seed.text, files: [] };
      events.push(event);
    }
    event.files!.push(
      createFileRecord(
        {
          id: `F-acme-random-nasty-${i + 1}`,
          name: seed.name,
          kind: seed.kind,
          targetSize: seed.size,
          ownerId: seed.ownerId,
          createdMs: event.atMs,
          host,
          langs: ['en', 'zh'],
          pngStyle: 'gradient',
          mimeType: seed.mimeType,
          available: seed.available ?? true,
        },
        ctx,
      ),
    );
  });
  return events;
}
