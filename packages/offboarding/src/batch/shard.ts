import { createHash } from 'node:crypto';
import { BatchError } from '../errors.js';

/*
 * Splitting a batch between n workers that never talk to each other (a Kubernetes
 * Indexed Job, n CI jobs, n terminals): each worker is given the same list and its own
 * `--shard i/n`, and takes the members whose hash falls in its shard.
 *
 * - Indices are 0-based, 0 ≤ i < n, as Kubernetes' JOB_COMPLETION_INDEX: `--shard
 *   $JOB_COMPLETION_INDEX/$COMPLETIONS` works as is.
 * - A member's shard depends only on its id and n (SHA-256 of the id, mod n): adding or
 *   removing other members never moves it, and every worker computes the same split.
 *   The shards of one n partition the list exactly: every member is in one shard only.
 */

/** The platform takes at most this many members per batch. */
export const PLATFORM_BATCH_LIMIT = 200;

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
}

/** `i/n`, e.g. `0/4` … `3/4`. Throws E_BATCH_SHARD (exit 2) otherwise. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (m === null) throw new BatchError('E_BATCH_SHARD', `--shard '${text}' is not i/n: give the shard index and count, e.g. --shard 0/4 (indices are 0-based)`);
  return validateShard({ index: Number(m[1]), count: Number(m[2]) });
}

export function validateShard(shard: Shard): Shard {
  const { index, count } = shard;
  if (!Number.isSafeInteger(count) || count < 1) throw new BatchError('E_BATCH_SHARD', `shard count must be a whole number of at least 1, not ${String(count)}`);
  if (!Number.isSafeInteger(index) || index < 0 || index >= count) {
    throw new BatchError(
      'E_BATCH_SHARD',
      `shard index ${String(index)} is out of range for ${count} shard${count === 1 ? '' : 's'}: indices are 0-based (0..${count - 1}), as Kubernetes' JOB_COMPLETION_INDEX`,
    );
  }
  return shard;
}

/** The shard (0..count-1) a member id belongs to. */
export function shardOf(id: string, count: number): number {
  const digest = createHash('sha256').update(id, 'utf8').digest();
  // 48 bits: the modulo bias is far below anything a batch could notice.
  return digest.readUIntBE(0, 6) % count;
}

/** The members of one shard, in list order. */
export function selectShard(ids: readonly string[], shard: Shard): string[] {
  const { index, count } = validateShard(shard);
  return ids.filter((id) => shardOf(id, count) === index);
}

/** The smallest shard count whose every shard holds at most `max` members. */
export function suggestShardCount(ids: readonly string[], max = PLATFORM_BATCH_LIMIT): number {
  for (let n = Math.max(1, Math.ceil(ids.length / max)); ; n++) {
    const sizes = new Array<number>(n).fill(0);
    for (const id of ids) sizes[shardOf(id, n)]! += 1;
    if (sizes.every((s) => s <= max)) return n;
  }
}

export interface BatchSizeOptions {
  /** The list's file name, named in the error. */
  file: string;
  /** Default PLATFORM_BATCH_LIMIT (200). */
  max?: number;
  /** The shard `ids` were selected for, when sharded. */
  shard?: Shard;
  /** The whole list, when `ids` is one shard of it: used to suggest a shard count. */
  all?: readonly string[];
}

/** Refuses a batch larger than the platform allows (E_BATCH_TOO_LARGE, exit 2). */
export function assertBatchSize(ids: readonly string[], options: BatchSizeOptions): void {
  const max = options.max ?? PLATFORM_BATCH_LIMIT;
  if (ids.length <= max) return;
  const n = suggestShardCount(options.all ?? ids, max);
  if (options.shard === undefined) {
    throw new BatchError(
      'E_BATCH_TOO_LARGE',
      `${ids.length} members in ${options.file}; the platform allows at most ${max} per batch: split the file, or run with --shard i/n so that each shard has at most ${max} (e.g. ${n} shards: --shard 0/${n} … --shard ${n - 1}/${n})`,
    );
  }
  throw new BatchError(
    'E_BATCH_TOO_LARGE',
    `shard ${options.shard.index}/${options.shard.count} of ${options.file} has ${ids.length} members; the platform allows at most ${max} per batch: use more shards (${n} or more: --shard i/${n})`,
  );
}
