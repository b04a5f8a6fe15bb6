import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { ROOT } from './cli.js';

/** Where the browser tests leave their screenshots (gitignored), for a person to look at. */
export const SCREENSHOTS = join(ROOT, 'test-results/html');

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return join(SCREENSHOTS, name);
}

/**
 * Debian's chromium (installed by .ci/run and scripts/ensure-tools.mjs), or the binary
 * HANDOVER_CHROMIUM names. Playwright's own browser downloads are never used: this
 * machine reaches no host they come from.
 */
export function chromiumPath(): string {
  const fromEnv = process.env['HANDOVER_CHROMIUM'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const r = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' });
  const found = r.stdout.trim();
  if (r.status !== 0 || found === '') throw new Error("the browser tests need Debian's chromium: apt-get install chromium");
  return found;
}

/**
 * Headless, no sandbox (we run as root), and none of Chromium's own background traffic
 * (component updates, sync, field trials): with those on it opens connections of its
 * own that have nothing to do with the page and that this machine refuses. Playwright
 * adds a fresh temporary --user-data-dir per launch.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: [...CHROMIUM_ARGS], headless: true });
}

/** Every request the pages of one context made, and the ones that got as far as the network stack. */
export interface Traffic {
  /** Every request a page started, in order, whether or not the CSP then blocked it. */
  requested: string[];
  /** Non-file:// requests that reached Playwright's interception, i.e. passed the CSP; aborted there. */
  reachedNetwork: string[];
}

/**
 * Records a context's requests. Anything but file:// that survives the page's own CSP is
 * aborted at the interception layer, so a failing test never sends a byte anywhere.
 */
export async function watchTraffic(context: BrowserContext): Promise<Traffic> {
  const traffic: Traffic = { requested: [], reachedNetwork: [] };
  context.on('request', (r) => traffic.requested.push(r.url()));
  await context.route(
    (url) => url.protocol !== 'file:',
    (route) => {
      traffic.reachedNetwork.push(route.request().url());
      return route.abort('blockedbyclient');
    },
  );
  return traffic;
}

/** The URLs that are not file:// URLs of files inside `dir` (http, data:, ws, or a file elsewhere). */
export function outside(urls: readonly string[], dir: string): string[] {
  const root = dir.endsWith(sep) ? dir : dir + sep;
  return urls.filter((u) => {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      return true;
    }
    if (url.protocol !== 'file:' || url.host !== '') return true;
    return !fileURLToPath(url).startsWith(root);
  });
}
