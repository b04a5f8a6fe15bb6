import type { Readable } from 'node:stream';
import { InvalidKeyError } from './store-errors.js';

/**
 * The `Store` port: where archives, keys, holds, audit records and certificates live.
 * Adapters: the local filesystem (the embedded default) and S3 / MinIO.
 * Keys are `/`-separated relative paths (`archives/ab12/2026-…zip.age`), never absolute,
 * never containing `..`; adapters reject anything else.
 */
export interface Store {
  /** A printable location, e.g. `/home/me/handover-data` or `s3://bucket/prefix`. */
  readonly url: string;

  /**
   * Write an object from a stream of unknown length. The object becomes visible under
   * `key` only once it is complete: an interrupted or failed put leaves nothing behind.
   */
  put(key: string, body: Readable | Uint8Array | string, options?: PutOptions): Promise<PutResult>;

  /** Read an object, whole or a byte range. Throws `NotFoundError` (code E_NOT_FOUND) when absent. */
  get(key: string, options?: GetOptions): Promise<Readable>;

  /** Size, metadata and tags of an object, or `undefined` when it does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>;

  /** Every object whose key starts with `prefix`, in key order, fetched page by page. */
  list(prefix: string, options?: ListOptions): AsyncIterable<ListEntry>;

  /** Delete objects; missing ones count as deleted. Batches internally (S3: 1000 keys per request). */
  delete(keys: readonly string[]): Promise<DeleteResult>;

  /**
   * Delete objects together with every older version a versioned bucket keeps of them
   * (S3 with versioning or object lock). Crypto-shredding needs it: a plain delete there
   * only hides the key behind a delete marker. Stores without versions have no such method.
   */
  deleteAllVersions?(keys: readonly string[]): Promise<DeleteResult>;

  /** Replace the tags of an existing object. */
  setTags?(key: string, tags: Record<string, string>): Promise<void>;

  /**
   * Turn the storage's own legal hold on an existing object on or off. While it is on, the
   * object's bytes cannot be removed for good: S3 Object Lock refuses to delete the locked
   * version (a plain delete in a versioned bucket only adds a delete marker), and the
   * filesystem and memory stores refuse to delete the object. Returns true when the store
   * applied it, false when it cannot hold objects (an S3 bucket without Object Lock), in
   * which case nothing changed. Throws `NotFoundError` (E_NOT_FOUND) for a missing object.
   */
  setLegalHold?(key: string, on: boolean): Promise<boolean>;

  /** Release sockets, file handles. */
  close?(): Promise<void>;
}

export interface PutOptions {
  /** User metadata (S3 `x-amz-meta-*`; a sidecar on the filesystem). ASCII keys, lowercase. */
  metadata?: Record<string, string>;
  /** Object tags (S3 tagging; the same sidecar on the filesystem). */
  tags?: Record<string, string>;
  /** Create only if absent: throws `PreconditionFailedError` (code E_EXISTS) when the key exists. */
  ifNoneMatch?: boolean;
  contentType?: string;
  /** Aborting the signal aborts the upload; nothing becomes visible. */
  signal?: AbortSignal;
  /** Called with the number of bytes consumed so far. */
  onProgress?: (bytes: number) => void;
}

export interface PutResult {
  key: string;
  size: number;
  etag?: string;
}

export interface GetOptions {
  /** Inclusive byte range, as in HTTP `Range: bytes=start-end`. */
  range?: { start: number; end?: number };
  signal?: AbortSignal;
}

export interface ListOptions {
  /** Page size asked of the backend (S3 caps at 1000). */
  pageSize?: number;
}

export interface ListEntry {
  key: string;
  size: number;
  lastModified: Date;
}

export interface ObjectInfo extends ListEntry {
  metadata: Record<string, string>;
  tags: Record<string, string>;
  /**
   * True while the store's own legal hold is on (see `setLegalHold`), where `head` learns it
   * without another request: the filesystem and memory stores. S3 leaves it out (reading it
   * is one more request per HEAD; use GetObjectLegalHold).
   */
  legalHold?: boolean;
  contentType?: string;
  etag?: string;
}

export interface DeleteResult {
  deleted: string[];
  errors: { key: string; message: string }[];
  /** Number of backend requests made, for the purge's requests-per-object figure. */
  requests: number;
}

/**
 * Keys are relative, `/`-separated, with no empty, `.` or `..` segments.
 * Throws `InvalidKeyError` (code E_INVALID_KEY; an `InputError`, so still an `Error`).
 */
export function assertValidKey(key: string): void {
  // Bytes, not UTF-16 units: S3 limits keys to 1024 bytes of UTF-8.
  if (key.length === 0 || Buffer.byteLength(key, 'utf8') > 1024) {
    throw new InvalidKeyError(key, 'length must be 1..1024 bytes of UTF-8');
  }
  if (key.startsWith('/') || key.includes('\\')) throw new InvalidKeyError(key, "must be relative and use '/'");
  if (key.includes('\0')) throw new InvalidKeyError(key, 'must not contain NUL');
  for (const seg of key.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') throw new InvalidKeyError(key, `bad segment '${seg}'`);
  }
}
