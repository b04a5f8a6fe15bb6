import { createHash, randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { link, lstat, mkdir, open, readFile, readdir, rename, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import { HandoverError, NotFoundError, PreconditionFailedError, StoreError, describeError } from '../errors.js';
import { meterBody, toBuffer } from './put-body.js';
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
import { AbortedError, InvalidKeyError } from './store-errors.js';
import {
  assertRangeShape,
  assertValidMetadata,
  assertValidPrefix,
  assertValidTags,
  compareKeys,
  isValidKey,
  resolveRange,
  uniqueKeys,
} from './store-rules.js';

/**
 * Layout on disk:
 *
 *   <root>/<key>                   the object's bytes, a plain file (browsable, rsync-able)
 *   <root>/.handover-meta/<key>    its sidecar: JSON with metadata, tags, content type, etag
 *   <dir>/.partial-<random>        a put in progress, in the object's own directory
 *
 * Sidecars live in a mirror tree rather than next to the object so that any name is a
 * valid key and `list` needs no suffix games: the mirror has the same file/directory shape
 * as the data tree, so it can never conflict where the data tree does not. The first key
 * segment `.handover-meta` and segments starting with `.partial-` are reserved.
 *
 * Commit order: the data file is renamed (or, for create-only, hard-linked) into place
 * first, then the sidecar. The data rename is the commit point, so an object is never
 * visible half-written; a concurrent `head` in the microseconds between the two renames,
 * or after a crash between them, sees the previous sidecar (or none). Handover writes
 * archives create-only, so overwrites that could pair old metadata with new bytes are rare.
 */
const META_DIR = '.handover-meta';
const PARTIAL = '.partial-';
/** Objects can hold key material (identities, holds); keep them private to the owner. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const DELETE_CONCURRENCY = 16;
const READ_HIGH_WATER_MARK = 256 * 1024;

export interface FsStoreOptions {
  /** Directory that holds the objects; created on the first put. A relative path resolves against the working directory. */
  root: string;
}

/** The filesystem adapter; `root` is the absolute directory it writes under. */
export interface FsStore extends Store {
  readonly kind: 'fs';
  readonly root: string;
  setTags(key: string, tags: Record<string, string>): Promise<void>;
  setLegalHold(key: string, on: boolean): Promise<boolean>;
  close(): Promise<void>;
}

interface Sidecar {
  v: 1;
  metadata: Record<string, string>;
  tags: Record<string, string>;
  contentType?: string;
  etag?: string;
  /** The store's own legal hold: while set, delete refuses the object. */
  legalHold?: true;
}

export function createFsStore(options: FsStoreOptions): FsStore {
  if (typeof options.root !== 'string' || options.root === '') {
    throw new StoreError('the filesystem store needs a root directory; pass { root: "/path/to/handover-data" }', {
      code: 'E_CONFIG',
    });
  }
  return new FsStoreImpl(path.resolve(options.root));
}

function errno(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

function randomName(): string {
  return PARTIAL + randomBytes(8).toString('hex');
}

async function ignoreMissing(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (errno(err) !== 'ENOENT') throw err;
  }
}

/**
 * Opens a new file for writing, creating its directory. Retries when a concurrent delete
 * prunes the freshly made directory before the open lands.
 */
async function openNew(file: string): Promise<FileHandle> {
  for (let attempt = 0; ; attempt++) {
    await mkdir(path.dirname(file), { recursive: true, mode: DIR_MODE });
    try {
      return await open(file, 'wx', FILE_MODE);
    } catch (err) {
      if (errno(err) !== 'ENOENT' || attempt >= 5) throw err;
    }
  }
}

async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset);
    offset += bytesWritten;
  }
}

/** Makes a rename durable. Some platforms (Windows) and filesystems cannot fsync a directory; they get best effort. */
async function fsyncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EBADF', 'EACCES', 'ENOTSUP'].includes(errno(err) ?? '')) throw err;
  } finally {
    await handle?.close();
  }
}

class FsStoreImpl implements FsStore {
  readonly kind = 'fs' as const;
  readonly url: string;
  readonly root: string;
  readonly #metaRoot: string;

  constructor(root: string) {
    this.root = root;
    this.url = root;
    this.#metaRoot = path.join(root, META_DIR);
  }

  #segments(key: string): string[] {
    assertValidKey(key);
    const segments = key.split('/');
    if (segments[0] === META_DIR) throw new InvalidKeyError(key, `'${META_DIR}/' is reserved by the filesystem store for metadata`);
    if (segments.some((s) => s.startsWith(PARTIAL))) {
      throw new InvalidKeyError(key, `names starting with '${PARTIAL}' are reserved by the filesystem store for writes in progress`);
    }
    return segments;
  }

  #dataPath(key: string): string {
    const file = path.resolve(this.root, ...this.#segments(key));
    // Defence in depth: assertValidKey already forbids '..', but a platform quirk (drive letters) must not escape the root either.
    if (!file.startsWith(this.root + path.sep)) throw new InvalidKeyError(key, `resolves outside the store root ${this.root}`);
    return file;
  }

  #metaPath(key: string): string {
    return path.join(this.#metaRoot, ...this.#segments(key));
  }

  async put(key: string, body: Readable | Uint8Array | string, options: PutOptions = {}): Promise<PutResult> {
    const file = this.#dataPath(key);
    const metaFile = this.#metaPath(key);
    assertValidMetadata(options.metadata);
    assertValidTags(options.tags);
    const { signal } = options;
    const aborted = (cause?: unknown) =>
      new AbortedError(`writing '${key}' to ${this.root} was aborted; nothing was stored`, { cause: cause ?? signal?.reason });
    if (signal?.aborted) throw aborted();
    // Fail before reading a large body; the link() below is what makes create-only race-free.
    if (options.ifNoneMatch && (await this.#isFile(file))) throw new PreconditionFailedError(key);

    const tmp = path.join(path.dirname(file), randomName());
    const metaTmp = path.join(path.dirname(metaFile), randomName());
    let leftovers: string[] = [];
    const metered = typeof body === 'string' || body instanceof Uint8Array ? undefined : meterBody(body, options);
    try {
      const handle = await openNew(tmp);
      leftovers.push(tmp);
      const md5 = createHash('md5');
      let size = 0;
      try {
        if (metered === undefined) {
          const data = toBuffer(body as string | Uint8Array);
          md5.update(data);
          await writeAll(handle, data);
          size = data.length;
          options.onProgress?.(size);
        } else {
          for await (const chunk of metered.stream as AsyncIterable<Buffer>) {
            md5.update(chunk);
            await writeAll(handle, chunk);
          }
          size = metered.bytes();
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      const etag = md5.digest('hex');
      const sidecar: Sidecar = {
        v: 1,
        metadata: { ...options.metadata },
        tags: { ...options.tags },
        ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
        etag,
      };
      await this.#writeNewFile(metaTmp, JSON.stringify(sidecar));
      leftovers.push(metaTmp);
      if (signal?.aborted) throw aborted();

      if (options.ifNoneMatch) {
        try {
          await link(tmp, file);
        } catch (err) {
          if (errno(err) === 'EEXIST') {
            if (await this.#isFile(file)) throw new PreconditionFailedError(key, { cause: err });
            throw this.#shapeConflict(key, err);
          }
          if (['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV'].includes(errno(err) ?? '')) {
            throw new StoreError(
              `cannot create '${key}' exclusively: the filesystem under ${this.root} does not support hard links (${errno(err)}); ` +
                'use a local POSIX filesystem or an S3 store',
              { cause: err },
            );
          }
          throw err;
        }
        await unlink(tmp);
      } else {
        await rename(tmp, file);
      }
      leftovers = leftovers.filter((p) => p !== tmp);
      await rename(metaTmp, metaFile);
      leftovers = [];
      await fsyncDir(path.dirname(file));
      await fsyncDir(path.dirname(metaFile));
      return { key, size, etag };
    } catch (err) {
      if (err instanceof HandoverError) throw err;
      if (signal?.aborted) throw aborted(err);
      if (metered?.sourceError() !== undefined && metered.sourceError() === err) {
        throw new StoreError(`writing '${key}' to ${this.root} failed: reading the body failed: ${describeError(err)}; nothing was stored`, {
          cause: err,
        });
      }
      if (['EISDIR', 'ENOTDIR', 'ENOTEMPTY', 'EEXIST'].includes(errno(err) ?? '')) throw this.#shapeConflict(key, err);
      throw new StoreError(`writing '${key}' to ${this.root} failed: ${describeError(err)}`, { cause: err });
    } finally {
      metered?.dispose();
      for (const p of leftovers) await ignoreMissing(unlink(p)).catch(() => undefined);
    }
  }

  /** S3 keys `a` and `a/b` may coexist; a file and a directory of the same name may not. */
  #shapeConflict(key: string, cause: unknown): StoreError {
    return new StoreError(
      `cannot store '${key}' under ${this.root}: a file and a directory would share a name ` +
        `(the filesystem store cannot hold both 'x' and 'x/…'); choose keys that do not nest inside other keys`,
      { cause, code: 'E_KEY_CONFLICT' },
    );
  }

  async #writeNewFile(file: string, text: string): Promise<void> {
    const handle = await openNew(file);
    try {
      await writeAll(handle, Buffer.from(text, 'utf8'));
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async #isFile(file: string): Promise<boolean> {
    try {
      return (await stat(file)).isFile();
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return false;
      throw err;
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const file = this.#dataPath(key);
    assertRangeShape(key, options.range);
    const missing = (cause?: unknown) => new NotFoundError(`no object '${key}' in ${this.root}`, { cause });
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      if (['ENOENT', 'ENOTDIR', 'EISDIR'].includes(errno(err) ?? '')) throw missing(err);
      throw new StoreError(`reading '${key}' from ${this.root} failed: ${describeError(err)}`, { cause: err });
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw missing();
      const span = resolveRange(key, st.size, options.range);
      const stream = handle.createReadStream({
        highWaterMark: READ_HIGH_WATER_MARK,
        ...(span === undefined ? {} : { start: span.start, end: span.end }),
      });
      if (options.signal !== undefined) addAbortSignal(options.signal, stream);
      return stream;
    } catch (err) {
      await handle.close();
      if (err instanceof HandoverError) throw err;
      throw new StoreError(`reading '${key}' from ${this.root} failed: ${describeError(err)}`, { cause: err });
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const file = this.#dataPath(key);
    try {
      const st = await stat(file);
      if (!st.isFile()) return undefined;
      const sidecar = await this.#readSidecar(key);
      return {
        key,
        size: st.size,
        lastModified: st.mtime,
        metadata: sidecar.metadata,
        tags: sidecar.tags,
        ...(sidecar.contentType === undefined ? {} : { contentType: sidecar.contentType }),
        ...(sidecar.etag === undefined ? {} : { etag: sidecar.etag }),
        ...(sidecar.legalHold === true ? { legalHold: true } : {}),
      };
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return undefined;
      if (err instanceof HandoverError) throw err;
      throw new StoreError(`reading the details of '${key}' in ${this.root} failed: ${describeError(err)}`, { cause: err });
    }
  }

  /** Files dropped into the root by hand have no sidecar; they read as having no metadata. */
  async #readSidecar(key: string): Promise<Sidecar> {
    const metaFile = this.#metaPath(key);
    let text: string;
    try {
      text = await readFile(metaFile, 'utf8');
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR' || errno(err) === 'EISDIR') return { v: 1, metadata: {}, tags: {} };
      throw err;
    }
    try {
      const parsed = JSON.parse(text) as Partial<Sidecar>;
      return {
        v: 1,
        metadata: parsed.metadata ?? {},
        tags: parsed.tags ?? {},
        ...(parsed.contentType === undefined ? {} : { contentType: parsed.contentType }),
        ...(parsed.etag === undefined ? {} : { etag: parsed.etag }),
        ...(parsed.legalHold === true ? { legalHold: true as const } : {}),
      };
    } catch (err) {
      throw new StoreError(
        `the metadata sidecar ${metaFile} of '${key}' is not valid JSON; delete it to reset the object's metadata and tags`,
        { cause: err },
      );
    }
  }

  list(prefix: string, _options: ListOptions = {}): AsyncIterable<ListEntry> {
    // Pages are directories here: each is read whole and sorted, and the tree is walked
    // depth-first on demand, so memory grows with the widest directory, not the store.
    const self = this;
    return {
      async *[Symbol.asyncIterator]() {
        assertValidPrefix(prefix);
        const cut = prefix.lastIndexOf('/');
        const base = cut >= 0 ? prefix.slice(0, cut + 1) : '';
        const startDir = base === '' ? self.root : path.join(self.root, ...base.slice(0, -1).split('/'));
        if (base !== '') self.#segments(base.slice(0, -1));
        yield* self.#walk(startDir, base, prefix);
      },
    };
  }

  async *#walk(dir: string, dirKey: string, prefix: string): AsyncGenerator<ListEntry> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (['ENOENT', 'ENOTDIR'].includes(errno(err) ?? '')) return;
      throw new StoreError(`listing ${dir} in ${this.root} failed: ${describeError(err)}`, { cause: err });
    }
    // A directory sorts as if its name ended in '/', so 'a-c' (0x2d) comes before 'a/b' (0x2f) as in S3.
    const items = entries
      .filter((d) => !d.name.startsWith(PARTIAL) && !(dirKey === '' && d.name === META_DIR))
      .filter((d) => d.isFile() || d.isDirectory())
      .map((d) => ({ name: d.name, isDir: d.isDirectory(), sortKey: d.isDirectory() ? `${d.name}/` : d.name }))
      .sort((a, b) => compareKeys(a.sortKey, b.sortKey));
    for (const item of items) {
      const key = dirKey + item.name;
      if (item.isDir) {
        const sub = `${key}/`;
        if (sub.startsWith(prefix) || prefix.startsWith(sub)) yield* this.#walk(path.join(dir, item.name), sub, prefix);
      } else if (key.startsWith(prefix) && isValidKey(key)) {
        try {
          const st = await lstat(path.join(dir, item.name));
          if (st.isFile()) yield { key, size: st.size, lastModified: st.mtime };
        } catch (err) {
          // Deleted between readdir and lstat: it is simply no longer there.
          if (errno(err) !== 'ENOENT') throw new StoreError(`listing '${key}' in ${this.root} failed: ${describeError(err)}`, { cause: err });
        }
      }
    }
  }

  async delete(keys: readonly string[]): Promise<DeleteResult> {
    for (const key of keys) this.#dataPath(key);
    const unique = uniqueKeys(keys);
    const outcome: ({ ok: true } | { ok: false; message: string })[] = new Array(unique.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < unique.length) {
        const index = next++;
        const key = unique[index]!;
        try {
          await this.#deleteOne(key);
          outcome[index] = { ok: true };
        } catch (err) {
          outcome[index] = { ok: false, message: describeError(err) };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, unique.length) }, worker));
    const result: DeleteResult = { deleted: [], errors: [], requests: unique.length };
    unique.forEach((key, i) => {
      const o = outcome[i]!;
      if (o.ok) result.deleted.push(key);
      else result.errors.push({ key, message: o.message });
    });
    return result;
  }

  async #deleteOne(key: string): Promise<void> {
    const file = this.#dataPath(key);
    // One sidecar read per key: the filesystem store has no request budget to keep.
    if ((await this.#readSidecar(key).catch(() => undefined))?.legalHold === true) throw new StoreError(`AccessDenied: '${key}' is under a legal hold`, { code: 'E_LEGAL_HOLD' });
    try {
      await unlink(file);
    } catch (err) {
      // A directory is not an object, so there was nothing to delete under this key.
      if (!['ENOENT', 'ENOTDIR', 'EISDIR', 'EPERM'].includes(errno(err) ?? '')) throw err;
      if (errno(err) === 'EPERM' && !(await lstat(file).then((s) => s.isDirectory(), () => true))) throw err;
    }
    const metaFile = this.#metaPath(key);
    try {
      await unlink(metaFile);
    } catch (err) {
      if (!['ENOENT', 'ENOTDIR', 'EISDIR', 'EPERM'].includes(errno(err) ?? '')) throw err;
    }
    await this.#pruneEmptyDirs(path.dirname(file), this.root);
    await this.#pruneEmptyDirs(path.dirname(metaFile), this.#metaRoot);
  }

  /** Removes now-empty parents so the tree does not fill with dead directories that `list` has to walk. */
  async #pruneEmptyDirs(dir: string, stopAt: string): Promise<void> {
    let current = dir;
    while (current.startsWith(stopAt + path.sep)) {
      try {
        await rmdir(current);
      } catch {
        return; // not empty, already gone, or not ours: all mean stop
      }
      current = path.dirname(current);
    }
  }

  async setTags(key: string, tags: Record<string, string>): Promise<void> {
    assertValidTags(tags);
    await this.#updateSidecar(key, 'tag', (sidecar) => ({ ...sidecar, tags: { ...tags } }));
  }

  async setLegalHold(key: string, on: boolean): Promise<boolean> {
    await this.#updateSidecar(key, 'set the legal hold of', ({ legalHold: _was, ...rest }) => (on ? { ...rest, legalHold: true } : rest));
    return true;
  }

  /** Rewrite an existing object's sidecar (atomically: a new file renamed over the old). */
  async #updateSidecar(key: string, action: string, change: (sidecar: Sidecar) => Sidecar): Promise<void> {
    const file = this.#dataPath(key);
    try {
      if (!(await this.#isFile(file))) throw new NotFoundError(`cannot ${action} '${key}': no such object in ${this.root}`);
      const sidecar = await this.#readSidecar(key);
      const metaFile = this.#metaPath(key);
      const tmp = path.join(path.dirname(metaFile), randomName());
      try {
        await this.#writeNewFile(tmp, JSON.stringify(change(sidecar)));
        await rename(tmp, metaFile);
      } catch (err) {
        await ignoreMissing(unlink(tmp)).catch(() => undefined);
        throw err;
      }
      await fsyncDir(path.dirname(metaFile));
    } catch (err) {
      if (err instanceof HandoverError) throw err;
      throw new StoreError(`could not ${action} '${key}' in ${this.root}: ${describeError(err)}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }
}
