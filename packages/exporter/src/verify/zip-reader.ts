import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { slimZipEntry, yauzlEntry, type SlimZipEntry } from '../archive/slim-zip-entry.js';

/** A zip opened for reading its entries one at a time (yauzl, random access on a file). */
export interface ZipReader {
  /** Every entry, in the zip's order, kept slim: an archive can hold hundreds of thousands. */
  entries: SlimZipEntry[];
  open(entry: SlimZipEntry): Promise<Readable>;
  close(): void;
}

export async function openZip(path: string): Promise<ZipReader> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false }, (err, z) => (err ? reject(err) : resolve(z))),
  );
  const entries: SlimZipEntry[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (e: yauzl.Entry) => {
      entries.push(slimZipEntry(e));
      zip.readEntry();
    });
    zip.on('end', () => resolve());
    zip.on('error', reject);
    zip.readEntry();
  });
  return {
    entries,
    open: (entry) => new Promise<Readable>((resolve, reject) => zip.openReadStream(yauzlEntry(entry), (err, s) => (err ? reject(err) : resolve(s)))),
    close: () => zip.close(),
  };
}

export async function readAll(stream: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      stream.destroy();
      throw new Error(`${what} is larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
