import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareKeys, type Store } from '@handover/core';

/** One adapter instance for one test, and how to throw it away. */
export interface StoreFixture {
  store: Store;
  cleanup(): Promise<void>;
  /**
   * Adapter-specific debris a failed put could leave (temp files, open multipart uploads).
   * The contract expects an empty list after every failed or aborted put.
   */
  leftovers?(): Promise<string[]>;
}

export interface StoreContractOptions {
  /** The ~20 MB streamed put must have gone multipart (an S3 etag ending in `-<parts>`). */
  multipartEtag?: boolean;
  /** Backend requests the adapter promises for deleting `keys` objects, when it promises a number. */
  deleteRequests?: (keys: number) => number;
}

const MiB = 1024 * 1024;

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

async function text(store: Store, key: string): Promise<string> {
  return (await readAll(await store.get(key))).toString('utf8');
}

async function keysOf(store: Store, prefix: string, pageSize?: number): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of store.list(prefix, pageSize === undefined ? {} : { pageSize })) out.push(entry.key);
  return out;
}

/** A stream of unknown length, produced lazily in uneven chunks; `data` is what it will have produced. */
function generatedStream(total: number): { stream: Readable; data: Buffer } {
  const chunks: Buffer[] = [];
  let made = 0;
  let i = 0;
  while (made < total) {
    // Uneven sizes so part boundaries never line up with chunk boundaries.
    const size = Math.min(total - made, 48 * 1024 + ((i++ * 7919) % (40 * 1024)));
    chunks.push(randomBytes(size));
    made += size;
  }
  let next = 0;
  const stream = new Readable({
    read() {
      this.push(next < chunks.length ? chunks[next++] : null);
    },
  });
  return { stream, data: Buffer.concat(chunks) };
}

/** Emits `before` bytes, then fails, like a network source dropping mid-transfer. */
function failingStream(before: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= before) {
        this.destroy(new Error('source connection lost'));
        return;
      }
      const size = Math.min(64 * 1024, before - sent);
      sent += size;
      this.push(randomBytes(size));
    },
  });
}

/** Never ends on its own. */
function endlessStream(): Readable {
  return new Readable({
    read() {
      this.push(randomBytes(64 * 1024));
    },
  });
}

/** The error a promise rejects with; fails the test if it fulfils. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; cause?: unknown }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string; cause?: unknown };
  }
  throw new Error('expected the promise to reject, but it fulfilled');
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

async function inBatches<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/**
 * The behaviour every `Store` adapter must show. Run it once per adapter:
 * `describeStoreContract('fs', async () => ({ store, cleanup }))`.
 */
export function describeStoreContract(
  name: string,
  make: () => Promise<StoreFixture>,
  options: StoreContractOptions = {},
): void {
  describe(`Store contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      fixture = await make();
      store = fixture.store;
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    async function expectNoLeftovers(): Promise<void> {
      if (fixture.leftovers) expect(await fixture.leftovers()).toEqual([]);
    }

    it('round-trips strings and bytes with their metadata, tags and content type', async () => {
      const put = await store.put('docs/hello.txt', 'héllo wörld', {
        metadata: { sha256: 'abc123', 'member-id': 'alice' },
        tags: { retention: 'hold', note: 'a b+c=d/e:f@g' },
        contentType: 'text/plain',
      });
      expect(put).toMatchObject({ key: 'docs/hello.txt', size: Buffer.byteLength('héllo wörld') });
      expect(await text(store, 'docs/hello.txt')).toBe('héllo wörld');

      const bytes = new Uint8Array([0, 1, 2, 253, 254, 255]);
      // A view into a larger buffer: only the view's bytes may be stored.
      const backing = new Uint8Array(16).fill(9);
      backing.set(bytes, 5);
      await store.put('docs/bytes.bin', backing.subarray(5, 11));
      expect([...(await readAll(await store.get('docs/bytes.bin')))]).toEqual([...bytes]);

      const info = await store.head('docs/hello.txt');
      expect(info).toBeDefined();
      expect(info!.key).toBe('docs/hello.txt');
      expect(info!.size).toBe(Buffer.byteLength('héllo wörld'));
      expect(info!.metadata).toEqual({ sha256: 'abc123', 'member-id': 'alice' });
      expect(info!.tags).toEqual({ retention: 'hold', note: 'a b+c=d/e:f@g' });
      expect(info!.contentType).toBe('text/plain');
      expect(info!.lastModified).toBeInstanceOf(Date);
      expect(Number.isNaN(info!.lastModified.getTime())).toBe(false);
      if (put.etag !== undefined && info!.etag !== undefined) expect(info!.etag).toBe(put.etag);

      const plain = await store.head('docs/bytes.bin');
      expect(plain).toMatchObject({ size: 6, metadata: {}, tags: {} });
    });

    it('stores an empty object', async () => {
      const put = await store.put('empty', '');
      expect(put.size).toBe(0);
      expect((await readAll(await store.get('empty'))).length).toBe(0);
      expect(await store.head('empty')).toMatchObject({ size: 0 });
    });

    it('streams ~20 MB of unknown length in and out, reporting progress', async () => {
      const total = 20 * MiB + 12_345;
      const { stream, data } = generatedStream(total);
      const progress: number[] = [];
      const put = await store.put('big/stream.bin', stream, { onProgress: (n) => progress.push(n) });
      expect(put.size).toBe(total);
      expect(progress.length).toBeGreaterThan(1);
      expect(progress.at(-1)).toBe(total);
      for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThanOrEqual(progress[i - 1]!);
      if (options.multipartEtag) expect(put.etag).toMatch(/-\d+$/);

      const back = await readAll(await store.get('big/stream.bin'));
      expect(back.length).toBe(total);
      expect(sha256(back)).toBe(sha256(data));
      expect((await store.head('big/stream.bin'))?.size).toBe(total);

      // A range straddling the 8 MiB mark, where an S3 part boundary falls.
      const start = 8 * MiB - 1000;
      const slice = await readAll(await store.get('big/stream.bin', { range: { start, end: start + 1999 } }));
      expect(slice.equals(data.subarray(start, start + 2000))).toBe(true);
    });

    it('accepts string chunks and refuses a body that yields anything else', async () => {
      await store.put('chunks/text', Readable.from(['ab', 'cé', '']));
      expect(await text(store, 'chunks/text')).toBe('abcé');
      await expect(store.put('chunks/objects', Readable.from([{ not: 'bytes' }]))).rejects.toMatchObject({ code: 'E_STORE' });
      expect(await store.head('chunks/objects')).toBeUndefined();
      await expectNoLeftovers();
    });

    it('reads byte ranges, clamping the end and refusing starts past the end', async () => {
      await store.put('range.txt', '0123456789');
      const r = async (start: number, end?: number) =>
        (await readAll(await store.get('range.txt', { range: end === undefined ? { start } : { start, end } }))).toString();
      expect(await r(0, 0)).toBe('0');
      expect(await r(3, 6)).toBe('3456');
      expect(await r(7)).toBe('789');
      expect(await r(5, 100)).toBe('56789');
      await expect(store.get('range.txt', { range: { start: 10 } })).rejects.toMatchObject({ code: 'E_RANGE' });
      await expect(store.get('range.txt', { range: { start: -1 } })).rejects.toMatchObject({ code: 'E_RANGE' });
      await expect(store.get('range.txt', { range: { start: 5, end: 4 } })).rejects.toMatchObject({ code: 'E_RANGE' });
      await expect(store.get('missing.txt', { range: { start: 0 } })).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    });

    it('reports missing objects: head → undefined, get → E_NOT_FOUND', async () => {
      expect(await store.head('nope/missing')).toBeUndefined();
      await expect(store.get('nope/missing')).rejects.toMatchObject({ code: 'E_NOT_FOUND', name: 'NotFoundError' });
      // A "directory" that only exists as a prefix of other keys is not an object either.
      await store.put('nope/dir/child', 'x');
      expect(await store.head('nope/dir')).toBeUndefined();
      await expect(store.get('nope/dir')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    });

    it('lists by prefix in UTF-8 key order, page by page', async () => {
      const keys = [
        'order/a-c',
        'order/a/b',
        'order/a/c/d',
        'order/a0',
        'order/a.txt',
        'order/B',
        'order/b',
        'order/with space',
        'order/é',
        'order/z',
        'order/\u{1F600}', // above U+FFFF: UTF-16 order and UTF-8 order disagree with the next one
        'order/\uFF5E',
        'orderly',
      ];
      for (let i = 0; i < 14; i++) keys.push(`order/n/${String(i).padStart(2, '0')}`);
      await inBatches(keys, 8, (k) => store.put(k, `v:${k}`));
      const expected = keys.filter((k) => k.startsWith('order/')).sort(compareKeys);
      expect(expected.length).toBeGreaterThan(20);

      expect(await keysOf(store, 'order/')).toEqual(expected);
      expect(await keysOf(store, 'order/', 3)).toEqual(expected);
      expect(await keysOf(store, 'order/', 1)).toEqual(expected);
      expect(await keysOf(store, 'order')).toEqual([...keys].sort(compareKeys));
      // A prefix that ends inside a segment.
      expect(await keysOf(store, 'order/a', 2)).toEqual(['order/a-c', 'order/a.txt', 'order/a/b', 'order/a/c/d', 'order/a0']);
      expect(await keysOf(store, 'order/a/')).toEqual(['order/a/b', 'order/a/c/d']);
      expect(await keysOf(store, 'nothing-here/')).toEqual([]);

      const entries: { key: string; size: number; lastModified: Date }[] = [];
      for await (const e of store.list('order/n/', { pageSize: 5 })) entries.push(e);
      expect(entries.map((e) => e.key)).toEqual(expected.filter((k) => k.startsWith('order/n/')));
      expect(entries[0]!.size).toBe(Buffer.byteLength('v:order/n/00'));
      expect(entries[0]!.lastModified).toBeInstanceOf(Date);
    });

    it('never shows writes in progress, temp files or metadata sidecars', async () => {
      await store.put('seen/done', 'complete', { metadata: { a: '1' }, tags: { t: 'x' } });
      const body = new PassThrough();
      let reached!: () => void;
      const reachedMiB = new Promise<void>((resolve) => (reached = resolve));
      const pending = store.put('seen/pending', body, {
        metadata: { b: '2' },
        onProgress: (n) => {
          if (n >= MiB) reached();
        },
      });
      for (let i = 0; i < 16; i++) body.write(randomBytes(64 * 1024));
      await reachedMiB;

      expect(await keysOf(store, '')).toEqual(['seen/done']);
      expect(await keysOf(store, 'seen/')).toEqual(['seen/done']);
      expect(await store.head('seen/pending')).toBeUndefined();
      await expect(store.get('seen/pending')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });

      body.end(randomBytes(1000));
      expect((await pending).size).toBe(MiB + 1000);
      expect(await keysOf(store, '')).toEqual(['seen/done', 'seen/pending']);
      expect(await store.head('seen/pending')).toMatchObject({ size: MiB + 1000, metadata: { b: '2' } });
      await expectNoLeftovers();
    });

    it('overwrites an object whole, metadata and tags included', async () => {
      await store.put('over/x', 'first', { metadata: { v: '1' }, tags: { keep: 'no' }, contentType: 'text/plain' });
      await store.put('over/x', 'second, longer');
      expect(await text(store, 'over/x')).toBe('second, longer');
      expect(await store.head('over/x')).toMatchObject({ size: 14, metadata: {}, tags: {} });
    });

    it('replaces tags with setTags and refuses to tag a missing object', async () => {
      expect(typeof store.setTags).toBe('function');
      await store.put('tags/x', 'x', { tags: { a: '1', b: '2' }, metadata: { m: 'kept' } });
      await store.setTags!('tags/x', { hold: 'legal case 42' });
      expect(await store.head('tags/x')).toMatchObject({ tags: { hold: 'legal case 42' }, metadata: { m: 'kept' } });
      expect(await text(store, 'tags/x')).toBe('x');
      await expect(store.setTags!('tags/missing', { a: '1' })).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    });

    it('keeps tags and metadata through a legal hold; a held object cannot be deleted where the store enforces holds', async () => {
      expect(typeof store.setLegalHold).toBe('function');
      await store.put('lh/x', 'held bytes', { tags: { 'handover-class': 'export-download' }, metadata: { m: 'kept' } });
      const enforced = await store.setLegalHold!('lh/x', true);
      const info = await store.head('lh/x');
      expect(info).toMatchObject({ tags: { 'handover-class': 'export-download' }, metadata: { m: 'kept' } });
      // Tags can still change while held: that is how a hold hides an object from lifecycle rules.
      await store.setTags!('lh/x', { 'handover-class': 'handover:held' });
      if (enforced && info?.legalHold !== undefined) {
        expect(info.legalHold).toBe(true);
        const refused = await store.delete(['lh/x']);
        expect(refused.deleted).toEqual([]);
        expect(refused.errors.map((e) => e.key)).toEqual(['lh/x']);
        expect(await text(store, 'lh/x')).toBe('held bytes');
      }
      expect(await store.setLegalHold!('lh/x', false)).toBe(enforced);
      expect((await store.head('lh/x'))?.legalHold ?? false).toBe(false);
      expect((await store.delete(['lh/x'])).errors).toEqual([]);
      expect(await store.head('lh/x')).toBeUndefined();
      // A bucket without Object Lock answers 'no object lock' before it looks for the key.
      if (enforced) await expect(store.setLegalHold!('lh/missing', true)).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    });

    it('deletes in batches, counting missing keys as deleted', async () => {
      const keys = Array.from({ length: 1100 }, (_, i) => `bulk/${String(i).padStart(4, '0')}`);
      await inBatches(keys, 32, (k) => store.put(k, k));
      await store.put('bulk-keep', 'stays');
      const missing = ['bulk/never-1', 'bulk/never-2'];
      const result = await store.delete([...keys, ...missing, keys[0]!]);
      expect(result.errors).toEqual([]);
      expect(new Set(result.deleted)).toEqual(new Set([...keys, ...missing]));
      expect(result.requests).toBeGreaterThanOrEqual(1);
      if (options.deleteRequests) expect(result.requests).toBe(options.deleteRequests(keys.length + missing.length));
      expect(await keysOf(store, 'bulk')).toEqual(['bulk-keep']);
      expect(await store.head('bulk/0000')).toBeUndefined();

      const none = await store.delete(['gone/a', 'gone/b/c']);
      expect(none).toMatchObject({ deleted: ['gone/a', 'gone/b/c'], errors: [] });
      expect(await store.delete([])).toMatchObject({ deleted: [], errors: [] });
    });

    it('creates only if absent with ifNoneMatch, keeping the original intact', async () => {
      await store.put('once/x', 'original', { ifNoneMatch: true, metadata: { v: '1' } });
      const second = store.put('once/x', 'intruder', { ifNoneMatch: true, metadata: { v: '2' } });
      await expect(second).rejects.toMatchObject({ code: 'E_EXISTS', name: 'PreconditionFailedError' });
      expect(await text(store, 'once/x')).toBe('original');
      expect(await store.head('once/x')).toMatchObject({ metadata: { v: '1' } });

      // A streamed create-only body takes the same path as a large archive would.
      const streamed = store.put('once/x', Readable.from([Buffer.from('also intruding')]), { ifNoneMatch: true });
      await expect(streamed).rejects.toMatchObject({ code: 'E_EXISTS' });
      expect(await text(store, 'once/x')).toBe('original');
      await expectNoLeftovers();
    });

    it('decides create-only when the write commits, not only when it starts', async () => {
      // Both puts begin while the key is absent; the first to finish wins, the other must fail at commit.
      const bodies = [new PassThrough(), new PassThrough()];
      const flowing = bodies.map(() => {
        let resolve!: () => void;
        return { promise: new Promise<void>((r) => (resolve = r)), resolve: () => resolve() };
      });
      const puts = bodies.map((body, i) =>
        store.put('late/x', body, {
          ifNoneMatch: true,
          metadata: { who: String(i) },
          onProgress: (n) => {
            if (n >= MiB) flowing[i]!.resolve();
          },
        }),
      );
      for (const body of bodies) for (let i = 0; i < 16; i++) body.write(Buffer.alloc(64 * 1024, i));
      await Promise.all(flowing.map((f) => f.promise));
      bodies[0]!.end('first');
      expect((await puts[0]!).size).toBe(MiB + 5);
      bodies[1]!.end('second');
      await expect(puts[1]!).rejects.toMatchObject({ code: 'E_EXISTS' });
      expect(await store.head('late/x')).toMatchObject({ size: MiB + 5, metadata: { who: '0' } });
      const tail = await readAll(await store.get('late/x', { range: { start: MiB } }));
      expect(tail.toString()).toBe('first');
      await expectNoLeftovers();
    });

    it('lets exactly one of several concurrent create-only puts win', async () => {
      const contenders = ['alpha', 'bravo', 'charlie', 'delta'];
      const results = await Promise.allSettled(
        contenders.map((c) => store.put('race/x', Readable.from([Buffer.from(c)]), { ifNoneMatch: true, metadata: { who: c } })),
      );
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [contenders[i]!] : []));
      expect(winners).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'E_EXISTS' });
      }
      expect(await text(store, 'race/x')).toBe(winners[0]);
      expect(await store.head('race/x')).toMatchObject({ metadata: { who: winners[0] } });
      await expectNoLeftovers();
    });

    it('leaves nothing when the body stream fails midway', async () => {
      // 12 MiB: past the first S3 part, so a multipart upload is open when the source dies.
      const put = store.put('fail/x', failingStream(12 * MiB));
      await expect(put).rejects.toMatchObject({ code: 'E_STORE' });
      const err = await rejection(put);
      expect(err.message).toContain('fail/x');
      expect(err.message).toContain('source connection lost');
      expect((err.cause as Error | undefined)?.message).toBe('source connection lost');
      expect(await store.head('fail/x')).toBeUndefined();
      await expect(store.get('fail/x')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
      expect(await keysOf(store, '')).toEqual([]);
      await expectNoLeftovers();
    });

    it('leaves nothing when the signal aborts the put', async () => {
      const controller = new AbortController();
      const put = store.put('abort/x', endlessStream(), {
        signal: controller.signal,
        onProgress: (n) => {
          if (n >= 12 * MiB) controller.abort(new Error('user pressed ctrl-c'));
        },
      });
      await expect(put).rejects.toMatchObject({ code: 'E_ABORTED' });
      expect(await store.head('abort/x')).toBeUndefined();
      await expect(store.get('abort/x')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });

      // Already aborted: refused before anything starts.
      await expect(store.put('abort/y', 'small', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'E_ABORTED' });
      expect(await store.head('abort/y')).toBeUndefined();
      expect(await keysOf(store, '')).toEqual([]);
      await expectNoLeftovers();
    });

    it('rejects invalid keys everywhere', async () => {
      const bad = ['../x', '/abs', 'a//b', 'a/./b', 'a/..', '', 'a\\b', 'trailing/'];
      for (const key of bad) {
        await expect(store.put(key, 'x'), key).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
        await expect(store.get(key), key).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
        await expect(store.head(key), key).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
        await expect(store.delete(['fine', key]), key).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
        if (store.setTags) await expect(store.setTags(key, {}), key).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
        if (store.setLegalHold) await expect(store.setLegalHold(key, true), key).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
      }
      await expect(keysOf(store, '../')).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
      await expect(keysOf(store, '/abs')).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
      expect(await keysOf(store, '')).toEqual([]);
    });

    it('rejects metadata and tags that S3 could not carry', async () => {
      await expect(store.put('meta/x', 'x', { metadata: { 'Upper-Case': 'v' } })).rejects.toMatchObject({
        code: 'E_INVALID_METADATA',
      });
      await expect(store.put('meta/x', 'x', { metadata: { k: 'naïve' } })).rejects.toMatchObject({ code: 'E_INVALID_METADATA' });
      const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`t${i}`, 'v']));
      await expect(store.put('meta/x', 'x', { tags: eleven })).rejects.toMatchObject({ code: 'E_INVALID_TAGS' });
      await expect(store.put('meta/x', 'x', { tags: { 'bad#': 'v' } })).rejects.toMatchObject({ code: 'E_INVALID_TAGS' });
      expect(await store.head('meta/x')).toBeUndefined();
    });
  });
}
