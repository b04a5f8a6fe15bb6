import { CryptoError } from '../errors.js';

/*
 * Every error here says what failed and where (a chunk index, an argument position,
 * a key id or fingerprint) but never includes key material, passphrases or subject ids:
 * these messages end up in terminals, CI logs and `--json` output.
 */

/** A recipient, identity or passphrase argument is unusable (malformed, wrong kind, mixed with scrypt). */
export class AgeKeyError extends CryptoError {
  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(message, { ...options, code: options.code ?? 'E_AGE_KEY' });
  }
}

/** The age header is malformed or its MAC does not match (code E_AGE_HEADER or E_AGE_HEADER_MAC). */
export class AgeHeaderError extends CryptoError {
  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(message, { ...options, code: options.code ?? 'E_AGE_HEADER' });
  }
}

/** None of the identities (or the passphrase) given can unwrap the file key. */
export class NoIdentityMatchError extends CryptoError {
  constructor(message = 'no identity matches any recipient of this file', options: { cause?: unknown } = {}) {
    super(message, { ...options, code: 'E_AGE_NO_MATCH' });
  }
}

/**
 * The encrypted payload is damaged: E_AGE_TRUNCATED (ends before the final chunk),
 * E_AGE_CHUNK_AUTH (a chunk fails authentication; `chunkIndex` says which),
 * E_AGE_TRAILING_DATA (bytes after the final chunk).
 */
export class AgePayloadError extends CryptoError {
  /** Zero-based index of the chunk concerned, when there is one. */
  readonly chunkIndex: number | undefined;
  constructor(message: string, options: { cause?: unknown; code: string; chunkIndex?: number }) {
    super(message, { cause: options.cause, code: options.code });
    this.chunkIndex = options.chunkIndex;
  }
}

/** The subject's key was shredded on purpose: archives encrypted to it are unrecoverable. */
export class KeyShreddedError extends CryptoError {
  /** Key id of the shredded key (not secret). */
  readonly keyId: string | undefined;
  /** When the key was shredded, as recorded in the tombstone. */
  readonly shreddedAt: string | undefined;
  constructor(message: string, options: { cause?: unknown; keyId?: string; shreddedAt?: string } = {}) {
    super(message, { cause: options.cause, code: 'E_KEY_SHREDDED' });
    this.keyId = options.keyId;
    this.shreddedAt = options.shreddedAt;
  }
}

/** No key exists for this subject (and none was ever shredded). */
export class KeyNotFoundError extends CryptoError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, code: 'E_KEY_NOT_FOUND' });
  }
}

/**
 * Master key trouble: E_MASTER_KEY_INVALID (bad encoding or length, unreadable file),
 * E_MASTER_KEY_MISSING (an operation needs it and none is configured),
 * E_MASTER_KEY_MISMATCH (a record was wrapped under another master key),
 * E_KEY_UNWRAP (a record fails authentication under the key it names).
 */
export class MasterKeyError extends CryptoError {
  constructor(message: string, options: { cause?: unknown; code: string }) {
    super(message, options);
  }
}
