import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { openZip, readAll } from '../verify/zip-reader.js';
import { crc32 } from './checksums.js';
import { gzipSync, inflateRawSync } from 'node:zlib';
import { ZipSink, type ManifestEntry, unwrapGzip } from './zip-sink.js';

const dir = mkdtempSync(join(tmpdir(), 'handover-zip-sink-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasUnzip = spawnSync('sh', ['-c', 'command -v unzip'], { stdio: 'ignore' }).status === 0;

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const text = (n: number, seed: string): Buffer => Buffer.from(`${seed} `.repeat(Math.ceil(n / (seed.length + 1))).slice(0, n), 'latin1');
function chunked(bytes: Buffer, chunk = 10_000): Readable {
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += chunk) parts.push(bytes.subarray(at, at + chunk));
  return Readable.from(parts, { objectMode: false });
}

interface Read {
  name: string;
  bytes: Buffer;
  method: number;
  crc: number;
}

async function readZip(path: string): Promise<Read[]> {
  const zip = await openZip(path);
  const out: Read[] = [];
  for (const e of zip.entries) out.push({ name: e.fileName, bytes: await readAll(await zip.open(e), 1 << 30, e.fileName), method: e.compressionMethod, crc: e.crc32 });
  zip.close();
  return out;
}

describe('ZipSink', () => {
  it('writes in call order, deflating small entries early, and every CRC and hash matches the bytes', async () => {
    const path = join(dir, 'mixed.zip');
    // A small queue, so that adds really wait for earlier entries to be written.
    const sink = new ZipSink({ maxQueuedBytes: 256 * 1024, manifestLine: (e) => `${e.path} ${e.size} ${e.sha256} ${e.kind}\n` });
    const done = pipeline(sink.output, createWriteStream(path));
    const expected = new Map<string, Buffer>();
    const adds: Promise<unknown>[] = [];
    const add = (name: string, bytes: Buffer, how: 'buffer' | 'small-stream' | 'large-stream' | 'stored-stream' | 'stored-buffer' | 'fast'): void => {
      expected.set(name, bytes);
      const stream = how.endsWith('stream');
      const content = stream ? chunked(bytes) : how === 'fast' ? bytes.toString('latin1') : bytes;
      adds.push(
        sink.add(name, content, {
          kind: 'file',
          store: how.startsWith('stored'),
          ...(how === 'small-stream' ? { size: bytes.length } : how === 'large-stream' ? { size: 2 * 1024 * 1024 } : {}),
          ...(how === 'fast' ? { level: 1 } : {}),
        }),
      );
    };
    for (let i = 0; i < 12; i++) {
      add(`part-${i}.xml`, text(50_000 + i * 7919, `part${i}`), 'buffer');
      add(`files/small-${i}.txt`, text(30_000 + i, `small${i}`), 'small-stream');
      add(`files/media-${i}.bin`, randomBytes(40_000), i % 2 ? 'stored-stream' : 'stored-buffer');
      add(`view/page-${i}.html`, text(20_000, `page${i}`), 'fast');
    }
    add('files/large.txt', text(2 * 1024 * 1024, 'large'), 'large-stream');
    add('files/random.dat', randomBytes(300_000), 'small-stream');
    add('empty.txt', Buffer.alloc(0), 'buffer');
    const entries = (await Promise.all(adds)) as ManifestEntry[];
    expect(entries.map((e) => e.path)).toEqual([...expected.keys()]);
    for (const e of entries) {
      const bytes = expected.get(e.path)!;
      expect({ path: e.path, size: e.size, sha256: e.sha256 }).toEqual({ path: e.path, size: bytes.length, sha256: sha(bytes) });
    }
    await sink.finish('<manifest>\n', '</manifest>\n');
    await done;

    const read = await readZip(path);
    expect(read.map((r) => r.name)).toEqual([...expected.keys(), 'manifest.xml']);
    // One line per entry in call order, also for entries that finished hashing out of order.
    const lines = [...expected].map(([name, bytes]) => `${name} ${bytes.length} ${sha(bytes)} file\n`);
    expect(read.find((r) => r.name === 'manifest.xml')?.bytes.toString('utf8')).toBe(`<manifest>\n${lines.join('')}</manifest>\n`);
    for (const r of read) {
      if (r.name === 'manifest.xml') continue;
      const bytes = expected.get(r.name)!;
      expect(r.bytes.equals(bytes), r.name).toBe(true);
      expect(r.crc, r.name).toBe(crc32(bytes));
      expect(r.method, r.name).toBe(r.name.startsWith('files/media-') || bytes.length === 0 ? 0 : 8);
    }
    if (hasUnzip) {
      const t = spawnSync('unzip', ['-tq', path], { encoding: 'utf8' });
      expect(t.stdout + t.stderr).toContain('No errors detected');
      expect(t.status).toBe(0);
    }
  });

  it('rejects the add and fails the archive when a small stream errors', async () => {
    const sink = new ZipSink();
    const out = pipeline(sink.output, createWriteStream(join(dir, 'failed.zip')));
    out.catch(() => undefined);
    const broken = new Readable({
      read() {
        this.destroy(new Error('source went away'));
      },
    });
    await expect(sink.add('files/broken.txt', broken, { kind: 'file', size: 100 })).rejects.toThrow('source went away');
    sink.abort(new Error('export failed'));
    await expect(sink.add('late.xml', 'x', { kind: 'conversations' })).rejects.toThrow();
    await expect(out).rejects.toThrow();
  });

  it('refuses to finish the archive while an entry is still being hashed', async () => {
    const sink = new ZipSink({ manifestLine: (e) => `${e.path}\n` });
    sink.output.resume();
    const slow = sink.add('files/slow.txt', chunked(text(200_000, 'slow')), { kind: 'file', size: 200_000 });
    await expect(sink.finish('')).rejects.toThrow("archive entry 'files/slow.txt' is still being written");
    expect((await slow).sha256).toBe(sha(text(200_000, 'slow')));
    sink.abort(new Error('done'));
  });

  it('refuses a duplicate entry name', async () => {
    const sink = new ZipSink();
    sink.output.resume();
    await sink.add('a.xml', 'a', { kind: 'conversations' });
    await expect(sink.add('a.xml', 'b', { kind: 'conversations' })).rejects.toThrow("duplicate archive entry 'a.xml'");
    sink.abort(new Error('done'));
  });

  it('takes the deflate stream and CRC-32 out of a gzip member, and refuses anything else', () => {
    const bytes = text(100_000, 'gzip');
    const d = unwrapGzip(gzipSync(bytes), bytes.length);
    expect(d.crc).toBe(crc32(bytes));
    expect(inflateRawSync(d.raw).equals(bytes)).toBe(true);
    expect(() => unwrapGzip(gzipSync(bytes), bytes.length + 1)).toThrow('gzip trailer records 100000 bytes, expected 100001');
    expect(() => unwrapGzip(Buffer.alloc(40), 0)).toThrow('unexpected gzip header');
  });
});
