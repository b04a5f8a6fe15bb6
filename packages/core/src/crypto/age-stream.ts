/**
 * Streaming age v1 (https://age-encryption.org/v1) encryption and decryption as Node
 * Transform streams. Header and stanzas follow the spec; the payload runs on
 * node:crypto's native ChaCha20-Poly1305 (OpenSSL), an order of magnitude faster than
 * the pure-JS cipher in age-encryption. Memory is constant: one 64 KiB chunk is held
 * back because a chunk's nonce says whether it is the last, and only the next byte
 * (or the end of input) tells.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { Readable, Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AGE_MAGIC, encodeHeader, encodeHeaderNoMac, parseHeader, type ParsedHeader, type Stanza } from './age-format.js';
import {
  DEFAULT_MAX_SCRYPT_WORK_FACTOR,
  DEFAULT_SCRYPT_WORK_FACTOR,
  FILE_KEY_BYTES,
  generateIdentity,
  parseIdentity,
  parseRecipient,
  unwrapScrypt,
  unwrapX25519,
  wrapScrypt,
  wrapX25519,
  type X25519Identity,
} from './age-keys.js';
import { AgeHeaderError, AgeKeyError, AgePayloadError, NoIdentityMatchError } from './crypto-errors.js';

/** Plaintext bytes per payload chunk. */
export const CHUNK_SIZE = 64 * 1024;
const TAG_SIZE = 16;
const CT_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE;
const PAYLOAD_NONCE_SIZE = 16;
/** Chunk counters live in the low 6 bytes of the 11-byte counter: 2^48 chunks is 16 EiB. */
const MAX_CHUNKS = 2 ** 48;

export interface EncryptStreamOptions {
  /**
   * age X25519 recipients (`age1…`) who can decrypt the output. Each gets a stanza in
   * the header; any one of their identities decrypts.
   */
  recipients?: readonly string[];
  /**
   * Encrypt to a passphrase instead (an age scrypt stanza). age requires a scrypt stanza
   * to be the only one in a file, so this cannot be combined with `recipients`: make two
   * files, or choose one.
   */
  passphrase?: string;
  /** scrypt work factor, log2(N), for `passphrase`. Default 18, as age. Lower only for tests. */
  scryptWorkFactor?: number;
}

export interface DecryptStreamOptions {
  /** age X25519 identities (`AGE-SECRET-KEY-1…`) to try against the file's stanzas. */
  identities?: readonly string[];
  /** Passphrase for a passphrase-encrypted (scrypt) file. */
  passphrase?: string;
  /**
   * Highest scrypt work factor accepted, so a hostile file cannot make us burn minutes
   * of CPU and gigabytes of memory. Default 22, as age.
   */
  maxScryptWorkFactor?: number;
}

function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
}

function headerMac(fileKey: Uint8Array, macInput: Uint8Array): Buffer {
  return createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header')).update(macInput).digest();
}

/** The 12-byte STREAM nonce: 11-byte big-endian counter, then 0x01 on the last chunk. */
function chunkNonce(counter: number, last: boolean): Buffer {
  if (counter >= MAX_CHUNKS) throw new AgePayloadError('age payload exceeds 2^48 chunks', { code: 'E_AGE_PAYLOAD' });
  const n = Buffer.alloc(12);
  n.writeUIntBE(counter, 5, 6);
  n[11] = last ? 1 : 0;
  return n;
}

function asBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TypeError('age streams take Buffer, Uint8Array or string chunks');
}

class EncryptTransform extends Transform {
  readonly #stanzas: Promise<Stanza[]>;
  readonly #fileKey = randomBytes(FILE_KEY_BYTES);
  #payloadKey: Buffer | undefined;
  readonly #buf = Buffer.allocUnsafe(CHUNK_SIZE);
  #fill = 0;
  #counter = 0;

  constructor(stanzas: (fileKey: Buffer) => Promise<Stanza[]>) {
    super();
    this.#stanzas = stanzas(this.#fileKey);
    // Failures surface from the first write or the flush; keep them from being unhandled meanwhile.
    this.#stanzas.catch(() => undefined);
  }

  async #start(): Promise<void> {
    if (this.#payloadKey !== undefined) return;
    const noMac = encodeHeaderNoMac(await this.#stanzas);
    const header = encodeHeader(noMac, headerMac(this.#fileKey, noMac));
    const nonce = randomBytes(PAYLOAD_NONCE_SIZE);
    this.#payloadKey = hkdf(this.#fileKey, nonce, 'payload');
    // The file key is not needed past this point; do not leave it lying in the heap.
    this.#fileKey.fill(0);
    this.push(header);
    this.push(nonce);
  }

  #seal(plain: Buffer, last: boolean): void {
    const c = createCipheriv('chacha20-poly1305', this.#payloadKey as Buffer, chunkNonce(this.#counter, last), { authTagLength: TAG_SIZE });
    const body = c.update(plain);
    c.final();
    this.push(body);
    this.push(c.getAuthTag());
    this.#counter++;
  }

  override _transform(chunk: unknown, _enc: BufferEncoding, callback: TransformCallback): void {
    this.#start().then(() => {
      const data = asBuffer(chunk);
      let off = 0;
      while (off < data.length) {
        if (this.#fill === CHUNK_SIZE) {
          // More input exists, so the held chunk is not the last.
          this.#seal(this.#buf, false);
          this.#fill = 0;
        }
        if (this.#fill === 0 && data.length - off > CHUNK_SIZE) {
          // A whole chunk with more after it: seal straight from the input, no copy.
          this.#seal(data.subarray(off, off + CHUNK_SIZE), false);
          off += CHUNK_SIZE;
          continue;
        }
        const n = Math.min(CHUNK_SIZE - this.#fill, data.length - off);
        data.copy(this.#buf, this.#fill, off, off + n);
        this.#fill += n;
        off += n;
      }
      callback();
    }, callback);
  }

  override _flush(callback: TransformCallback): void {
    this.#start().then(() => {
      // Empty only when the whole plaintext is empty, which age allows; otherwise the held chunk.
      this.#seal(this.#buf.subarray(0, this.#fill), true);
      this.#wipe();
      callback();
    }, callback);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#wipe();
    callback(err);
  }

  #wipe(): void {
    this.#buf.fill(0);
    this.#fileKey.fill(0);
    this.#payloadKey?.fill(0);
  }
}

class DecryptTransform extends Transform {
  readonly #identities: X25519Identity[];
  readonly #passphrase: string | undefined;
  readonly #maxLogN: number;
  #state: 'header' | 'nonce' | 'payload' | 'done' = 'header';
  #header: Buffer = Buffer.alloc(0);
  #headerScanned = 0;
  #fileKey: Buffer | undefined;
  readonly #nonce = Buffer.alloc(PAYLOAD_NONCE_SIZE);
  #nonceFill = 0;
  #payloadKey: Buffer | undefined;
  readonly #buf = Buffer.allocUnsafe(CT_CHUNK_SIZE);
  #fill = 0;
  #counter = 0;

  constructor(identities: X25519Identity[], passphrase: string | undefined, maxLogN: number) {
    super();
    this.#identities = identities;
    this.#passphrase = passphrase;
    this.#maxLogN = maxLogN;
  }

  async #unwrap(h: ParsedHeader): Promise<Buffer> {
    const scrypt = h.stanzas.filter((s) => s.args[0] === 'scrypt');
    if (scrypt.length > 0) {
      if (h.stanzas.length !== 1) throw new AgeHeaderError('invalid age header: a scrypt stanza must be the only stanza in the file');
      if (this.#passphrase === undefined) {
        throw new NoIdentityMatchError('no identity matches any recipient of this file: it is encrypted with a passphrase; supply the passphrase');
      }
      const key = await unwrapScrypt(scrypt[0] as Stanza, this.#passphrase, this.#maxLogN);
      if (key === undefined) throw new NoIdentityMatchError('incorrect passphrase: it does not decrypt this file');
      return key;
    }
    for (const stanza of h.stanzas) {
      if (stanza.args[0] !== 'X25519') continue; // other recipient types (ssh, plugins, pq) are not ours
      for (const id of this.#identities) {
        const key = unwrapX25519(stanza, id);
        if (key !== undefined) return key;
      }
    }
    throw new NoIdentityMatchError();
  }

  async #openHeader(h: ParsedHeader): Promise<void> {
    const fileKey = await this.#unwrap(h);
    if (!timingSafeEqual(headerMac(fileKey, h.macInput), h.mac)) {
      throw new AgeHeaderError('age header MAC does not match: the header was modified', { code: 'E_AGE_HEADER_MAC' });
    }
    this.#fileKey = fileKey;
  }

  #tryOpen(ct: Buffer, last: boolean): Buffer | undefined {
    if (ct.length < TAG_SIZE) return undefined;
    const d = createDecipheriv('chacha20-poly1305', this.#payloadKey as Buffer, chunkNonce(this.#counter, last), { authTagLength: TAG_SIZE });
    d.setAuthTag(ct.subarray(ct.length - TAG_SIZE));
    const plain = d.update(ct.subarray(0, ct.length - TAG_SIZE));
    try {
      d.final();
    } catch {
      return undefined;
    }
    return plain;
  }

  /** Authenticate and emit one chunk; on failure, work out which kind of damage it is. */
  #openChunk(ct: Buffer, last: boolean): void {
    const i = this.#counter;
    const plain = this.#tryOpen(ct, last);
    if (plain !== undefined) {
      if (last && plain.length === 0 && i > 0) {
        throw new AgePayloadError(`age payload chunk ${i} is an empty final chunk, which age forbids unless the whole file is empty`, { code: 'E_AGE_PAYLOAD', chunkIndex: i });
      }
      this.#counter++;
      this.push(plain);
      return;
    }
    if (!last) {
      if (this.#tryOpen(ct, true) !== undefined) {
        throw new AgePayloadError(`trailing data after the final age payload chunk (chunk ${i})`, { code: 'E_AGE_TRAILING_DATA', chunkIndex: i });
      }
      throw new AgePayloadError(`age payload chunk ${i} failed authentication: the file was modified or corrupted`, { code: 'E_AGE_CHUNK_AUTH', chunkIndex: i });
    }
    if (ct.length < TAG_SIZE) {
      throw new AgePayloadError(`age file is truncated inside payload chunk ${i}`, { code: 'E_AGE_TRUNCATED', chunkIndex: i });
    }
    if (ct.length === CT_CHUNK_SIZE && this.#tryOpen(ct, false) !== undefined) {
      throw new AgePayloadError(`age file is truncated: it ends after payload chunk ${i} without the final chunk`, { code: 'E_AGE_TRUNCATED', chunkIndex: i + 1 });
    }
    throw new AgePayloadError(
      `age payload chunk ${i} (the last in the file) failed authentication: the file was modified, cut short inside the chunk, or has data appended`,
      { code: 'E_AGE_CHUNK_AUTH', chunkIndex: i },
    );
  }

  async #consume(input: Buffer): Promise<void> {
    let data = input;
    if (this.#state === 'header') {
      this.#header = this.#header.length === 0 ? data : Buffer.concat([this.#header, data]);
      const parsed = parseHeader(this.#header, this.#headerScanned);
      if (parsed === undefined) {
        this.#headerScanned = this.#header.length;
        return;
      }
      await this.#openHeader(parsed);
      data = this.#header.subarray(parsed.length);
      this.#header = Buffer.alloc(0);
      this.#state = 'nonce';
    }
    if (this.#state === 'nonce') {
      const n = Math.min(PAYLOAD_NONCE_SIZE - this.#nonceFill, data.length);
      data.copy(this.#nonce, this.#nonceFill, 0, n);
      this.#nonceFill += n;
      data = data.subarray(n);
      if (this.#nonceFill < PAYLOAD_NONCE_SIZE) return;
      this.#payloadKey = hkdf(this.#fileKey as Buffer, this.#nonce, 'payload');
      (this.#fileKey as Buffer).fill(0);
      this.#state = 'payload';
    }
    let off = 0;
    while (off < data.length) {
      if (this.#fill === CT_CHUNK_SIZE) {
        this.#openChunk(this.#buf, false);
        this.#fill = 0;
      }
      if (this.#fill === 0 && data.length - off > CT_CHUNK_SIZE) {
        this.#openChunk(data.subarray(off, off + CT_CHUNK_SIZE), false);
        off += CT_CHUNK_SIZE;
        continue;
      }
      const n = Math.min(CT_CHUNK_SIZE - this.#fill, data.length - off);
      data.copy(this.#buf, this.#fill, off, off + n);
      this.#fill += n;
      off += n;
    }
  }

  override _transform(chunk: unknown, _enc: BufferEncoding, callback: TransformCallback): void {
    if (this.#state === 'done') {
      callback();
      return;
    }
    this.#consume(asBuffer(chunk)).then(() => callback(), (err: unknown) => {
      this.#state = 'done';
      this.#wipe();
      callback(err as Error);
    });
  }

  override _flush(callback: TransformCallback): void {
    try {
      switch (this.#state) {
        case 'header':
          if (this.#header.length === 0) throw new AgeHeaderError('input is empty: not an age file');
          throw new AgePayloadError('age file is truncated inside its header', { code: 'E_AGE_TRUNCATED' });
        case 'nonce':
          throw new AgePayloadError('age file is truncated: it ends before the payload nonce', { code: 'E_AGE_TRUNCATED' });
        case 'payload':
          if (this.#fill === 0) throw new AgePayloadError('age file is truncated: it has no payload chunks', { code: 'E_AGE_TRUNCATED', chunkIndex: 0 });
          this.#openChunk(this.#buf.subarray(0, this.#fill), true);
          break;
        case 'done':
          break;
      }
      this.#state = 'done';
      this.#wipe();
      callback();
    } catch (err) {
      this.#state = 'done';
      this.#wipe();
      callback(err as Error);
    }
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#wipe();
    callback(err);
  }

  #wipe(): void {
    this.#payloadKey?.fill(0);
    this.#fileKey?.fill(0);
  }
}

/**
 * A Transform that takes plaintext and emits an age v1 file encrypted to `recipients`
 * or to `passphrase`. Invalid recipients and a recipients-plus-passphrase request throw
 * here, before any data flows.
 */
export function createEncryptStream(options: EncryptStreamOptions): Transform {
  const recipients = (options.recipients ?? []).map((r, i) => parseRecipient(r, `recipient ${i + 1}`));
  const { passphrase } = options;
  if (passphrase !== undefined && recipients.length > 0) {
    throw new AgeKeyError(
      'cannot encrypt one age file to both recipients and a passphrase: age requires a passphrase (scrypt) stanza to be the only one in a file. Encrypt two files, or choose one',
      { code: 'E_AGE_SCRYPT_NOT_ALONE' },
    );
  }
  if (passphrase === undefined && recipients.length === 0) {
    throw new AgeKeyError('no recipients or passphrase to encrypt to', { code: 'E_AGE_NO_RECIPIENTS' });
  }
  if (passphrase !== undefined && passphrase.length === 0) throw new AgeKeyError('the passphrase is empty', { code: 'E_AGE_BAD_PASSPHRASE' });
  const logN = options.scryptWorkFactor ?? DEFAULT_SCRYPT_WORK_FACTOR;
  if (!Number.isInteger(logN) || logN < 1 || logN > 30) {
    throw new AgeKeyError(`scryptWorkFactor must be an integer from 1 to 30, got ${logN}`, { code: 'E_AGE_BAD_PASSPHRASE' });
  }
  return new EncryptTransform(async (fileKey) =>
    passphrase !== undefined ? [await wrapScrypt(fileKey, passphrase, logN)] : recipients.map((r) => wrapX25519(fileKey, r)),
  );
}

/**
 * A Transform that takes an age v1 file and emits its plaintext. Plaintext is emitted
 * only chunk by chunk after each chunk authenticates, but a consumer must still treat
 * the output as untrusted until the stream ends without error: a truncated or tampered
 * file fails at the damaged chunk, after the good chunks before it were emitted.
 */
export function createDecryptStream(options: DecryptStreamOptions): Transform {
  const identities = (options.identities ?? []).map((s, i) => parseIdentity(s, `identity ${i + 1}`));
  if (identities.length === 0 && options.passphrase === undefined) {
    throw new AgeKeyError('no identities or passphrase to decrypt with', { code: 'E_AGE_NO_IDENTITIES' });
  }
  return new DecryptTransform(identities, options.passphrase, options.maxScryptWorkFactor ?? DEFAULT_MAX_SCRYPT_WORK_FACTOR);
}

/** Whether these bytes begin a binary age v1 file. Pass at least the first 22 bytes. */
export function isAgeFile(firstBytes: Uint8Array): boolean {
  if (firstBytes.length < AGE_MAGIC.length) return false;
  for (let i = 0; i < AGE_MAGIC.length; i++) if (firstBytes[i] !== AGE_MAGIC[i]) return false;
  return true;
}

async function collect(input: Uint8Array | string, transform: Transform): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(Readable.from([asBuffer(input)]), transform, new Writable({
    write(chunk: Buffer, _enc, cb) {
      parts.push(chunk);
      cb();
    },
  }));
  return Buffer.concat(parts);
}

/** Encrypt a small in-memory value (keys, manifests). Use the stream for archives. */
export function encryptBuffer(plaintext: Uint8Array | string, options: EncryptStreamOptions): Promise<Buffer> {
  return collect(plaintext, createEncryptStream(options));
}

/** Decrypt a small in-memory age file. Use the stream for archives. */
export function decryptBuffer(file: Uint8Array, options: DecryptStreamOptions): Promise<Buffer> {
  return collect(file, createDecryptStream(options));
}

export interface ThroughputResult {
  /** Plaintext megabytes (10^6 bytes) encrypted per second. */
  mbPerSec: number;
  bytes: number;
  seconds: number;
  /** Size of the age file produced: plaintext + header + 16 bytes per 64 KiB chunk. */
  outputBytes: number;
}

/**
 * Encrypt `bytes` of generated data through `createEncryptStream` to one X25519
 * recipient, discarding the output, and report throughput. For the benchmark suite.
 */
export async function measureEncryptThroughput(bytes: number): Promise<ThroughputResult> {
  const { recipient } = await generateIdentity();
  const block = randomBytes(1024 * 1024);
  let remaining = bytes;
  const source = new Readable({
    read() {
      if (remaining <= 0) {
        this.push(null);
        return;
      }
      const n = Math.min(block.length, remaining);
      remaining -= n;
      this.push(n === block.length ? block : block.subarray(0, n));
    },
  });
  let outputBytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      outputBytes += chunk.length;
      cb();
    },
  });
  const start = performance.now();
  await pipeline(source, createEncryptStream({ recipients: [recipient] }), sink);
  const seconds = (performance.now() - start) / 1000;
  return { mbPerSec: bytes / 1e6 / seconds, bytes, seconds, outputBytes };
}
