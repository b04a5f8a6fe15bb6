import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ZipArchive } from 'archiver';
import { DigestStream } from '@handover/core';
import type { AddEntryOptions, EntryKind, EntrySink } from '../export/view.js';

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
}

/**
 * Writes archive entries into a zip stream one at a time, recording each entry's size
 * and SHA-256 for the manifest. `add` resolves only when the entry is fully in the zip,
 * so callers that await it keep at most one entry in flight and memory stays bounded.
 */
export class ZipSink implements EntrySink {
  readonly entries: ManifestEntry[] = [];
  readonly #zip: ZipArchive;
  readonly #names = new Set<string>();
  #pending: { name: string; resolve: () => void; reject: (e: Error) => void } | undefined;
  #failure: Error | undefined;
  readonly #date: Date;

  constructor(options: ZipSinkOptions = {}) {
    this.#date = options.date ?? new Date();
    this.#zip = new ZipArchive({ zlib: { level: options.level ?? 6 }, highWaterMark: 1 << 20 });
    this.#zip.on('entry', (data) => {
      const p = this.#pending;
      if (p && p.name === data.name) {
        this.#pending = undefined;
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

  async add(path: string, content: string | Uint8Array | Readable, options: AddEntryOptions): Promise<void> {
    const entry = await this.#append(path, content, options);
    this.entries.push({ ...entry, kind: options.kind, ...(options.records === undefined ? {} : { records: options.records }) });
  }

  /** Adds the manifest (which lists every other entry) and closes the zip. */
  async finish(manifest: string): Promise<void> {
    await this.#append('manifest.xml', manifest, { kind: 'subject' });
    await this.#zip.finalize();
  }

  /** Stops writing; the output stream errors so that no consumer mistakes it for a whole archive. */
  abort(reason: Error): void {
    this.#fail(reason);
    this.#zip.destroy(reason);
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    const p = this.#pending;
    this.#pending = undefined;
    p?.reject(err);
  }

  async #append(path: string, content: string | Uint8Array | Readable, options: AddEntryOptions): Promise<Omit<ManifestEntry, 'kind'>> {
    if (this.#failure) throw this.#failure;
    if (this.#names.has(path)) throw new Error(`duplicate archive entry '${path}'`);
    this.#names.add(path);
    const done = new Promise<void>((resolve, reject) => {
      this.#pending = { name: path, resolve, reject };
    });
    const data = { name: path, store: options.store ?? false, date: options.date ?? this.#date };
    if (content instanceof Readable) {
      const digest = new DigestStream();
      this.#zip.append(digest, data);
      await Promise.all([pipeline(content, digest), done]);
      return { path, size: digest.size, sha256: digest.sha256() };
    }
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content.buffer, content.byteOffset, content.byteLength);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    this.#zip.append(bytes, data);
    await done;
    return { path, size: bytes.length, sha256 };
  }
}
