// End to end: GDPR data-subject requests. Calendar due dates across month ends and leap
// years, listings on a moved clock (HANDOVER_NOW), extensions capped at three months from
// receipt, closing into the appeal window, and fulfilment by export, offboarding and, on
// S3, a download link.
import { join } from 'node:path';
import { runCli, tempDir, type CliResult } from './support/cli.js';
import { createBucket, motoEnv, startMotoServer, type MotoServer } from './support/moto-server.js';

const SOURCE = 'demo:messages=100,attachmentBytes=0';
/** Lets commands that record times run on HANDOVER_NOW (tests only). */
const ALLOW = { HANDOVER_ALLOW_CLOCK_OVERRIDE: 'test' };

/** A row of `request list --json` or `audit list --json`, as far as these tests read it. */
interface Row {
  id: string;
  dueDate: string;
  receivedAt: string;
  daysLeft: number;
  overdue: boolean;
  action: string;
  target: string;
  details: Record<string, unknown>;
}

function json<T = Record<string, any>>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${r.code}):\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

describe('handover request: due dates on the calendar', () => {
  const tmp = tempDir('handover-requests-');
  const store = join(tmp.dir, 'store');
  afterAll(() => tmp.cleanup());
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> => runCli(['--store', store, ...args], { env });
  /** Request ids by day of receipt. */
  const ids: Record<string, string> = {};

  it.each([
    { received: '2024-01-31', type: 'access', due: '2024-02-29', why: '31 Jan + 1 month in a leap year' },
    { received: '2023-01-31', type: 'portability', due: '2023-02-28', why: '31 Jan + 1 month in a common year' },
    { received: '2024-02-29', type: 'access', due: '2024-03-29', why: 'a request received on a leap day' },
    { received: '2024-03-31', type: 'erasure', due: '2024-04-30', why: 'into a 30-day month' },
    { received: '2024-12-31', type: 'access', due: '2025-01-31', why: 'across the year end' },
    { received: '2100-01-31', type: 'access', due: '', why: '(refused: in the future)' },
  ])('received $received ($why) → due $due', async ({ received, type, due }) => {
    const r = await cli(['request', 'open', '--subject', 'priya', '--type', type, '--reason', `e-mail of ${received}`, '--received', received, '--json']);
    if (due === '') {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/cannot have been received on 2100-01-31, after today/);
      return;
    }
    expect(r.code, r.stderr).toBe(0);
    const req = json(r)['request'];
    expect(req).toMatchObject({ type, subjectId: 'priya', dueDate: due, status: 'open', receivedAt: `${received}T00:00:00.000Z` });
    expect(req['id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    ids[received] = req['id'];
  });

  it('refuses a day that does not exist and an unknown type (exit 2)', async () => {
    const bad = await cli(['request', 'open', '--subject', 'priya', '--type', 'access', '--reason', 'x', '--received', '2023-02-29']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/'2023-02-29' is not a date/);
    const type = await cli(['request', 'open', '--subject', 'priya', '--type', 'rectification', '--reason', 'x']);
    expect(type.code).toBe(2);
    expect(type.stderr).toMatch(/access, portability, erasure/);
  });

  it('list shows every due date and the days left on the day (HANDOVER_NOW), soonest first', async () => {
    const r = await cli(['request', 'list', '--json'], { HANDOVER_NOW: '2024-02-29T18:00:00Z' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/clock override/);
    const list = json(r)['requests'] as Row[];
    expect(list.map((x) => x.dueDate)).toEqual(['2023-02-28', '2024-02-29', '2024-03-29', '2024-04-30', '2025-01-31']);
    const byDue = Object.fromEntries(list.map((x) => [x.dueDate, x]));
    // Due today is not overdue yet; a day later it is.
    expect(byDue['2024-02-29']).toMatchObject({ overdue: false, daysLeft: 0 });
    expect(byDue['2024-03-29']).toMatchObject({ overdue: false, daysLeft: 29 });
    expect(byDue['2023-02-28']).toMatchObject({ overdue: true, daysLeft: -366 });

    const human = await cli(['request', 'list'], { HANDOVER_NOW: '2024-02-29T18:00:00Z' });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^REQUEST\s+TYPE\s+SUBJECT\s+RECEIVED\s+DUE\s+LEFT\s+STATUS/);
    expect(human.stdout).toMatch(new RegExp(`${ids['2024-01-31']!.slice(0, 8)}\\s+access\\s+priya\\s+2024-01-31\\s+2024-02-29\\s+due today\\s+open`));
    expect(human.stdout).toMatch(/2023-01-31\s+2023-02-28\s+OVERDUE 366 days/);
  });

  it('--overdue lists only open requests past their due day', async () => {
    const r = await cli(['request', 'list', '--overdue', '--json'], { HANDOVER_NOW: '2024-03-01T00:00:00Z' });
    expect(r.code, r.stderr).toBe(0);
    expect((json(r)['requests'] as Row[]).map((x) => [x.receivedAt.slice(0, 10), x.daysLeft])).toEqual([
      ['2023-01-31', -367],
      ['2024-01-31', -1],
    ]);
    const none = await cli(['request', 'list', '--overdue'], { HANDOVER_NOW: '2023-02-01T00:00:00Z' });
    expect(none.stdout.trim()).toBe('no overdue requests');
  });

  it('extend: by 1 or 2 months counted from receipt, never beyond three months', async () => {
    const id = ids['2024-01-31']!;
    const one = await cli(['request', 'extend', id.slice(0, 8), '--months', '1', '--reason', 'many conversations to review', '--json'], { HANDOVER_NOW: '2024-02-20T10:00:00Z', ...ALLOW });
    expect(one.code, one.stderr).toBe(0);
    expect(json(one)['request']).toMatchObject({ dueDate: '2024-03-31', late: false });

    const tooMuch = await cli(['request', 'extend', id, '--months', '2', '--reason', 'more'], { HANDOVER_NOW: '2024-02-21T10:00:00Z', ...ALLOW });
    expect(tooMuch.code).toBe(2);
    expect(tooMuch.stderr).toMatch(/beyond three months from receipt \(2024-04-30\): extend by at most 1/);

    const two = await cli(['request', 'extend', id, '--months', '1', '--reason', 'third-party content', '--json'], { HANDOVER_NOW: '2024-02-21T10:00:00Z', ...ALLOW });
    expect(two.code, two.stderr).toBe(0);
    // 31 January + 3 months = 30 April, not 31 March + 1 month.
    expect(json(two)['request']['dueDate']).toBe('2024-04-30');

    const none = await cli(['request', 'extend', id, '--months', '1', '--reason', 'again'], { HANDOVER_NOW: '2024-02-22T10:00:00Z', ...ALLOW });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/cannot be extended any further/);

    const badMonths = await cli(['request', 'extend', id, '--months', '3', '--reason', 'x']);
    expect(badMonths.code).toBe(2);

    // Across a common February: 31 Dec 2024 + 2 months = 28 Feb 2025.
    const dec = await cli(['request', 'extend', ids['2024-12-31']!, '--months', '1', '--reason', 'complex', '--json'], { HANDOVER_NOW: '2025-01-10T10:00:00Z', ...ALLOW });
    expect(dec.code, dec.stderr).toBe(0);
    expect(json(dec)['request']['dueDate']).toBe('2025-02-28');
  });

  it('an extension after the first month is recorded as late, with a warning', async () => {
    const r = await cli(['request', 'extend', ids['2024-02-29']!, '--months', '2', '--reason', 'backlog', '--json'], { HANDOVER_NOW: '2024-04-02T10:00:00Z', ...ALLOW });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)['request']).toMatchObject({ dueDate: '2024-05-29', late: true });
    expect(r.stderr).toMatch(/warning: the extension comes after the first month/);
  });

  it('a command that records times refuses HANDOVER_NOW unless tests allow it (exit 2)', async () => {
    const r = await cli(['request', 'close', ids['2024-03-31']!], { HANDOVER_NOW: '2024-04-01T00:00:00Z' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/HANDOVER_NOW=2024-04-01T00:00:00Z would record this request's times.*HANDOVER_ALLOW_CLOCK_OVERRIDE=test/);
  });

  it('show names the due date, the extensions and the days left', async () => {
    const r = await cli(['request', 'show', ids['2024-01-31']!.slice(0, 6)], { HANDOVER_NOW: '2024-04-28T00:00:00Z' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/due:\s+2024-04-30 \(2 days\)/);
    expect(r.stdout).toMatch(/extended:\s+\+1 month to 2024-03-31/);
    expect(r.stdout).toMatch(/extended:\s+\+1 month to 2024-04-30/);
    expect(r.stdout).toMatch(/GDPR Art\. 15/);
  });

  it('close starts the 60-day appeal window (gdpr-appeal); a closed request stays listed with its due date', async () => {
    const id = ids['2024-03-31']!;
    const r = await cli(['request', 'close', id, '--outcome', 'refused', '--reason', 'identity not verified', '--json'], { HANDOVER_NOW: '2024-04-10T09:00:00Z', ...ALLOW });
    expect(r.code, r.stderr).toBe(0);
    const closed = json(r)['request'];
    expect(closed).toMatchObject({ status: 'closed', outcome: 'refused', closeNote: 'identity not verified', retentionClass: 'gdpr-appeal' });
    expect(closed['appealUntil']?.slice(0, 10)).toBe('2024-06-09');

    const again = await cli(['request', 'close', id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/cannot close request .* it was closed/);
    const extend = await cli(['request', 'extend', id, '--months', '1', '--reason', 'x']);
    expect(extend.code).toBe(1);

    const list = await cli(['request', 'list'], { HANDOVER_NOW: '2024-05-01T00:00:00Z' });
    expect(list.stdout).toMatch(/erasure\s+priya\s+2024-03-31\s+2024-04-30\s+-\s+closed: refused/);
    const open = await cli(['request', 'list', '--status', 'open', '--json']);
    expect((json(open)['requests'] as Row[]).map((x) => x.id)).not.toContain(id);

    const audit = await cli(['audit', 'list', '--action', 'request.close', '--json']);
    const rec = json(audit)['records'][0];
    expect(rec).toMatchObject({ target: id, outcome: 'success', details: { outcome: 'refused', clockOverride: { now: '2024-04-10T09:00:00.000Z', source: 'HANDOVER_NOW' } } });
    // The subject is named by ref in the audit log.
    expect(rec['subjectRef']).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(json(audit))).not.toContain('priya');
  });

  it('an unknown request is an error that says how to list them', async () => {
    const r = await cli(['request', 'show', '00000000-0000-4000-8000-000000000000']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no request '00000000-0000-4000-8000-000000000000'; list them with 'handover request list'/);
  });
});

describe('handover request fulfil (local store)', () => {
  const tmp = tempDir('handover-fulfil-');
  const store = join(tmp.dir, 'store');
  afterAll(() => tmp.cleanup());
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> => runCli(['--store', store, ...args], { env });

  async function open(subject: string, type: string): Promise<string> {
    const r = await cli(['request', 'open', '--subject', subject, '--type', type, '--reason', `${type} request by e-mail`, '--json']);
    expect(r.code, r.stderr).toBe(0);
    return json(r)['request']['id'];
  }

  it('access: exports everything the subject took part in and links the archive', async () => {
    const id = await open('priya', 'access');
    const r = await cli(['request', 'fulfil', id.slice(0, 8), '--source', SOURCE, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const f = json(r);
    expect(f['fulfilment']).toMatchObject({ kind: 'export', scope: 'participant' });
    expect(f['archive']).toMatch(/^archives\/\d{8}\/export-download\//);
    expect(f['share']).toBeUndefined();
    expect(f['request']['archives']).toEqual([expect.objectContaining({ key: f['archive'] })]);
    // The archive's manifest answers this request.
    expect(f['export']['request']).toBe(id);
    const v = await cli(['verify', f['archive'], '--json']);
    expect(v.code, v.stderr).toBe(0);
    const show = await cli(['request', 'show', id]);
    expect(show.stdout).toContain(`archive:   ${f['archive']}`);
  });

  it('portability: exports what the subject provided (authored scope, Art. 20)', async () => {
    const id = await open('dmitri', 'portability');
    const r = await cli(['request', 'fulfil', id, '--source', SOURCE, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const f = json(r);
    expect(f['fulfilment']).toMatchObject({ kind: 'export', scope: 'authored', legalBasis: expect.stringContaining('Art. 20') });
    const audit = json(await cli(['audit', 'list', '--action', 'export', '--json']))['records'] as Row[];
    expect(audit.find((a) => a.target === f['archive'])?.details).toMatchObject({ scope: 'authored', request: id });
  });

  it('erasure: offboards the subject (confirmation required) and links the post-deletion backup', async () => {
    const id = await open('yossi', 'erasure');
    const refused = await cli(['request', 'fulfil', id, '--source', SOURCE]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/pass --yes/);

    const r = await cli(['request', 'fulfil', id, '--source', SOURCE, '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const f = json(r);
    expect(f['fulfilment']).toMatchObject({ kind: 'offboard' });
    expect(f['offboard']).toMatchObject({ status: 'completed', erasure: 'performed' });
    expect(f['archive']).toMatch(/^archives\/\d{8}\/post-deletion-backup\//);
    expect(f['request']['archives'].map((a: any) => a.key)).toEqual([f['archive']]);
    const members = json(await cli(['demo', 'members', '--json']))['members'].map((m: any) => m.id);
    expect(members).not.toContain('yossi');

    const close = await cli(['request', 'close', id, '--outcome', 'fulfilled', '--json']);
    expect(close.code, close.stderr).toBe(0);
    const after = await cli(['request', 'fulfil', id, '--source', SOURCE, '--yes']);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/was closed on .* cannot be fulfilled any more/);
  });
});

describe('handover request fulfil on an S3 store: a download link', () => {
  const bucket = 'handover-requests';
  const store = `s3://${bucket}/prod`;
  const tmp = tempDir('handover-fulfil-s3-');
  let moto: MotoServer;
  beforeAll(async () => {
    moto = await startMotoServer();
    await createBucket(moto.endpoint, bucket);
  });
  afterAll(async () => {
    await moto?.stop();
    tmp.cleanup();
  });
  const cli = (args: string[]): Promise<CliResult> => runCli(['--store', store, ...args], { cwd: tmp.dir, env: { ...motoEnv(moto.endpoint), XDG_CONFIG_HOME: join(tmp.dir, 'config') } });

  it('links the archive and a presigned link valid 7 days, which downloads the encrypted archive', async () => {
    const o = await cli(['request', 'open', '--subject', 'carol', '--type', 'access', '--reason', 'web form', '--json']);
    expect(o.code, o.stderr).toBe(0);
    const id = json(o)['request']['id'];
    const r = await cli(['request', 'fulfil', id, '--source', SOURCE, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const f = json(r);
    expect(f['share']['url']).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/${bucket}/prod/${f['archive'].replace(/[.+]/g, '\\$&')}\\?.*X-Amz-Signature=`));
    expect(f['share']['url']).toContain('X-Amz-Expires=604800');
    expect(Date.parse(f['share']['expiresAt']) - Date.now()).toBeGreaterThan(7 * 86_400_000 - 600_000);
    expect(f['request']['archives']).toEqual([expect.objectContaining({ key: f['archive'], shareUrl: f['share']['url'], shareExpiresAt: f['share']['expiresAt'] })]);

    const res = await fetch(f['share']['url']);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).subarray(0, 21).toString()).toBe('age-encryption.org/v1');

    // The link is a bearer credential: the audit log records that one was given, not the link.
    const audit = await cli(['audit', 'list', '--json']);
    const records = json(audit)['records'] as Row[];
    expect(records.find((x) => x.action === 'share')).toMatchObject({ target: f['archive'], details: { request: id } });
    expect(records.find((x) => x.action === 'request.link-archive')).toMatchObject({ details: { shared: true } });
    expect(JSON.stringify(records)).not.toContain('X-Amz-Signature');
  });
});

describe('closed request records are purged once their appeal window ends, unless a hold covers their subject', () => {
  const tmp = tempDir('handover-request-retention-');
  const store = join(tmp.dir, 'store');
  afterAll(() => tmp.cleanup());
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> => runCli(['--store', store, ...args], { env });
  const DAY = 86_400_000;
  const at = (days: number): string => new Date(Date.now() + days * DAY).toISOString();
  const ids: Record<string, string> = {};
  const keyOf = (who: string): string => `requests/${ids[who]}.json`;
  interface Decision {
    key: string;
    action: string;
    class?: string;
    holdId?: string;
  }
  let holdId: string;

  it('closes requests (the appeal window starts) and holds one subject', async () => {
    for (const who of ['priya', 'zoe', 'sam']) {
      const r = await cli(['request', 'open', '--subject', who, '--type', 'access', '--reason', 'by e-mail', '--json']);
      expect(r.code, r.stderr).toBe(0);
      ids[who] = json(r)['request']['id'];
    }
    for (const who of ['priya', 'zoe']) {
      const r = await cli(['request', 'close', ids[who]!, '--outcome', 'fulfilled', '--json']);
      expect(r.code, r.stderr).toBe(0);
    }
    const hold = await cli(['hold', 'add', '--subject', 'zoe', '--reason', 'complaint to the authority', '--actor', 'legal-a', '--json']);
    expect(hold.code, hold.stderr).toBe(0);
    holdId = json(hold)['hold']['id'];
  });

  it('`retention plan` inside the appeal window lists no request record', async () => {
    const r = await cli(['retention', 'plan', '--json'], { HANDOVER_NOW: at(59) });
    expect(r.code, r.stderr).toBe(0);
    const doc = json(r);
    expect((doc['decisions'] as Decision[]).filter((d) => d.key.startsWith('requests/'))).toEqual([]);
    expect(doc['coverage']['requestRecords']).toEqual({ listed: 3, read: 0 });
  });

  it('`retention plan` after it deletes the closed record, keeps the held one and never the open one', async () => {
    const r = await cli(['retention', 'plan', '--json'], { HANDOVER_NOW: at(61) });
    expect(r.code, r.stderr).toBe(0);
    const decisions = (json(r)['decisions'] as Decision[]).filter((d) => d.key.startsWith('requests/'));
    expect(decisions).toHaveLength(2);
    expect(decisions.find((d) => d.key === keyOf('priya'))).toMatchObject({ action: 'delete', class: 'gdpr-appeal' });
    expect(decisions.find((d) => d.key === keyOf('zoe'))).toMatchObject({ action: 'keep', holdId });
    const text = await cli(['retention', 'plan'], { HANDOVER_NOW: at(61) });
    expect(text.stdout).toContain(keyOf('priya'));
    // The open one was written long enough ago to be read too, and is never due.
    expect(text.stdout).toMatch(/request records: 3 listed, 3 read/);
  });

  it('`retention run` destroys it with an audit record and an erasure certificate; the held and the open ones stay', async () => {
    const r = await cli(['retention', 'run', '--json'], { HANDOVER_NOW: at(61), ...ALLOW });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ deleted: { count: 1 }, failed: [] });
    expect((await cli(['request', 'show', ids['priya']!])).code).toBe(1);
    expect((await cli(['request', 'show', ids['zoe']!])).code).toBe(0);
    expect((await cli(['request', 'show', ids['sam']!])).code).toBe(0);

    const audit = json(await cli(['audit', 'list', '--action', 'retention.purge', '--json']))['records'];
    const purged = audit.find((x: Row) => x.details['keys'] !== undefined);
    expect(purged.details['keys']).toEqual([keyOf('priya')]);
    const certId = (purged.details['certificates'] as { id: string }[])[0]!.id;
    const cert = await cli(['audit', 'certificate', certId]);
    expect(cert.code, cert.stderr).toBe(0);
    expect(cert.stdout).toContain(keyOf('priya'));
    expect(cert.stdout).toContain('gdpr-appeal');
  });

  it('once the hold is released by two people, the next run purges the held record too', async () => {
    for (const actor of ['legal-a', 'legal-b']) {
      const r = await cli(['hold', 'approve-release', holdId, '--actor', actor, '--reason', 'complaint closed']);
      expect(r.code, r.stderr).toBe(0);
    }
    const r = await cli(['retention', 'run', '--json'], { HANDOVER_NOW: at(62), ...ALLOW });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ deleted: { count: 1 } });
    expect((await cli(['request', 'show', ids['zoe']!])).code).toBe(1);
    expect((await cli(['request', 'show', ids['sam']!])).code).toBe(0);
  });
});
