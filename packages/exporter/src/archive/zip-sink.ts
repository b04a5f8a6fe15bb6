import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzip, type ZlibOptions } from 'node:zlib';
import { ZipArchive, type EntryData } from 'archiver';
import { DigestStream } from '@handover/core';
import { ByteBuilder } from './byte-builder.js';
import type { AddEntryOptions, EntryKind, EntrySink } from '../export/view.js';

/** 128 KiB zlib chunks: a sixteenth of the callbacks (and output writes) of the 16 KiB default. */
const ZLIB_CHUNK = 128 * 1024;
/** Output chunk for entries under 1 MiB: each deflate allocates one up front, and most compress to a few KiB. */
const ZLIB_SMALL_CHUNK = 16 * 1024;

/**
 * Stream entries expected to be at most this large are deflated as soon as they are
 * added, beside the others, and their compressed bytes wait in memory for their turn.
 * Larger ones are deflated by the zip writer itself, in turn, so memory stays bounded
 * even for a deflatable file that does not compress.
 */
const EARLY_DEFLATE_MAX_STREAM = 1024 * 1024;

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
  /** Bytes of entries (in memory, or deflated and waiting their turn) that may wait before `add` blocks. Default 8 MiB. */
  maxQueuedBytes?: number;
  /**
   * Renders an entry's line in the manifest. Lines are rendered in call order as soon as
   * an entry and all before it are hashed, and kept as UTF-8 outside the heap until
   * `finish` writes them between the manifest's head and tail. Without it, no lines are kept.
   */
  manifestLine?: (entry: ManifestEntry) => string;
}

interface Written {
  name: string;
  /** Bytes counted against the queue until the entry is written. */
  bytes: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * Writes archive entries into a zip stream in call order, recording each entry's size
 * and SHA-256 for the manifest.
 *
 * The zip writer (archiver) writes one entry at a time and would deflate each in turn,
 * leaving every other entry waiting on one zlib thread. Instead, an entry to deflate
 * (an XML part, an HTML page, a small text file) is deflated as soon as it is added, in
 * zlib's thread pool, several at once, while the caller renders the next one; the zip
 * writer then copies the compressed bytes in order. At most `maxQueuedBytes` of such
 * entries wait, which bounds memory. Stored entries and large streams go through the
 * zip writer as before; a large stream's `add` resolves once it is written, since its
 * hash is known only then.
 */
export class ZipSink implements EntrySink {
  /** Entries not yet rendered into the manifest's lines, oldest first, from `#openHead` on. */
  #open: ManifestEntry[] = [];
  #openHead = 0;
  readonly #lines = new ByteBuilder(64 * 1024);
  readonly #manifestLine: ((entry: ManifestEntry) => string) | undefined;
  readonly #zip: ZipArchive;
  readonly #names = new Set<string>();
  /** Entries handed to the zip writer and not yet written, in its order. */
  readonly #written: Written[] = [];
  /** Appends to the zip writer happen in this chain, so that entries keep their call order. */
  #order: Promise<void> = Promise.resolve();
  #queuedBytes = 0;
  #waiters: (() => void)[] = [];
  #failure: Error | undefined;
  readonly #date: Date;
  readonly #maxQueued: number;
  readonly #zlib: ZlibOptions;

  constructor(options: ZipSinkOptions = {}) {
    this.#date = options.date ?? new Date();
    this.#maxQueued = options.maxQueuedBytes ?? 8 * 1024 * 1024;
    this.#zlib = { level: options.level ?? 6, chunkSize: ZLIB_CHUNK };
    this.#manifestLine = options.manifestLine;
    this.#zip = new ZipArchive({ zlib: this.#zlib, highWaterMark: 1 << 20 });
    this.#zip.on('entry', (data) => {
      const w = this.#written[0];
      if (w && w.name === data.name) {
        this.#written.shift();
        this.#release(w.bytes);
        w.resolve();
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
   * Resolves with the entry's manifest line once it is hashed and the queue has room.
   * Entries are written in call order, also when added while earlier ones are in flight.
   */
  async add(path: string, content: string | Uint8Array | Readable, options: AddEntryOptions): Promise<ManifestEntry> {
    if (this.#failure) throw this.#failure;
    if (this.#names.has(path)) throw new Error(`duplicate archive entry '${path}'`);
    this.#names.add(path);
    // Listed in call order, whatever order the entries finish hashing in.
    const entry: ManifestEntry = { path, size: 0, sha256: '', kind: options.kind, ...(options.records === undefined ? {} : { records: options.records }) };
    if (this.#manifestLine) this.#open.push(entry);
    const { size, sha256 } = await this.#append(path, content, options);
    entry.size = size;
    entry.sha256 = sha256;
    this.#renderLines();
    return entry;
  }

  /** Renders the lines of the oldest entries that are hashed, up to the first that is not. */
  #renderLines(): void {
    const open = this.#open;
    while (this.#openHead < open.length && open[this.#openHead]!.sha256 !== '') {
      this.#lines.append(this.#manifestLine!(open[this.#openHead]!));
      this.#openHead++;
    }
    // Dropped once rendered: a long export must not keep an object per entry.
    if (this.#openHead === open.length) {
      this.#open = [];
      this.#openHead = 0;
    } else if (this.#openHead > 1024) {
      this.#open = open.slice(this.#openHead);
      this.#openHead = 0;
    }
  }

  /**
   * Adds the manifest, `head`, then every entry's line (see `manifestLine`) in call
   * order, then `tail`, and closes the zip. Every `add` must have resolved by then.
   */
  async finish(head: string, tail = ''): Promise<void> {
    const pending = this.#open[this.#openHead];
    if (pending) throw new Error(`archive entry '${pending.path}' is still being written: await every add before finishing the archive`);
    await this.#append('manifest.xml', this.#lines.take(head, tail), { kind: 'subject' });
    await this.#order;
    await this.#waitUntil(() => this.#written.length === 0 && this.#queuedBytes === 0);
    await this.#zip.finalize();
  }

  /** Stops writing; the output stream errors so that no consumer mistakes it for a whole archive. */
  abort(reason: Error): void {
    this.#fail(reason);
    this.#zip.destroy(reason);
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    for (const w of this.#written.splice(0)) w.reject(err);
    this.#wake();
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  #release(bytes: number): void {
    this.#queuedBytes -= bytes;
    this.#wake();
  }

  /** Waits until `done()` holds; throws once the zip has failed. */
  async #waitUntil(done: () => boolean): Promise<void> {
    while (!done()) {
      if (this.#failure) throw this.#failure;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    if (this.#failure) throw this.#failure;
  }

  /** Runs `step` once every earlier entry has been handed to the zip writer. */
  #inTurn(step: () => void | Promise<void>): Promise<void> {
    const turn = this.#order.then(() => {
      if (this.#failure) throw this.#failure;
      return step();
    });
    // The chain goes on after a failure; the failure surfaces through #failure.
    this.#order = turn.catch(() => undefined);
    return turn;
  }

  /** Hands an entry to the zip writer; resolves once it is written. */
  #hand(name: string, source: Buffer | Readable, data: EntryData, bytes: number): Promise<void> {
    const written = new Promise<void>((resolve, reject) => this.#written.push({ name, bytes, resolve, reject }));
    // Failures surface through #failure or the caller's await; never as an unhandled rejection.
    written.catch(() => undefined);
    this.#zip.append(source, data);
    return written;
  }

  async #append(path: string, content: string | Uint8Array | Readable, options: AddEntryOptions): Promise<{ size: number; sha256: string }> {
    const data: EntryData = { name: path, store: options.store ?? false, date: options.date ?? this.#date };
    const zlib: ZlibOptions = options.level === undefined ? this.#zlib : { ...this.#zlib, level: options.level };
    if (content instanceof Readable) {
      if (!data.store && options.size !== undefined && options.size <= EARLY_DEFLATE_MAX_STREAM) return this.#deflateStream(path, content, data, zlib, options.size);
      // Hashed on its way into the zip writer, which deflates it if needed.
      const digest = new DigestStream();
      let written: Promise<void> | undefined;
      await this.#inTurn(() => {
        written = this.#hand(path, digest, { ...data, ...(options.level === undefined ? {} : { zlib }) }, 0);
      });
      await Promise.all([pipeline(content, digest), written]);
      return { size: digest.size, sha256: digest.sha256() };
    }
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content.buffer, content.byteOffset, content.byteLength);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    this.#queuedBytes += bytes.length;
    if (data.store || bytes.length === 0) {
      this.#inTurn(() => void this.#hand(path, bytes, data, bytes.length)).catch(() => undefined);
    } else {
      const compressed = gzipAsync(bytes, bytes.length < 1024 * 1024 ? { ...zlib, chunkSize: ZLIB_SMALL_CHUNK } : zlib).then((z) => unwrapGzip(z, bytes.length));
      compressed.then(
        (d) => this.#release(bytes.length - d.raw.length),
        (err: Error) => this.#fail(err),
      );
      this.#inTurn(async () => {
        const d = await compressed;
        void this.#hand(path, d.raw, { ...data, deflated: { crc: d.crc, size: bytes.length } }, d.raw.length);
      }).catch(() => undefined);
    }
    await this.#waitUntil(() => this.#queuedBytes <= this.#maxQueued);
    return { size: bytes.length, sha256 };
  }

  /** A small stream: hashed and deflated now, its compressed bytes handed over in turn. */
  async #deflateStream(path: string, content: Readable, data: EntryData, zlib: ZlibOptions, expected: number): Promise<{ size: number; sha256: string }> {
    // Counted at its expected size while it is deflated: compressed, it is rarely larger.
    this.#queuedBytes += expected;
    const digest = new DigestStream();
    const compressed = gzipStream(content, digest, { ...zlib, chunkSize: ZLIB_SMALL_CHUNK }).then(
      (z) => {
        const d = unwrapGzip(z, digest.size);
        this.#release(expected - d.raw.length);
        return d;
      },
      (err: Error) => {
        this.#release(expected);
        throw err;
      },
    );
    // The turn is taken now, so the entry keeps its place whenever its deflating ends.
    this.#inTurn(async () => {
      const d = await compressed;
      void this.#hand(path, d.raw, { ...data, deflated: { crc: d.crc, size: digest.size } }, d.raw.length);
    }).catch(() => undefined);
    await compressed;
    await this.#waitUntil(() => this.#queuedBytes <= this.#maxQueued);
    return { size: digest.size, sha256: digest.sha256() };
  }
}

/*
 * Entries are gzipped rather than raw-deflated: a gzip member is the same deflate stream
 * between a 10-byte header and a trailer holding the CRC-32 of the input, which zlib
 * computes in its own thread as it deflates, instead of on the main thread.
 */

interface Deflated {
  /** The raw deflate stream, as a zip entry holds it. */
  raw: Buffer;
  crc: number;
}

function gzipAsync(bytes: Buffer, options: ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => gzip(bytes, options, (err, z) => (err ? reject(err) : resolve(z))));
}

async function gzipStream(content: Readable, digest: DigestStream, zlib: ZlibOptions): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  const collect = new Writable({
    write(chunk: Buffer, _encoding, next) {
      chunks.push(chunk);
      bytes += chunk.length;
      next();
    },
  });
  await pipeline(content, digest, createGzip(zlib), collect);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes);
}

/** Splits zlib's gzip output (no name, comment or extra field: a 10-byte header) into deflate stream and CRC. */
export function unwrapGzip(z: Buffer, size: number): Deflated {
  if (z.length < 18 || z[0] !== 0x1f || z[1] !== 0x8b || z[2] !== 8 || z[3] !== 0) throw new Error('zlib produced an unexpected gzip header');
  const isize = z.readUInt32LE(z.length - 4);
  if (isize !== size % 0x100000000) throw new Error(`gzip trailer records ${isize} bytes, expected ${size}`);
  return { raw: z.subarray(10, z.length - 8), crc: z.readUInt32LE(z.length - 8) };
}
