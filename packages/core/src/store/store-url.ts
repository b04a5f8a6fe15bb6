import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, describeError } from '../errors.js';
import { createFsStore, type FsStore, type FsStoreOptions } from './fs-store.js';
import type { S3Store, S3StoreOptions } from './s3-store.js';
import { createS3Store } from './s3-lazy.js';
import { normalizeS3Prefix } from './s3-config.js';

/** Where a store lives, parsed from a location string. */
export type StoreLocation = { kind: 'fs'; root: string } | { kind: 's3'; bucket: string; prefix: string };

function badLocation(location: string, why: string, cause?: unknown): InputError {
  return new InputError(`invalid store location '${location}': ${why}`, { code: 'E_STORE_URL', exitCode: 2, cause });
}

/**
 * Parses `s3://bucket/optional/prefix`, `file:///abs/path`, or a plain path (relative to the
 * working directory; a leading `~/` is the home directory, for config files no shell expanded).
 * S3 prefixes come back normalised: empty or ending in `/`.
 */
export function parseStoreUrl(location: string): StoreLocation {
  if (typeof location !== 'string' || location.trim() === '') throw badLocation(String(location), 'it is empty');
  const scheme = /^([a-z][a-z0-9+.-]+):\/\//i.exec(location)?.[1]?.toLowerCase();
  if (scheme === 's3') {
    const rest = location.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw badLocation(location, `'${bucket}' is not a valid bucket name (3-63 lowercase letters, digits, dots, hyphens)`);
    }
    if (/[?#]/.test(rest)) throw badLocation(location, 'S3 locations take no query or fragment');
    let prefix: string;
    try {
      prefix = normalizeS3Prefix(slash < 0 ? '' : rest.slice(slash + 1));
    } catch (err) {
      throw badLocation(location, describeError(err), err);
    }
    return { kind: 's3', bucket, prefix };
  }
  if (scheme === 'file') {
    try {
      return { kind: 'fs', root: fileURLToPath(location) };
    } catch (err) {
      throw badLocation(location, describeError(err), err);
    }
  }
  if (scheme !== undefined) {
    throw badLocation(location, `unsupported scheme '${scheme}://'; use a directory path or s3://bucket/prefix`);
  }
  const expanded = location === '~' || location.startsWith('~/') ? path.join(os.homedir(), location.slice(1)) : location;
  return { kind: 'fs', root: path.resolve(expanded) };
}

export interface OpenStoreOptions {
  /** Options for an S3 location; bucket and prefix come from the location itself. */
  s3?: Omit<S3StoreOptions, 'bucket' | 'prefix'>;
  /** Options for a filesystem location; the root comes from the location itself. */
  fs?: Omit<FsStoreOptions, 'root'>;
}

/** Opens the adapter a location names: a filesystem store for a path, an S3 store for `s3://…`. */
export function openStore(location: string, options: OpenStoreOptions = {}): FsStore | S3Store {
  const parsed = parseStoreUrl(location);
  if (parsed.kind === 's3') return createS3Store({ ...options.s3, bucket: parsed.bucket, prefix: parsed.prefix });
  return createFsStore({ ...options.fs, root: parsed.root });
}
