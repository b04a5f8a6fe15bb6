/**
 * Seeded pseudo-random numbers for the demo workspace. Every stream is derived from
 * the workspace seed plus a key (a conversation id, a file id…), so any part of the
 * workspace can be generated on its own, lazily, in any order, with the same result.
 */

/** sfc32: four uint32 words of state, a handful of integer ops per draw, good statistical quality. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(a: number, b: number, c: number, d: number) {
    this.a = a | 0;
    this.b = b | 0;
    this.c = c | 0;
    this.d = d | 0;
    // The first outputs of sfc32 still echo the seed words; discard them.
    for (let i = 0; i < 12; i++) this.next();
  }

  /** A uniformly distributed uint32. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.next() / 4294967296) * n);
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + Math.floor((this.next() / 4294967296) * (max - min + 1));
  }

  /**
   * Fills `words` with the same values `next()` would give, with the state in locals:
   * four times faster, which matters for gigabytes of file bytes.
   */
  fill(words: Int32Array): void {
    let a = this.a;
    let b = this.b;
    let c = this.c;
    let d = this.d;
    for (let i = 0, n = words.length; i < n; i++) {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      words[i] = t;
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
  }

  /**
   * Fills `dst` with incompressible bytes: slices of one fixed 4 MiB block of sfc32 output,
   * at offsets drawn from this generator. Copying runs at memory speed, twenty times faster
   * than drawing every word, and deflate (32 KiB window) finds nothing to compress either way.
   */
  noise(dst: Uint8Array): void {
    const pool = noisePool();
    for (let at = 0; at < dst.length; ) {
      const n = Math.min(dst.length - at, NOISE_SLICE);
      const from = this.below(pool.length - n + 1);
      dst.set(pool.subarray(from, from + n), at);
      at += n;
    }
  }

  /**
   * `length` incompressible bytes as a view into the noise pool, at an offset drawn from
   * this generator: no copy and no new memory. Read-only by convention, like `noiseWords`.
   * A fresh buffer per chunk made the demo allocate a gigabyte a run, and every 16 MB of
   * new buffers made V8 start a full garbage collection.
   */
  noiseView(length: number): Buffer {
    const pool = noisePool();
    if (length > pool.length) throw new RangeError(`at most ${pool.length} noise bytes at once`);
    const from = this.below(pool.length - length + 1);
    return Buffer.from(pool.buffer, pool.byteOffset + from, length);
  }

  /** `count` random 32-bit words, as a view into the noise pool (read-only by convention). */
  noiseWords(count: number): Int32Array {
    const pool = noisePool();
    const words = pool.length >>> 2;
    if (count > words) throw new RangeError(`at most ${words} noise words at once`);
    const from = this.below(words - count + 1);
    return new Int32Array(pool.buffer, pool.byteOffset + from * 4, count);
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor((this.next() / 4294967296) * items.length)]!;
  }
}

const NOISE_POOL_BYTES = 4 * 1024 * 1024;
/** Longest run copied from one offset; a 64 KiB chunk thus comes from two unrelated places. */
const NOISE_SLICE = 32 * 1024;
let pool: Uint8Array | undefined;

function noisePool(): Uint8Array {
  if (pool === undefined) {
    const words = new Int32Array(NOISE_POOL_BYTES / 4);
    prngFor(0x5eed, 'noise-pool').fill(words);
    pool = new Uint8Array(words.buffer);
  }
  return pool;
}

/**
 * cyrb128 over the seed and key: spreads even adjacent keys (`acme-general`,
 * `acme-general2`) over unrelated states, which sfc32 needs to start well.
 */
export function prngFor(seed: number, ...key: readonly (string | number)[]): Prng {
  const str = `${seed}\u0000${key.join('\u0000')}`;
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < str.length; i++) {
    const k = str.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return new Prng(h1, h2, h3, h4);
}
