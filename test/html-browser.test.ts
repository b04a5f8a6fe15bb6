// The archive's HTML pages as a person reads them: the demo member's export, unzipped,
// opened from file:// in headless Chromium (Debian's, through playwright-core) with
// JavaScript switched off, links followed by clicking. Screenshots go to
// test-results/html/ (gitignored) for a person to look at.
import { readdirSync, realpathSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { NASTY_TEXTS, xmlSafe } from '@handover/exporter';
import { runCli, tempDir } from './support/cli.js';
import { extract } from './support/archive.js';
import { launchChromium, outside, screenshotPath, watchTraffic, type Traffic } from './support/browser.js';

// Browser globals, for the callbacks given to evaluate(): those run in Chromium, and this
// project compiles without lib.dom, so just what they use is declared here (module scope).
interface Box {
  left: number;
  right: number;
}
interface DomElement {
  textContent: string | null;
  getAttribute(name: string): string | null;
  closest(selector: string): DomElement | null;
  getBoundingClientRect(): Box;
}
interface DomImage extends DomElement {
  naturalWidth: number;
  complete: boolean;
  currentSrc: string;
}
declare const document: {
  body: DomElement;
  documentElement: { scrollWidth: number };
  createRange(): { selectNodeContents(node: DomElement): void; getBoundingClientRect(): Box };
  getElementById(id: string): DomElement | null;
};
declare function getComputedStyle(element: DomElement): { maxWidth: string; backgroundColor: string; direction: string };
declare function matchMedia(query: string): { matches: boolean };

/** The text a nasty message should show: what the escaper keeps, with line ends as the HTML parser normalizes them. */
function shown(text: string): string {
  return xmlSafe(text).replace(/\r\n?/g, '\n');
}

function nasty(label: string): string {
  const n = NASTY_TEXTS.find((t) => t.label === label);
  if (n === undefined) throw new Error(`no nasty text ${label}`);
  return n.text;
}

/** Message paragraphs (and earlier versions in edit histories). */
const MESSAGE_TEXT = 'main.msgs > article p[dir]';

describe('the HTML view in headless Chromium, from file://, with no script', () => {
  const tmp = tempDir('handover-html-');
  let dir: string;
  let browser: Browser;
  let context: BrowserContext;
  let traffic: Traffic;
  let page: Page;

  const url = (path: string): string => pathToFileURL(join(dir, path)).href;

  /** Nothing the pages asked for is anything but a file inside the unzipped archive. */
  const expectNothingLeft = (t: Traffic = traffic): void => {
    expect(t.requested.length).toBeGreaterThan(0);
    expect(outside(t.requested, dir)).toEqual([]);
    expect(t.reachedNetwork).toEqual([]);
  };

  beforeAll(async () => {
    const archive = join(tmp.dir, 'a.zip');
    const r = await runCli(['export', '--member', 'alice', '--out', archive, '--no-encrypt', '--include-shared-files', '--store', tmp.dir]);
    expect(r.code, r.stderr).toBe(0);
    dir = realpathSync(tmp.dir) + '/x';
    await extract(archive, dir);
    browser = await launchChromium();
    context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1100, height: 900 } });
    traffic = await watchTraffic(context);
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    tmp.cleanup();
  });

  it('opens index.html styled by view/style.css, with scripting off, and shows whose archive it is', async () => {
    await page.goto(url('index.html'));
    // The page's own view of itself: scripting is off (Playwright's evaluate goes through the debugger, not the page).
    expect(await page.evaluate(() => matchMedia('(scripting: none)').matches)).toBe(true);
    expect(await page.title()).toBe('Archive of alice');
    const h1 = page.locator('h1');
    expect(await h1.innerText()).toBe('Archive of alice');
    expect(await h1.isVisible()).toBe(true);
    const body = await page.innerText('body');
    expect(body).toContain('Alice Martin');
    expect(body).toContain('Why this archive exists');
    // Only style.css makes the body 62rem wide and the table headers grey: the CSP let the local stylesheet load.
    expect(await page.evaluate(() => getComputedStyle(document.body).maxWidth)).toBe('992px');
    expect(await page.locator('th').first().evaluate((th) => getComputedStyle(th).backgroundColor)).toBe('rgb(246, 247, 249)');
    expect(await page.locator('script').count()).toBe(0);
    await page.screenshot({ path: screenshotPath('overview.png'), fullPage: true });
    expectNothingLeft();
  });

  it("follows the link to alice's #random and shows every nasty message as text, RTL right to left, CJK as such", async () => {
    await page.goto(url('index.html'));
    await page.getByRole('link', { name: '#random', exact: true }).click();
    await page.waitForURL(/\/view\/c\d{4}-random\/page-0001\.html$/);
    expect(await page.locator('h1').innerText()).toBe('#random');

    // Markup in messages is visible text, and none of it became an element.
    const script = page.locator(MESSAGE_TEXT).filter({ hasText: '<script>alert(1)</script>' });
    expect(await script.count()).toBe(1);
    expect(await script.innerText()).toBe('<script>alert(1)</script>');
    expect(await script.isVisible()).toBe(true);
    expect(await page.innerText('body')).toContain(nasty('html-injection'));
    expect(await page.locator('script, iframe, object, embed, form, base, meta[http-equiv="refresh" i]').count()).toBe(0);
    expect(await page.locator('[onerror], [onload], [onclick], a[href^="javascript:" i]').count()).toBe(0);
    expect(await page.locator('img:not([src^="../../files/"])').count()).toBe(0);

    // Every nasty text but the 1 MiB one (it has a page of its own) is on this page, exactly.
    const texts = await page.locator(MESSAGE_TEXT).evaluateAll((els) => els.map((e) => e.textContent ?? ''));
    for (const n of NASTY_TEXTS) {
      if (n.label !== 'long-1mib') expect(texts, n.label).toContain(shown(n.text));
    }

    // Right-to-left paragraphs run right to left: direction rtl, text against the right edge.
    const layout = (text: string) =>
      page
        .locator(MESSAGE_TEXT)
        .filter({ hasText: text })
        .evaluate((p) => {
          const range = document.createRange();
          range.selectNodeContents(p);
          const t = range.getBoundingClientRect();
          const box = p.getBoundingClientRect();
          return { direction: getComputedStyle(p).direction, leftGap: t.left - box.left, rightGap: box.right - t.right };
        });
    for (const label of ['arabic-rtl', 'hebrew-rtl']) {
      const l = await layout(nasty(label));
      expect(l.direction, label).toBe('rtl');
      expect(l.rightGap, label).toBeLessThan(1);
      expect(l.leftGap, label).toBeGreaterThan(100);
    }
    const mixed = await layout(nasty('bidi-mixed'));
    expect(mixed.direction).toBe('ltr');
    expect(mixed.leftGap).toBeLessThan(1);

    // CJK is shown as written, in an element of unknown language so the reader's locale picks the glyphs.
    const cjk = page.locator(MESSAGE_TEXT).filter({ hasText: '你好，世界' });
    expect(await cjk.innerText()).toBe(nasty('cjk'));
    expect(await cjk.evaluate((p) => p.closest('[lang]')?.getAttribute('lang'))).toBe('');

    await page.screenshot({ path: screenshotPath('random-page-1.png'), fullPage: true });
    await page.locator('main.msgs > article').filter({ hasText: nasty('arabic-rtl') }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath('random-nasty.png') });
    expectNothingLeft();
  });

  it('a phone-sized, dark-mode reader gets the same page readable', async () => {
    const phone = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
    const phoneTraffic = await watchTraffic(phone);
    try {
      const p = await phone.newPage();
      await p.goto(url('index.html'));
      await p.getByRole('link', { name: '#random', exact: true }).click();
      await p.waitForURL(/page-0001\.html$/);
      // Nothing wider than the screen but what sits in a scroll box.
      expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      expect(await p.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(18, 19, 22)');
      await p.locator('main.msgs > article').filter({ hasText: nasty('arabic-rtl') }).scrollIntoViewIfNeeded();
      await p.screenshot({ path: screenshotPath('random-phone-dark.png') });
    } finally {
      await phone.close();
    }
    expectNothingLeft(phoneTraffic);
  });

  it('pages through #random with next and previous links; the 1 MiB message has its own page', async () => {
    await page.goto(url('index.html'));
    await page.getByRole('link', { name: '#random', exact: true }).click();
    await page.waitForURL(/page-0001\.html$/);

    await page.locator('nav.pager a[rel="next"]').first().click();
    await page.waitForURL(/page-0002\.html$/);
    const long = await page.locator(MESSAGE_TEXT).evaluateAll((els) => els.map((e) => e.textContent ?? ''));
    expect(long).toHaveLength(1);
    expect(long[0]).toBe(shown(nasty('long-1mib')));
    await page.screenshot({ path: screenshotPath('random-page-2.png') });

    await page.locator('nav.pager a[rel="next"]').first().click();
    await page.waitForURL(/page-0003\.html$/);
    expect(await page.locator('nav.pager a[rel="next"]').count()).toBe(0);
    // Earlier versions of an edited message sit in a <details>; opening it needs no script either.
    const history = page.locator('main.msgs > article').filter({ hasText: 'Fixed: the earlier versions' }).locator('details.hist');
    await history.locator('summary').click();
    expect(await history.evaluate((d) => (d as { open: boolean }).open)).toBe(true);
    expect(await history.innerText()).toContain('<script>alert("v1")</script>');
    await page.screenshot({ path: screenshotPath('random-page-3.png') });

    await page.locator('nav.pager a[rel="prev"]').first().click();
    await page.waitForURL(/page-0002\.html$/);
    await page.getByRole('link', { name: 'All pages' }).first().click();
    await page.waitForURL(/\/view\/c\d{4}-random\/index\.html$/);
    expect(await page.locator('tbody a').allInnerTexts()).toEqual(['Page 1', 'Page 2', 'Page 3']);
    await page.getByRole('link', { name: 'Overview' }).first().click();
    await page.waitForURL(url('index.html'));
    expectNothingLeft();
  });

  it('the Files page shows every archived image from files/, each decoded (naturalWidth > 0)', async () => {
    await page.goto(url('index.html'));
    await page.getByRole('link', { name: 'Files page 1' }).click();
    await page.waitForURL(/\/view\/files\/page-0001\.html$/);
    const images = await page.locator('ul.files img').evaluateAll((imgs) =>
      (imgs as DomImage[]).map((i) => ({ src: i.getAttribute('src') ?? '', url: i.currentSrc, complete: i.complete, naturalWidth: i.naturalWidth })),
    );
    const onDisk = readdirSync(join(dir, 'files')).filter((f) => /\.(png|jpe?g|gif|webp)$/i.test(f));
    expect(onDisk.length).toBeGreaterThan(0);
    expect(images.map((i) => i.src).sort()).toEqual(onDisk.map((f) => `../../files/${f}`).sort());
    for (const i of images) {
      expect(i.url).toBe(url(`files/${i.src.slice('../../files/'.length)}`));
      expect(i.complete, i.src).toBe(true);
      expect(i.naturalWidth, i.src).toBeGreaterThan(0);
    }
    await page.screenshot({ path: screenshotPath('files-page-1.png') });
    expectNothingLeft();
  });

  it('conversation pages show attached images inline from files/ and link the other attachments into the archive', async () => {
    await page.goto(url('index.html'));
    const conversations = await page.locator('#conversations + .scroll tbody a[dir="auto"]').evaluateAll((as) => as.map((a) => (a as { href: string }).href));
    expect(conversations.length).toBeGreaterThan(10);
    let loaded = 0;
    for (const href of conversations) {
      await page.goto(href);
      const imgs = await page.locator('main.msgs img').evaluateAll((els) =>
        (els as DomImage[]).map((i) => ({ src: i.getAttribute('src') ?? '', naturalWidth: i.naturalWidth })),
      );
      for (const i of imgs) {
        expect(i.src, href).toMatch(/^\.\.\/\.\.\/files\/[^/]+$/);
        expect(i.naturalWidth, `${href} ${i.src}`).toBeGreaterThan(0);
        loaded++;
      }
    }
    expect(loaded).toBeGreaterThan(0);

    // #random's edge-case files: every one with bytes is linked into files/, the one without says so.
    await page.goto(url('index.html'));
    await page.getByRole('link', { name: '#random', exact: true }).click();
    await page.waitForURL(/page-0001\.html$/);
    await page.goto(page.url().replace(/page-0001\.html$/, 'page-0003.html'));
    const photo = page.locator('main.msgs > article').filter({ hasText: 'photo 📷.png' }).locator('img');
    expect(await photo.evaluate((i) => (i as DomImage).naturalWidth)).toBeGreaterThan(0);
    for (const name of ['../../etc/passwd', 'CON.txt', 'résumé 履歴書.txt']) {
      const link = page.locator('main.msgs ul.att a').filter({ hasText: name }).first();
      expect(await link.getAttribute('href'), name).toMatch(/^\.\.\/\.\.\/files\/\d{6}-[A-Za-z0-9._-]+$/);
    }
    expect(await page.getByText('contents not in this archive').count()).toBe(0);
    expect(await page.locator('main.msgs').innerText()).toContain('contents not available in the source');
    await page.locator('main.msgs > article').filter({ hasText: 'photo 📷.png' }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath('random-attachments.png') });
    expectNothingLeft();
  });

  it('the grants page renders its table', async () => {
    await page.goto(url('index.html'));
    await page.getByRole('link', { name: 'App authorizations' }).first().click();
    await page.waitForURL(/\/view\/grants\.html$/);
    expect(await page.locator('h1').innerText()).toBe('App authorizations');
    expect(await page.locator('tbody tr').count()).toBeGreaterThan(0);
    await page.screenshot({ path: screenshotPath('grants.png'), fullPage: true });
    expectNothingLeft();
  });

  it('the CSP keeps a tampered page from running script or loading anything remote, even with JavaScript on', async () => {
    // Someone edits an extracted page: remote and data: images, a remote stylesheet, inline and local script, a frame.
    const original = readFileSync(join(dir, 'view/c0001-general/page-0001.html'), 'utf8');
    const injected =
      '<img id="remote" src="http://127.0.0.1:9/leak.png"><img id="inline" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">' +
      '<link rel="stylesheet" href="http://127.0.0.1:9/leak.css"><script>document.title = "script ran"</script>' +
      '<script src="../style.css"></script><iframe src="page-0001.html"></iframe>';
    expect(original).toContain('<body>\n');
    writeFileSync(join(dir, 'view/c0001-general/tampered.html'), original.replace('<body>\n', '<body>\n' + injected));

    const withJs = await browser.newContext({ javaScriptEnabled: true });
    const jsTraffic = await watchTraffic(withJs);
    const violations: string[] = [];
    try {
      const p = await withJs.newPage();
      p.on('console', (m) => {
        if (m.text().includes('Content Security Policy')) violations.push(m.text());
      });
      await p.goto(url('view/c0001-general/tampered.html'));
      expect(await p.evaluate(() => matchMedia('(scripting: enabled)').matches)).toBe(true);
      expect(await p.title()).toBe('#general');
      expect(await p.evaluate(() => (document.getElementById('remote') as DomImage).naturalWidth)).toBe(0);
      expect(await p.evaluate(() => (document.getElementById('inline') as DomImage).naturalWidth)).toBe(0);
      // The archive's own stylesheet still applies.
      expect(await p.evaluate(() => getComputedStyle(document.body).maxWidth)).toBe('992px');
      expect(violations.some((v) => v.includes('http://127.0.0.1:9/leak.png') && v.includes('img-src'))).toBe(true);
      expect(violations.some((v) => v.includes('http://127.0.0.1:9/leak.css') && v.includes('style-src'))).toBe(true);
      expect(violations.some((v) => v.includes('data:image/gif'))).toBe(true);
      expect(violations.some((v) => /inline script/i.test(v))).toBe(true);
    } finally {
      await withJs.close();
    }
    // Chromium reports the attempts, but the CSP stopped them before any reached the network stack.
    expect(jsTraffic.reachedNetwork).toEqual([]);
    expect(outside(jsTraffic.requested, dir).filter((u) => !u.startsWith('http://127.0.0.1:9/leak.') && !u.startsWith('data:'))).toEqual([]);
  });
});
