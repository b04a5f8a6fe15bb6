import zlib from 'node:zlib';

/**
 * CRC-32 (PNG chunks, zip entries) and Adler-32 (zlib streams), computed incrementally
 * so files can be streamed chunk by chunk.
 */

// Slicing-by-8 tables: eight bytes per step instead of one, so checksumming keeps up with generation.
const CRC_TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c >>> 0;
    }
  }
  return t;
})();

/** CRC-32 (IEEE) in JavaScript, for Node versions without `zlib.crc32` (before 20.15; the engines field allows 20.11). */
export function crc32Portable(data: Uint8Array, crc = 0, start = 0, end = data.length): number {
  const t = CRC_TABLES;
  let c = ~crc;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    const hi = data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24);
    c =
      t[1792 + (c & 0xff)]! ^
      t[1536 + ((c >>> 8) & 0xff)]! ^
      t[1280 + ((c >>> 16) & 0xff)]! ^
      t[1024 + (c >>> 24)]! ^
      t[768 + (hi & 0xff)]! ^
      t[512 + ((hi >>> 8) & 0xff)]! ^
      t[256 + ((hi >>> 16) & 0xff)]! ^
      t[hi >>> 24]!;
  }
  for (; i < end; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

// Native CRC is about six times faster than the best JavaScript; media generation is bound by it.
const nativeCrc32 = typeof zlib.crc32 === 'function' ? zlib.crc32 : undefined;

/** CRC-32 (IEEE) of `data[start, end)`, continuing from `crc` (0 for a fresh checksum). */
export function crc32(data: Uint8Array, crc = 0, start = 0, end = data.length): number {
  if (nativeCrc32 === undefined) return crc32Portable(data, crc, start, end);
  return nativeCrc32(start === 0 && end === data.length ? data : data.subarray(start, end), crc);
}

/** Adler-32 of `data[start, end)`, continuing from `adler` (1 for a fresh checksum). */
export function adler32(data: Uint8Array, adler = 1, start = 0, end = data.length): number {
  let s1 = adler & 0xffff;
  let s2 = adler >>> 16;
  let i = start;
  while (i < end) {
    // 5552 is the most bytes that can be summed before s2 could overflow 2^32.
    const stop = Math.min(end, i + 5552);
    // Unrolled by 16: about two and a half times faster than the plain loop in V8.
    for (const stop16 = stop - 15; i < stop16; i += 16) {
      s1 += data[i]!;
      s2 += s1;
      s1 += data[i + 1]!;
      s2 += s1;
      s1 += data[i + 2]!;
      s2 += s1;
      s1 += data[i + 3]!;
      s2 += s1;
      s1 += data[i + 4]!;
      s2 += s1;
      s1 += data[i + 5]!;
      s2 += s1;
      s1 += data[i + 6]!;
      s2 += s1;
      s1 += data[i + 7]!;
      s2 += s1;
      s1 += data[i + 8]!;
      s2 += s1;
      s1 += data[i + 9]!;
      s2 += s1;
      s1 += data[i + 10]!;
      s2 += s1;
      s1 += data[i + 11]!;
      s2 += s1;
      s1 += data[i + 12]!;
      s2 += s1;
      s1 += data[i + 13]!;
      s2 += s1;
      s1 += data[i + 14]!;
      s2 += s1;
      s1 += data[i + 15]!;
      s2 += s1;
    }
    for (; i < stop; i++) {
      s1 += data[i]!;
      s2 += s1;
    }
    s1 %= 65521;
    s2 %= 65521;
  }
  return ((s2 << 16) | s1) >>> 0;
}

const ADLER_BASE = 65521;

/**
 * Adler-32 of A followed by B, from the checksums of A and B and B's length (zlib's
 * `adler32_combine`): a row repeated many times is summed once, then combined per copy.
 */
export function adler32Combine(adlerA: number, adlerB: number, lengthB: number): number {
  const rem = lengthB % ADLER_BASE;
  let sum1 = adlerA & 0xffff;
  let sum2 = (rem * sum1) % ADLER_BASE;
  sum1 += (adlerB & 0xffff) + ADLER_BASE - 1;
  sum2 += (adlerA >>> 16) + (adlerB >>> 16) + ADLER_BASE - rem;
  if (sum1 >= ADLER_BASE) sum1 -= ADLER_BASE;
  if (sum1 >= ADLER_BASE) sum1 -= ADLER_BASE;
  if (sum2 >= ADLER_BASE * 2) sum2 -= ADLER_BASE * 2;
  if (sum2 >= ADLER_BASE) sum2 -= ADLER_BASE;
  return ((sum2 << 16) | sum1) >>> 0;
}
