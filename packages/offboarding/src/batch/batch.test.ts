import { createMemoryStore } from '@handover/core';
import fc from 'fast-check';
import { BatchJournal, batchNameFromFile } from './batch-journal.js';
import { parseMemberList } from './member-list.js';
import { runBatch } from './run-batch.js';
import { assertBatchSize, parseShard, selectShard, shardOf, suggestShardCount } from './shard.js';

const ids = (n: number, prefix = 'member'): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);

describe('parseMemberList', () => {
  it('reads one id per line, skipping blanks and comments, dropping duplicates', () => {
    const list = parseMemberList('\uFEFF# leavers Q3\r\nalice\r\n\r\n  bob  \nalice\n# done\nzoe.muller@globex.example\n', 'leavers.txt');
    expect(list).toEqual({
      ids: ['alice', 'bob', 'zoe.muller@globex.example'],
      format: 'lines',
      duplicates: [{ id: 'alice', line: 5, firstLine: 2 }],
    });
    expect(parseMemberList('', 'empty.txt').ids).toEqual([]);
  });

  it('names the line of an id that is not one', () => {
    expect(() => parseMemberList('alice\nbob okafor\n', 'leavers.txt')).toThrow(
      expect.objectContaining({ code: 'E_BATCH_FILE', message: expect.stringMatching(/^leavers\.txt:2: 'bob okafor' is not one member id/) }),
    );
  });

  it('reads the id column of a CSV, with quoted fields', () => {
    const csv = ['# exported from HR', 'Name,Email,ID', '"Okafor, Bob",bob@acme.example,bob', 'Alice,alice@acme.example, alice ', '"Zoë ""Z"" Müller",zoe@globex.example,"zoe"', ''].join('\n');
    expect(parseMemberList(csv, 'hr.csv')).toMatchObject({ ids: ['bob', 'alice', 'zoe'], format: 'csv', column: 'ID' });
    // Without an id column, member_id, member, username, then email.
    expect(parseMemberList('name,email\nBob,bob@acme.example\n', 'x.csv')).toMatchObject({ ids: ['bob@acme.example'], column: 'email' });
    expect(parseMemberList('username,member_id\nb,U1\n', 'x.csv').ids).toEqual(['U1']);
    // One column with a header is a CSV too.
    expect(parseMemberList('id\nalice\nbob\n', 'x.csv')).toMatchObject({ ids: ['alice', 'bob'], format: 'csv' });
  });

  it('names the line of a CSV problem', () => {
    const err = (text: string) => {
      try {
        parseMemberList(text, 'hr.csv');
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err('# x\nname,team\nBob,red\n')).toBe('hr.csv:2: the CSV header has no member column: expected one of id, member_id, member, username, email (found: name, team)');
    expect(err('id,name\nalice,A\n,B\n')).toBe("hr.csv:3: no member id in column 'id'");
    expect(err('id,name\nalice,"A\nbob,B\n')).toBe('hr.csv:2: a quoted field is not closed (quoted fields cannot span lines)');
  });
});

describe('batch size and shards', () => {
  it('accepts 200 members and refuses 201 with a clear way out', () => {
    expect(() => assertBatchSize(ids(200), { file: 'leavers.csv' })).not.toThrow();
    let error: unknown;
    try {
      assertBatchSize(ids(201), { file: 'leavers.csv' });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'E_BATCH_TOO_LARGE', exitCode: 2 });
    expect((error as Error).message).toMatch(
      /^201 members in leavers\.csv; the platform allows at most 200 per batch: split the file, or run with --shard i\/n so that each shard has at most 200 \(e\.g\. \d+ shards: --shard 0\/\d+ … --shard \d+\/\d+\)$/,
    );
  });

  it('suggests a shard count whose shards all fit, and checks a shard that does not', () => {
    const all = ids(1000);
    const n = suggestShardCount(all);
    expect(n).toBeGreaterThanOrEqual(5);
    for (let i = 0; i < n; i++) expect(() => assertBatchSize(selectShard(all, { index: i, count: n }), { file: 'f', shard: { index: i, count: n }, all })).not.toThrow();
    const big = selectShard(all, { index: 0, count: 2 });
    expect(() => assertBatchSize(big, { file: 'f', shard: { index: 0, count: 2 }, all })).toThrow(/^shard 0\/2 of f has \d+ members; .*use more shards/);
  });

  it('parses 0-based i/n and explains the range', () => {
    expect(parseShard('0/4')).toEqual({ index: 0, count: 4 });
    expect(parseShard(' 3 / 4 ')).toEqual({ index: 3, count: 4 });
    expect(() => parseShard('4/4')).toThrow(/shard index 4 is out of range for 4 shards: indices are 0-based \(0\.\.3\), as Kubernetes' JOB_COMPLETION_INDEX/);
    expect(() => parseShard('0/0')).toThrow(expect.objectContaining({ code: 'E_BATCH_SHARD' }));
    expect(() => parseShard('a/b')).toThrow(/is not i\/n/);
  });

  it('partitions any list exactly: shards are disjoint and together the list, in list order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { maxLength: 300 }), fc.integer({ min: 1, max: 16 }), (list, n) => {
        const shards = Array.from({ length: n }, (_, i) => selectShard(list, { index: i, count: n }));
        expect(shards.reduce((a, s) => a + s.length, 0)).toBe(list.length);
        expect(new Set(shards.flat())).toEqual(new Set(list));
        for (const s of shards) expect(s).toEqual(list.filter((id) => s.includes(id)));
      }),
    );
  });

  it('keeps every member in its shard when others are added or removed', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1 }), { maxLength: 100 }),
        fc.uniqueArray(fc.string({ minLength: 1 }), { maxLength: 100 }),
        fc.integer({ min: 1, max: 12 }),
        (list, extra, n) => {
          const grown = [...new Set([...extra, ...list])];
          for (let i = 0; i < n; i++) {
            const before = selectShard(list, { index: i, count: n });
            const after = new Set(selectShard(grown, { index: i, count: n }));
            for (const id of before) expect(after.has(id)).toBe(true);
          }
        },
      ),
    );
    expect(shardOf('alice', 7)).toBe(shardOf('alice', 7));
  });
});

describe('runBatch', () => {
  const refOf = (id: string) => `ref-${Buffer.from(id).toString('hex')}`;

  it('runs 200 members, a few failing, and completes all the others; a rerun does only the failed ones', async () => {
    const store = createMemoryStore();
    const list = ids(200);
    const journal = () => new BatchJournal(store, { operation: 'offboard', name: batchNameFromFile('/tmp/Leavers Q3.csv'), refOf });
    const failing = new Set(['member-1', 'member-50', 'member-133', 'member-200']);
    let inFlight = 0;
    let maxInFlight = 0;
    const calls: string[] = [];
    const run = async (id: string) => {
      calls.push(id);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await Promise.resolve();
        if (failing.has(id)) throw Object.assign(new Error(`platform said no to ${id}\nstack-ish detail`), { code: 'E_PLATFORM' });
        return { archiveKey: `archives/${id}.zip` };
      } finally {
        inFlight--;
      }
    };

    const first = await runBatch(list, { run, concurrency: 8, journal: journal() });
    expect(first).toMatchObject({ done: 196, failed: 4, skipped: 0, notRun: 0, ok: false });
    expect(first.outcomes.map((o) => o.id)).toEqual(list);
    expect(first.outcomes.find((o) => o.id === 'member-50')).toEqual({ id: 'member-50', status: 'failed', error: 'platform said no to member-50', code: 'E_PLATFORM' });
    expect(first.outcomes.find((o) => o.id === 'member-2')).toEqual({ id: 'member-2', status: 'done', result: { archiveKey: 'archives/member-2.zip' } });
    expect(maxInFlight).toBeLessThanOrEqual(8);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(await journal().doneRecord('member-2')).toMatchObject({ details: { archiveKey: 'archives/member-2.zip' } });

    // Keys carry refs, not ids.
    for await (const e of store.list('batches/')) expect(e.key).toMatch(/^batches\/offboard\/leavers-q3\/done\/ref-[0-9a-f]+\.json$/);

    failing.clear();
    calls.length = 0;
    const events: string[] = [];
    const second = await runBatch(list, { run, concurrency: 3, journal: journal(), onEvent: (e) => events.push(e.type) });
    expect(second).toMatchObject({ done: 4, skipped: 196, failed: 0, ok: true });
    expect(calls.sort()).toEqual(['member-1', 'member-133', 'member-200', 'member-50']);
    expect(events.filter((e) => e === 'skipped')).toHaveLength(196);
  });

  it('also skips members another record says are done, and stops starting members once aborted', async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const summary = await runBatch(ids(10), {
      concurrency: 1,
      isDone: async (id) => id === 'member-2',
      signal: controller.signal,
      run: async (id) => {
        seen.push(id);
        if (id === 'member-4') controller.abort();
      },
    });
    expect(summary.outcomes.map((o) => o.status)).toEqual(['done', 'skipped', 'done', 'done', ...new Array(6).fill('not-run')]);
    expect(summary.ok).toBe(false);
    expect(seen).toEqual(['member-1', 'member-3', 'member-4']);
  });

  it('refuses a concurrency outside 1..64 and bad batch names', async () => {
    await expect(runBatch(['a'], { run: async () => undefined, concurrency: 0 })).rejects.toMatchObject({ code: 'E_BATCH_INPUT' });
    expect(() => new BatchJournal(createMemoryStore(), { operation: 'offboard', name: '../x', refOf })).toThrow(expect.objectContaining({ code: 'E_BATCH_INPUT' }));
    expect(batchNameFromFile('/data/.csv')).toBe('batch');
  });
});
