import zlib from 'node:zlib';
import { adler32, crc32, crc32Portable } from '../../archive/checksums.js';
import { apportion } from './plan.js';
import { prngFor } from './random.js';

function randomBytes(n: number, key: string): Buffer {
  const words = new Int32Array(Math.ceil(n / 4));
  prngFor(1, key).fill(words);
  return Buffer.from(words.buffer, 0, n);
}

describe('checksums', () => {
  it('computes the standard CRC-32 and Adler-32 check values', () => {
    expect(crc32Portable(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(adler32(Buffer.from('Wikipedia'))).toBe(0x11e60398);
    expect(crc32Portable(new Uint8Array(0))).toBe(0);
    expect(adler32(new Uint8Array(0))).toBe(1);
  });

  it('gives the same result in one go, in pieces, and natively', () => {
    const data = randomBytes(200_003, 'crc');
    const whole = crc32Portable(data);
    let pieces = 0;
    for (let p = 0; p < data.length; p += 7_777) pieces = crc32Portable(data, pieces, p, Math.min(data.length, p + 7_777));
    expect(pieces).toBe(whole);
    expect(crc32(data)).toBe(whole);
    if (typeof zlib.crc32 === 'function') expect(zlib.crc32(data)).toBe(whole);
  });

  it('matches a plain Adler-32 across the 5552-byte reduction boundary', () => {
    const data = randomBytes(100_001, 'adler');
    let s1 = 1;
    let s2 = 0;
    for (const byte of data) {
      s1 = (s1 + byte) % 65521;
      s2 = (s2 + s1) % 65521;
    }
    const expected = ((s2 << 16) | s1) >>> 0;
    expect(adler32(data)).toBe(expected);
    let pieces = 1;
    for (let p = 0; p < data.length; p += 9_999) pieces = adler32(data, pieces, p, Math.min(data.length, p + 9_999));
    expect(pieces).toBe(expected);
  });
});

describe('prng', () => {
  it('fills in bulk with the same sequence next() gives', () => {
    const bulk = new Int32Array(1000);
    prngFor(5, 'fill').fill(bulk);
    const one = prngFor(5, 'fill');
    const single = Int32Array.from({ length: 1000 }, () => one.next() | 0);
    expect([...bulk]).toEqual([...single]);
  });

  it('derives independent streams from seed and key', () => {
    const first = (seed: number, key: string) => prngFor(seed, key).next();
    expect(first(1, 'a')).toBe(first(1, 'a'));
    expect(new Set([first(1, 'a'), first(2, 'a'), first(1, 'b'), first(1, 'a2')]).size).toBe(4);
    const rng = prngFor(3, 'range');
    for (let i = 0; i < 1000; i++) {
      const v = rng.below(7);
      expect(Number.isInteger(v) && v >= 0 && v < 7).toBe(true);
    }
  });
});

describe('apportion', () => {
  it('splits a total exactly and in proportion', () => {
    const shares = apportion(1000, [14, 8, 12, 1]);
    expect(shares.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(shares[0]! / shares[1]!).toBeCloseTo(14 / 8, 1);
    expect(apportion(3, [1, 1, 1, 1]).reduce((a, b) => a + b, 0)).toBe(3);
    expect(apportion(10, [0, 0])).toEqual([0, 0]);
    expect(apportion(0, [1, 2])).toEqual([0, 0]);
  });
});
