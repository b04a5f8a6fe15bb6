import { basename } from 'node:path';
import { systemClock, type Clock, type Store } from '@handover/core';
import { z } from 'zod';
import { BatchError } from '../errors.js';
import { readJsonObject, writeJsonObject } from '../json-object.js';

/*
 * ## Batch journal: batches/<operation>/<name>/done/<subjectRef>.json
 *
 * One object per member the batch finished, so a rerun of the same batch (same operation
 * and name) skips them. One object per member, not one document per batch: workers of
 * different shards write at the same time and must not overwrite each other. The key
 * carries the member's subjectRef (a keyed hash from the key ring), never the id; the
 * object holds only when it was done and what the run returned (e.g. the archive key).
 */

export const BATCHES_PREFIX = 'batches/';

const NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;

/** A batch name from the list's file name: `Leavers Q3.csv` → `leavers-q3`. */
export function batchNameFromFile(path: string): string {
  const stem = basename(path).replace(/\.[^.]*$/, '');
  const name = stem
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|-+$/g, '')
    .slice(0, 100);
  return name === '' ? 'batch' : name;
}

const doneSchema = z.object({ at: z.string(), details: z.record(z.string(), z.unknown()).optional() });

export interface BatchJournalOptions {
  /** `export`, `offboard`: batches of different operations on the same list are tracked apart. */
  operation: string;
  /** The batch's name; see batchNameFromFile. */
  name: string;
  /** The member's subjectRef (the key ring's): what the keys carry instead of the id. */
  refOf: (memberId: string) => string;
  clock?: Clock;
  /** Default `batches/`. */
  prefix?: string;
}

export class BatchJournal {
  readonly #store: Store;
  readonly #refOf: (memberId: string) => string;
  readonly #clock: Clock;
  /** `batches/<operation>/<name>/done/` */
  readonly doneUnder: string;

  constructor(store: Store, options: BatchJournalOptions) {
    for (const [what, value] of [['operation', options.operation], ['name', options.name]] as const) {
      if (!NAME.test(value)) throw new BatchError('E_BATCH_INPUT', `batch ${what} '${value}' must be 1-100 of a-z, 0-9, '.', '_' or '-'`);
    }
    this.#store = store;
    this.#refOf = options.refOf;
    this.#clock = options.clock ?? systemClock;
    this.doneUnder = `${options.prefix ?? BATCHES_PREFIX}${options.operation}/${options.name}/done/`;
  }

  #key(memberId: string): string {
    return `${this.doneUnder}${this.#refOf(memberId)}.json`;
  }

  async isDone(memberId: string): Promise<boolean> {
    return (await this.#store.head(this.#key(memberId))) !== undefined;
  }

  /** When the member was done and what the run returned, or undefined. */
  async doneRecord(memberId: string): Promise<z.infer<typeof doneSchema> | undefined> {
    return readJsonObject(this.#store, this.#key(memberId), doneSchema, 'batch record');
  }

  async markDone(memberId: string, details?: Record<string, unknown>): Promise<void> {
    await writeJsonObject(this.#store, this.#key(memberId), { at: this.#clock.now().toISOString(), ...(details === undefined ? {} : { details }) });
  }
}
