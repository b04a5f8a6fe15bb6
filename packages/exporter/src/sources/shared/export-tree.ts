import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { InputError } from '@handover/core';
import { SourceFormatError } from './source-format-error.js';
import { ZipIndex } from './zip-index.js';

/**
 * The files of an export, whether it is a zip or an unpacked directory. Paths are
 * relative, `/`-separated, as inside the zip. Paths that would leave the export
 * (absolute, `..`) are never opened.
 */
export interface ExportTree {
  /** The zip's or directory's base name, for messages. */
  readonly label: string;
  readonly kind: 'zip' | 'directory';
  has(path: string): Promise<boolean>;
  /** Size in bytes, `undefined` when the file does not exist. */
  size(path: string): Promise<number | undefined>;
  /** Names of the files directly inside `dir` (`''` for the top). */
  list(dir: string): Promise<string[]>;
  /** Names of the directories directly inside `dir`. */
  listDirs(dir: string): Promise<string[]>;
  openStream(path: string): Promise<Readable>;
  close(): Promise<void>;
}

/** Above this a file is not read whole into a string (V8's string limit is ~512 MiB). */
export const MAX_WHOLE_FILE_BYTES = 256 * 1024 * 1024;

/** Opens `path` as a zip (by content, not by name) or a directory. */
export async function openExportTree(path: string): Promise<ExportTree> {
  let info;
  try {
    info = await stat(path);
  } catch (cause) {
    throw new InputError(`cannot read the export '${path}': ${(cause as NodeJS.ErrnoException).code ?? String(cause)}. Check the path.`, { cause });
  }
  if (info.isDirectory()) return new DirectoryTree(await realpath(path));
  return new ZipTree(await ZipIndex.open(path));
}

/** A path inside the export, or `undefined` when it would leave it. */
export function normalizeInnerPath(path: string): string | undefined {
  const parts: string[] = [];
  if (path.startsWith('/') || path.startsWith('\\') || /^[a-zA-Z]:/.test(path)) return undefined;
  for (const part of path.split(/[\\/]+/)) {
    if (part === '' || part === '.') continue;
    if (part === '..') return undefined;
    parts.push(part);
  }
  return parts.length === 0 ? undefined : parts.join('/');
}

export class DirectoryTree implements ExportTree {
  readonly kind = 'directory';
  readonly label: string;

  constructor(private readonly root: string) {
    this.label = basename(root);
  }

  /** The absolute path of an inner path, checked (symlinks included) to stay inside the root. */
  private async locate(path: string): Promise<string | undefined> {
    const inner = normalizeInnerPath(path);
    if (inner === undefined) return undefined;
    const full = join(this.root, ...inner.split('/'));
    let real: string;
    try {
      real = await realpath(full);
    } catch {
      return undefined;
    }
    const rel = relative(this.root, real);
    if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) return undefined;
    return real;
  }

  async has(path: string): Promise<boolean> {
    return (await this.size(path)) !== undefined;
  }

  async size(path: string): Promise<number | undefined> {
    const full = await this.locate(path);
    if (full === undefined) return undefined;
    try {
      const info = await stat(full);
      return info.isFile() ? info.size : undefined;
    } catch {
      return undefined;
    }
  }

  private async entries(dir: string) {
    const inner = dir === '' ? '' : normalizeInnerPath(dir);
    if (inner === undefined) return [];
    try {
      return await readdir(resolve(this.root, ...inner.split('/').filter(Boolean)), { withFileTypes: true });
    } catch {
      return [];
    }
  }

  async list(dir: string): Promise<string[]> {
    return (await this.entries(dir)).filter((d) => d.isFile()).map((d) => d.name);
  }

  async listDirs(dir: string): Promise<string[]> {
    return (await this.entries(dir)).filter((d) => d.isDirectory()).map((d) => d.name);
  }

  async openStream(path: string): Promise<Readable> {
    const full = await this.locate(path);
    if (full === undefined) throw new SourceFormatError(path, 'no such file', { container: this.label, hint: 'Check the export is complete.' });
    return createReadStream(full);
  }

  async close(): Promise<void> {}
}

export class ZipTree implements ExportTree {
  readonly kind = 'zip';
  readonly label: string;
  /** dir → file names and dir → subdirectory names, built once from the entry names. */
  private files?: Map<string, string[]>;
  private dirs?: Map<string, Set<string>>;

  constructor(private readonly zip: ZipIndex) {
    this.label = zip.label;
  }

  private listing(): { files: Map<string, string[]>; dirs: Map<string, Set<string>> } {
    if (this.files === undefined || this.dirs === undefined) {
      const files = new Map<string, string[]>();
      const dirs = new Map<string, Set<string>>();
      for (const name of this.zip.names()) {
        const slash = name.lastIndexOf('/');
        const dir = slash === -1 ? '' : name.slice(0, slash);
        const file = name.slice(slash + 1);
        let list = files.get(dir);
        if (list === undefined) files.set(dir, (list = []));
        list.push(file);
        // Register every ancestor directory so nested folders are listed even without entries of their own.
        let child = dir;
        while (child !== '') {
          const cut = child.lastIndexOf('/');
          const parent = cut === -1 ? '' : child.slice(0, cut);
          let set = dirs.get(parent);
          if (set === undefined) dirs.set(parent, (set = new Set()));
          if (set.has(child.slice(cut + 1))) break;
          set.add(child.slice(cut + 1));
          child = parent;
        }
      }
      this.files = files;
      this.dirs = dirs;
    }
    return { files: this.files, dirs: this.dirs };
  }

  async has(path: string): Promise<boolean> {
    const inner = normalizeInnerPath(path);
    return inner !== undefined && this.zip.has(inner);
  }

  async size(path: string): Promise<number | undefined> {
    const inner = normalizeInnerPath(path);
    return inner === undefined ? undefined : this.zip.size(inner);
  }

  async list(dir: string): Promise<string[]> {
    return [...(this.listing().files.get(dir === '' ? '' : (normalizeInnerPath(dir) ?? '\u0000')) ?? [])];
  }

  async listDirs(dir: string): Promise<string[]> {
    return [...(this.listing().dirs.get(dir === '' ? '' : (normalizeInnerPath(dir) ?? '\u0000')) ?? [])];
  }

  async openStream(path: string): Promise<Readable> {
    const inner = normalizeInnerPath(path);
    if (inner === undefined) throw new SourceFormatError(path, 'no such entry', { container: this.label, hint: 'Check the export is complete.' });
    return this.zip.openStream(inner);
  }

  async close(): Promise<void> {
    await this.zip.close();
  }
}

/** A view of `tree` rooted at `prefix` (`dir/`): exports re-zipped with their folder. */
export function subTree(tree: ExportTree, prefix: string): ExportTree {
  if (prefix === '') return tree;
  const at = (p: string): string => `${prefix}${p}`;
  return {
    label: tree.label,
    kind: tree.kind,
    has: (p) => tree.has(at(p)),
    size: (p) => tree.size(at(p)),
    list: (d) => tree.list(d === '' ? prefix.slice(0, -1) : at(d)),
    listDirs: (d) => tree.listDirs(d === '' ? prefix.slice(0, -1) : at(d)),
    openStream: (p) => tree.openStream(at(p)),
    close: () => tree.close(),
  };
}

/**
 * Reads a whole file as UTF-8 text. For JSON files a source must parse whole (Slack's
 * users.json, channels.json, day files); bigger than `MAX_WHOLE_FILE_BYTES` is refused.
 */
export async function readText(tree: ExportTree, path: string): Promise<string> {
  const size = await tree.size(path);
  if (size !== undefined && size > MAX_WHOLE_FILE_BYTES) {
    throw new SourceFormatError(path, `file too large to read whole (${size} bytes, limit ${MAX_WHOLE_FILE_BYTES})`, {
      container: tree.label,
      hint: 'Split the export or report this as a bug with the file size.',
    });
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of await tree.openStream(path)) {
    const buf = chunk as Buffer;
    total += buf.length;
    if (total > MAX_WHOLE_FILE_BYTES) {
      throw new SourceFormatError(path, `file too large to read whole (over ${MAX_WHOLE_FILE_BYTES} bytes)`, { container: tree.label });
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}
