import { readFileSync } from 'node:fs';
import { Command, Option } from '@commander-js/extra-typings';
import cliProgress from 'cli-progress';
import { HandoverError, InputError } from '@handover/core';
import {
  assertBatchSize,
  BatchError,
  BatchJournal,
  batchNameFromFile,
  parseMemberList,
  parseShard,
  readOffboardingJournal,
  runBatch,
  selectShard,
  type BatchEvent,
  type BatchOutcome,
  type BatchSummary,
  type Shard,
} from '@handover/offboarding';
import { createContext, type CommandContext, type GlobalOptions } from '../context.js';
import { runExport } from '../export-service.js';
import { confirmOnTerminal, openOffboardDeps, runOffboard } from '../offboard-service.js';
import { createOutput, formatBytes, table } from '../output.js';
import { openConfiguredStore, openKeyRing, type StoreContext } from '../store-context.js';
import type { RunEnv } from '../run-env.js';

/*
 * `handover batch export|offboard --members <file>`: one operation for many members, a few
 * at a time. The list is a CSV with an id column or one id per line; at most 200 members
 * (the platform's limit) per run, so a longer list must be split, by file or with
 * `--shard i/n` (0-based, stable: a member's shard depends only on its id and n, so n
 * workers of a Kubernetes Indexed Job can each take `--shard $JOB_COMPLETION_INDEX/n`).
 * A list over the limit is a usage error (exit 2). One member's failure is its outcome
 * only; the command exits 1 when any member failed. Members a previous run of the same
 * batch (operation + name) finished are skipped.
 */

/** Some members failed: the summary is printed; exit 1. */
class BatchFailedError extends HandoverError {
  constructor(summary: BatchSummary<unknown>, total: number) {
    const parts = [summary.failed > 0 ? `${summary.failed} failed` : '', summary.notRun > 0 ? `${summary.notRun} not run` : ''].filter(Boolean).join(', ');
    super('E_BATCH_FAILED', `${parts} of ${total} member${total === 1 ? '' : 's'}: see the summary; run the same command again to retry them (done members are skipped)`, { reported: true });
  }
}

interface BatchMembers {
  file: string;
  /** Members of this run (this shard), in file order. */
  ids: string[];
  /** Members in the file. */
  listed: number;
  shard?: Shard;
  duplicates: number;
}

function loadMembers(file: string, shardText: string | undefined): BatchMembers {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new BatchError('E_BATCH_FILE', `cannot read the member list '${file}': ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, { cause: err });
  }
  const list = parseMemberList(text, file);
  const shard = shardText === undefined ? undefined : parseShard(shardText);
  const ids = shard === undefined ? list.ids : selectShard(list.ids, shard);
  assertBatchSize(ids, { file, ...(shard ? { shard, all: list.ids } : {}) });
  return { file, ids, listed: list.ids.length, ...(shard ? { shard } : {}), duplicates: list.duplicates.length };
}

function parseConcurrency(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1 || n > 64) {
    throw new InputError(`--concurrency '${text}' must be a whole number from 1 to 64`, { exitCode: 2 });
  }
  return n;
}

/** The multi-bar on a terminal: one line per member in flight, plus the total. Nothing on a pipe. */
interface BatchProgress {
  event(e: BatchEvent): void;
  detail(id: string, text: string): void;
  stop(): void;
}

function createBatchProgress(stream: NodeJS.WriteStream, operation: string, total: number): BatchProgress {
  if (!stream.isTTY || total === 0) return { event: () => undefined, detail: () => undefined, stop: () => undefined };
  const multi = new cliProgress.MultiBar(
    { stream, hideCursor: true, clearOnComplete: true, fps: 8, format: '  {member} | {detail}' },
    cliProgress.Presets.shades_classic,
  );
  const counts = { done: 0, skipped: 0, failed: 0 };
  const summary = (): string => `${counts.done} done, ${counts.skipped} skipped, ${counts.failed} failed`;
  const totalBar = multi.create(total, 0, { detail: summary() }, { format: `${operation} [{bar}] {value}/{total} | {detail}` });
  const bars = new Map<string, cliProgress.SingleBar>();
  const finish = (id: string, what: keyof typeof counts): void => {
    const bar = bars.get(id);
    if (bar) multi.remove(bar);
    bars.delete(id);
    counts[what]++;
    totalBar.increment(1, { detail: summary() });
  };
  return {
    event(e) {
      if (e.type === 'start') bars.set(e.id, multi.create(1, 0, { member: e.id, detail: 'starting' }));
      else if (e.type === 'done') finish(e.id, 'done');
      else if (e.type === 'skipped') finish(e.id, 'skipped');
      else finish(e.id, 'failed');
    },
    detail(id, text) {
      bars.get(id)?.update(0, { member: id, detail: text });
    },
    stop: () => multi.stop(),
  };
}

interface MemberResult {
  /** The stored archive (export) or the post-deletion backup (offboard). */
  archive?: string;
  sha256?: string;
  /** Offboard: completed now, or found completed. */
  offboarding?: string;
}

interface Row {
  id: string;
  status: BatchOutcome<MemberResult>['status'];
  archive?: string;
  error?: string;
  code?: string;
  warning?: string;
}

async function rowsOf(summary: BatchSummary<MemberResult>, journal: BatchJournal): Promise<Row[]> {
  const rows: Row[] = [];
  for (const o of summary.outcomes) {
    let archive = o.result?.archive;
    // A skipped member's archive is what the run that did it recorded.
    if (o.status === 'skipped' && archive === undefined) {
      const rec = await journal.doneRecord(o.id).catch(() => undefined);
      const a = rec?.details?.['archive'];
      if (typeof a === 'string') archive = a;
    }
    rows.push({
      id: o.id,
      status: o.status,
      ...(archive ? { archive } : {}),
      ...(o.error ? { error: o.error } : {}),
      ...(o.code ? { code: o.code } : {}),
      ...(o.warning ? { warning: o.warning } : {}),
    });
  }
  return rows;
}

interface SharedOpts {
  members: string;
  concurrency: string;
  shard?: string;
  name?: string;
  source?: string;
  masterKeyFile?: string;
  json: boolean;
}

async function runBatchCommand(
  env: RunEnv,
  ctx: CommandContext,
  sc: StoreContext,
  operation: 'export' | 'offboard',
  opts: SharedOpts,
  members: BatchMembers,
  run: (id: string, progress: BatchProgress) => Promise<MemberResult>,
  isDone?: (id: string) => Promise<boolean>,
): Promise<void> {
  const out = createOutput(opts.json, env.stdout, env.stderr);
  const concurrency = parseConcurrency(opts.concurrency);
  const ring = await openKeyRing(ctx, sc, {
    ...(opts.masterKeyFile ? { file: opts.masterKeyFile } : {}),
    create: true,
    onCreated: (f) => out.warn(`created a new master key at ${f}: back it up, without it no archive in this store can be decrypted`),
  });
  const name = opts.name ?? batchNameFromFile(members.file);
  const journal = new BatchJournal(sc.store, { operation, name, refOf: (id) => ring.subjectRef(id) });
  if (members.duplicates > 0) out.note(`${members.duplicates} duplicate line${members.duplicates === 1 ? '' : 's'} in ${members.file} ignored`);
  const progress = createBatchProgress(env.stderr, `${operation} ${name}`, members.ids.length);
  let summary: BatchSummary<MemberResult>;
  try {
    summary = await runBatch(members.ids, {
      run: (id) => run(id, progress),
      concurrency,
      journal,
      ...(isDone ? { isDone } : {}),
      details: (r) => ({ ...(r.archive ? { archive: r.archive } : {}), ...(r.sha256 ? { sha256: r.sha256 } : {}) }),
      onEvent: (e) => progress.event(e),
      signal: env.signal,
    });
  } finally {
    progress.stop();
  }
  const rows = await rowsOf(summary, journal);
  const doc = {
    operation,
    name,
    file: members.file,
    ...(members.shard ? { shard: `${members.shard.index}/${members.shard.count}` } : {}),
    listed: members.listed,
    total: members.ids.length,
    done: summary.done,
    skipped: summary.skipped,
    failed: summary.failed,
    notRun: summary.notRun,
    ok: summary.ok,
    members: rows,
  };
  out.result(doc, () =>
    [
      rows.length === 0
        ? `no members in ${members.shard ? `shard ${doc.shard} of ` : ''}${members.file}`
        : table(['MEMBER', 'OUTCOME', 'ARCHIVE / ERROR'], rows.map((r) => [r.id, r.status, r.error ?? r.archive ?? r.warning ?? ''])),
      '',
      `${operation} batch '${name}'${doc.shard ? ` shard ${doc.shard}` : ''}: ${doc.total} member${doc.total === 1 ? '' : 's'}: ${doc.done} done, ${doc.skipped} skipped (done before), ${doc.failed} failed${doc.notRun ? `, ${doc.notRun} not run` : ''}`,
    ].join('\n'),
  );
  if (!summary.ok && !env.signal.aborted) throw new BatchFailedError(summary, members.ids.length);
}

export function batchCommand(env: RunEnv): Command<[], Record<string, unknown>> {
  const batch = new Command('batch').description('export or offboard many members from a list (at most 200 per run; --shard i/n splits a longer list between workers)');

  batch
    .command('export')
    .description('export every member of the list into the store; a rerun skips members already exported by this batch')
    .requiredOption('--members <file>', 'the members: a CSV with an id, member_id, member, username or email column, or one id per line')
    .option('--concurrency <n>', 'members processed at the same time (1-64)', '4')
    .option('--shard <i/n>', 'take only shard i of n (0-based, stable across workers), e.g. --shard $JOB_COMPLETION_INDEX/4')
    .option('--name <name>', 'the batch name that reruns are recognised by (default: from the file name)')
    .option('--source <source>', 'demo, demo:<seed>, slack:<export.zip|dir>, mattermost:<export.zip|file.jsonl>')
    .addOption(new Option('--scope <scope>', 'participant: everything in their conversations; authored: only what they wrote').choices(['participant', 'authored'] as const).default('participant' as const))
    .option('--class <class>', 'retention class of the stored archives', 'export-download')
    .option('--reason <text>', 'why these exports are made (recorded in each manifest)')
    .option('--no-html', 'leave out the human-readable HTML pages')
    .option('--master-key-file <file>', 'file holding the master key (env HANDOVER_MASTER_KEY)')
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const members = loadMembers(opts.members, opts.shard);
      parseConcurrency(opts.concurrency);
      const sc = openConfiguredStore(ctx);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      await runBatchCommand(env, ctx, sc, 'export', opts, members, async (id, progress) => {
        const r = await runExport(ctx, sc, {
          member: id,
          ...(opts.source ? { source: opts.source } : {}),
          scope: opts.scope,
          class: opts.class,
          html: opts.html,
          reason: opts.reason ?? `batch export '${opts.name ?? batchNameFromFile(opts.members)}'`,
          ...(opts.masterKeyFile ? { masterKeyFile: opts.masterKeyFile } : {}),
          onProgress: (p) => progress.detail(id, `${p.messages} messages, ${p.files} files, ${formatBytes(p.bytes)}`),
          warn: (t) => out.warn(`${id}: ${t}`),
          signal: env.signal,
        });
        return { archive: r.key ?? r.archive, sha256: r.sha256 };
      });
    });

  batch
    .command('offboard')
    .description('offboard every member of the list (see handover offboard); a rerun skips members already offboarded and continues interrupted ones')
    .requiredOption('--members <file>', 'the members: a CSV with an id, member_id, member, username or email column, or one id per line')
    .option('--concurrency <n>', 'members processed at the same time (1-64)', '4')
    .option('--shard <i/n>', 'take only shard i of n (0-based, stable across workers), e.g. --shard $JOB_COMPLETION_INDEX/4')
    .option('--name <name>', 'the batch name that reruns are recognised by (default: from the file name)')
    .option('--source <source>', 'demo, demo:<seed>, slack:<export.zip|dir>, mattermost:<export.zip|file.jsonl>')
    .requiredOption('--reason <text>', 'why these members are offboarded (recorded for each)')
    .option('--force', 'proceed despite non-legal blockers (sole owner or admin, pending work); never despite a legal hold', false)
    .option('--force-reason <text>', 'why the blockers may be ignored (required with --force)')
    .option('--yes', 'confirm the erasures without the prompt: they cannot be undone', false)
    .option('--master-key-file <file>', 'file holding the master key (env HANDOVER_MASTER_KEY)')
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const members = loadMembers(opts.members, opts.shard);
      parseConcurrency(opts.concurrency);
      if (opts.reason.trim() === '') throw new InputError('--reason must say why the members are offboarded', { exitCode: 2 });
      if (opts.force && (opts.forceReason === undefined || opts.forceReason.trim() === '')) {
        throw new InputError('--force needs its own reason (--force-reason): why the blockers may be ignored; it is recorded in the audit log', { exitCode: 2 });
      }
      const out = createOutput(opts.json, env.stdout, env.stderr);
      const n = members.ids.length;
      if (n > 0 && !opts.yes) {
        const ok = await confirmOnTerminal(
          env,
          `This batch offboards ${n} member${n === 1 ? '' : 's'} of ${members.file}, erasing each in the source; this cannot be undone.\nType the number of members (${n}) to confirm: `,
          String(n),
          `erasing ${n} member${n === 1 ? '' : 's'}`,
        );
        if (!ok) throw new InputError(`confirmation did not match ${n}: nothing was done`, { code: 'E_OFFBOARD_NOT_CONFIRMED', exitCode: 2 });
      }
      const sc = openConfiguredStore(ctx);
      const deps = await openOffboardDeps(ctx, sc, { ...(opts.masterKeyFile ? { masterKeyFile: opts.masterKeyFile } : {}), create: true, warn: (t) => out.warn(t) });
      await runBatchCommand(
        env,
        ctx,
        sc,
        'offboard',
        opts,
        members,
        async (id, progress) => {
          const r = await runOffboard(
            ctx,
            sc,
            {
              member: id,
              reason: opts.reason,
              ...(opts.source ? { source: opts.source } : {}),
              force: opts.force,
              ...(opts.forceReason !== undefined ? { forceReason: opts.forceReason } : {}),
              ...(opts.masterKeyFile ? { masterKeyFile: opts.masterKeyFile } : {}),
              confirm: async () => true,
              onEvent: (e) => progress.detail(id, `${e.step}: ${e.status}`),
              onExportProgress: (p) => progress.detail(id, `export: ${p.messages} messages, ${p.files} files, ${formatBytes(p.bytes)}`),
              warn: (t) => out.warn(`${id}: ${t}`),
              signal: env.signal,
            },
            deps,
          );
          return { archive: r.backupKey, offboarding: r.status };
        },
        // Offboarded before, by this batch or on its own: skipped.
        async (id) => (await readOffboardingJournal(sc.store, deps.ring.subjectRef(id)))?.completedAt !== undefined,
      );
    });
  return batch;
}
