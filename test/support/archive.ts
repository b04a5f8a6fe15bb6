import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import yauzl from 'yauzl';
import { run } from './cli.js';

/** Extracts an archive with Info-ZIP `unzip`, a reader nobody here wrote. */
export async function extract(archive: string, dir: string): Promise<void> {
  const r = await run('unzip', ['-q', '-o', archive, '-d', dir]);
  if (r.code !== 0) throw new Error(`unzip failed (${r.code}): ${r.stderr}${r.stdout}`);
}

export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

export interface RawEntry {
  name: string;
  compressionMethod: number;
  dataOffset: number;
  compressedSize: number;
}

/** Where each entry's bytes sit in the zip file, for corrupting one on purpose. */
export function rawEntries(archive: string): Promise<RawEntry[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(archive, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const out: RawEntry[] = [];
      zip.on('entry', (e: yauzl.Entry) => {
        // Local header: 30 bytes + name + extra field; yauzl reads it when asked for the stream.
        zip.openReadStream(e, (err2, stream) => {
          if (err2 || !stream) return reject(err2);
          stream.resume();
          stream.on('end', () => {
            const off = (e as unknown as { relativeOffsetOfLocalHeader: number }).relativeOffsetOfLocalHeader;
            out.push({ name: e.fileName, compressionMethod: e.compressionMethod, dataOffset: off, compressedSize: e.compressedSize });
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}
