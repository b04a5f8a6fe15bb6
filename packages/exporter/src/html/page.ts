import { escapeHtml } from './escape.js';

/**
 * The Content-Security-Policy every page carries, as a `<meta>` (there is no server to
 * send headers). Nothing may run and nothing may leave the machine:
 *
 * - `default-src 'none'` blocks scripts, frames, fonts, fetches, media and objects.
 * - Images and the stylesheet are allowed from `'self'` *and* `file:`. Whether `'self'`
 *   matches anything in a file:// document is not settled: file: documents have an
 *   opaque origin, the CSP spec's same-origin test then fails, and browsers have
 *   differed (w3c/webappsec-csp#459 is still open on exactly this). The `file:` scheme
 *   source is what makes the double-clicked archive work; `'self'` keeps it working if
 *   someone serves the unzipped folder over HTTP(S). Neither admits a remote host: every
 *   URL in these pages is relative and built by us, so `file:` can only ever reach
 *   files next to the page.
 * - No `data:`: nothing uses it, and every allowance is something to reason about.
 * - `base-uri` and `form-action` are not covered by `default-src`, so they are closed
 *   explicitly. (`frame-ancestors` is ignored in a `<meta>` policy; nothing to add.)
 *
 * To be confirmed in headless Chromium with the end-to-end test: file:// pages load
 * `view/style.css` and `files/…` images under this policy, and an injected remote URL
 * would be blocked.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; img-src 'self' file:; style-src 'self' file:; base-uri 'none'; form-action 'none'";

export interface PageShell {
  /** Page title, plain text (escaped here). */
  title: string;
  /** Stylesheet URL relative to the page, e.g. `../style.css`. */
  stylesheet: string;
  /** `<html lang>` for the page chrome; already escaped. */
  lang: string;
  /** `<meta name="generator">`, plain text. */
  generator: string;
}

/** Everything up to and including `<body>`. `<meta charset>` comes first so it is inside the first 1024 bytes. */
export function pageStart(shell: PageShell): string {
  return (
    '<!DOCTYPE html>\n<html lang="' +
    shell.lang +
    '"><head><meta charset="utf-8">' +
    '<meta http-equiv="Content-Security-Policy" content="' +
    CONTENT_SECURITY_POLICY +
    '"><meta name="referrer" content="no-referrer">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<meta name="color-scheme" content="light dark">' +
    '<meta name="generator" content="' +
    escapeHtml(shell.generator) +
    '"><title>' +
    escapeHtml(shell.title) +
    '</title><link rel="stylesheet" href="' +
    shell.stylesheet +
    '"></head>\n<body>\n'
  );
}

export const PAGE_END = '\n</body>\n</html>\n';
