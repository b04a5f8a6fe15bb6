import { createHash } from 'node:crypto';
import { Readable, addAbortSignal } from 'node:stream';
import { systemClock, type Clock } from '../clock.js';
import { NotFoundError, PreconditionFailedError, StoreError, describeError } from '../errors.js';
import { meterBody } from './put-body.js';
import {
  assertValidKey,
  type DeleteResult,
  type GetOptions,
  type ListEntry,
  type ListOptions,
  type ObjectInfo,
  type PutOptions,
  type PutResult,
  type Store,
} from './store.js';
import { AbortedError } from './store-errors.js';
import {
  assertRangeShape,
  assertValidMetadata,
  assertValidPrefix,
  assertValidTags,
  compareKeys,
  resolveRange,
  uniqueKeys,
} from './store-rules.js';

export interface MemoryStoreOptions {
  /** Stamps `lastModified`; inject a `ManualClock` to test retention without waiting. Default: the system clock. */
  clock?: Clock;
  /** Printable location. Default `memory://`. */
  url?: string;
}

/** An in-process store for tests of code that takes a `Store`; it follows the same contract as the real adapters. */
export interface MemoryStore extends Store {
  readonly kind: 'memory';
  setTags(key: string, tags: Record<string, string>): Promise<void>;
  setLegalHold(key: string, on: boolean): Promise<boolean>;
  close(): Promise<void>;
  /** Number of objects held, for assertions. */
  readonly size: number;
}

interface Entry {
  data: Buffer;
  metadata: Record<string, string>;
  tags: Record<string, string>;
  contentType?: string;
  etag: string;
  lastModified: Date;
  /** The store's own legal hold: while set, delete refuses the object. */
  legalHold?: boolean;
}

const DELETE_BATCH = 1000;
const DEFAULT_PAGE = 1000;

export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  return new MemoryStoreImpl(options.clock ?? systemClock, options.url ?? 'memory://');
}

class MemoryStoreImpl implements MemoryStore {
  readonly kind = 'memory' as const;
  readonly url: string;
  readonly #clock: Clock;
  readonly #objects = new Map<string, Entry>();

  constructor(clock: Clock, url: string) {
    this.#clock = clock;
    this.url = url;
  }

  get size(): number {
    return this.#objects.size;
  }

  async put(key: string, body: Readable | Uint8Array | string, options: PutOptions = {}): Promise<PutResult> {
    assertValidKey(key);
    assertValidMetadata(options.metadata);
    assertValidTags(options.tags);
    const { signal } = options;
    const aborted = (cause?: unknown) =>
      new AbortedError(`writing '${key}' to ${this.url} was aborted; nothing was stored`, { cause: cause ?? signal?.reason });
    if (signal?.aborted) throw aborted();
    if (options.ifNoneMatch && this.#objects.has(key)) throw new PreconditionFailedError(key);
    const metered = meterBody(body, options);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of metered.stream as AsyncIterable<Buffer>) chunks.push(chunk);
    } catch (err) {
      if (signal?.aborted) throw aborted(err);
      throw new StoreError(`writing '${key}' to ${this.url} failed: reading the body failed: ${describeError(err)}; nothing was stored`, {
        cause: err,
      });
    } finally {
      metered.dispose();
    }
    if (signal?.aborted) throw aborted();
    // The check is repeated at commit: another put may have landed while this body streamed.
    if (options.ifNoneMatch && this.#objects.has(key)) throw new PreconditionFailedError(key);
    const data = Buffer.concat(chunks);
    const etag = createHash('md5').update(data).digest('hex');
    this.#objects.set(key, {
      data,
      metadata: { ...options.metadata },
      tags: { ...options.tags },
      ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
      etag,
      lastModified: this.#clock.now(),
    });
    return { key, size: data.length, etag };
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    assertValidKey(key);
    assertRangeShape(key, options.range);
    const entry = this.#objects.get(key);
    if (entry === undefined) throw new NotFoundError(`no object '${key}' in ${this.url}`);
    const span = resolveRange(key, entry.data.length, options.range);
    // A copy, so a reader that mutates its chunks cannot change the stored object.
    const bytes = Buffer.from(span === undefined ? entry.data : entry.data.subarray(span.start, span.end + 1));
    const stream = Readable.from([bytes], { objectMode: false });
    if (options.signal !== undefined) addAbortSignal(options.signal, stream);
    return stream;
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidKey(key);
    const entry = this.#objects.get(key);
    if (entry === undefined) return undefined;
    return {
      key,
      size: entry.data.length,
      lastModified: new Date(entry.lastModified),
      metadata: { ...entry.metadata },
      tags: { ...entry.tags },
      ...(entry.contentType === undefined ? {} : { contentType: entry.contentType }),
      etag: entry.etag,
      ...(entry.legalHold === true ? { legalHold: true } : {}),
    };
  }

  list(prefix: string, options: ListOptions = {}): AsyncIterable<ListEntry> {
    const objects = this.#objects;
    const pageSize = Math.max(1, Math.min(options.pageSize ?? DEFAULT_PAGE, DEFAULT_PAGE));
    return {
      async *[Symbol.asyncIterator]() {
        assertValidPrefix(prefix);
        // Each page restarts after the last key seen, as S3's continuation does, so
        // writes between pages behave like they would against a bucket.
        let after: string | undefined;
        for (;;) {
          const page = [...objects.keys()]
            .filter((k) => k.startsWith(prefix) && (after === undefined || compareKeys(k, after) > 0))
            .sort(compareKeys)
            .slice(0, pageSize);
          for (const key of page) {
            const entry = objects.get(key);
            if (entry !== undefined) yield { key, size: entry.data.length, lastModified: new Date(entry.lastModified) };
          }
          if (page.length < pageSize) return;
          after = page[page.length - 1];
        }
      },
    };
  }

  async delete(keys: readonly string[]): Promise<DeleteResult> {
    for (const key of keys) assertValidKey(key);
    const unique = uniqueKeys(keys);
    const result: DeleteResult = { deleted: [], errors: [], requests: Math.ceil(unique.length / DELETE_BATCH) };
    for (const key of unique) {
      if (this.#objects.get(key)?.legalHold === true) {
        result.errors.push({ key, message: 'AccessDenied: the object is under a legal hold' });
        continue;
      }
      this.#objects.delete(key);
      result.deleted.push(key);
    }
    // Counted as S3 would batch them, so purge statistics look the same in tests.
    return result;
  }

  async setLegalHold(key: string, on: boolean): Promise<boolean> {
    assertValidKey(key);
    const entry = this.#objects.get(key);
    if (entry === undefined) throw new NotFoundError(`cannot set the legal hold of '${key}': no such object in ${this.url}`);
    if (on) entry.legalHold = true;
    else delete entry.legalHold;
    return true;
  }

  async setTags(key: string, tags: Record<string, string>): Promise<void> {
    assertValidKey(key);
    assertValidTags(tags);
    const entry = this.#objects.get(key);
    if (entry === undefined) throw new NotFoundError(`cannot tag '${key}': no such object in ${this.url}`);
    entry.tags = { ...tags };
  }

  async close(): Promise<void> {
    // Kept: a closed memory store still answers, which is what tests reopening it expect.
  }
}
