/**
 * The master key wraps every subject's private key at rest. It comes from
 * HANDOVER_MASTER_KEY (hex or base64 of 32 bytes, or `file:/path`) or a key file.
 * Nothing here ever puts the key, or the text it was decoded from, in an error.
 */
import { createHash, hkdfSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { MasterKeyError } from './crypto-errors.js';

export const MASTER_KEY_BYTES = 32;

export interface MasterKey {
  /** The 32 key bytes. */
  key: Buffer;
  /** Fingerprint safe to log and store: see {@link masterKeyIdOf}. */
  id: string;
  /** Where it came from, for messages: `HANDOVER_MASTER_KEY` or the file path. */
  source: string;
}

export interface LoadMasterKeyOptions {
  /**
   * The HANDOVER_MASTER_KEY value: 64 hex digits or base64 (standard or URL-safe) of
   * 32 bytes, or `file:/path/to/key`. When the property is absent, `process.env.HANDOVER_MASTER_KEY`
   * is read; pass `env: undefined` explicitly to ignore the environment.
   */
  env?: string | undefined;
  /**
   * Path of a key file: exactly 32 raw bytes, or one line of hex/base64. Takes
   * precedence over `env` (a command-line flag beats the environment).
   */
  file?: string | undefined;
}

/**
 * First 16 hex digits of SHA-256(HKDF-SHA-256(masterKey, info "handover master-key-id")).
 * Identifies a master key in records and messages without revealing anything usable.
 */
export function masterKeyIdOf(key: Uint8Array): string {
  assertMasterKey(key);
  const derived = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'handover master-key-id', 32));
  return createHash('sha256').update(derived).digest('hex').slice(0, 16);
}

export function assertMasterKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== MASTER_KEY_BYTES) {
    const len = key instanceof Uint8Array ? key.length : 0;
    throw new MasterKeyError(`a master key must be ${MASTER_KEY_BYTES} bytes, got ${len}`, { code: 'E_MASTER_KEY_INVALID' });
  }
}

/** Decode hex or base64 text of a 32-byte key; `where` names the source in errors. */
export function decodeMasterKey(text: string, where: string): Buffer {
  const t = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(t)) key = Buffer.from(t, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) key = Buffer.from(t, 'base64');
  if (key === undefined || key.length !== MASTER_KEY_BYTES) {
    // Describe the shape only: the length is no help to an attacker, the value would be.
    const detail = key === undefined ? 'it is neither hex nor base64' : `it decodes to ${key.length} bytes`;
    throw new MasterKeyError(
      `${where} is not a valid master key: expected 32 bytes as 64 hex digits or 44 base64 characters; got ${t.length} characters and ${detail}. Generate one with: openssl rand -base64 32`,
      { code: 'E_MASTER_KEY_INVALID' },
    );
  }
  return key;
}

async function readKeyFile(path: string): Promise<Buffer> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new MasterKeyError(`cannot read master key file '${path}' (${code})`, { code: 'E_MASTER_KEY_INVALID', cause: err });
  }
  if (raw.length === MASTER_KEY_BYTES) return raw;
  return decodeMasterKey(raw.toString('latin1'), `master key file '${path}'`);
}

/**
 * Load the master key from `file`, else from `env` (see {@link LoadMasterKeyOptions}).
 * Resolves to `undefined` when neither is set: the caller decides whether that is fatal.
 */
export async function loadMasterKey(options: LoadMasterKeyOptions = {}): Promise<MasterKey | undefined> {
  const env = 'env' in options ? options.env : process.env['HANDOVER_MASTER_KEY'];
  let key: Buffer;
  let source: string;
  if (options.file !== undefined && options.file !== '') {
    key = await readKeyFile(options.file);
    source = options.file;
  } else if (env !== undefined && env.trim() !== '') {
    const t = env.trim();
    if (t.startsWith('file:')) {
      source = t.slice('file:'.length);
      if (source === '') throw new MasterKeyError('HANDOVER_MASTER_KEY is "file:" without a path', { code: 'E_MASTER_KEY_INVALID' });
      key = await readKeyFile(source);
    } else {
      key = decodeMasterKey(t, 'HANDOVER_MASTER_KEY');
      source = 'HANDOVER_MASTER_KEY';
    }
  } else {
    return undefined;
  }
  return { key, id: masterKeyIdOf(key), source };
}
