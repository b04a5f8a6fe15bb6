/**
 * The textual age v1 header: encoding, strict parsing, and the base64 flavour age uses
 * (standard alphabet, no padding, canonical). Parsing is strict on purpose: the header
 * MAC covers the exact bytes, and a lenient parser would accept headers age rejects.
 */
import { AgeHeaderError } from './crypto-errors.js';

export const AGE_INTRO = 'age-encryption.org/v1';
/** `age-encryption.org/v1\n`: the first 22 bytes of every binary age file. */
export const AGE_MAGIC = new TextEncoder().encode(`${AGE_INTRO}\n`);
/** Largest header we buffer before giving up: constant memory even on hostile input. */
export const MAX_HEADER_BYTES = 1024 * 1024;

const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';
const BODY_LINE = 64;
const B64_RE = /^[A-Za-z0-9+/]*$/;

export interface Stanza {
  /** Type first (`X25519`, `scrypt`, …), then its arguments. */
  args: string[];
  body: Uint8Array;
}

export interface ParsedHeader {
  stanzas: Stanza[];
  mac: Buffer;
  /** The bytes the MAC covers: the header up to and including `---`. */
  macInput: Buffer;
  /** Length of the whole header including the MAC line's newline. */
  length: number;
}

/** Unpadded standard base64, as in age headers. */
export function b64encode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64').replace(/=+$/, '');
}

/** Decode unpadded canonical base64, or `undefined` if `s` is not exactly that. */
export function b64decode(s: string): Buffer | undefined {
  if (!B64_RE.test(s) || s.length % 4 === 1) return undefined;
  const out = Buffer.from(s, 'base64');
  // Node ignores non-zero trailing bits; age does not, so round-trip to reject them.
  if (b64encode(out) !== s) return undefined;
  return out;
}

function isArg(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 33 || c > 126) return false;
  }
  return true;
}

/** The header text without the MAC: everything the MAC covers. */
export function encodeHeaderNoMac(stanzas: readonly Stanza[]): Buffer {
  let s = `${AGE_INTRO}\n`;
  for (const st of stanzas) {
    s += `-> ${st.args.join(' ')}\n`;
    const b = b64encode(st.body);
    // Body lines are 64 columns; the last line is always shorter, so possibly empty.
    for (let i = 0; i <= b.length; i += BODY_LINE) s += `${b.slice(i, i + BODY_LINE)}\n`;
  }
  s += '---';
  return Buffer.from(s, 'latin1');
}

export function encodeHeader(noMac: Buffer, mac: Uint8Array): Buffer {
  return Buffer.concat([noMac, Buffer.from(` ${b64encode(mac)}\n`, 'latin1')]);
}

/**
 * Fail fast on input that cannot be an age file, from however many bytes have arrived.
 * Throws for armored files too, which this implementation does not decode.
 */
export function checkMagic(prefix: Buffer): void {
  const n = Math.min(prefix.length, AGE_MAGIC.length);
  if (prefix.subarray(0, n).equals(Buffer.from(AGE_MAGIC.subarray(0, n)))) return;
  if (prefix.subarray(0, 64).toString('latin1').trimStart().startsWith(ARMOR_BEGIN.slice(0, 10))) {
    throw new AgeHeaderError(`this looks like an ASCII-armored age file (${ARMOR_BEGIN}); only binary age files are supported: re-encrypt without -a, or decrypt it with \`age -d\``);
  }
  throw new AgeHeaderError('not an age v1 file: it does not start with "age-encryption.org/v1"');
}

function isHeaderByte(c: number): boolean {
  return c === 0x0a || (c >= 32 && c <= 126);
}

/**
 * Parse a complete header from the start of `buf`, or return `undefined` if `buf` does
 * not yet hold the whole header (the caller reads more and retries). `scanned` is how
 * many bytes earlier calls already looked at, so repeated calls stay linear.
 */
export function parseHeader(buf: Buffer, scanned = 0): ParsedHeader | undefined {
  checkMagic(buf);
  // `---` can only begin a line as the MAC line: stanza lines begin `->`, body lines are base64.
  // A MAC line is 47 characters, so one begun before `scanned` started within 64 bytes of it.
  const macStart = buf.indexOf('\n---', Math.max(0, scanned - 64), 'latin1');
  const end = macStart === -1 ? -1 : buf.indexOf(0x0a, macStart + 1);
  if (end === -1) {
    // Fail at the first byte that cannot be in a header instead of buffering binary data.
    for (let i = scanned; i < buf.length; i++) {
      if (!isHeaderByte(buf[i] as number)) throw new AgeHeaderError(`malformed age header: non-printable byte at offset ${i}`);
    }
    if (buf.length > MAX_HEADER_BYTES) throw new AgeHeaderError(`age header is longer than ${MAX_HEADER_BYTES} bytes`);
    return undefined;
  }
  for (let i = 0; i < end; i++) {
    if (!isHeaderByte(buf[i] as number)) throw new AgeHeaderError(`malformed age header: non-printable byte at offset ${i}`);
  }
  const lines = buf.subarray(0, macStart).toString('latin1').split('\n');
  const macLine = buf.subarray(macStart + 1, end).toString('latin1');
  if (lines[0] !== AGE_INTRO) throw new AgeHeaderError('not an age v1 file: bad version line');

  const stanzas: Stanza[] = [];
  let i = 1;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (!line.startsWith('-> ')) throw new AgeHeaderError(`malformed age header: line ${i + 1} should start a stanza`);
    const args = line.slice(3).split(' ');
    if (!args.every(isArg)) throw new AgeHeaderError(`malformed age header: bad stanza arguments on line ${i + 1}`);
    i++;
    let body = '';
    for (;;) {
      const bl = lines[i];
      if (bl === undefined) throw new AgeHeaderError(`malformed age header: stanza on line ${i} has an unterminated body`);
      if (bl.length > BODY_LINE || !B64_RE.test(bl)) throw new AgeHeaderError(`malformed age header: bad stanza body on line ${i + 1}`);
      body += bl;
      i++;
      if (bl.length < BODY_LINE) break;
    }
    const decoded = b64decode(body);
    if (decoded === undefined) throw new AgeHeaderError(`malformed age header: stanza body before line ${i + 1} is not canonical base64`);
    stanzas.push({ args, body: decoded });
  }
  if (stanzas.length === 0) throw new AgeHeaderError('malformed age header: no recipient stanzas');
  if (!macLine.startsWith('--- ')) throw new AgeHeaderError('malformed age header: bad MAC line');
  const mac = b64decode(macLine.slice(4));
  if (mac === undefined || mac.length !== 32) throw new AgeHeaderError('malformed age header: bad MAC encoding');
  return { stanzas, mac, macInput: buf.subarray(0, macStart + 4), length: end + 1 };
}
