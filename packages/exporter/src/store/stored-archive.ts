import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createDecryptStream, createEncryptStream, DigestStream, HandoverError, isAgeFile, writeFileAtomic, type Store } from '@handover/core';

/**
 * Object metadata of every stored archive (S3 user metadata; a sidecar on the
 * filesystem). Tags repeat class and retain-until so that S3 / MinIO lifecycle rules
 * can act as a backstop. No personal data: the subject appears only as a keyed hash.
 */
export const ARCHIVE_META = {
  format: 'handover-format',
  class: 'handover-class',
  createdAt: 'handover-created-at',
  retainUntil: 'handover-retain-until',
  subjectRef: 'handover-subject-ref',
  zipSha256: 'handover-zip-sha256',
} as const;

export const ARCHIVE_TAGS = {
  class: 'handover-class',
  retainUntil: 'handover-retain-until',
  sha256: 'handover-sha256',
} as const;

export const ARCHIVE_FORMAT = 'handover-archive-v1+age';

export interface ArchiveRetention {
  /** Retention classes, the governing one first. */
  classes: readonly string[];
  createdAt: Date;
  retainUntil: Date;
  /** Keyed hash of the subject id (the key ring's subject ref). */
  subjectRef: string;
}

export interface WriteArchiveOptions {
  /** age recipients (`age1…`): the subject's key-ring recipient, and optionally the data subject's own key. */
  recipients: readonly string[];
  retention: ArchiveRetention;
  signal?: AbortSignal;
  onProgress?: (bytes: number) => void;
}

export interface WrittenArchive {
  key: string;
  /** Bytes and SHA-256 of the stored (encrypted) object. */
  bytes: number;
  sha256: string;
  /** SHA-256 of the plaintext zip. */
  zipSha256: string;
}

/**
 * Encrypts a zip stream to the recipients (age v1, streaming) and stores it under `key`,
 * create-only, with retention metadata and tags. Nothing is visible under `key` unless
 * the whole object was written.
 */
export async function writeEncryptedArchive(store: Store, key: string, zip: Readable, options: WriteArchiveOptions): Promise<WrittenArchive> {
  const plain = new DigestStream();
  const cipher = new DigestStream();
  const encrypt = createEncryptStream({ recipients: options.recipients });
  const r = options.retention;
  const day = r.retainUntil.toISOString();
  const metadata = {
    [ARCHIVE_META.format]: ARCHIVE_FORMAT,
    [ARCHIVE_META.class]: r.classes.join('+'),
    [ARCHIVE_META.createdAt]: r.createdAt.toISOString(),
    [ARCHIVE_META.retainUntil]: day,
    [ARCHIVE_META.subjectRef]: r.subjectRef,
  };
  const tags = { [ARCHIVE_TAGS.class]: r.classes[0] ?? 'unknown', [ARCHIVE_TAGS.retainUntil]: day.slice(0, 10) };
  // Errors anywhere upstream must fail the upload, not end it early with a valid-looking object.
  const body = zip.pipe(plain).pipe(encrypt).pipe(cipher);
  for (const s of [zip, plain, encrypt] as const) s.on('error', (e) => cipher.destroy(e));
  const put = await store.put(key, body, {
    metadata,
    tags,
    ifNoneMatch: true,
    contentType: 'application/octet-stream',
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const sha256 = cipher.sha256();
  // The ciphertext's hash is known only at the end; erasure certificates cite it later without a download.
  await store.setTags?.(key, { ...tags, [ARCHIVE_TAGS.sha256]: sha256 });
  return { key, bytes: put.size, sha256, zipSha256: plain.sha256() };
}

/** Why an archive could not be opened for reading. */
export class ArchiveAccessError extends HandoverError {
  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(options.code ?? 'E_ARCHIVE_ACCESS', message, options);
  }
}

export interface OpenedArchive {
  /** A local plaintext zip to read with random access. */
  path: string;
  encrypted: boolean;
  /** Removes the decrypted temporary copy, if one was made. */
  cleanup(): Promise<void>;
}

export interface ArchiveReadSource {
  /** Human name for messages: the path or URL the user gave. */
  name: string;
  /** Opens the stored bytes. */
  open(): Promise<Readable>;
  /** A local file that is already a plain zip, when the bytes are on disk. */
  localPath?: string;
}

/**
 * Gives a readable plaintext zip for `source`: a local plain zip as it is; anything
 * encrypted is decrypted as a stream into a private temporary file (mode 0600,
 * removed by `cleanup`), because a zip is read from its end.
 */
export async function openArchive(source: ArchiveReadSource, identities: () => Promise<readonly string[]>): Promise<OpenedArchive> {
  const head = await firstBytes(source);
  if (!isAgeFile(head)) {
    if (source.localPath) return { path: source.localPath, encrypted: false, cleanup: async () => undefined };
    const path = tempPath();
    await writeFileAtomic(path, await source.open(), { mode: 0o600 });
    return { path, encrypted: false, cleanup: () => rm(path, { force: true }) };
  }
  const ids = await identities();
  const path = tempPath();
  try {
    await writeFileAtomic(path, decrypting(await source.open(), ids), { mode: 0o600 });
  } catch (err) {
    await rm(path, { force: true });
    if (err instanceof HandoverError) {
      throw new ArchiveAccessError(`cannot decrypt '${source.name}': ${err.message}`, { cause: err, code: err.code });
    }
    throw err;
  }
  return { path, encrypted: true, cleanup: () => rm(path, { force: true }) };
}

async function firstBytes(source: ArchiveReadSource): Promise<Uint8Array> {
  if (source.localPath) {
    const fh = await open(source.localPath, 'r');
    try {
      const buf = Buffer.alloc(64);
      const { bytesRead } = await fh.read(buf, 0, 64, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }
  const s = await source.open();
  try {
    for await (const chunk of s as AsyncIterable<Buffer>) return chunk.subarray(0, 64);
    return new Uint8Array();
  } finally {
    s.destroy();
  }
}

/**
 * `input` through an age decryption. A damaged archive fails in the decryption as soon as
 * the bytes flow, which can be before writeFileAtomic's pipeline listens (it awaits a mkdir
 * first): the listener here keeps that from being an unhandled 'error' event, and the
 * pipeline still rejects with the error, which the destroyed stream keeps. Errors reading
 * `input` are passed on, so the pipeline sees them too.
 */
function decrypting(input: Readable, identities: readonly string[]): Readable {
  const body = input.pipe(createDecryptStream({ identities: [...identities] }));
  input.on('error', (e) => body.destroy(e));
  body.on('error', () => undefined);
  return body;
}

function tempPath(): string {
  return join(tmpdir(), `handover-${process.pid}-${randomBytes(6).toString('hex')}.zip`);
}

/** A local file as a read source. */
export function fileSource(path: string): ArchiveReadSource {
  return { name: path, localPath: path, open: async () => createReadStream(path) };
}

/** Decrypts (or copies) an archive into `out`, created atomically and exclusively. */
export async function decryptArchiveTo(source: ArchiveReadSource, identities: () => Promise<readonly string[]>, out: string): Promise<{ bytes: number; encrypted: boolean }> {
  const head = await firstBytes(source);
  const encrypted = isAgeFile(head);
  const input = await source.open();
  const body = encrypted ? decrypting(input, await identities()) : input;
  try {
    const { bytes } = await writeFileAtomic(out, body, { exclusive: true, mode: 0o600 });
    return { bytes, encrypted };
  } catch (err) {
    if (err instanceof HandoverError) throw new ArchiveAccessError(`cannot decrypt '${source.name}': ${err.message}`, { cause: err, code: err.code });
    throw err;
  }
}

