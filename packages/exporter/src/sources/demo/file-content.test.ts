import { inflateSync } from 'node:zlib';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { crc32Portable } from '../../archive/checksums.js';
import { pngContent } from './file-content.js';
import { createFileRecord, type FileKind } from './files.js';
import { prngFor } from './random.js';
import { buildSentencePools } from './text.js';

const ctx = { seed: 42, pools: buildSentencePools(42) };

function file(kind: FileKind, targetSize: number, extra: { pngStyle?: 'noise' | 'gradient'; id?: string } = {}) {
  return createFileRecord(
    {
      id: extra.id ?? `F-test-${kind}-${targetSize}`,
      name: `test.${kind}`,
      kind,
      targetSize,
      ownerId: 'alice',
      createdMs: Date.parse('2025-03-04T05:06:07Z'),
      host: 'acme.chat.example',
      langs: ['en', 'zh', 'ar'],
      pngStyle: extra.pngStyle,
      available: true,
    },
    ctx,
  );
}

async function bytesOf(stream: Readable | Promise<Readable>): Promise<Buffer> {
  return Buffer.concat((await (await stream).toArray()) as Buffer[]);
}

interface PngChunk {
  type: string;
  data: Buffer;
}

/** Splits a PNG into chunks, checking each chunk's CRC. */
function pngChunks(png: Buffer): PngChunk[] {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const chunks: PngChunk[] = [];
  for (let p = 8; p < png.length; ) {
    const length = png.readUInt32BE(p);
    const type = png.toString('latin1', p + 4, p + 8);
    const data = png.subarray(p + 8, p + 8 + length);
    expect(png.readUInt32BE(p + 8 + length), `${type} CRC`).toBe(crc32Portable(png.subarray(p + 4, p + 8 + length)));
    chunks.push({ type, data });
    p += 12 + length;
  }
  return chunks;
}

function decodePng(png: Buffer): { width: number; height: number; raw: Buffer } {
  const chunks = pngChunks(png);
  expect(chunks[0]!.type).toBe('IHDR');
  expect(chunks.at(-1)!.type).toBe('IEND');
  const ihdr = chunks[0]!.data;
  expect([...ihdr.subarray(8, 13)]).toEqual([8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter method, no interlace
  const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  return { width: ihdr.readUInt32BE(0), height: ihdr.readUInt32BE(4), raw };
}

async function readZip(zip: Buffer): Promise<{ name: string; crc: number; data: Buffer }[]> {
  const archive = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, z) => (err ? reject(err) : resolve(z))),
  );
  const out: { name: string; crc: number; data: Buffer }[] = [];
  await new Promise<void>((resolve, reject) => {
    archive.on('error', reject);
    archive.on('end', resolve);
    archive.on('entry', (entry: yauzl.Entry) => {
      archive.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        bytesOf(stream).then((data) => {
          out.push({ name: entry.fileName, crc: entry.crc32, data });
          archive.readEntry();
        }, reject);
      });
    });
    archive.readEntry();
  });
  return out;
}

describe('demo file content', () => {
  it.each([
    ['noise', 64, 48],
    ['gradient', 320, 240],
    ['noise', 28, 771], // raw data exactly one stored block (65,535 bytes)
    ['gradient', 28, 772], // one byte row past it
    ['noise', 1, 1],
  ] as const)('writes a valid %s PNG of %i×%i', async (style, width, height) => {
    const real = pngContent(width, height, style, () => prngFor(1, 'png', width, height));
    const png = await bytesOf(real.open());
    expect(png.length).toBe(real.size);
    const decoded = decodePng(png);
    expect(decoded.width).toBe(width);
    expect(decoded.height).toBe(height);
    expect(decoded.raw.length).toBe(width * height * 3 + height);
    for (let row = 0; row < height; row++) expect(decoded.raw[row * (1 + 3 * width)]).toBe(0);
  });

  it('makes PNGs of about the requested size, whose pixels are not all alike', async () => {
    const record = file('png', 200_000, { pngStyle: 'noise' });
    expect(record.mimeType).toBe('image/png');
    expect(Math.abs(record.size - 200_000)).toBeLessThan(20_000);
    const { raw } = decodePng(await bytesOf(record.open!()));
    expect(new Set(raw.subarray(1, 3001)).size).toBeGreaterThan(200);
  });

  it('writes a zip that a zip reader opens, with a matching CRC', async () => {
    const record = file('zip', 300_000);
    const zip = await bytesOf(record.open!());
    expect(zip.length).toBe(record.size);
    const entries = await readZip(zip);
    expect(entries.map((e) => e.name)).toEqual(['data/part-0001.bin']);
    expect(crc32Portable(entries[0]!.data)).toBe(entries[0]!.crc);
    expect(entries[0]!.data.length).toBeGreaterThan(299_000);
  });

  it('writes a PDF whose cross-reference table points at its objects', async () => {
    const record = file('pdf', 50_000);
    const pdf = await bytesOf(record.open!());
    expect(pdf.length).toBe(record.size);
    const text = pdf.toString('latin1');
    expect(text.startsWith('%PDF-1.4\n')).toBe(true);
    expect(text.endsWith('%%EOF\n')).toBe(true);
    const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(text)![1]);
    expect(text.slice(startxref, startxref + 5)).toBe('xref\n');
    const offsets = [...text.slice(startxref).matchAll(/^(\d{10}) 00000 n $/gm)].map((m) => Number(m[1]));
    expect(offsets.length).toBe(6);
    offsets.forEach((offset, i) => expect(text.slice(offset, offset + 8)).toBe(`${i + 1} 0 obj\n`));
  });

  it('writes an MP4 whose boxes cover the file exactly', async () => {
    const record = file('mp4', 100_000);
    const mp4 = await bytesOf(record.open!());
    expect(mp4.length).toBe(record.size);
    expect(mp4.toString('latin1', 4, 8)).toBe('ftyp');
    const ftyp = mp4.readUInt32BE(0);
    expect(mp4.toString('latin1', ftyp + 4, ftyp + 8)).toBe('mdat');
    expect(ftyp + mp4.readUInt32BE(ftyp)).toBe(mp4.length);
  });

  it.each([100, 257, 5_000, 200_000])('writes valid UTF-8 text, CSV and JSON of exactly the size (%i bytes asked)', async (size) => {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const plain = file('plain', size);
    const plainBytes = await bytesOf(plain.open!());
    expect(plainBytes.length).toBe(plain.size);
    expect(plain.size).toBeGreaterThanOrEqual(size);
    expect(decoder.decode(plainBytes).endsWith('\n')).toBe(true);

    const csv = file('csv', size);
    const csvBytes = await bytesOf(csv.open!());
    expect(csvBytes.length).toBe(csv.size);
    const rows = decoder.decode(csvBytes).split('\n').slice(0, -1);
    expect(rows[0]).toBe('id,date,author,amount,note');
    for (const row of rows.slice(1)) expect(row).toMatch(/^\d+,\d{4}-\d\d-\d\d,[a-z.]+,\d+\.\d\d,"[^"]*"$/u);

    const json = file('json', size);
    const jsonBytes = await bytesOf(json.open!());
    expect(jsonBytes.length).toBe(json.size);
    const parsed = JSON.parse(decoder.decode(jsonBytes)) as { id: number }[];
    expect(parsed.map((item) => item.id)).toEqual(parsed.map((_, i) => i + 1));
  });

  it('makes incompressible media', async () => {
    const { deflateSync } = await import('node:zlib');
    for (const kind of ['mp4', 'zip', 'bin'] as const) {
      const bytes = await bytesOf(file(kind, 100_000).open!());
      expect(deflateSync(bytes).length, kind).toBeGreaterThan(bytes.length * 0.99);
    }
  });

  it('gives the same bytes for the same file id and different bytes for another', async () => {
    const a = await bytesOf(file('mp4', 70_000, { id: 'F-same' }).open!());
    const b = await bytesOf(file('mp4', 70_000, { id: 'F-same' }).open!());
    const c = await bytesOf(file('mp4', 70_000, { id: 'F-other' }).open!());
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
  });

  it('stays within tiny sizes', async () => {
    for (const kind of ['mp4', 'zip', 'pdf', 'bin', 'png'] as const) {
      const record = file(kind, 0);
      expect((await bytesOf(record.open!())).length, kind).toBe(record.size);
    }
  });
});
