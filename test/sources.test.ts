import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BIN, ROOT, run, runCli, tempDir } from './support/cli.js';

/**
 * The Slack and Mattermost sources end to end, through the built CLI: each fixture is
 * exported (as a directory / .jsonl and as a zip made here with `zip`), the counts are
 * checked against the fixture's hand-counted EXPECTED.json, every XML document is
 * validated with xmllint against the XSD shipped in the archive, and `handover verify`
 * accepts the archive. Damaged inputs fail with exit 1, name the file and line, and
 * leave no archive behind; `--skip-invalid` gets past them.
 */

const FIXTURES = join(ROOT, 'test/fixtures');

interface ExportCounts {
  conversations: number;
  messages: number;
  files: number;
  grants: number;
}

function expected(name: string): { member: string; export: ExportCounts } {
  return JSON.parse(readFileSync(join(FIXTURES, name, 'EXPECTED.json'), 'utf8')) as { member: string; export: ExportCounts };
}

const tmp = tempDir('handover-sources-e2e-');
/** Plain zips (`--no-encrypt`) in a store and config of the test's own, so nothing lands in the user's home. */
const STORE = join(tmp.dir, 'store');
const ENV = { XDG_CONFIG_HOME: join(tmp.dir, 'config') };
const PLAIN = ['--no-encrypt', '--store', STORE];

async function zipDir(dir: string, name: string): Promise<string> {
  const out = join(tmp.dir, name);
  const r = await run('zip', ['-r', '-q', '-X', out, '.'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return out;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

let n = 0;
/** A fresh, empty directory for one export's output, so "no archive left behind" means an empty directory. */
function outDir(): string {
  const dir = join(tmp.dir, `out-${(n += 1)}`);
  mkdirSync(dir);
  return dir;
}

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`the CLI is not built (${BIN} is missing): run \`pnpm run build\` first`);
});
afterAll(() => tmp.cleanup());

async function exportOk(source: string, member: string, extra: string[] = []) {
  const dir = outDir();
  const archive = join(dir, 'archive.zip');
  const r = await runCli(['export', '--member', member, '--source', source, '--out', archive, ...PLAIN, '--json', ...extra], { env: ENV });
  expect(r.code, r.stderr + r.stdout).toBe(0);
  const result = JSON.parse(r.stdout) as { archive: string; sha256: string; bytes: number; counts: Record<string, number> };
  expect(result.archive).toBe(archive);
  const bytes = readFileSync(archive);
  expect(result.bytes).toBe(bytes.length);
  expect(result.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  return { archive, dir, result };
}

/** Unzips with Info-ZIP and validates every XML document against the XSD found under schema/. */
async function validateArchive(archive: string, dir: string): Promise<string[]> {
  const x = join(dir, 'x');
  const unzip = await run('unzip', ['-o', '-q', archive, '-d', x]);
  expect(unzip.code, unzip.stderr + unzip.stdout).toBe(0);
  const files = listFiles(x);
  const xsds = files.filter((f) => f.startsWith('schema/') && f.endsWith('.xsd'));
  expect(xsds.length, `no XSD under schema/ in ${files.join(', ')}`).toBeGreaterThan(0);
  const xsd = xsds.find((f) => f.startsWith('schema/handover')) ?? xsds[0]!;
  const xml = files.filter((f) => f.endsWith('.xml'));
  expect(xml.length).toBeGreaterThan(0);
  for (let i = 0; i < xml.length; i += 50) {
    const batch = xml.slice(i, i + 50);
    const r = await run('xmllint', ['--noout', '--schema', xsd, ...batch], { cwd: x });
    expect(r.code, r.stderr).toBe(0);
    for (const f of batch) expect(r.stderr).toContain(`${f} validates`);
  }
  // Slack file links carry tokens in the export; none may reach the archive.
  for (const f of files) expect(readFileSync(join(x, f)).includes('xox'), `${f} holds a Slack token`).toBe(false);
  return files;
}

async function verifyOk(archive: string): Promise<void> {
  const r = await runCli(['verify', archive, '--store', STORE, '--json'], { env: ENV });
  expect(r.code, r.stderr + r.stdout).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ ok: true });
}

function checkCounts(counts: Record<string, number>, want: ExportCounts): void {
  const pick = (c: ExportCounts | Record<string, number>) => ({ conversations: c.conversations, messages: c.messages, files: c.files, grants: c.grants });
  expect(pick(counts)).toEqual(pick(want));
}

describe.each([
  ['slack', 'directory', () => join(FIXTURES, 'slack/export')],
  ['slack', 'zip', () => zipDir(join(FIXTURES, 'slack/export'), 'slack-export.zip')],
  ['mattermost', '.jsonl', () => join(FIXTURES, 'mattermost/export/export.jsonl')],
  ['mattermost', 'zip', () => zipDir(join(FIXTURES, 'mattermost/export'), 'mattermost-export.zip')],
] as const)('handover export --source %s:<%s>', (kind, _form, input) => {
  const want = expected(kind);
  let exported: Awaited<ReturnType<typeof exportOk>>;

  beforeAll(async () => {
    exported = await exportOk(`${kind}:${await input()}`, want.member);
  });

  it('exports the counts of EXPECTED.json', () => {
    checkCounts(exported.result.counts, want.export);
  });

  it('writes XML that validates against the bundled XSD, with no token anywhere', async () => {
    await validateArchive(exported.archive, exported.dir);
  });

  it('passes handover verify', async () => {
    await verifyOk(exported.archive);
  });
});

describe('damaged sources', () => {
  async function exportFails(source: string, member: string) {
    const dir = outDir();
    const archive = join(dir, 'archive.zip');
    const r = await runCli(['export', '--member', member, '--source', source, '--out', archive, ...PLAIN, '--json'], { env: ENV });
    expect(r.code, r.stderr + r.stdout).toBe(1);
    // Nothing written: no archive, no partial or temporary file next to it.
    expect(readdirSync(dir)).toEqual([]);
    return r;
  }

  it('a Slack day file with invalid JSON: exit 1 naming the file and line', async () => {
    const r = await exportFails(`slack:${join(FIXTURES, 'slack-bad/export')}`, 'alice');
    expect(r.stderr).toContain('general/2024-01-02.json');
    expect(r.stderr).toContain('line 3');
    expect(r.stderr).toContain('--skip-invalid');
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'E_SOURCE_FORMAT' } });
  });

  it('a truncated Slack zip: exit 1 naming the zip', async () => {
    const zip = await zipDir(join(FIXTURES, 'slack/export'), 'truncated.zip');
    truncateSync(zip, Math.floor(statSync(zip).size / 2));
    const r = await exportFails(`slack:${zip}`, 'alice');
    expect(r.stderr).toContain('truncated.zip');
    expect(r.stderr).toMatch(/zip/i);
  });

  it('a bad JSON-lines line: exit 1 naming the file and line', async () => {
    const r = await exportFails(`mattermost:${join(FIXTURES, 'mattermost/bad/export.jsonl')}`, 'alice');
    expect(r.stderr).toContain('export.jsonl');
    expect(r.stderr).toContain('line 6');
  });

  it('a bad line inside a Mattermost zip: exit 1 naming the zip, file and line', async () => {
    const dir = join(tmp.dir, 'mm-bad');
    cpSync(join(FIXTURES, 'mattermost/bad'), dir, { recursive: true });
    const zip = await zipDir(dir, 'mm-bad.zip');
    const r = await exportFails(`mattermost:${zip}`, 'alice');
    expect(r.stderr).toContain('mm-bad.zip');
    expect(r.stderr).toContain('export.jsonl');
    expect(r.stderr).toContain('line 6');
  });

  it('--skip-invalid exports the rest and records what was skipped in the manifest', async () => {
    const slackBad = JSON.parse(readFileSync(join(FIXTURES, 'slack-bad/EXPECTED.json'), 'utf8')) as {
      skipping: { conversations: number; messages: number };
    };
    const slack = await exportOk(`slack:${join(FIXTURES, 'slack-bad/export')}`, 'alice', ['--skip-invalid']);
    expect(slack.result.counts.messages).toBe(slackBad.skipping.messages);
    expect(slack.result.counts.conversations).toBe(slackBad.skipping.conversations);
    await validateArchive(slack.archive, slack.dir);
    const manifest = readFileSync(join(slack.dir, 'x/manifest.xml'), 'utf8');
    expect(manifest).toContain('general/2024-01-02.json');
    expect(manifest).toContain('general/2024-01-03.json');
    await verifyOk(slack.archive);

    const mmBad = JSON.parse(readFileSync(join(FIXTURES, 'mattermost/EXPECTED.json'), 'utf8')) as { bad: { messagesWhenSkipping: number } };
    const mm = await exportOk(`mattermost:${join(FIXTURES, 'mattermost/bad/export.jsonl')}`, 'alice', ['--skip-invalid']);
    expect(mm.result.counts.messages).toBe(mmBad.bad.messagesWhenSkipping);
    await validateArchive(mm.archive, mm.dir);
    expect(readFileSync(join(mm.dir, 'x/manifest.xml'), 'utf8')).toContain('export.jsonl');
    await verifyOk(mm.archive);
  });
});
