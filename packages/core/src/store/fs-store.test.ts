import { mkdtemp, readdir, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFsStore, type FsStore } from './fs-store.js';

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

describe('filesystem store', () => {
  let tmp: string;
  let root: string;
  let store: FsStore;

  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'handover-fs-store-'));
    root = path.join(tmp, 'root');
    store = createFsStore({ root });
  });

  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('keeps objects as plain files and metadata in a mirror tree', async () => {
    await store.put('archives/ab/x.zip', 'bytes', { metadata: { sha256: 'f00' }, tags: { hold: 'yes' }, contentType: 'application/zip' });
    expect(await readFile(path.join(root, 'archives/ab/x.zip'), 'utf8')).toBe('bytes');
    const sidecar = JSON.parse(await readFile(path.join(root, '.handover-meta/archives/ab/x.zip'), 'utf8'));
    expect(sidecar).toMatchObject({ metadata: { sha256: 'f00' }, tags: { hold: 'yes' }, contentType: 'application/zip' });
    expect(await tree(root)).toEqual(['.handover-meta/archives/ab/x.zip', 'archives/ab/x.zip']);
    expect(store.url).toBe(root);
  });

  it('writes private files', async () => {
    await store.put('keys/identity.age', 'secret');
    expect((await stat(path.join(root, 'keys/identity.age'))).mode & 0o077).toBe(0);
  });

  it('streams into a .partial- file in the target directory and renames it into place', async () => {
    const body = new PassThrough();
    let reached!: () => void;
    const flowing = new Promise<void>((r) => (reached = r));
    const put = store.put('dir/obj', body, { onProgress: (n) => n >= 256 * 1024 && reached() });
    for (let i = 0; i < 8; i++) body.write(Buffer.alloc(64 * 1024, 1));
    await flowing;
    const during = await readdir(path.join(root, 'dir'));
    expect(during).toHaveLength(1);
    expect(during[0]).toMatch(/^\.partial-[0-9a-f]{16}$/);
    body.end();
    await put;
    expect(await readdir(path.join(root, 'dir'))).toEqual(['obj']);
  });

  it('removes the temp file when the body fails', async () => {
    const body = new Readable({
      read() {
        this.destroy(new Error('boom'));
      },
    });
    await expect(store.put('dir/broken', body)).rejects.toMatchObject({ code: 'E_STORE' });
    expect(await tree(tmp)).toEqual([]);
  });

  it('reserves its own names', async () => {
    await expect(store.put('.handover-meta/x', 'x')).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
    await expect(store.put('a/.partial-1234', 'x')).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
    // Only the top-level meta directory is reserved.
    await store.put('a/.handover-meta', 'fine');
    await expect(readAll(await store.get('a/.handover-meta'))).resolves.toBe('fine');
  });

  it('refuses a key that would nest inside another, with a message saying why', async () => {
    await store.put('a', 'file');
    await expect(store.put('a/b', 'x')).rejects.toMatchObject({ code: 'E_KEY_CONFLICT' });
    await store.put('d/e', 'x');
    await expect(store.put('d', 'x')).rejects.toMatchObject({ code: 'E_KEY_CONFLICT' });
    await expect(store.put('d', 'x', { ifNoneMatch: true })).rejects.toMatchObject({ code: 'E_KEY_CONFLICT' });
    expect(await tree(root).then((t) => t.filter((f) => !f.startsWith('.handover-meta/')))).toEqual(['a', 'd/e']);
  });

  it('reads files dropped in by hand, without metadata, and skips strays when listing', async () => {
    await mkdir(path.join(root, 'manual'), { recursive: true });
    await writeFile(path.join(root, 'manual/readme.txt'), 'hi');
    await writeFile(path.join(root, 'manual/.partial-deadbeefdeadbeef'), 'crash debris');
    expect(await store.head('manual/readme.txt')).toMatchObject({ size: 2, metadata: {}, tags: {} });
    const keys: string[] = [];
    for await (const e of store.list('')) keys.push(e.key);
    expect(keys).toEqual(['manual/readme.txt']);
  });

  it('reports a corrupt sidecar instead of guessing', async () => {
    await store.put('x', 'x', { tags: { a: '1' } });
    await writeFile(path.join(root, '.handover-meta/x'), '{not json');
    await expect(store.head('x')).rejects.toThrow(/not valid JSON.*delete it/);
  });

  it('prunes directories emptied by delete', async () => {
    await store.put('deep/a/b/c', 'x', { tags: { t: '1' } });
    await store.put('deep/keep', 'x');
    await store.delete(['deep/a/b/c']);
    expect(await readdir(path.join(root, 'deep'))).toEqual(['keep']);
    expect(await readdir(path.join(root, '.handover-meta/deep'))).toEqual(['keep']);
  });

  it('treats a directory as no object', async () => {
    await store.put('p/q', 'x');
    expect(await store.delete(['p'])).toMatchObject({ deleted: ['p'], errors: [] });
    expect(await store.head('p/q')).toMatchObject({ size: 1 });
  });

  it('lists a missing root as empty and creates it on the first put', async () => {
    const keys: string[] = [];
    for await (const e of store.list('')) keys.push(e.key);
    expect(keys).toEqual([]);
    await expect(stat(root)).rejects.toMatchObject({ code: 'ENOENT' });
    await store.put('first', '1');
    expect((await stat(root)).isDirectory()).toBe(true);
  });

  it('gives an md5 etag like S3 does for single-part objects', async () => {
    const put = await store.put('e', 'hello');
    expect(put.etag).toBe('5d41402abc4b2a76b9719d911017c592');
    expect((await store.head('e'))?.etag).toBe(put.etag);
  });

  it('refuses an empty root', () => {
    expect(() => createFsStore({ root: '' })).toThrow(/needs a root directory/);
  });
});
