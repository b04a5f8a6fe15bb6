// End to end: `handover batch export|offboard`. A list of 200 members (the 13 of the demo
// workspace and 187 that do not exist), one member's failure never stopping the others,
// reruns skipping what is done, the 200-member platform limit, --shard i/n for workers side
// by side, and progress only on a terminal.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runCli, startCli, finished, tempDir, ROOT, BIN, TEST_MASTER_KEY, type CliResult } from './support/cli.js';

const SOURCE = 'demo:messages=100,attachmentBytes=0';
const DEMO = ['alice', 'bob', 'carol', 'dmitri', 'fatima', 'wang.wei', 'li.na', 'yossi', 'zoe', 'priya', 'sam', 'erin', 'bot.deploy'];
/** Members of the demo nothing blocks (the others are sole owners or have pending work). */
const UNBLOCKED = ['dmitri', 'fatima', 'yossi', 'zoe', 'priya', 'sam', 'erin', 'bot.deploy'];
const ghosts = (n: number, from = 1): string[] => Array.from({ length: n }, (_, i) => `ghost-${String(from + i).padStart(3, '0')}`);

function json<T = Record<string, any>>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${r.code}):\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => statSync(join(dir, f)).isFile()).sort();
}

interface Outcome {
  id: string;
  status: 'done' | 'skipped' | 'failed' | 'not-run';
  archive?: string;
  error?: string;
  code?: string;
}

describe('handover batch export', () => {
  const tmp = tempDir('handover-batch-');
  const store = join(tmp.dir, 'store');
  afterAll(() => tmp.cleanup());
  const cli = (args: string[]): Promise<CliResult> => runCli(['--store', store, ...args]);
  /** 200 lines: the demo's 13 members spread among 187 unknown ids, with a comment and a blank line. */
  const list = join(tmp.dir, 'Leavers Q3.txt');
  const ids = [...ghosts(187)];
  DEMO.forEach((id, i) => ids.splice(i * 14, 0, id));

  beforeAll(() => {
    writeFileSync(list, `# leavers, one id per line\n\n${ids.join('\n')}\n`);
  });

  it('runs all 200: one outcome per member in list order; the unknown ones fail without stopping the others', async () => {
    const r = await cli(['batch', 'export', '--members', list, '--source', SOURCE, '--concurrency', '6', '--json']);
    expect(r.code, r.stderr).toBe(1);
    const s = json(r);
    expect(s).toMatchObject({ operation: 'export', name: 'leavers-q3', total: 200, listed: 200, done: 13, skipped: 0, failed: 187, notRun: 0, ok: false });
    const outcomes = s['members'] as Outcome[];
    expect(outcomes.map((o) => o.id)).toEqual(ids);
    for (const o of outcomes) {
      if (DEMO.includes(o.id)) {
        expect(o.status, o.error).toBe('done');
        expect(o.archive).toMatch(/^archives\/\d{8}\/export-download\/[0-9a-f]+\/.+\.zip\.age$/);
      } else {
        expect(o).toMatchObject({ status: 'failed', code: 'E_MEMBER_NOT_FOUND' });
        expect(o.error).toMatch(new RegExp(`^member '${o.id}' not found in source 'demo'`));
      }
    }
    expect(filesUnder(join(store, 'archives'))).toHaveLength(13);
    // Nothing but the one JSON document on stdout, and no progress on a pipe.
    expect(r.stderr).not.toMatch(/\x1b\[|\[█|░/);
  });

  it('a rerun skips the members already done and retries the others', async () => {
    const r = await cli(['batch', 'export', '--members', list, '--source', SOURCE, '--concurrency', '6']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^MEMBER\s+OUTCOME\s+ARCHIVE \/ ERROR/);
    expect(r.stdout).toMatch(/\nalice\s+skipped\s+archives\/\d{8}\/export-download\//);
    expect(r.stdout).toMatch(/\nghost-001\s+failed\s+member 'ghost-001' not found/);
    expect(r.stdout).toMatch(/export batch 'leavers-q3': 200 members: 0 done, 13 skipped \(done before\), 187 failed/);
    expect(r.stderr).toMatch(/error: 187 failed of 200 members/);
    expect(filesUnder(join(store, 'archives'))).toHaveLength(13);
  });

  it('refuses a list over the platform limit of 200 (exit 2), naming a shard count that fits', async () => {
    const big = join(tmp.dir, 'big.csv');
    // A CSV this time: quoted names with commas, the id in the second column.
    writeFileSync(big, `name,id\n${[...ids, 'ghost-999'].map((id) => `"${id}, leaver",${id}`).join('\n')}\n`);
    const r = await cli(['batch', 'export', '--members', big, '--source', SOURCE, '--json']);
    expect(r.code).toBe(2);
    expect(json(r)['error']['code']).toBe('E_BATCH_TOO_LARGE');
    expect(r.stderr).toMatch(/201 members in .*big\.csv; the platform allows at most 200 per batch: split the file, or run with --shard i\/n .*--shard 0\/2 … --shard 1\/2/);
    expect(filesUnder(join(store, 'batches/export/big'))).toEqual([]);

    const bad = await cli(['batch', 'export', '--members', big, '--shard', '2/2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/shard index 2 is out of range for 2 shards: indices are 0-based/);
  });

  it('--shard i/n: two workers side by side split the list exactly, and the batch name carries the done members over', async () => {
    const big = join(tmp.dir, 'big.csv');
    // Started together, as two pods of an Indexed Job; same batch name as the first list, so its done members are skipped.
    const workers = [0, 1].map((i) =>
      finished(
        startCli(['--store', store, 'batch', 'export', '--members', big, '--shard', `${i}/2`, '--name', 'leavers-q3', '--source', SOURCE, '--json']),
      ),
    );
    const [a, b] = await Promise.all(workers);
    const sa = json(a!);
    const sb = json(b!);
    expect(sa['shard']).toBe('0/2');
    expect(sb['shard']).toBe('1/2');
    const ia = (sa['members'] as Outcome[]).map((o) => o.id);
    const ib = (sb['members'] as Outcome[]).map((o) => o.id);
    expect(ia.length + ib.length).toBe(201);
    expect(ia.filter((id) => ib.includes(id))).toEqual([]);
    expect(new Set([...ia, ...ib])).toEqual(new Set([...ids, 'ghost-999']));
    expect(ia.length).toBeLessThanOrEqual(200);
    // Stable: the same shard again selects the same members.
    const again = await cli(['batch', 'export', '--members', big, '--shard', '0/2', '--name', 'leavers-q3', '--source', SOURCE, '--json']);
    expect((json(again)['members'] as Outcome[]).map((o) => o.id)).toEqual(ia);
    // Every demo member was already done by the first run: nothing exported twice.
    for (const o of [...(sa['members'] as Outcome[]), ...(sb['members'] as Outcome[])]) {
      expect(o.status).toBe(DEMO.includes(o.id) ? 'skipped' : 'failed');
    }
    expect(filesUnder(join(store, 'archives'))).toHaveLength(13);
  });

  it('usage errors exit 2: a missing file, a bad line, a bad concurrency', async () => {
    const missing = await cli(['batch', 'export', '--members', join(tmp.dir, 'nope.txt')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the member list .*nope\.txt.*no such file/);
    const spaced = join(tmp.dir, 'spaced.txt');
    writeFileSync(spaced, 'alice\nbob smith\n');
    const bad = await cli(['batch', 'export', '--members', spaced]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/spaced\.txt:2: 'bob smith' is not one member id/);
    const conc = await cli(['batch', 'export', '--members', list, '--concurrency', '0']);
    expect(conc.code).toBe(2);
    expect(conc.stderr).toMatch(/--concurrency '0' must be a whole number from 1 to 64/);
  });

  it('on a terminal: a multi-bar, one line per member in flight plus the total', async () => {
    const small = join(tmp.dir, 'tty.txt');
    writeFileSync(small, 'priya\nzoe\nghost-tty\n');
    const cmd = [process.execPath, BIN, '--store', store, 'batch', 'export', '--members', small, '--source', SOURCE].map((a) => `'${a}'`).join(' ');
    const r = await run('script', ['-qec', cmd, '/dev/null'], { cwd: ROOT, env: { HANDOVER_MASTER_KEY: TEST_MASTER_KEY, HANDOVER_LOG_LEVEL: 'warn' } });
    expect(r.code).toBe(1);
    // The total line, and a line for a member being exported (each takes far longer than a frame).
    expect(r.stdout).toMatch(/export tty \[[█░]+\] \d\/3 \| \d done, 0 skipped, \d failed/);
    expect(r.stdout).toMatch(/ {2}(priya|zoe) \| (starting|\d+ messages)/);
    expect(r.stdout).toMatch(/export batch 'tty': 3 members: 2 done, 0 skipped \(done before\), 1 failed/);
  });
});

describe('handover batch offboard', () => {
  const tmp = tempDir('handover-batch-off-');
  const store = join(tmp.dir, 'store');
  afterAll(() => tmp.cleanup());
  const cli = (args: string[]): Promise<CliResult> => runCli(['--store', store, ...args]);
  const list = join(tmp.dir, 'offboard.csv');
  const ids = [...DEMO, ...ghosts(187)];

  beforeAll(() => {
    writeFileSync(list, `member_id,team\n${ids.map((id) => `${id},ops`).join('\n')}\n`);
  });

  it('asks for confirmation: without a terminal and without --yes it is a usage error, and nothing is erased', async () => {
    const r = await cli(['batch', 'offboard', '--members', list, '--reason', 'office closed', '--source', SOURCE]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/erasing 200 members cannot be undone.*pass --yes/);
    expect(filesUnder(join(store, 'sources'))).toEqual([]);
  });

  it('offboards the members nothing blocks; blocked and unknown members fail with their reason, alone', async () => {
    const r = await cli(['batch', 'offboard', '--members', list, '--reason', 'office closed', '--source', SOURCE, '--yes', '--concurrency', '4', '--json']);
    expect(r.code, r.stderr).toBe(1);
    const s = json(r);
    expect(s).toMatchObject({ operation: 'offboard', name: 'offboard', total: 200, done: UNBLOCKED.length, skipped: 0, failed: 200 - UNBLOCKED.length });
    const byId = new Map((s['members'] as Outcome[]).map((o) => [o.id, o]));
    for (const id of UNBLOCKED) expect(byId.get(id), byId.get(id)?.error).toMatchObject({ status: 'done', archive: expect.stringMatching(/^archives\/\d{8}\/post-deletion-backup\//) });
    for (const id of ['alice', 'carol', 'wang.wei', 'bob', 'li.na']) expect(byId.get(id)).toMatchObject({ status: 'failed', code: 'E_OFFBOARD_BLOCKED' });
    expect(byId.get('alice')!.error).toMatch(/cannot offboard 'alice' while/);
    expect(byId.get('ghost-001')).toMatchObject({ status: 'failed', code: 'E_MEMBER_NOT_FOUND' });

    const members = json(await cli(['demo', 'members', '--json']))['members'].map((m: any) => m.id);
    expect(members.sort()).toEqual(['alice', 'bob', 'carol', 'li.na', 'wang.wei']);
    expect(filesUnder(join(store, 'sources/demo/seed-42/erased'))).toHaveLength(UNBLOCKED.length);
  });

  it('a rerun with --force skips the members done and offboards the blocked ones', async () => {
    const r = await cli([
      'batch', 'offboard', '--members', list, '--reason', 'office closed', '--source', SOURCE, '--yes',
      '--force', '--force-reason', 'organisations handed over to the new owner', '--json',
    ]);
    expect(r.code).toBe(1);
    const s = json(r);
    expect(s).toMatchObject({ done: 5, skipped: UNBLOCKED.length, failed: 187 });
    const byId = new Map((s['members'] as Outcome[]).map((o) => [o.id, o]));
    for (const id of UNBLOCKED) expect(byId.get(id)).toMatchObject({ status: 'skipped', archive: expect.stringMatching(/post-deletion-backup/) });
    expect(json(await cli(['demo', 'members', '--json']))['members']).toEqual([]);
    // One erasure and one backup per member, whatever the reruns.
    expect(filesUnder(join(store, 'sources/demo/seed-42/erased'))).toHaveLength(13);
    expect(filesUnder(join(store, 'archives'))).toHaveLength(13);

    const audit = await cli(['audit', 'list', '--action', 'offboard.erase', '--json']);
    expect(json(audit)['records']).toHaveLength(13);
    const forced = await cli(['audit', 'list', '--action', 'offboard.force', '--json']);
    expect(json(forced)['records']).toHaveLength(5);
    const verify = await cli(['audit', 'verify', '--json']);
    expect(verify.code, verify.stdout).toBe(0);
  });
});
