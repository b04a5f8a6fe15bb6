/**
 * age's native recipient types on node:crypto: X25519 (`age1…` / `AGE-SECRET-KEY-1…`)
 * and scrypt passphrases. age-encryption (typage) has the same logic, but its package
 * exports only the whole-file Encrypter/Decrypter, not the header or stanza code, and
 * its pure-JS ciphers are the slow path we are avoiding; so this is a small,
 * spec-following reimplementation that tests check against both `age` and typage.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  scrypt,
  type KeyObject,
} from 'node:crypto';
import { bech32Decode, bech32Encode } from './bech32.js';
import { b64decode, b64encode, type Stanza } from './age-format.js';
import { AgeHeaderError, AgeKeyError } from './crypto-errors.js';

const RECIPIENT_HRP = 'age';
const IDENTITY_HRP = 'age-secret-key-';
const X25519_LABEL = 'age-encryption.org/v1/X25519';
const SCRYPT_LABEL = 'age-encryption.org/v1/scrypt';
/** DER prefixes that turn a raw 32-byte X25519 key into PKCS#8 / SPKI for node:crypto. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const ZERO_NONCE = Buffer.alloc(12);

export const FILE_KEY_BYTES = 16;
/** scrypt work factor (log2 N) used when encrypting: age's default. */
export const DEFAULT_SCRYPT_WORK_FACTOR = 18;
/** Highest scrypt work factor accepted when decrypting: age's default limit (about 1 GiB, seconds of CPU). */
export const DEFAULT_MAX_SCRYPT_WORK_FACTOR = 22;

export interface X25519Identity {
  privateKey: KeyObject;
  /** Raw 32-byte public key. */
  publicKey: Buffer;
}

function privateKeyFromRaw(raw: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

function rawPublicKey(key: KeyObject): Buffer {
  return (createPublicKey(key).export({ format: 'der', type: 'spki' }) as Buffer).subarray(SPKI_PREFIX.length);
}

function rawPrivateKey(key: KeyObject): Buffer {
  return (key.export({ format: 'der', type: 'pkcs8' }) as Buffer).subarray(PKCS8_PREFIX.length);
}

/** ChaCha20-Poly1305 with an all-zero nonce: safe here because every wrapping key is single-use. */
function sealFileKey(key: Uint8Array, fileKey: Uint8Array): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: 16 });
  return Buffer.concat([c.update(fileKey), c.final(), c.getAuthTag()]);
}

function openFileKey(key: Uint8Array, body: Uint8Array): Buffer | undefined {
  if (body.length !== FILE_KEY_BYTES + 16) return undefined;
  const d = createDecipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: 16 });
  d.setAuthTag(body.subarray(FILE_KEY_BYTES));
  try {
    return Buffer.concat([d.update(body.subarray(0, FILE_KEY_BYTES)), d.final()]);
  } catch {
    return undefined;
  }
}

/** Encode a raw X25519 public key as `age1…`. */
export function encodeRecipient(publicKey: Uint8Array): string {
  return bech32Encode(RECIPIENT_HRP, publicKey);
}

/** Encode a raw X25519 private key as `AGE-SECRET-KEY-1…`. */
export function encodeIdentity(secret: Uint8Array): string {
  return bech32Encode(IDENTITY_HRP, secret).toUpperCase();
}

/**
 * Parse an `age1…` X25519 recipient into its raw public key. `label` names the argument
 * in errors (recipients are public, so the value itself may be shown).
 */
export function parseRecipient(s: string, label = 'recipient'): Buffer {
  const t = s.trim();
  const d = bech32Decode(t);
  if (d === undefined || d.hrp !== RECIPIENT_HRP || d.data.length !== 32 || t !== t.toLowerCase()) {
    if (t.toUpperCase().startsWith('AGE-SECRET-KEY-') || t.toUpperCase().startsWith('AGE-PLUGIN-')) {
      // Someone pasted a secret key where a public one belongs: say so, and do not echo it.
      throw new AgeKeyError(`${label} is an age identity (a secret key), not a recipient: pass its age1… public key (age-keygen -y)`, { code: 'E_AGE_BAD_RECIPIENT' });
    }
    const hint = t.startsWith('age1pq1') || t.startsWith('age1tag')
      ? ' (post-quantum and tag recipients are not supported)'
      : t.startsWith('ssh-') ? ' (SSH recipients are not supported)' : '';
    // Only a short prefix: enough to spot which argument, too little to leak a mis-pasted secret.
    const shown = t.length > 12 ? `${t.slice(0, 12)}…` : t;
    throw new AgeKeyError(`${label} '${shown}' is not an age X25519 recipient (age1…)${hint}`, { code: 'E_AGE_BAD_RECIPIENT' });
  }
  return Buffer.from(d.data);
}

/**
 * Parse an `AGE-SECRET-KEY-1…` identity. The value is a secret, so errors name only
 * `label` (e.g. "identity 2"), never the string.
 */
export function parseIdentity(s: string, label = 'identity'): X25519Identity {
  const t = s.trim();
  const d = bech32Decode(t);
  if (d === undefined || d.hrp !== IDENTITY_HRP || d.data.length !== 32 || t !== t.toUpperCase()) {
    const hint = t.startsWith('AGE-SECRET-KEY-PQ-') ? ' (post-quantum identities are not supported)'
      : t.startsWith('AGE-PLUGIN-') ? ' (plugin identities are not supported)' : '';
    throw new AgeKeyError(`${label} is not an age X25519 identity (AGE-SECRET-KEY-1…)${hint}`, { code: 'E_AGE_BAD_IDENTITY' });
  }
  const privateKey = privateKeyFromRaw(d.data);
  return { privateKey, publicKey: rawPublicKey(privateKey) };
}

/**
 * The identities in the text of an age identity file (as written by `age-keygen`):
 * one per line, `#` comments and blank lines ignored.
 */
export function parseIdentityFile(text: string): string[] {
  const out: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    parseIdentity(t, `identity file line ${i + 1}`);
    out.push(t);
  });
  if (out.length === 0) throw new AgeKeyError('identity file contains no identities', { code: 'E_AGE_BAD_IDENTITY' });
  return out;
}

/** A fresh X25519 identity and its recipient. */
export async function generateIdentity(): Promise<{ identity: string; recipient: string }> {
  const { privateKey } = generateKeyPairSync('x25519');
  return { identity: encodeIdentity(rawPrivateKey(privateKey)), recipient: encodeRecipient(rawPublicKey(privateKey)) };
}

/** The `age1…` recipient of an `AGE-SECRET-KEY-1…` identity. */
export function identityToRecipient(identity: string): string {
  return encodeRecipient(parseIdentity(identity).publicKey);
}

export function wrapX25519(fileKey: Uint8Array, recipient: Buffer): Stanza {
  const eph = generateKeyPairSync('x25519');
  const share = rawPublicKey(eph.privateKey);
  const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: publicKeyFromRaw(recipient) });
  const key = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([share, recipient]), X25519_LABEL, 32));
  return { args: ['X25519', b64encode(share)], body: sealFileKey(key, fileKey) };
}

/** The file key if this X25519 stanza was made for `id`, `undefined` if it was made for someone else. */
export function unwrapX25519(stanza: Stanza, id: X25519Identity): Buffer | undefined {
  const share = stanza.args.length === 2 ? b64decode(stanza.args[1] as string) : undefined;
  if (share === undefined || share.length !== 32 || stanza.body.length !== FILE_KEY_BYTES + 16) {
    throw new AgeHeaderError('malformed X25519 stanza in age header');
  }
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: id.privateKey, publicKey: publicKeyFromRaw(share) });
  } catch (err) {
    // OpenSSL refuses low-order points (an all-zero shared secret); age treats that as an invalid file.
    throw new AgeHeaderError('invalid X25519 stanza in age header (low-order share)', { cause: err });
  }
  const key = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([share, id.publicKey]), X25519_LABEL, 32));
  return openFileKey(key, stanza.body);
}

function scryptKey(passphrase: string, salt: Buffer, logN: number): Promise<Buffer> {
  const N = 2 ** logN;
  return new Promise((resolve, reject) => {
    scrypt(
      Buffer.from(passphrase, 'utf8'),
      Buffer.concat([Buffer.from(SCRYPT_LABEL, 'latin1'), salt]),
      32,
      // node caps scrypt memory at 32 MiB by default; age's N=2^18 needs 256 MiB (128·N·r).
      { N, r: 8, p: 1, maxmem: 129 * N * 8 + 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

export async function wrapScrypt(fileKey: Uint8Array, passphrase: string, logN: number): Promise<Stanza> {
  const salt = randomBytes(16);
  const key = await scryptKey(passphrase, salt, logN);
  return { args: ['scrypt', b64encode(salt), String(logN)], body: sealFileKey(key, fileKey) };
}

/** The file key if `passphrase` opens this scrypt stanza, `undefined` if it does not. */
export async function unwrapScrypt(stanza: Stanza, passphrase: string, maxLogN: number): Promise<Buffer | undefined> {
  const [, saltArg, logNArg] = stanza.args;
  const salt = stanza.args.length === 3 && saltArg !== undefined ? b64decode(saltArg) : undefined;
  if (salt === undefined || salt.length !== 16 || logNArg === undefined || !/^[1-9][0-9]?$/.test(logNArg) || stanza.body.length !== FILE_KEY_BYTES + 16) {
    throw new AgeHeaderError('malformed scrypt stanza in age header');
  }
  const logN = Number(logNArg);
  if (logN > maxLogN) {
    throw new AgeHeaderError(`scrypt work factor ${logN} in this file exceeds the limit of ${maxLogN}; raise maxScryptWorkFactor if you trust the file`, { code: 'E_AGE_SCRYPT_WORK_FACTOR' });
  }
  return openFileKey(await scryptKey(passphrase, salt, logN), stanza.body);
}

/** @internal a fresh raw X25519 private key, for the key ring. */
export function generateX25519Secret(): Buffer {
  return rawPrivateKey(generateKeyPairSync('x25519').privateKey);
}

/** @internal the identity for a raw 32-byte X25519 private key. */
export function x25519FromSecret(secret: Uint8Array): X25519Identity {
  const privateKey = privateKeyFromRaw(secret);
  return { privateKey, publicKey: rawPublicKey(privateKey) };
}
