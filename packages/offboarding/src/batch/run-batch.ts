import { describeError } from '@handover/core';
import { BatchError } from '../errors.js';
import type { BatchJournal } from './batch-journal.js';

/*
 * Runs one operation for many members, a few at a time. One member's failure is that
 * member's outcome and never stops the others; every member gets an outcome, in list
 * order. With a journal, members a previous run finished are skipped, and each member is
 * recorded as done the moment it succeeds, so a batch killed halfway loses nothing.
 */

export type BatchStatus = 'done' | 'skipped' | 'failed' | 'not-run';

export interface BatchOutcome<R> {
  id: string;
  /** done: ran and succeeded; skipped: already done by an earlier run; failed; not-run: the batch was aborted first. */
  status: BatchStatus;
  /** What `run` returned, when done. */
  result?: R;
  /** Why it failed (one line). */
  error?: string;
  /** The error's stable code, when it has one. */
  code?: string;
  /** Done, but the journal could not record it: a rerun will do it again. */
  warning?: string;
}

export type BatchEvent =
  | { type: 'start' | 'done' | 'skipped'; id: string; index: number; total: number }
  | { type: 'failed'; id: string; index: number; total: number; error: string };

export interface RunBatchOptions<R> {
  /** The operation for one member. Resolve with what the summary should show; throw to fail that member only. */
  run: (id: string, context: { signal?: AbortSignal }) => Promise<R>;
  /** Members run at the same time. Default 4; 1 to 64. */
  concurrency?: number;
  /** Records done members, and skips those an earlier run recorded. */
  journal?: BatchJournal;
  /** Another way to tell a member is already done (e.g. its offboarding journal is complete). */
  isDone?: (id: string) => Promise<boolean>;
  /** What to record in the journal for a done member (JSON). Default: the result when it is an object. */
  details?: (result: R) => Record<string, unknown> | undefined;
  onEvent?: (event: BatchEvent) => void;
  /** Aborting starts no further member; members already running get the signal. */
  signal?: AbortSignal;
}

export interface BatchSummary<R> {
  outcomes: BatchOutcome<R>[];
  done: number;
  skipped: number;
  failed: number;
  notRun: number;
  /** Every member done or skipped. */
  ok: boolean;
}

const MAX_CONCURRENCY = 64;

function defaultDetails(result: unknown): Record<string, unknown> | undefined {
  return typeof result === 'object' && result !== null && !Array.isArray(result) ? (result as Record<string, unknown>) : undefined;
}

export async function runBatch<R>(ids: readonly string[], options: RunBatchOptions<R>): Promise<BatchSummary<R>> {
  const concurrency = options.concurrency ?? 4;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new BatchError('E_BATCH_INPUT', `--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, not ${String(concurrency)}`);
  }
  const total = ids.length;
  const outcomes: BatchOutcome<R>[] = new Array(total);
  const emit = (event: BatchEvent): void => {
    try {
      options.onEvent?.(event);
    } catch {
      // Progress display is best effort: it must not fail a member.
    }
  };
  const signal = options.signal === undefined ? {} : { signal: options.signal };
  const details = options.details ?? defaultDetails;

  const one = async (index: number): Promise<BatchOutcome<R>> => {
    const id = ids[index]!;
    if (options.signal?.aborted) return { id, status: 'not-run' };
    try {
      const already = (await options.journal?.isDone(id)) === true || (await options.isDone?.(id)) === true;
      if (already) {
        emit({ type: 'skipped', id, index, total });
        return { id, status: 'skipped' };
      }
      emit({ type: 'start', id, index, total });
      const result = await options.run(id, signal);
      const outcome: BatchOutcome<R> = { id, status: 'done', result };
      try {
        await options.journal?.markDone(id, details(result));
      } catch (err) {
        outcome.warning = `done, but not recorded in the batch journal (${describeError(err)}): a rerun will do it again`;
      }
      emit({ type: 'done', id, index, total });
      return outcome;
    } catch (err) {
      const error = describeError(err).split('\n')[0] ?? 'failed';
      const code = (err as { code?: unknown } | null)?.code;
      emit({ type: 'failed', id, index, total, error });
      return { id, status: 'failed', error, ...(typeof code === 'string' ? { code } : {}) };
    }
  };

  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < total; i = next++) outcomes[i] = await one(i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(total, 1)) }, worker));

  const count = (s: BatchStatus) => outcomes.filter((o) => o.status === s).length;
  const summary = { outcomes, done: count('done'), skipped: count('skipped'), failed: count('failed'), notRun: count('not-run') };
  return { ...summary, ok: summary.failed === 0 && summary.notRun === 0 };
}
