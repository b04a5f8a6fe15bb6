import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { createMemoryStore, type MemoryStore } from '../store/memory-store.js';
import type { Store } from '../store/store.js';
import { createKeyRing, decryptBuffer, encryptBuffer, identityToRecipient, masterKeyIdOf } from './index.js';

const ALICE = 'alice@example.com';
const BOB = 'U024BE7LH';

async function text(r: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** Every object in the store: key → body. */
async function dump(store: Store): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of store.list('')) out.set(e.key, await text(await store.get(e.key)));
  return out;
}

async function caught(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

/** A store that delegates to `inner` but lets a test make puts or deletes fail. */
function faulty(inner: MemoryStore, faults: { put?: (key: string) => boolean; deleteFails?: () => boolean }): Store {
  return {
    url: inner.url,
    put: (key, body, options) => (faults.put?.(key) ? Promise.reject(new Error(`injected put failure for ${key}`)) : inner.put(key, body, options)),
    get: (key, options) => inner.get(key, options),
    head: (key) => inner.head(key),
    list: (prefix, options) => inner.list(prefix, options),
    delete: async (keys) => (faults.deleteFails?.() ? { deleted: [], errors: keys.map((key) => ({ key, message: 'injected delete failure' })), requests: 1 } : inner.delete(keys)),
  };
}

describe('key ring', () => {
  const master = randomBytes(32);

  it('creates a key per subject, and returns the same one on every call', async () => {
    const store = createMemoryStore();
    const ring = await createKeyRing({ store, masterKey: master });
    const r1 = await ring.recipientFor(ALICE);
    expect(r1).toMatch(/^age1[0-9a-z]{58}$/);
    expect(await ring.recipientFor(ALICE)).toBe(r1);
    expect(await ring.recipientFor(BOB)).not.toBe(r1);
    expect(identityToRecipient(await ring.identityFor(ALICE))).toBe(r1);
    // A second process opening the same store sees the same keys.
    const again = await createKeyRing({ store, masterKey: master });
    expect(await again.recipientFor(ALICE)).toBe(r1);
  });

  it('subject refs are 32 hex digits of HMAC-SHA-256 under HKDF(master, "handover subject-ref")', async () => {
    const ring = await createKeyRing({ store: createMemoryStore(), masterKey: master });
    const refKey = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'handover subject-ref', 32));
    expect(ring.subjectRef(ALICE)).toBe(createHmac('sha256', refKey).update(ALICE).digest('hex').slice(0, 32));
    expect(ring.subjectRef(ALICE)).toMatch(/^[0-9a-f]{32}$/);
    expect(ring.subjectRef(BOB)).not.toBe(ring.subjectRef(ALICE));
    const other = await createKeyRing({ store: createMemoryStore(), masterKey: randomBytes(32) });
    expect(other.subjectRef(ALICE)).not.toBe(ring.subjectRef(ALICE));
  });

  it('concurrent first calls, in one ring or in several, agree on one key', async () => {
    const store = createMemoryStore();
    const rings = await Promise.all([1, 2, 3].map(() => createKeyRing({ store, masterKey: master })));
    const got = await Promise.all(rings.flatMap((r) => [r.recipientFor(ALICE), r.recipientFor(ALICE), r.recipientFor(ALICE)]));
    expect(new Set(got).size).toBe(1);
    const keys = [...(await dump(store)).keys()];
    expect(keys.filter((k) => k.startsWith('keys/subjects/'))).toHaveLength(1);
    expect(keys).toContain('keys/ring.json');
  });

  it('shred destroys the key: archives to it can no longer be decrypted through the ring', async () => {
    const clock = new ManualClock('2026-03-01T10:00:00Z');
    const store = createMemoryStore();
    const ring = await createKeyRing({ store, masterKey: master, clock });
    const recipient = await ring.recipientFor(ALICE);
    await ring.recipientFor(BOB);
    const archive = await encryptBuffer('alice’s chats', { recipients: [recipient] });
    expect((await decryptBuffer(archive, { identities: [await ring.identityFor(ALICE)] })).toString()).toBe('alice’s chats');
    const before = await dump(store);
    const wrapped = before.get(`keys/subjects/${ring.subjectRef(ALICE)}.json`) as string;

    const keyId = await ring.shred(ALICE, { reason: 'erasure request 42', actor: 'dpo@corp' });
    expect(keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(await caught(ring.identityFor(ALICE))).toMatchObject({ code: 'E_KEY_SHREDDED', keyId, shreddedAt: '2026-03-01T10:00:00.000Z' });
    expect(await caught(ring.recipientFor(ALICE))).toMatchObject({ code: 'E_KEY_SHREDDED' });
    // The wrapped key is gone from the store; only the tombstone (no key material) is left.
    const after = await dump(store);
    expect(after.has(`keys/subjects/${ring.subjectRef(ALICE)}.json`)).toBe(false);
    const tomb = JSON.parse(after.get(`keys/shredded/${ring.subjectRef(ALICE)}.json`) as string) as Record<string, unknown>;
    expect(tomb).toEqual({ v: 1, kind: 'tombstone', keyId, shreddedAt: '2026-03-01T10:00:00.000Z', reason: 'erasure request 42', actor: 'dpo@corp' });
    for (const body of after.values()) expect(body).not.toContain((JSON.parse(wrapped) as { ciphertext: string }).ciphertext);
    // Bob is untouched; shredding again is a no-op that names the same key.
    expect(identityToRecipient(await ring.identityFor(BOB))).toBe(await ring.recipientFor(BOB));
    expect(await ring.shred(ALICE, { reason: 'again', actor: 'x' })).toBe(keyId);
    const listed = await ring.list();
    expect(listed.map((e) => e.ref)).toEqual([ring.subjectRef(ALICE), ring.subjectRef(BOB)].sort());
    expect(listed.find((e) => e.ref === ring.subjectRef(ALICE))).toEqual({
      ref: ring.subjectRef(ALICE), state: 'shredded', keyId, shreddedAt: '2026-03-01T10:00:00.000Z', reason: 'erasure request 42', actor: 'dpo@corp',
    });
    expect(listed.find((e) => e.ref === ring.subjectRef(BOB))).toMatchObject({ state: 'active', masterKeyId: masterKeyIdOf(master), recipient: await ring.recipientFor(BOB) });
  });

  it('unknown subjects: E_KEY_NOT_FOUND for identityFor and shred', async () => {
    const ring = await createKeyRing({ store: createMemoryStore(), masterKey: master });
    expect(await caught(ring.identityFor('nobody'))).toMatchObject({ code: 'E_KEY_NOT_FOUND' });
    expect(await caught(ring.shred('nobody', { reason: 'r', actor: 'a' }))).toMatchObject({ code: 'E_KEY_NOT_FOUND' });
  });

  it('an interrupted shred already reads as shredded, and a rerun finishes it', async () => {
    const inner = createMemoryStore();
    let failDeletes = true;
    const ring = await createKeyRing({ store: faulty(inner, { deleteFails: () => failDeletes }), masterKey: master });
    await ring.recipientFor(ALICE);
    expect(await caught(ring.shred(ALICE, { reason: 'r', actor: 'a' }))).toMatchObject({ code: 'E_SHRED_INCOMPLETE' });
    expect(await caught(ring.identityFor(ALICE))).toMatchObject({ code: 'E_KEY_SHREDDED' });
    expect(await ring.list()).toEqual([expect.objectContaining({ state: 'shredded', wrappedKeyRemains: true })]);
    failDeletes = false;
    await ring.shred(ALICE, { reason: 'r', actor: 'a' });
    expect([...(await dump(inner)).keys()].some((k) => k.startsWith('keys/subjects/'))).toBe(false);
  });

  it('rotateMaster re-wraps every key; old master stops working, recipients and archives survive', async () => {
    const store = createMemoryStore();
    const ring = await createKeyRing({ store, masterKey: master });
    const subjects = [ALICE, BOB, 'carol', 'dave'];
    const recipients = await Promise.all(subjects.map((s) => ring.recipientFor(s)));
    const refs = subjects.map((s) => ring.subjectRef(s));
    const archive = await encryptBuffer(randomBytes(100_000), { recipients: [recipients[0] as string] });
    const plain = await decryptBuffer(archive, { identities: [await ring.identityFor(ALICE)] });

    const newMaster = randomBytes(32);
    const res = await ring.rotateMaster(newMaster);
    expect(res).toEqual({ masterKeyId: masterKeyIdOf(newMaster), rewrapped: 4, alreadyCurrent: 0, removedShredded: 0 });
    for (const [k, body] of await dump(store)) {
      if (k.startsWith('keys/subjects/') || k === 'keys/ring.json') expect(JSON.parse(body)).toMatchObject({ masterKeyId: masterKeyIdOf(newMaster) });
    }
    expect(await caught(createKeyRing({ store, masterKey: master }))).toMatchObject({ code: 'E_MASTER_KEY_MISMATCH' });
    const reopened = await createKeyRing({ store, masterKey: newMaster });
    expect(subjects.map((s) => reopened.subjectRef(s))).toEqual(refs);
    expect(await Promise.all(subjects.map((s) => reopened.recipientFor(s)))).toEqual(recipients);
    expect((await decryptBuffer(archive, { identities: [await reopened.identityFor(ALICE)] })).equals(plain)).toBe(true);
    // The ring that rotated carries on with the new key.
    expect(ring.masterKeyId).toBe(masterKeyIdOf(newMaster));
    expect(await ring.recipientFor('erin')).toMatch(/^age1/);
  });

  it('an interrupted rotation is finished by rerunning it', async () => {
    const inner = createMemoryStore();
    let puts = 0;
    let failAfter = Infinity;
    const store = faulty(inner, { put: (key) => key.startsWith('keys/subjects/') && ++puts > failAfter });
    const ring = await createKeyRing({ store, masterKey: master });
    const subjects = ['s1', 's2', 's3', 's4', 's5'];
    const recipients = await Promise.all(subjects.map((s) => ring.recipientFor(s)));
    const newMaster = randomBytes(32);
    puts = 0;
    failAfter = 2;
    await expect(ring.rotateMaster(newMaster)).rejects.toThrow(/injected put failure/);

    // Half done: the ring record is still under the old key, so the old key still opens the ring…
    const half = await createKeyRing({ store: inner, masterKey: master });
    const errs = await Promise.all(subjects.map((s) => half.identityFor(s).then(() => undefined, (e: Error & { code?: string }) => e)));
    const moved = errs.filter((e) => e !== undefined);
    expect(moved).toHaveLength(2);
    for (const e of moved) expect(e).toMatchObject({ code: 'E_MASTER_KEY_MISMATCH', message: expect.stringMatching(/rotation/) });
    // …the new key with the old one as previous opens every record…
    const both = await createKeyRing({ store: inner, masterKey: newMaster, previousMasterKeys: [master] });
    expect(await Promise.all(subjects.map((s) => both.recipientFor(s)))).toEqual(recipients);
    // …and rerunning finishes the job.
    const res = await half.rotateMaster(newMaster);
    expect(res).toMatchObject({ rewrapped: 3, alreadyCurrent: 2 });
    const done = await createKeyRing({ store: inner, masterKey: newMaster });
    expect(await Promise.all(subjects.map(async (s) => identityToRecipient(await done.identityFor(s))))).toEqual(recipients);
  });

  it('rotation deletes, rather than re-wraps, the key of a subject whose shred was interrupted', async () => {
    const inner = createMemoryStore();
    let failDeletes = true;
    const ring = await createKeyRing({ store: faulty(inner, { deleteFails: () => failDeletes }), masterKey: master });
    await ring.recipientFor(ALICE);
    await ring.recipientFor(BOB);
    await caught(ring.shred(ALICE, { reason: 'r', actor: 'a' }));
    failDeletes = false;
    expect(await ring.rotateMaster(randomBytes(32))).toMatchObject({ rewrapped: 1, removedShredded: 1 });
    expect((await ring.list()).map((e) => e.state).sort()).toEqual(['active', 'shredded']);
    expect((await ring.list()).some((e) => e.wrappedKeyRemains)).toBe(false);
  });

  it('subject ids never appear in object keys or bodies', async () => {
    const store = createMemoryStore();
    const ring = await createKeyRing({ store, masterKey: master });
    const ids = [ALICE, BOB, 'Ünïcode Person', 'slack:T01/U02'];
    for (const s of ids) await ring.recipientFor(s);
    await ring.shred(BOB, { reason: 'erasure request', actor: 'admin' });
    await ring.rotateMaster(randomBytes(32));
    const all = await dump(store);
    expect(all.size).toBeGreaterThan(4);
    for (const [key, body] of all) {
      for (const s of ids) {
        expect(key.toLowerCase()).not.toContain(s.toLowerCase());
        expect(body.toLowerCase()).not.toContain(s.toLowerCase());
        expect(body).not.toContain(Buffer.from(s).toString('base64'));
        expect(body).not.toContain(Buffer.from(s).toString('hex'));
      }
    }
  });

  it('no object body holds an identity or the master key in the clear', async () => {
    const store = createMemoryStore();
    const ring = await createKeyRing({ store, masterKey: master });
    await ring.recipientFor(ALICE);
    const identity = await ring.identityFor(ALICE);
    for (const body of (await dump(store)).values()) {
      expect(body).not.toContain(identity);
      expect(body.toLowerCase()).not.toContain(identity.toLowerCase().slice(16));
      expect(body).not.toContain(master.toString('base64'));
      expect(body).not.toContain(master.toString('hex'));
    }
  });

  it('a wrong master key is a clear error that shows no key bytes', async () => {
    const store = createMemoryStore();
    await (await createKeyRing({ store, masterKey: master })).recipientFor(ALICE);
    const wrong = randomBytes(32);
    const err = await caught(createKeyRing({ store, masterKey: wrong }));
    expect(err).toMatchObject({ code: 'E_MASTER_KEY_MISMATCH' });
    expect(err.message).toContain(masterKeyIdOf(master));
    expect(err.message).toContain(masterKeyIdOf(wrong));
    // Same label, different key: authentication fails, still without key bytes.
    const err2 = await caught(createKeyRing({ store, masterKey: wrong, masterKeyId: masterKeyIdOf(master) }));
    expect(err2).toMatchObject({ code: 'E_KEY_UNWRAP' });
    for (const e of [err, err2]) {
      for (const k of [master, wrong]) {
        expect(`${e.message} ${e.stack}`).not.toContain(k.toString('hex'));
        expect(`${e.message} ${e.stack}`).not.toContain(k.toString('base64'));
      }
    }
  });

  it('a wrapped key moved to another subject, or with its recipient swapped, is rejected', async () => {
    const store = createMemoryStore();
    const ring = await createKeyRing({ store, masterKey: master });
    await ring.recipientFor(ALICE);
    const bobRecipient = await ring.recipientFor(BOB);
    const aliceKey = `keys/subjects/${ring.subjectRef(ALICE)}.json`;
    const bobKey = `keys/subjects/${ring.subjectRef(BOB)}.json`;
    const aliceBody = await text(await store.get(aliceKey));
    await store.put(bobKey, aliceBody);
    expect(await caught(ring.identityFor(BOB))).toMatchObject({ code: 'E_KEY_UNWRAP' });
    await store.put(aliceKey, JSON.stringify({ ...JSON.parse(aliceBody), recipient: bobRecipient }));
    expect(await caught(ring.recipientFor(ALICE))).toMatchObject({ code: 'E_KEY_UNWRAP' });
  });

  it('without a master key, only list() works', async () => {
    const store = createMemoryStore();
    await (await createKeyRing({ store, masterKey: master })).recipientFor(ALICE);
    const ring = await createKeyRing({ store, masterKey: undefined });
    expect(await ring.list()).toHaveLength(1);
    expect(await caught(ring.recipientFor(ALICE))).toMatchObject({ code: 'E_MASTER_KEY_MISSING' });
    expect(() => ring.subjectRef(ALICE)).toThrow(expect.objectContaining({ code: 'E_MASTER_KEY_MISSING' }));
    expect(await caught(createKeyRing({ store, masterKey: randomBytes(16) }))).toMatchObject({ code: 'E_MASTER_KEY_INVALID' });
  });
});
