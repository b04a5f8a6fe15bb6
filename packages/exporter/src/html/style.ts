/**
 * The one stylesheet every page links (`view/style.css`). System fonts only and no
 * `url()` or `@import`: the pages must look right offline, years from now, and must
 * never make a network request.
 */
export const STYLESHEET = `/* Handover archive view. Plain CSS, no external resources. */
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1b1c1f; --muted: #5d6169; --line: #d9dce1; --accent: #0b57d0;
  --card: #f6f7f9; --me: #eef4ff; --ok: #146c2e; --warn: #8a5300; --bad: #b3261e;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #121316; --fg: #e4e5e8; --muted: #a3a7ae; --line: #34373d; --accent: #8ab4f8;
    --card: #1b1d21; --me: #1b2432; --ok: #7dd491; --warn: #f0b35c; --bad: #f2948c;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0 auto; max-width: 62rem; padding: 1rem 1.25rem 3rem;
  background: var(--bg); color: var(--fg);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif,
    "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji";
}
a { color: var(--accent); }
h1 { font-size: 1.6rem; line-height: 1.25; margin: .5rem 0 .25rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
.sub, .meta, .unk, .ed, .note, .msgs > article > time { color: var(--muted); }
.sub { margin: 0 0 1rem; }
.meta, .ed, .st, .msgs > article > time { font-size: .875rem; }
nav.pager { display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: .75rem 0; font-size: .95rem; }
nav.pager .here { font-weight: 600; }
dl.facts { display: grid; grid-template-columns: minmax(8rem, max-content) 1fr; gap: .25rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
/* break-word, not anywhere: in an auto-layout table "anywhere" lets columns shrink to one letter and split words
   ("Grant|ed by"); break-word keeps words whole and wraps only what overflows (.scroll takes the rest). */
th, td { text-align: left; vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid var(--line); overflow-wrap: break-word; }
th { font-weight: 600; background: var(--card); }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .875em; overflow-wrap: anywhere; }
.msgs { margin: 1rem 0; }
/* Messages: <article id="m-…" class="[r] [me]"> in <main class="msgs">, starting with the author's <bdi> and the <time>;
   r = thread reply, me = written by the member. */
.msgs > article { padding: .5rem .75rem; border-bottom: 1px solid var(--line); }
.msgs > h2.day { font-size: .875rem; font-weight: 600; color: var(--muted); margin: 1rem 0 0; padding: 0 .75rem .25rem; border-bottom: 1px solid var(--line); }
.msgs > article.me { background: var(--me); }
.msgs > article.r { margin-left: 2rem; border-left: 3px solid var(--line); }
.msgs > article:target { outline: 2px solid var(--accent); outline-offset: -2px; }
.msgs > article > bdi { font-weight: 600; overflow-wrap: anywhere; margin-right: .25rem; }
.msgs > article > .st, .msgs > article > .ed { margin-left: .5rem; }
.st { border: 1px solid var(--line); border-radius: .25rem; padding: 0 .3rem; color: var(--muted); }
/* Message text (and earlier versions): newlines kept, each paragraph's direction from its own first strong character. */
.msgs p[dir] { margin: .25rem 0; white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: plaintext; }
.note { font-style: italic; margin: .25rem 0; }
.parent { font-size: .875rem; margin: 0; color: var(--muted); }
details { margin: .25rem 0; }
summary { cursor: pointer; color: var(--muted); font-size: .875rem; }
details ol { margin: .25rem 0; padding-left: 1.5rem; }
ul.att { list-style: none; margin: .25rem 0; padding: 0; display: flex; flex-direction: column; gap: .35rem; }
ul.att li, ul.files li { overflow-wrap: anywhere; }
img { display: block; max-width: 100%; max-height: 24rem; height: auto; border: 1px solid var(--line); border-radius: .25rem; margin: .25rem 0; }
ul.rx { list-style: none; margin: .25rem 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: .35rem; }
ul.rx li { border: 1px solid var(--line); border-radius: 1rem; padding: 0 .5rem; font-size: .875rem; background: var(--card); }
ul.files { list-style: none; margin: 1rem 0; padding: 0; }
ul.files > li { padding: .75rem 0; border-bottom: 1px solid var(--line); }
ul.files .name { font-weight: 600; }
.status { font-weight: 600; white-space: nowrap; }
.status.active, .status.included { color: var(--ok); }
.status.expired, .status.shared-not-included { color: var(--warn); }
.status.revoked, .status.not-in-source { color: var(--bad); }
footer { margin-top: 3rem; color: var(--muted); font-size: .875rem; }
@media (max-width: 40rem) {
  body { padding: .75rem; }
  .msgs > article.r { margin-left: 1rem; }
}
@media print {
  :root { --bg: #fff; --fg: #000; --muted: #444; --line: #bbb; --accent: #000; --card: #fff; --me: #fff; }
  body { max-width: none; padding: 0; font-size: 11pt; }
  nav.pager { display: none; }
  .msgs > article, tr, ul.files > li { break-inside: avoid; }
  img { max-height: 12cm; }
  a { text-decoration: none; }
}
`;
