import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ZipArchive } from 'archiver';
import { DigestStream } from '@handover/core';
import type { AddEntryOptions, EntryKind, EntrySink } from '../export/view.js';

/** 128 KiB zlib chunks: a sixteenth of the callbacks (and output writes) of the 16 KiB default. */
const ZLIB_CHUNK = 128 * 1024;

/** One line of the manifest: every entry but the manifest itself. */
export interface ManifestEntry {
  path: string;
  size: number;
  sha256: string;
  kind: EntryKind;
  records?: number;
}

export interface ZipSinkOptions {
  /** zlib level for deflated entries; default 6, as Info-ZIP `zip`. */
  level?: number;
  /** Modification time written on every entry; default the archive's creation time. */
  date?: Date;
  /** Bytes of in-memory entries that may wait for compression before `add` blocks. Default 4 MiB. */
  maxQueuedBytes?: number;
}

/**
 * Writes archive entries into a zip stream one after another, recording each entry's
 * size and SHA-256 for the manifest. In-memory entries are hashed at once and queued:
 * `add` returns while they are still being deflated (in zlib's thread pool), so the
 * caller renders the next part meanwhile; at most `maxQueuedBytes` wait, which bounds
 * memory. A stream entry is awaited until fully written, since its hash is known only then.
 */
export class ZipSink implements EntrySink {
  readonly entries: ManifestEntry[] = [];
  readonly #zip: ZipArchive;
  readonly #names = new Set<string>();
  readonly #pending: { name: string; bytes: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  #queuedBytes = 0;
  #failure: Error | undefined;
  readonly #date: Date;
  readonly #maxQueued: number;

  constructor(options: ZipSinkOptions = {}) {
    this.#date = options.date ?? new Date();
    this.#maxQueued = options.maxQueuedBytes ?? 4 * 1024 * 1024;
    this.#zip = new ZipArchive({ zlib: { level: options.level ?? 6, chunkSize: ZLIB_CHUNK }, highWaterMark: 1 << 20 });
    this.#zip.on('entry', (data) => {
      const p = this.#pending[0];
      if (p && p.name === data.name) {
        this.#pending.shift();
        this.#queuedBytes -= p.bytes;
        p.resolve();
      }
    });
    this.#zip.on('error', (err) => this.#fail(err));
    this.#zip.on('warning', (err) => this.#fail(err));
  }

  /** The zip bytes. Pipe it somewhere before adding entries: entries only complete while it is read. */
  get output(): Readable {
    return this.#zip;
  }

  /** Total bytes of zip output produced so far. */
  get bytesWritten(): number {
    return this.#zip.pointer();
  }

  /**
   * Resolves with the entry's manifest line once it is written. Stream entries may be
   * added while earlier ones are still being written: they are written in call order.
   */
  async add(path: string, content: string | Uint8Array | Readable, options: AddEntryOptions): Promise<ManifestEntry> {
    const written = await this.#append(path, content, options);
    const entry: ManifestEntry = { ...written, kind: options.kind, ...(options.records === undefined ? {} : { records: options.records }) };
    this.entries.push(entry);
    return entry;
  }

  /** Adds the manifest (which lists every other entry) and closes the zip. */
  async finish(manifest: string): Promise<void> {
    await this.#append('manifest.xml', manifest, { kind: 'subject' });
    await this.#drain(0);
    await this.#zip.finalize();
  }

  /** Stops writing; the output stream errors so that no consumer mistakes it for a whole archive. */
  abort(reason: Error): void {
    this.#fail(reason);
    this.#zip.destroy(reason);
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    for (const p of this.#pending.splice(0)) p.reject(err);
    this.#queuedBytes = 0;
  }

  #enqueue(name: string, bytes: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ name, bytes, resolve, reject });
      this.#queuedBytes += bytes;
    });
  }

  /** Waits until at most `limit` bytes are queued. */
  async #drain(limit: number): Promise<void> {
    while (this.#queuedBytes > limit || (limit === 0 && this.#pending.length > 0)) {
      if (this.#failure) throw this.#failure;
      const oldest = this.#pending[0];
      if (!oldest) break;
      await new Promise<void>((resolve, reject) => {
        const prev = { resolve: oldest.resolve, reject: oldest.reject };
        oldest.resolve = () => (prev.resolve(), resolve());
        oldest.reject = (e) => (prev.reject(e), reject(e));
      });
    }
    if (this.#failure) throw this.#failure;
  }

  async #append(path: string, content: string | Uint8Array | Readable, options: AddEntryOptions): Promise<Omit<ManifestEntry, 'kind'>> {
    if (this.#failure) throw this.#failure;
    if (this.#names.has(path)) throw new Error(`duplicate archive entry '${path}'`);
    this.#names.add(path);
    const data = {
      name: path,
      store: options.store ?? false,
      date: options.date ?? this.#date,
      ...(options.level === undefined ? {} : { zlib: { level: options.level, chunkSize: ZLIB_CHUNK } }),
    };
    if (content instanceof Readable) {
      const digest = new DigestStream();
      const done = this.#enqueue(path, 0);
      done.catch(() => undefined);
      this.#zip.append(digest, data);
      await Promise.all([pipeline(content, digest), done]);
      return { path, size: digest.size, sha256: digest.sha256() };
    }
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content.buffer, content.byteOffset, content.byteLength);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const done = this.#enqueue(path, bytes.length);
    // Failures surface through #drain or the next add; never as an unhandled rejection.
    done.catch(() => undefined);
    this.#zip.append(bytes, data);
    await this.#drain(this.#maxQueued);
    return { path, size: bytes.length, sha256 };
  }
}
