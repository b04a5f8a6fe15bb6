import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { adler32, adler32Combine, crc32, crc32Portable } from './checksums.js';

/** Adler-32 as zlib computes it: the last four bytes of a zlib stream, big-endian. */
function zlibAdler(data: Uint8Array): number {
  const z = zlib.deflateSync(data, { level: 0 });
  return z.readUInt32BE(z.length - 4);
}

describe('checksums', () => {
  it('computes Adler-32 as zlib does, in one go and in pieces', () => {
    const data = randomBytes(100_003);
    expect(adler32(data)).toBe(zlibAdler(data));
    const split = adler32(data, adler32(data, 1, 0, 40_000), 40_000);
    expect(split).toBe(zlibAdler(data));
    expect(adler32(new Uint8Array(0))).toBe(1);
    // All 0xff bytes push both sums to their largest values before each reduction.
    const ones = new Uint8Array(70_000).fill(0xff);
    expect(adler32(ones)).toBe(zlibAdler(ones));
  });

  it.each([
    [0, 0],
    [1, 65_520],
    [5_000, 65_521],
    [70_000, 200_000],
    [3, 131_042],
  ])('combines the Adler-32 of %i bytes and of the %i after them', (a, b) => {
    const data = randomBytes(a + b);
    const whole = adler32(data);
    expect(adler32Combine(adler32(data, 1, 0, a), adler32(data, 1, a), b)).toBe(whole);
  });

  it('combines repeated rows into the checksum of the whole image', () => {
    const row = new Uint8Array(4_261).fill(0xff);
    row.set(randomBytes(2_000), 100);
    const rowAdler = adler32(row);
    const image = Buffer.concat(Array.from({ length: 37 }, () => row));
    let adler = 1;
    for (let i = 0; i < 37; i++) adler = adler32Combine(adler, rowAdler, row.length);
    expect(adler).toBe(zlibAdler(image));
  });

  it('computes CRC-32 natively and portably alike', () => {
    const data = randomBytes(10_007);
    expect(crc32(data)).toBe(zlib.crc32(data));
    expect(crc32Portable(data)).toBe(zlib.crc32(data));
    expect(crc32(data, crc32(data, 0, 0, 5_000), 5_000)).toBe(zlib.crc32(data));
  });
});
