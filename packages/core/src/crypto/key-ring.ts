/**
 * Per-subject age keys, wrapped under a master key and kept in the Store, so that
 * shredding one subject's key makes every archive encrypted to it unreadable
 * (crypto-shredding) without touching the archives.
 *
 * Layout under `prefix` (default `keys/`):
 *   ring.json               the subject-ref key, wrapped under the master key
 *   subjects/<ref>.json     a subject's X25519 private key, wrapped under the master key
 *   shredded/<ref>.json     tombstone: when, why, by whom, which key id; no key material
 *
 * `<ref>` is a keyed hash of the subject id, so subject ids (emails, user ids) never
 * appear in object keys or bodies. The ref key is stored wrapped rather than recomputed
 * from the master key on every run because refs must survive a master-key rotation:
 * for a new ring it is HKDF(master key, "handover subject-ref"); rotation re-wraps it.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { systemClock, type Clock } from '../clock.js';
import { CryptoError } from '../errors.js';
import type { Store } from '../store/store.js';
import { readStream } from '../store/read-object.js';
import { encodeIdentity, encodeRecipient, generateX25519Secret, x25519FromSecret } from './age-keys.js';
import { KeyNotFoundError, KeyShreddedError, MasterKeyError } from './crypto-errors.js';
import { assertMasterKey, masterKeyIdOf } from './master-key.js';

export interface KeyRingOptions {
  /** Where wrapped keys and tombstones live. */
  store: Store;
  /**
   * The 32-byte master key. `undefined` opens the ring for `list()` only; every other
   * operation then fails with E_MASTER_KEY_MISSING.
   */
  masterKey: Uint8Array | undefined;
  /**
   * Label written into records to name the master key. Defaults to the derived
   * fingerprint ({@link masterKeyIdOf}); override only if you track keys by your own ids,
   * and never give two keys the same id: rotation uses it to tell records apart.
   */
  masterKeyId?: string;
  /**
   * Earlier master keys still accepted for unwrapping (never for wrapping), so a ring
   * whose rotation was interrupted can be opened with the new key and finished.
   */
  previousMasterKeys?: readonly Uint8Array[];
  /** Object key prefix for the ring; must end with `/`. Default `keys/`. */
  prefix?: string;
  /** Source of `createdAt` / `shreddedAt`. Default: the system clock. */
  clock?: Clock;
}

export interface ShredOptions {
  /** Why the key is destroyed (e.g. "erasure request #123"). Stored in the tombstone: do not put the subject id here. */
  reason: string;
  /** Who asked for it (an operator name or service account). Stored in the tombstone. */
  actor: string;
}

export interface RotateOptions {
  /** Id for the new key; defaults to its fingerprint. See {@link KeyRingOptions.masterKeyId}. */
  newMasterKeyId?: string;
}

export interface RotateResult {
  /** Id of the master key every record is now wrapped under. */
  masterKeyId: string;
  /** Records re-wrapped by this run. */
  rewrapped: number;
  /** Records found already under the new key (from an earlier, interrupted run). */
  alreadyCurrent: number;
  /** Wrapped keys of shredded subjects found and deleted (an interrupted shred finished). */
  removedShredded: number;
}

export interface KeyRingEntry {
  /** The subject's ref (never the subject id). */
  ref: string;
  state: 'active' | 'shredded';
  keyId: string;
  /** `age1…` public key, for active keys. */
  recipient?: string;
  /** Master key the wrapped key is under, for active keys. */
  masterKeyId?: string;
  createdAt?: string;
  shreddedAt?: string;
  reason?: string;
  actor?: string;
  /** A shredded subject whose wrapped key still exists (an interrupted shred): rerun shred. */
  wrappedKeyRemains?: boolean;
}

export interface KeyRing {
  /** Id of the master key new records are wrapped under. */
  readonly masterKeyId: string | undefined;
  /** The keyed hash naming this subject in object keys: 32 hex digits. */
  subjectRef(subjectId: string): string;
  /** The subject's `age1…` recipient, creating its key on first use. Concurrent callers agree. */
  recipientFor(subjectId: string): Promise<string>;
  /** The subject's `AGE-SECRET-KEY-1…` identity. Throws E_KEY_SHREDDED or E_KEY_NOT_FOUND. */
  identityFor(subjectId: string): Promise<string>;
  /** The same, by subject ref: what archive keys and metadata carry, since they never name the subject. */
  identityForRef(subjectRef: string): Promise<string>;
  /** Destroy the subject's key, leaving a tombstone. Idempotent. Returns the key id. */
  shred(subjectId: string, options: ShredOptions): Promise<string>;
  /** The same, by subject ref (the retention worker only knows refs). */
  shredRef(subjectRef: string, options: ShredOptions): Promise<string>;
  /** Re-wrap every key under `newMasterKey`. Resumable: rerun after an interruption. */
  rotateMaster(newMasterKey: Uint8Array, options?: RotateOptions): Promise<RotateResult>;
  /** Every key and tombstone, by ref. Needs no master key. */
  list(): Promise<KeyRingEntry[]>;
}

const b64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const wrappedFields = {
  v: z.literal(1),
  alg: z.literal('A256GCM'),
  masterKeyId: z.string().min(1),
  nonce: b64,
  ciphertext: b64,
  tag: b64,
  createdAt: z.string(),
};
const identityRecordSchema = z.object({ ...wrappedFields, recipient: z.string().startsWith('age1'), keyId: z.string().min(1) });
const ringRecordSchema = z.object({ ...wrappedFields, kind: z.literal('ring') });
const tombstoneSchema = z.object({
  v: z.literal(1),
  kind: z.literal('tombstone'),
  keyId: z.string(),
  shreddedAt: z.string(),
  reason: z.string(),
  actor: z.string(),
});
type IdentityRecord = z.infer<typeof identityRecordSchema>;
type RingRecord = z.infer<typeof ringRecordSchema>;
type Tombstone = z.infer<typeof tombstoneSchema>;
type Wrapped = Pick<IdentityRecord, 'alg' | 'masterKeyId' | 'nonce' | 'ciphertext' | 'tag'>;

const AAD_PREFIX = 'handover/keyring/v1';
const MASTER_KEY_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;

function keyIdOf(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex').slice(0, 16);
}

function wrap(plain: Uint8Array, masterKey: Uint8Array, masterKeyId: string, aad: string): Wrapped {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', masterKey, nonce);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([c.update(plain), c.final()]);
  return { alg: 'A256GCM', masterKeyId, nonce: nonce.toString('base64'), ciphertext: ciphertext.toString('base64'), tag: c.getAuthTag().toString('base64') };
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'E_NOT_FOUND';
}

function isExists(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'E_EXISTS';
}


class StoreKeyRing implements KeyRing {
  readonly #store: Store;
  readonly #prefix: string;
  readonly #clock: Clock;
  #masterKey: Buffer | undefined;
  #masterKeyId: string | undefined;
  /** Keys accepted for unwrapping, by id: the current one and any previous ones. */
  readonly #unwrapKeys = new Map<string, Buffer>();
  #refKey: Buffer | undefined;

  constructor(options: KeyRingOptions) {
    this.#store = options.store;
    this.#prefix = options.prefix ?? 'keys/';
    if (!this.#prefix.endsWith('/')) throw new CryptoError(`key ring prefix '${this.#prefix}' must end with '/'`, { code: 'E_KEYRING_CONFIG' });
    this.#clock = options.clock ?? systemClock;
    for (const prev of options.previousMasterKeys ?? []) {
      assertMasterKey(prev);
      this.#unwrapKeys.set(masterKeyIdOf(prev), Buffer.from(prev));
    }
    if (options.masterKey !== undefined) {
      assertMasterKey(options.masterKey);
      const id = options.masterKeyId ?? masterKeyIdOf(options.masterKey);
      if (!MASTER_KEY_ID_RE.test(id)) throw new CryptoError('masterKeyId must be 1–64 characters of A–Z a–z 0–9 . _ : -', { code: 'E_KEYRING_CONFIG' });
      this.#masterKey = Buffer.from(options.masterKey);
      this.#masterKeyId = id;
      this.#unwrapKeys.set(id, this.#masterKey);
    }
  }

  get masterKeyId(): string | undefined {
    return this.#masterKeyId;
  }

  #ringKey(): string {
    return `${this.#prefix}ring.json`;
  }
  #identityKey(ref: string): string {
    return `${this.#prefix}subjects/${ref}.json`;
  }
  #tombstoneKey(ref: string): string {
    return `${this.#prefix}shredded/${ref}.json`;
  }

  #requireMaster(): { key: Buffer; id: string } {
    if (this.#masterKey === undefined || this.#masterKeyId === undefined) {
      throw new MasterKeyError('no master key configured: set HANDOVER_MASTER_KEY (32 bytes, hex or base64, or file:/path)', { code: 'E_MASTER_KEY_MISSING' });
    }
    return { key: this.#masterKey, id: this.#masterKeyId };
  }

  #unwrap(rec: Wrapped, aad: string, what: string): Buffer {
    const key = this.#unwrapKeys.get(rec.masterKeyId);
    if (key === undefined) {
      const current = this.#masterKeyId === undefined ? 'none is configured' : `the configured one is ${this.#masterKeyId}`;
      throw new MasterKeyError(
        `${what} is wrapped under master key ${rec.masterKeyId}, but ${current}: check HANDOVER_MASTER_KEY, or if a master key rotation was interrupted, pass the other key too and rerun the rotation`,
        { code: 'E_MASTER_KEY_MISMATCH' },
      );
    }
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(rec.nonce, 'base64'));
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(Buffer.from(rec.tag, 'base64'));
    try {
      return Buffer.concat([d.update(Buffer.from(rec.ciphertext, 'base64')), d.final()]);
    } catch (err) {
      throw new MasterKeyError(
        `${what} failed authentication under master key ${rec.masterKeyId}: the record was modified, or a different key was given the same master key id`,
        { code: 'E_KEY_UNWRAP', cause: err },
      );
    }
  }

  async #readJson<T>(key: string, schema: z.ZodType<T>): Promise<T | undefined> {
    let body: Buffer;
    try {
      body = await readStream(await this.#store.get(key));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new CryptoError(`key ring record '${key}' is not valid JSON`, { code: 'E_KEYRING_RECORD', cause: err });
    }
    const r = schema.safeParse(parsed);
    if (!r.success) throw new CryptoError(`key ring record '${key}' is malformed: ${r.error.issues.map((i) => i.path.join('.') || 'record').join(', ')}`, { code: 'E_KEYRING_RECORD' });
    return r.data;
  }

  async #putJson(key: string, value: unknown, ifNoneMatch: boolean): Promise<void> {
    await this.#store.put(key, `${JSON.stringify(value)}\n`, { ifNoneMatch, contentType: 'application/json' });
  }

  /** Load the ring record, creating it on first use. Concurrent creators derive the same ref key. */
  async open(): Promise<void> {
    if (this.#masterKey === undefined) return;
    const { key, id } = this.#requireMaster();
    const ringKey = this.#ringKey();
    let rec = await this.#readJson(ringKey, ringRecordSchema);
    if (rec === undefined) {
      const refKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'handover subject-ref', 32));
      const fresh: RingRecord = { v: 1, kind: 'ring', ...wrap(refKey, key, id, `${AAD_PREFIX}\0ring`), createdAt: this.#clock.now().toISOString() };
      try {
        await this.#putJson(ringKey, fresh, true);
        rec = fresh;
      } catch (err) {
        if (!isExists(err)) throw err;
        rec = await this.#readJson(ringKey, ringRecordSchema);
        if (rec === undefined) throw new CryptoError(`key ring record '${ringKey}' vanished while being created`, { code: 'E_KEYRING_RECORD', cause: err });
      }
    }
    this.#refKey = this.#unwrap(rec, `${AAD_PREFIX}\0ring`, `key ring '${ringKey}'`);
  }

  subjectRef(subjectId: string): string {
    this.#requireMaster();
    if (typeof subjectId !== 'string' || subjectId.length === 0) throw new CryptoError('subject id must be a non-empty string', { code: 'E_KEYRING_SUBJECT' });
    return createHmac('sha256', this.#refKey as Buffer).update(subjectId, 'utf8').digest('hex').slice(0, 32);
  }

  static #identityAad(ref: string, recipient: string, keyId: string): string {
    return `${AAD_PREFIX}\0subject\0${ref}\0${recipient}\0${keyId}`;
  }

  /** The identity in a record, checked against the record's recipient. */
  #openIdentity(ref: string, rec: IdentityRecord): string {
    const secret = this.#unwrap(rec, StoreKeyRing.#identityAad(ref, rec.recipient, rec.keyId), `wrapped key for subject ref ${ref}`);
    try {
      const id = x25519FromSecret(secret);
      if (encodeRecipient(id.publicKey) !== rec.recipient || keyIdOf(id.publicKey) !== rec.keyId) {
        throw new MasterKeyError(`wrapped key for subject ref ${ref} does not match its recorded recipient`, { code: 'E_KEY_UNWRAP' });
      }
      return encodeIdentity(secret);
    } finally {
      secret.fill(0);
    }
  }

  async #tombstone(ref: string): Promise<Tombstone | undefined> {
    return this.#readJson(this.#tombstoneKey(ref), tombstoneSchema);
  }

  static #shreddedError(ref: string, t: Tombstone): KeyShreddedError {
    return new KeyShreddedError(
      `the key for subject ref ${ref} (key id ${t.keyId}) was shredded at ${t.shreddedAt}: data encrypted to it cannot be decrypted`,
      { keyId: t.keyId, shreddedAt: t.shreddedAt },
    );
  }

  async recipientFor(subjectId: string): Promise<string> {
    const { key, id } = this.#requireMaster();
    const ref = this.subjectRef(subjectId);
    const dead = await this.#tombstone(ref);
    if (dead !== undefined) throw StoreKeyRing.#shreddedError(ref, dead);
    const objectKey = this.#identityKey(ref);
    let rec = await this.#readJson(objectKey, identityRecordSchema);
    if (rec === undefined) {
      const secret = generateX25519Secret();
      try {
        const pub = x25519FromSecret(secret).publicKey;
        const recipient = encodeRecipient(pub);
        const keyId = keyIdOf(pub);
        const fresh: IdentityRecord = {
          v: 1,
          ...wrap(secret, key, id, StoreKeyRing.#identityAad(ref, recipient, keyId)),
          recipient,
          keyId,
          createdAt: this.#clock.now().toISOString(),
        };
        await this.#putJson(objectKey, fresh, true);
        rec = fresh;
      } catch (err) {
        // Another creator won the race: use its key, so every caller gets the same recipient.
        if (!isExists(err)) throw err;
        rec = await this.#readJson(objectKey, identityRecordSchema);
      } finally {
        secret.fill(0);
      }
      // A shred may have slipped in between our tombstone check and the create.
      const late = await this.#tombstone(ref);
      if (late !== undefined) {
        await this.#store.delete([objectKey]);
        throw StoreKeyRing.#shreddedError(ref, late);
      }
      if (rec === undefined) throw new KeyNotFoundError(`the key for subject ref ${ref} was deleted while being created`);
    }
    this.#openIdentity(ref, rec); // proves the record is intact and the recipient is its own
    return rec.recipient;
  }

  async identityFor(subjectId: string): Promise<string> {
    return this.identityForRef(this.subjectRef(subjectId));
  }

  async identityForRef(ref: string): Promise<string> {
    this.#requireMaster();
    assertRef(ref);
    const dead = await this.#tombstone(ref);
    if (dead !== undefined) throw StoreKeyRing.#shreddedError(ref, dead);
    const rec = await this.#readJson(this.#identityKey(ref), identityRecordSchema);
    if (rec === undefined) throw new KeyNotFoundError(`no key exists for subject ref ${ref}`);
    return this.#openIdentity(ref, rec);
  }

  async shred(subjectId: string, options: ShredOptions): Promise<string> {
    return this.shredRef(this.subjectRef(subjectId), options);
  }

  async shredRef(ref: string, options: ShredOptions): Promise<string> {
    this.#requireMaster();
    assertRef(ref);
    const objectKey = this.#identityKey(ref);
    let tomb = await this.#tombstone(ref);
    if (tomb === undefined) {
      const rec = await this.#readJson(objectKey, identityRecordSchema);
      if (rec === undefined) throw new KeyNotFoundError(`no key exists for subject ref ${ref}: nothing to shred`);
      // Tombstone first: if we stop before the delete, reads already see "shredded" and a rerun finishes.
      const fresh: Tombstone = { v: 1, kind: 'tombstone', keyId: rec.keyId, shreddedAt: this.#clock.now().toISOString(), reason: options.reason, actor: options.actor };
      try {
        await this.#putJson(this.#tombstoneKey(ref), fresh, true);
        tomb = fresh;
      } catch (err) {
        if (!isExists(err)) throw err;
        tomb = await this.#tombstone(ref);
        if (tomb === undefined) throw new CryptoError(`tombstone for subject ref ${ref} vanished while being written`, { code: 'E_KEYRING_RECORD', cause: err });
      }
    }
    // In a versioned bucket a plain delete leaves the wrapped key behind as an old version.
    const result = this.#store.deleteAllVersions ? await this.#store.deleteAllVersions([objectKey]) : await this.#store.delete([objectKey]);
    if (result.errors.length > 0) {
      throw new CryptoError(
        `key for subject ref ${ref} is marked shredded but its wrapped key could not be deleted (${result.errors.map((e) => e.message).join('; ')}); rerun shred`,
        { code: 'E_SHRED_INCOMPLETE' },
      );
    }
    return tomb.keyId;
  }

  async rotateMaster(newMasterKey: Uint8Array, options: RotateOptions = {}): Promise<RotateResult> {
    const old = this.#requireMaster();
    assertMasterKey(newMasterKey);
    const newKey = Buffer.from(newMasterKey);
    const newId = options.newMasterKeyId ?? masterKeyIdOf(newKey);
    if (!MASTER_KEY_ID_RE.test(newId)) throw new CryptoError('newMasterKeyId must be 1–64 characters of A–Z a–z 0–9 . _ : -', { code: 'E_KEYRING_CONFIG' });
    const known = this.#unwrapKeys.get(newId);
    if (known !== undefined && !known.equals(newKey)) {
      throw new MasterKeyError(`master key id ${newId} already names a different key`, { code: 'E_MASTER_KEY_MISMATCH' });
    }
    const result: RotateResult = { masterKeyId: newId, rewrapped: 0, alreadyCurrent: 0, removedShredded: 0 };
    const subjects = `${this.#prefix}subjects/`;
    for await (const entry of this.#store.list(subjects)) {
      if (!entry.key.endsWith('.json')) continue;
      const ref = entry.key.slice(subjects.length, -'.json'.length);
      if (await this.#tombstone(ref)) {
        await this.#store.delete([entry.key]); // never re-wrap a shredded key: finish the shred instead
        result.removedShredded++;
        continue;
      }
      const rec = await this.#readJson(entry.key, identityRecordSchema);
      if (rec === undefined) continue; // deleted since the listing
      if (rec.masterKeyId === newId) {
        result.alreadyCurrent++;
        continue;
      }
      const aad = StoreKeyRing.#identityAad(ref, rec.recipient, rec.keyId);
      const secret = this.#unwrap(rec, aad, `wrapped key for subject ref ${ref}`);
      try {
        await this.#putJson(entry.key, { ...rec, ...wrap(secret, newKey, newId, aad) }, false);
      } finally {
        secret.fill(0);
      }
      // A shred that ran while we re-wrapped must not be undone by our write.
      if (await this.#tombstone(ref)) await this.#store.delete([entry.key]);
      result.rewrapped++;
    }
    // The ring record goes last: while it is still under the old key, the old key opens the ring for a rerun.
    const ringKey = this.#ringKey();
    const ring = await this.#readJson(ringKey, ringRecordSchema);
    if (ring !== undefined && ring.masterKeyId !== newId) {
      const refKey = this.#unwrap(ring, `${AAD_PREFIX}\0ring`, `key ring '${ringKey}'`);
      await this.#putJson(ringKey, { ...ring, ...wrap(refKey, newKey, newId, `${AAD_PREFIX}\0ring`) }, false);
      refKey.fill(0);
    }
    this.#unwrapKeys.set(old.id, old.key);
    this.#unwrapKeys.set(newId, newKey);
    this.#masterKey = newKey;
    this.#masterKeyId = newId;
    return result;
  }

  async list(): Promise<KeyRingEntry[]> {
    const byRef = new Map<string, KeyRingEntry>();
    const subjects = `${this.#prefix}subjects/`;
    for await (const entry of this.#store.list(subjects)) {
      if (!entry.key.endsWith('.json')) continue;
      const ref = entry.key.slice(subjects.length, -'.json'.length);
      const rec = await this.#readJson(entry.key, identityRecordSchema);
      if (rec === undefined) continue;
      byRef.set(ref, { ref, state: 'active', keyId: rec.keyId, recipient: rec.recipient, masterKeyId: rec.masterKeyId, createdAt: rec.createdAt });
    }
    const shredded = `${this.#prefix}shredded/`;
    for await (const entry of this.#store.list(shredded)) {
      if (!entry.key.endsWith('.json')) continue;
      const ref = entry.key.slice(shredded.length, -'.json'.length);
      const t = await this.#readJson(entry.key, tombstoneSchema);
      if (t === undefined) continue;
      const remains = byRef.has(ref);
      byRef.set(ref, {
        ref,
        state: 'shredded',
        keyId: t.keyId,
        shreddedAt: t.shreddedAt,
        reason: t.reason,
        actor: t.actor,
        ...(remains ? { wrappedKeyRemains: true } : {}),
      });
    }
    return [...byRef.values()].sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  }
}

/**
 * Open the key ring in `store`, creating its ring record on first use. Fails with
 * E_MASTER_KEY_MISMATCH when the ring was made under a different master key.
 */
export async function createKeyRing(options: KeyRingOptions): Promise<KeyRing> {
  const ring = new StoreKeyRing(options);
  await ring.open();
  return ring;
}

const REF_RE = /^[0-9a-f]{32}$/;

/** Refs come from object keys and metadata, i.e. from outside: check them before building keys from them. */
function assertRef(ref: string): void {
  if (!REF_RE.test(ref)) throw new CryptoError(`'${ref.slice(0, 40)}' is not a subject ref (32 hex digits)`, { code: 'E_KEYRING_SUBJECT' });
}
