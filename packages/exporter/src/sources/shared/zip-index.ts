import { basename } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import yauzl from 'yauzl';
import { slimZipEntry, yauzlEntry, type SlimZipEntry } from '../../archive/slim-zip-entry.js';
import { SourceFormatError } from './source-format-error.js';

const DAMAGED_HINT = 'The zip is damaged or incomplete: download the export again, or pass the unpacked directory instead.';

/** zlib.crc32 arrived in Node 20.15; on older runtimes entries are read without the CRC check. */
const crc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/**
 * A zip opened once, with an index of its entry names; entries are read on demand as
 * streams, never extracted. Reads check sizes (yauzl) and CRC-32 (here), so a damaged
 * entry fails with a `SourceFormatError` naming it instead of yielding garbage.
 */
export class ZipIndex {
  private constructor(
    private readonly zip: yauzl.ZipFile,
    private readonly entries: Map<string, SlimZipEntry>,
    /** The zip's base name, for messages. */
    readonly label: string,
  ) {}

  static async open(path: string): Promise<ZipIndex> {
    const label = basename(path);
    const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => {
      yauzl.open(path, { lazyEntries: true, autoClose: false, validateEntrySizes: true, decodeStrings: true }, (err, zf) => {
        if (err !== null && err !== undefined) reject(err);
        else resolve(zf);
      });
    }).catch((cause: unknown) => {
      throw new SourceFormatError(label, `not a readable zip archive (${describe(cause)})`, { cause, hint: DAMAGED_HINT });
    });
    const entries = new Map<string, SlimZipEntry>();
    try {
      await new Promise<void>((resolve, reject) => {
        zip.on('entry', (entry: yauzl.Entry) => {
          if (!entry.fileName.endsWith('/') && !entries.has(entry.fileName)) entries.set(entry.fileName, slimZipEntry(entry));
          zip.readEntry();
        });
        zip.once('end', () => resolve());
        zip.once('error', reject);
        zip.readEntry();
      });
    } catch (cause) {
      zip.close();
      throw new SourceFormatError(label, `damaged zip directory (${describe(cause)})`, { cause, hint: DAMAGED_HINT });
    }
    return new ZipIndex(zip, entries, label);
  }

  names(): IterableIterator<string> {
    return this.entries.keys();
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Uncompressed size as the zip declares it (checked when the entry is read). */
  size(name: string): number | undefined {
    return this.entries.get(name)?.uncompressedSize;
  }

  /** Opens one entry's bytes. Errors while reading are `SourceFormatError`s naming the entry. */
  async openStream(name: string): Promise<Readable> {
    const slim = this.entries.get(name);
    if (slim === undefined) throw new SourceFormatError(name, 'no such entry', { container: this.label, hint: DAMAGED_HINT });
    const entry = yauzlEntry(slim);
    const damaged = (cause: unknown): SourceFormatError =>
      new SourceFormatError(name, `damaged zip entry (${describe(cause)})`, { container: this.label, hint: DAMAGED_HINT, cause });
    const raw = await new Promise<Readable>((resolve, reject) => {
      this.zip.openReadStream(entry, (err, stream) => {
        if (err !== null && err !== undefined) reject(damaged(err));
        else resolve(stream);
      });
    });
    const checked = new CrcCheck(slim.crc32, damaged);
    raw.once('error', (err) => checked.destroy(damaged(err)));
    // A reader that stops early destroys `checked`; release the entry's stream with it.
    checked.once('close', () => raw.destroy());
    return raw.pipe(checked);
  }

  async close(): Promise<void> {
    this.zip.close();
  }
}

class CrcCheck extends Transform {
  private crc = 0;

  constructor(
    private readonly expected: number,
    private readonly damaged: (cause: unknown) => SourceFormatError,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (crc32 !== undefined) this.crc = crc32(chunk, this.crc);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (crc32 !== undefined && this.crc >>> 0 !== this.expected >>> 0) {
      callback(this.damaged(new Error('CRC-32 mismatch')));
      return;
    }
    callback();
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
