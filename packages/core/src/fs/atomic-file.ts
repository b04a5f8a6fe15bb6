import { randomBytes } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { link, mkdir, open, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Marker in the names of files being written; nothing carrying it is ever a finished file. */
export const PARTIAL_MARKER = '.partial-';

export interface AtomicWriteOptions {
  /** Fail with EEXIST instead of replacing an existing file. */
  exclusive?: boolean;
  /** File mode; default 0o644 less the umask. Decrypted archives use 0o600. */
  mode?: number;
}

/**
 * Writes a stream to `path` so that the file appears under its final name only when
 * complete: a hidden temporary sibling, fsync, rename (or link when exclusive), fsync
 * of the directory. A failure or Ctrl-C removes the temporary file; kill -9 can leave
 * a `.name.partial-*` file, never a truncated `path`.
 */
export async function writeFileAtomic(path: string, body: Readable, options: AtomicWriteOptions = {}): Promise<{ path: string; bytes: number }> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}${PARTIAL_MARKER}${process.pid}-${randomBytes(4).toString('hex')}`);
  // Synchronous because it may run on the way out of the process.
  const onExit = (): void => rmSync(tmp, { force: true });
  process.once('exit', onExit);
  try {
    const out = createWriteStream(tmp, { flags: 'wx', highWaterMark: 1 << 20, ...(options.mode === undefined ? {} : { mode: options.mode }) });
    await pipeline(body, out);
    await fsync(tmp);
    if (options.exclusive) {
      await link(tmp, path);
      await unlink(tmp);
    } else {
      await rename(tmp, path);
    }
    await fsync(dir).catch(() => undefined); // some filesystems refuse fsync on directories
    return { path, bytes: out.bytesWritten };
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  } finally {
    process.removeListener('exit', onExit);
  }
}

async function fsync(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
