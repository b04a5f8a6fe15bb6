import { Readable } from 'node:stream';
import { adler32, adler32Combine, crc32 } from '../../archive/checksums.js';
import type { Prng } from './random.js';
import { ASCII_FILLER, type Lang, type SentencePools } from './text.js';

/**
 * The bytes of demo files, generated on demand in 64 KiB chunks. Every format's size is
 * computed from its parameters alone, so a file record can state its exact `size`
 * without generating anything; `open()` then produces exactly that many bytes.
 */

export interface Content {
  readonly size: number;
  open(): Readable;
}

export type RngFactory = () => Prng;

const CHUNK = 64 * 1024;

function chunkStream(next: () => Uint8Array | null): Readable {
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      try {
        for (;;) {
          const chunk = next();
          if (chunk === null) {
            this.push(null);
            return;
          }
          if (!this.push(chunk)) return;
        }
      } catch (err) {
        this.destroy(err instanceof Error ? err : new Error(String(err)));
      }
    },
  });
}

// ---------------------------------------------------------------- PNG

export type PngStyle = 'noise' | 'gradient';

const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
/** Largest payload of a stored (uncompressed) deflate block. */
const STORED_BLOCK = 65535;

/** Width and height (4:3, at least 64×48) of a PNG close to `targetBytes`. */
export function pngDimensions(targetBytes: number): { width: number; height: number } {
  const width = Math.max(64, Math.round(Math.sqrt((targetBytes / 3) * (4 / 3))));
  return { width, height: Math.max(48, Math.round((width * 3) / 4)) };
}

/** 0..511 folded back into 0..255 (a triangle wave), so colour gradients have no seams. */
const TRIANGLE = Uint8Array.from({ length: 512 }, (_, v) => (v > 255 ? 511 - v : v));

interface GradientColours {
  r0: number;
  g0: number;
  b0: number;
  /** Horizontal gradient step of each column, 0..254. */
  gxs: Int32Array;
}

const NO_COLUMNS = new Int32Array(0);

function gradientColumns(width: number): Int32Array {
  return Int32Array.from({ length: width }, (_, x) => ((x * 255) / width) | 0);
}

/**
 * One row of a gradient image: filter byte 0, then RGB pixels with a little noise. A
 * module-level function, so that every image runs the same optimized code; a closure per
 * image was compiled again for each one.
 */
function drawGradientRow(dst: Uint8Array, width: number, rowNoise: Int32Array, gy: number, c: GradientColours): void {
  const { r0, b0, gxs } = c;
  const g = c.g0 + gy;
  dst[0] = 0; // filter: none
  for (let x = 0, i = 1; x < width; x++, i += 3) {
    const noise = rowNoise[x]!;
    const gx = gxs[x]!;
    dst[i] = TRIANGLE[(r0 + gx + (noise & 15)) & 511]!;
    dst[i + 1] = TRIANGLE[(g + ((noise >>> 8) & 15)) & 511]!;
    dst[i + 2] = TRIANGLE[(b0 + ((gx + gy) >>> 1) + ((noise >>> 16) & 15)) & 511]!;
  }
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const buf = Buffer.alloc(12 + data.length);
  buf.writeUInt32BE(data.length, 0);
  buf.write(type, 4, 'latin1');
  buf.set(data, 8);
  buf.writeUInt32BE(crc32(buf, 0, 4, 8 + data.length), 8 + data.length);
  return buf;
}

/**
 * A truecolour 8-bit PNG. Pixel data goes in stored deflate blocks, one per IDAT chunk:
 * the size is then a formula of width and height, and each chunk's CRC can be computed
 * before it is sent. Archives store PNGs as they are, so compressing them would only cost
 * time. Any PNG decoder reads it.
 */
export function pngContent(width: number, height: number, style: PngStyle, rng: RngFactory): Content {
  const rowBytes = 1 + 3 * width;
  const raw = rowBytes * height;
  const blocks = Math.ceil(raw / STORED_BLOCK);
  const zlibBytes = 2 + 5 * blocks + raw + 4;
  const size = PNG_SIGNATURE.length + 25 + 12 * blocks + zlibBytes + 12;

  const open = (): Readable => {
    const prng = rng();
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(width, 0);
    ihdr.writeUInt32BE(height, 4);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 2; // colour type: RGB
    const head = Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr)]);

    // Per-image colours so gradients differ from file to file.
    // Noise images draw the colours too and leave them unused, so that a seed keeps giving the same files.
    const colours: GradientColours = { r0: prng.below(256), g0: prng.below(256), b0: prng.below(256), gxs: style === 'gradient' ? gradientColumns(width) : NO_COLUMNS };
    // Rows come in at most 256 bands (by gy); the rows of one band repeat the band's first
    // row, noise included. A row is thus drawn and summed once per band, and every further
    // row costs a copy and an O(1) Adler-32 combine.
    const bandRow = new Uint8Array(rowBytes);
    let bandGy = -1;
    let bandAdler = 1;
    let rowIndex = 0;
    /** Adler-32 of the rows written so far. */
    let rowsAdler = 1;
    const writeRow = (dst: Uint8Array, at: number): void => {
      const gy = ((rowIndex++ * 255) / height) | 0;
      if (gy !== bandGy) {
        if (style === 'gradient') drawGradientRow(bandRow, width, prng.noiseWords(width), gy, colours);
        else {
          prng.noise(bandRow);
          bandRow[0] = 0; // filter: none
        }
        bandGy = gy;
        bandAdler = adler32(bandRow);
      }
      dst.set(bandRow, at);
      rowsAdler = adler32Combine(rowsAdler, bandAdler, rowBytes);
    };
    // Rows are written whole into scratch; the part of a row past the block waits there for the next one.
    const scratchBytes = new Uint8Array(STORED_BLOCK + rowBytes);
    let carried = 0;
    const fillRaw = (dst: Uint8Array, offset: number, length: number): void => {
      let filled = carried;
      while (filled < length) {
        writeRow(scratchBytes, filled);
        filled += rowBytes;
      }
      dst.set(scratchBytes.subarray(0, length), offset);
      scratchBytes.copyWithin(0, length, filled);
      carried = filled - length;
    };

    let stage: 'head' | 'idat' | 'end' | 'done' = 'head';
    let block = 0;
    return chunkStream(() => {
      switch (stage) {
        case 'head':
          stage = 'idat';
          return head;
        case 'idat': {
          const len = Math.min(STORED_BLOCK, raw - block * STORED_BLOCK);
          const first = block === 0;
          const last = block === blocks - 1;
          const dataLen = (first ? 2 : 0) + 5 + len + (last ? 4 : 0);
          const buf = Buffer.allocUnsafe(12 + dataLen);
          buf.writeUInt32BE(dataLen, 0);
          buf.write('IDAT', 4, 'latin1');
          let p = 8;
          if (first) {
            buf[p++] = 0x78; // deflate, 32 KiB window
            buf[p++] = 0x01; // no dictionary, fastest; (0x7801 % 31 === 0)
          }
          buf[p++] = last ? 1 : 0; // BFINAL, BTYPE 00 (stored)
          buf.writeUInt16LE(len, p);
          buf.writeUInt16LE(~len & 0xffff, p + 2);
          p += 4;
          fillRaw(buf, p, len);
          p += len;
          if (last) {
            // Every row is generated by now: the last block is only written once its rows are.
            buf.writeUInt32BE(rowsAdler, p);
            p += 4;
            stage = 'end';
          }
          buf.writeUInt32BE(crc32(buf, 0, 4, p), p);
          block++;
          return buf;
        }
        case 'end':
          stage = 'done';
          return pngChunk('IEND', new Uint8Array(0));
        case 'done':
          return null;
      }
    });
  };
  return { size, open };
}

// ---------------------------------------------------------------- framed random bytes

/**
 * A fixed prefix, `middle` incompressible random bytes, a fixed-length suffix. The
 * suffix may depend on the CRC-32 of the middle (zip), computed only when asked for.
 */
function framedContent(
  prefix: Uint8Array,
  middle: number,
  suffixLength: number,
  suffix: (middleCrc: number) => Uint8Array,
  needsCrc: boolean,
  rng: RngFactory,
): Content {
  const size = prefix.length + middle + suffixLength;
  const open = (): Readable => {
    const prng = rng();
    let stage: 'prefix' | 'middle' | 'suffix' | 'done' = 'prefix';
    let left = middle;
    let crc = 0;
    return chunkStream(() => {
      if (stage === 'prefix') {
        stage = 'middle';
        // A copy: each stream owns its chunks, and a consumer may reuse or alter them.
        if (prefix.length > 0) return Buffer.from(prefix);
      }
      if (stage === 'middle') {
        if (left > 0) {
          const n = Math.min(CHUNK, left);
          // A view of the shared, never-written noise pool: consumers only read chunks.
          const buf = prng.noiseView(n);
          if (needsCrc) crc = crc32(buf, crc);
          left -= n;
          return buf;
        }
        stage = 'suffix';
      }
      if (stage === 'suffix') {
        stage = 'done';
        const tail = suffix(crc);
        if (tail.length !== suffixLength) throw new Error(`demo file suffix is ${tail.length} bytes, expected ${suffixLength}`);
        if (tail.length > 0) return tail;
      }
      return null;
    });
  };
  return { size, open };
}

const NO_SUFFIX = (): Uint8Array => new Uint8Array(0);

/** Random bytes behind an optional magic header (the "unknown binary" case). */
export function binaryContent(target: number, magic: Uint8Array, rng: RngFactory): Content {
  return framedContent(magic, Math.max(0, target - magic.length), 0, NO_SUFFIX, false, rng);
}

/** An ISO BMFF file: an `ftyp` box then one `mdat` box of random payload. Players see a video file with no tracks. */
export function mp4Content(target: number, rng: RngFactory): Content {
  const middle = Math.max(0, target - 32);
  const head = Buffer.alloc(32);
  head.writeUInt32BE(24, 0);
  head.write('ftypisom', 4, 'latin1');
  head.writeUInt32BE(0x200, 12);
  head.write('isommp41', 16, 'latin1');
  head.writeUInt32BE(8 + middle, 24);
  head.write('mdat', 28, 'latin1');
  return framedContent(head, middle, 0, NO_SUFFIX, false, rng);
}

function dosDateTime(date: Date): { time: number; day: number } {
  // DOS dates start in 1980.
  if (date.getUTCFullYear() < 1980) return { time: 0, day: (1 << 5) | 1 };
  return {
    time: (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | (date.getUTCSeconds() >>> 1),
    day: ((date.getUTCFullYear() - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate(),
  };
}

/**
 * A valid zip with one stored entry of random bytes. The entry's CRC is only known
 * once its bytes are out, so the local header defers it to a data descriptor and the
 * central directory, which follow the data.
 */
export function zipContent(target: number, entryName: string, modified: Date, rng: RngFactory): Content {
  const name = Buffer.from(entryName, 'utf8');
  const overhead = 30 + name.length + 16 + 46 + name.length + 22;
  const middle = Math.max(0, target - overhead);
  if (middle > 0xfffffffe) throw new RangeError('demo zip entries stay below 4 GiB (no zip64)');
  const { time, day } = dosDateTime(modified);
  const flags = 0x0808; // bit 3: sizes and CRC in the data descriptor; bit 11: UTF-8 name

  const local = Buffer.alloc(30 + name.length);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(flags, 6);
  local.writeUInt16LE(0, 8); // stored
  local.writeUInt16LE(time, 10);
  local.writeUInt16LE(day, 12);
  // CRC and sizes stay zero here, as bit 3 says.
  local.writeUInt16LE(name.length, 26);
  name.copy(local, 30);

  const suffix = (crc: number): Uint8Array => {
    const out = Buffer.alloc(16 + 46 + name.length + 22);
    out.writeUInt32LE(0x08074b50, 0);
    out.writeUInt32LE(crc, 4);
    out.writeUInt32LE(middle, 8);
    out.writeUInt32LE(middle, 12);
    const c = 16;
    out.writeUInt32LE(0x02014b50, c);
    out.writeUInt16LE(20, c + 4);
    out.writeUInt16LE(20, c + 6);
    out.writeUInt16LE(flags, c + 8);
    out.writeUInt16LE(0, c + 10);
    out.writeUInt16LE(time, c + 12);
    out.writeUInt16LE(day, c + 14);
    out.writeUInt32LE(crc, c + 16);
    out.writeUInt32LE(middle, c + 20);
    out.writeUInt32LE(middle, c + 24);
    out.writeUInt16LE(name.length, c + 28);
    out.writeUInt32LE(0, c + 42); // local header offset
    name.copy(out, c + 46);
    const e = c + 46 + name.length;
    out.writeUInt32LE(0x06054b50, e);
    out.writeUInt16LE(1, e + 8);
    out.writeUInt16LE(1, e + 10);
    out.writeUInt32LE(46 + name.length, e + 12);
    out.writeUInt32LE(local.length + middle + 16, e + 16);
    return out;
  };
  return framedContent(local, middle, 16 + 46 + name.length + 22, suffix, true, rng);
}

function pdfEscape(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').replace(/[\\()]/g, (c) => `\\${c}`);
}

/**
 * A one-page PDF showing `title`, padded to size with an unreferenced stream of random
 * bytes. The cross-reference table is exact, so viewers open it without repair.
 */
export function pdfContent(target: number, title: string, rng: RngFactory): Content {
  const content = `BT /F1 24 Tf 72 760 Td (${pdfEscape(title)}) Tj ET\nBT /F1 11 Tf 72 730 Td (Generated by the Handover demo workspace.) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  const build = (middle: number): { prefix: Buffer; suffix: Buffer } => {
    // The second line's high bytes tell tools the file is binary.
    let text = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
    const offsets: number[] = [];
    objects.forEach((body, i) => {
      offsets.push(text.length);
      text += `${i + 1} 0 obj\n${body}\nendobj\n`;
    });
    offsets.push(text.length);
    text += `6 0 obj\n<< /Length ${middle} >>\nstream\n`;
    const prefix = Buffer.from(text, 'latin1');
    const xrefAt = prefix.length + middle + '\nendstream\nendobj\n'.length;
    let tail = '\nendstream\nendobj\nxref\n0 7\n0000000000 65535 f \n';
    for (const offset of offsets) tail += `${String(offset).padStart(10, '0')} 00000 n \n`;
    tail += `trailer\n<< /Size 7 /Root 1 0 R >>\nstartxref\n${xrefAt}\n%%EOF\n`;
    return { prefix, suffix: Buffer.from(tail, 'latin1') };
  };
  const guess = build(target);
  const middle = Math.max(0, target - guess.prefix.length - guess.suffix.length);
  const { prefix, suffix } = build(middle);
  return framedContent(prefix, middle, suffix.length, () => Buffer.from(suffix), false, rng);
}

// ---------------------------------------------------------------- text

export type TextFormat = 'plain' | 'csv' | 'json';

/** Room always kept for the closing line, so a file can be finished at any size. */
const FINAL_MIN = 64;
const CSV_AUTHORS = ['alice', 'bob', 'carol', 'dmitri', 'fatima', 'wang.wei', 'zoe', 'priya'];
/** Longest line a text file writes, generously: chunks get this much slack past CHUNK. */
const MAX_LINE = 4096;

/** 336 distinct days (28 a month) cycled through by line number. */
const DAYS = Array.from({ length: 336 }, (_, i) => {
  const month = (Math.floor(i / 28) % 12) + 1;
  const day = (i % 28) + 1;
  return `2025-${month < 10 ? '0' : ''}${month}-${day < 10 ? '0' : ''}${day}`;
});

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const DAY_BYTES = DAYS.map(ascii);
const AUTHOR_BYTES = CSV_AUTHORS.map(ascii);
const CSV_CLOSE = ascii('"\n');
const PLAIN_CLOSE = ascii('\n');
const JSON_ID = ascii('  {"id":');
const JSON_AT = ascii(',"at":"');
const JSON_AUTHOR = ascii('T09:00:00Z","author":"');
const JSON_TEXT = ascii('","text":"');
const JSON_SCORE = ascii('","score":');
const JSON_CLOSE = ascii('},\n');

/**
 * Readable text (plain, CSV with a header, a JSON array) made of pool sentences, whole
 * lines only, closed by an ASCII line cut to the exact size: the result is valid UTF-8
 * and, for CSV and JSON, valid in its format. Lines are written straight into the chunk:
 * sentences copied already encoded, numbers as digits, the framing from pre-encoded
 * bytes, so a line allocates nothing.
 */
export function textContent(
  format: TextFormat,
  target: number,
  pools: SentencePools,
  langs: readonly Lang[],
  rng: RngFactory,
): Content {
  const header = format === 'csv' ? 'id,date,author,amount,note\n' : format === 'json' ? '[\n' : '';
  const size = Math.max(Math.round(target), header.length + FINAL_MIN);

  const open = (): Readable => {
    const prng = rng();
    let emitted = 0;
    let line = 0;
    let headerDone = false;
    return chunkStream(() => {
      if (emitted >= size) return null;
      const buf = Buffer.allocUnsafe(Math.min(size - emitted, CHUNK + MAX_LINE));
      let bytes = 0;
      if (!headerDone) {
        headerDone = true;
        bytes += buf.write(header, 0, 'latin1');
      }
      while (bytes < CHUNK) {
        const remaining = size - emitted - bytes;
        if (remaining === 0) break;
        const pool = pools[langs[prng.below(langs.length)]!];
        const k = prng.below(pool.texts.length);
        const start = pool.offsets[k]!;
        const end = pool.offsets[k + 1]!;
        const id = line + 1;
        const day = DAY_BYTES[line % DAY_BYTES.length]!;
        const author = AUTHOR_BYTES[line % AUTHOR_BYTES.length]!;
        // Drawn in the order the line reads them, so a seed keeps giving the same files.
        let amount = 0;
        let cents = 0;
        let score = 0;
        let lineBytes = end - start;
        if (format === 'csv') {
          cents = prng.below(100);
          amount = prng.below(10_000);
          // id,day,author,amount.cents,"text"\n
          lineBytes += digitCount(id) + 1 + day.length + 1 + author.length + 1 + digitCount(amount) + 3 + 2 + CSV_CLOSE.length;
        } else if (format === 'json') {
          score = prng.below(100);
          lineBytes +=
            JSON_ID.length + digitCount(id) + JSON_AT.length + day.length + JSON_AUTHOR.length + author.length + JSON_TEXT.length +
            JSON_SCORE.length + digitCount(score) + JSON_CLOSE.length;
        } else {
          lineBytes += PLAIN_CLOSE.length;
        }
        if (remaining - lineBytes < FINAL_MIN) {
          bytes += buf.write(closingLine(format, id, remaining), bytes, 'latin1');
          break;
        }
        const lineStart = bytes;
        if (format === 'csv') {
          bytes = writeDigits(buf, id, bytes);
          buf[bytes++] = 0x2c; // ,
          bytes = writeBytes(buf, day, bytes);
          buf[bytes++] = 0x2c;
          bytes = writeBytes(buf, author, bytes);
          buf[bytes++] = 0x2c;
          bytes = writeDigits(buf, amount, bytes);
          buf[bytes++] = 0x2e; // .
          buf[bytes++] = 0x30 + ((cents / 10) | 0);
          buf[bytes++] = 0x30 + (cents % 10);
          buf[bytes++] = 0x2c;
          buf[bytes++] = 0x22; // "
        } else if (format === 'json') {
          bytes = writeBytes(buf, JSON_ID, bytes);
          bytes = writeDigits(buf, id, bytes);
          bytes = writeBytes(buf, JSON_AT, bytes);
          bytes = writeBytes(buf, day, bytes);
          bytes = writeBytes(buf, JSON_AUTHOR, bytes);
          bytes = writeBytes(buf, author, bytes);
          bytes = writeBytes(buf, JSON_TEXT, bytes);
        }
        bytes = writeBytes(buf, pool.encoded, bytes, start, end);
        if (format === 'csv') bytes = writeBytes(buf, CSV_CLOSE, bytes);
        else if (format === 'json') {
          bytes = writeBytes(buf, JSON_SCORE, bytes);
          bytes = writeDigits(buf, score, bytes);
          bytes = writeBytes(buf, JSON_CLOSE, bytes);
        } else bytes = writeBytes(buf, PLAIN_CLOSE, bytes);
        if (bytes - lineStart !== lineBytes) throw new Error(`demo text line is ${bytes - lineStart} bytes, expected ${lineBytes}`);
        line++;
      }
      emitted += bytes;
      return bytes === buf.length ? buf : buf.subarray(0, bytes);
    });
  };
  return { size, open };
}

// Short runs: a JavaScript loop beats a native copy call per piece several times over.
function writeBytes(buf: Uint8Array, src: Uint8Array, at: number, start = 0, end = src.length): number {
  for (let i = start; i < end; i++) buf[at++] = src[i]!;
  return at;
}

function digitCount(n: number): number {
  let digits = 1;
  while (n >= 10) {
    n = (n / 10) | 0;
    digits++;
  }
  return digits;
}

/** Writes the non-negative integer `n` in decimal. */
function writeDigits(buf: Uint8Array, n: number, at: number): number {
  const end = at + digitCount(n);
  for (let i = end - 1; i >= at; i--) {
    buf[i] = 0x30 + (n % 10);
    n = (n / 10) | 0;
  }
  return end;
}

function closingLine(format: TextFormat, id: number, length: number): string {
  const [open, close] =
    format === 'plain' ? ['', '\n'] : format === 'csv' ? [`${id},2026-10-31,system,0.00,"`, '"\n'] : [`  {"id":${id},"note":"`, '"}\n]\n'];
  const fill = length - open.length - close.length;
  if (fill < 0 || fill > ASCII_FILLER.length) throw new RangeError(`demo text file cannot close in ${length} bytes`);
  return open + ASCII_FILLER.slice(0, fill) + close;
}
