import { type Prng, prngFor } from './random.js';

/**
 * Sentences for messages and text files. Built once per source into fixed pools, so
 * generating a message is picking an index, not assembling words: that is what keeps
 * the generator above half a million messages per second.
 */

export type Lang = 'en' | 'zh' | 'ar' | 'he' | 'bot';

export interface SentencePool {
  readonly texts: readonly string[];
  /** All texts in UTF-8, back to back: text files copy sentences from here instead of encoding them again. */
  readonly encoded: Buffer;
  /** Text `i` is `encoded[offsets[i], offsets[i + 1])`. */
  readonly offsets: Uint32Array;
}

export type SentencePools = Readonly<Record<Lang, SentencePool>>;

const POOL_SIZES: Readonly<Record<Lang, number>> = { en: 2048, zh: 1024, ar: 256, he: 256, bot: 512 };

// No double quotes or backslashes anywhere below: text files embed sentences in CSV and JSON unescaped.
const EN_OPENERS = [
  'Can we',
  "Let's",
  'I think we should',
  'Please',
  'Reminder to',
  'Could someone',
  'We need to',
  'Did anyone',
  'I will',
  'Heads up: we still have to',
  'No rush, but can you',
  'Who is going to',
  'Quick one: did we',
  'Thanks for offering to',
];
const EN_VERBS = [
  'review',
  'ship',
  'update',
  'test',
  'deploy',
  'document',
  'merge',
  'roll back',
  'benchmark',
  'refactor',
  'archive',
  'export',
  'verify',
  'schedule',
  'discuss',
  'double-check',
  'clean up',
  'sign off on',
];
const EN_OBJECTS = [
  'the release notes',
  'the Q3 roadmap',
  'the onboarding doc',
  'the staging cluster',
  'the invoice batch',
  'the gripper firmware',
  'the customer export',
  'the retention policy',
  'the design mockups',
  'the API key rotation',
  'the sprint board',
  'the audit log',
  'the nightly backup job',
  'the pricing page',
  'the vendor contract',
  'the incident timeline',
  'the hiring plan',
  'the warehouse robots',
  'the SSO migration',
  'the on-call rota',
];
const EN_TAILS = [
  ' before Friday',
  ' after the standup',
  ' today',
  ' by end of week',
  ' next sprint',
  ' once CI is green',
  ' tomorrow morning',
  ' when you have a minute',
  '',
  '',
  ' before the board meeting',
  ' for the Globex demo',
];
const EN_ENDINGS = ['.', '?', '!', '.', '?', ' 🙂', ' 🚀', '…', ' 👍', ' :)'];
const EN_EXTRAS = [
  'See https://wiki.acme.example/handbook/exports for details.',
  'The ticket is OPS-1234.',
  'Logs are in `/var/log/handover/export.log`.',
  'Numbers look fine: 12.5% up, 3 regressions.',
  'I pinged legal about it.',
  'Moving this to a thread.',
  'Ok, done.',
  'LGTM.',
  '+1',
  'Will do.',
];
const MENTIONABLE = ['alice', 'bob', 'carol', 'dmitri', 'fatima', 'wang.wei', 'zoe', 'yossi', 'priya', 'li.na'];

const ZH_SUBJECTS = ['我们', '大家', '王伟', '李娜', '客户', '团队', '产品组', '运维同学', '我'];
const ZH_VERBS = ['需要确认', '已经完成了', '明天讨论', '正在部署', '请检查一下', '更新了', '还在等', '重新提交了', '评审了'];
const ZH_OBJECTS = [
  '发布计划',
  '服务器配置',
  '产品文档',
  '测试报告',
  '数据导出',
  '审批流程',
  '季度预算',
  '合同条款',
  '新版本',
  '监控告警',
  '用户反馈',
];
const ZH_TAILS = ['。', '吗？', '，谢谢！', '，辛苦了。', '，今天下班前。', '，明天上午开会说。', '！', '～'];

const AR_WORDS = [
  'مرحبا',
  'شكرا',
  'الاجتماع',
  'غدا',
  'التقرير',
  'جاهز',
  'هل',
  'يمكنك',
  'مراجعة',
  'المستند',
  'من فضلك',
  'الفريق',
  'العميل',
  'الإصدار',
  'اليوم',
  'تم',
];
const HE_WORDS = ['שלום', 'תודה', 'הפגישה', 'מחר', 'הדוח', 'מוכן', 'אפשר', 'לבדוק', 'את', 'המסמך', 'הצוות', 'היום', 'בסדר'];

const BOT_SERVICES = ['api', 'web', 'worker', 'exporter', 'billing', 'robot-fleet', 'auth'];
const BOT_ENVS = ['staging', 'production', 'eu-west', 'cn-north'];
const BOT_OUTCOMES = ['✅ succeeded', '❌ failed (rolled back)', '✅ succeeded in 4m12s', '⚠️ succeeded with warnings'];

function english(rng: Prng): string {
  let s = '';
  if (rng.below(5) === 0) s += `@${rng.pick(MENTIONABLE)} `;
  const opener = rng.pick(EN_OPENERS);
  s += s === '' ? opener : opener.charAt(0).toLowerCase() + opener.slice(1);
  s += ` ${rng.pick(EN_VERBS)} ${rng.pick(EN_OBJECTS)}${rng.pick(EN_TAILS)}${rng.pick(EN_ENDINGS)}`;
  if (rng.below(6) === 0) s += ` ${rng.pick(EN_EXTRAS)}`;
  return s;
}

function chinese(rng: Prng): string {
  let s = `${rng.pick(ZH_SUBJECTS)}${rng.pick(ZH_VERBS)}${rng.pick(ZH_OBJECTS)}${rng.pick(ZH_TAILS)}`;
  if (rng.below(4) === 0) s += `${rng.pick(ZH_OBJECTS)}${rng.pick(ZH_VERBS)}${rng.pick(ZH_TAILS)}`;
  return s;
}

function words(rng: Prng, table: readonly string[], end: string): string {
  const n = rng.between(3, 9);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(rng.pick(table));
  return out.join(' ') + end;
}

function bot(rng: Prng): string {
  const version = `${rng.between(1, 4)}.${rng.between(0, 30)}.${rng.between(0, 99)}`;
  return `Deploy #${rng.between(100, 9999)} of ${rng.pick(BOT_SERVICES)} v${version} to ${rng.pick(BOT_ENVS)} ${rng.pick(BOT_OUTCOMES)}`;
}

const GENERATORS: Readonly<Record<Lang, (rng: Prng) => string>> = {
  en: english,
  zh: chinese,
  ar: (rng) => words(rng, AR_WORDS, rng.below(3) === 0 ? '؟' : '.'),
  he: (rng) => words(rng, HE_WORDS, '.'),
  bot,
};

export function buildSentencePools(seed: number): SentencePools {
  const pools = {} as Record<Lang, SentencePool>;
  for (const lang of Object.keys(POOL_SIZES) as Lang[]) {
    const rng = prngFor(seed, 'sentences', lang);
    const size = POOL_SIZES[lang];
    const texts: string[] = new Array<string>(size);
    const offsets = new Uint32Array(size + 1);
    for (let i = 0; i < size; i++) {
      const text = GENERATORS[lang](rng);
      texts[i] = text;
      offsets[i + 1] = offsets[i]! + Buffer.byteLength(text, 'utf8');
    }
    pools[lang] = { texts, encoded: Buffer.from(texts.join(''), 'utf8'), offsets };
  }
  return pools;
}

/**
 * ASCII filler used to pad text files to their exact size: a single-byte alphabet
 * means any length can be cut from it without splitting a character.
 */
export const ASCII_FILLER = (() => {
  const base =
    'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ';
  return base.repeat(Math.ceil(8192 / base.length));
})();
