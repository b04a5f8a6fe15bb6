import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Decrypter, Encrypter, Stanza, generateIdentity as typageGenerateIdentity, identityToRecipient as typageIdentityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDecryptStream,
  createEncryptStream,
  decryptBuffer,
  encryptBuffer,
  generateIdentity,
  identityToRecipient,
  isAgeFile,
  measureEncryptThroughput,
  parseIdentityFile,
} from './index.js';

let dir: string;
let identity: string; // made by age-keygen
let recipient: string;
let identityFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'handover-age-'));
  identityFile = join(dir, 'key.txt');
  execFileSync('age-keygen', ['-o', identityFile], { stdio: 'ignore' });
  [identity] = parseIdentityFile(readFileSync(identityFile, 'utf8')) as [string];
  recipient = execFileSync('age-keygen', ['-y', identityFile]).toString().trim();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function age(args: string[], input?: Uint8Array): Buffer {
  return execFileSync('age', args, { input, maxBuffer: 64 * 1024 * 1024 });
}

/** Feed `data` in pieces of the given sizes (cycled), so chunk boundaries fall everywhere. */
async function through(data: Uint8Array, transform: NodeJS.ReadWriteStream, pieces: number[] = [data.length || 1]): Promise<Buffer> {
  const parts: Buffer[] = [];
  async function* gen(): AsyncGenerator<Buffer> {
    let off = 0;
    let i = 0;
    while (off < data.length) {
      const n = pieces[i++ % pieces.length] as number;
      yield Buffer.from(data.subarray(off, off + n));
      off += n;
    }
  }
  await pipeline(Readable.from(gen()), transform, new Writable({
    write(c: Buffer, _e, cb) {
      parts.push(c);
      cb();
    },
  }));
  return Buffer.concat(parts);
}

const SIZES = [0, 1, 65535, 65536, 65537, 3 * 65536, 5 * 1024 * 1024 + 123];

describe('age interop: ours → age', () => {
  it.each(SIZES)('age -d decrypts %i bytes we encrypted', async (size) => {
    const plain = randomBytes(size);
    const file = join(dir, `ours-${size}.age`);
    writeFileSync(file, await through(plain, createEncryptStream({ recipients: [recipient] }), [7, 65536, 100_000, 1]));
    expect(age(['-d', '-i', identityFile, file]).equals(plain)).toBe(true);
  });

  it('produces the exact age file size: header + 16-byte nonce + plaintext + 16 bytes per chunk', async () => {
    for (const size of [0, 65536, 65537]) {
      const out = await encryptBuffer(randomBytes(size), { recipients: [recipient] });
      const headerLen = out.indexOf('\n---') + 1 + out.subarray(out.indexOf('\n---') + 1).indexOf('\n') + 1;
      const chunks = Math.max(1, Math.ceil(size / 65536));
      expect(out.length).toBe(headerLen + 16 + size + 16 * chunks);
    }
  });

  it('encrypts to several recipients, any of whom can decrypt', async () => {
    const other = await generateIdentity();
    const otherFile = join(dir, 'other.txt');
    writeFileSync(otherFile, `${other.identity}\n`);
    const plain = randomBytes(70_000);
    const file = join(dir, 'multi.age');
    writeFileSync(file, await encryptBuffer(plain, { recipients: [other.recipient, recipient] }));
    expect(age(['-d', '-i', identityFile, file]).equals(plain)).toBe(true);
    expect(age(['-d', '-i', otherFile, file]).equals(plain)).toBe(true);
  });
});

describe('age interop: age → ours', () => {
  it.each(SIZES)('we decrypt %i bytes that age -r encrypted', async (size) => {
    const plain = randomBytes(size);
    const enc = age(['-r', recipient], plain);
    expect((await through(enc, createDecryptStream({ identities: [identity] }), [3, 65552, 70_000, 1])).equals(plain)).toBe(true);
  });

  it('decrypts age -e -i output (encrypting to an identity file)', async () => {
    const plain = randomBytes(200_000);
    const enc = age(['-e', '-i', identityFile], plain);
    expect((await decryptBuffer(enc, { identities: [identity] })).equals(plain)).toBe(true);
  });

  it('survives one-byte writes in both directions', async () => {
    const plain = randomBytes(1000);
    const enc = await through(plain, createEncryptStream({ recipients: [recipient] }), [1]);
    expect(age(['-d', '-i', identityFile], enc).equals(plain)).toBe(true);
    expect((await through(enc, createDecryptStream({ identities: [identity] }), [1])).equals(plain)).toBe(true);
  });

  it('skips stanzas of types it does not know (plugins, ssh, grease)', async () => {
    const plain = randomBytes(5000);
    const e = new Encrypter();
    e.addRecipient({ wrapFileKey: () => [new Stanza(['example.com/plugin', 'arg'], randomBytes(50))] });
    e.addRecipient(recipient);
    expect((await decryptBuffer(await e.encrypt(plain), { identities: [identity] })).equals(plain)).toBe(true);
  });

  it('finds its identity among several, and its stanza among several', async () => {
    const a = await generateIdentity();
    const b = await generateIdentity();
    const plain = randomBytes(1000);
    const enc = age(['-r', a.recipient, '-r', recipient], plain);
    expect((await decryptBuffer(enc, { identities: [b.identity, identity] })).equals(plain)).toBe(true);
  });
});

describe('keys', () => {
  it('generates identities age-keygen agrees with', async () => {
    const { identity: id, recipient: rec } = await generateIdentity();
    expect(id).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
    expect(rec).toMatch(/^age1[0-9a-z]{58}$/);
    const f = join(dir, 'gen.txt');
    writeFileSync(f, `# test\n${id}\n`);
    expect(execFileSync('age-keygen', ['-y', f]).toString().trim()).toBe(rec);
    expect(identityToRecipient(id)).toBe(rec);
    expect(identityToRecipient(identity)).toBe(recipient);
  });

  it('agrees with age-encryption (typage) on identity → recipient', async () => {
    const id = await typageGenerateIdentity();
    expect(identityToRecipient(id)).toBe(await typageIdentityToRecipient(id));
  });

  it('rejects malformed recipients and identities without echoing secrets', async () => {
    expect(() => createEncryptStream({ recipients: ['age1notakey'] })).toThrow(expect.objectContaining({ code: 'E_AGE_BAD_RECIPIENT' }));
    const bad = identity.slice(0, -1) + (identity.endsWith('Q') ? 'P' : 'Q'); // checksum broken
    let err: unknown;
    try {
      createDecryptStream({ identities: [bad] });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'E_AGE_BAD_IDENTITY' });
    expect(String((err as Error).message)).not.toContain(bad.slice(16, 40));
    let err2: unknown;
    try {
      createEncryptStream({ recipients: [recipient, identity] });
    } catch (e) {
      err2 = e;
    }
    expect(err2).toMatchObject({ code: 'E_AGE_BAD_RECIPIENT', message: expect.stringMatching(/^recipient 2 is an age identity/) });
    expect(String((err2 as Error).message)).not.toContain(identity.slice(15));
    expect(() => createDecryptStream({ identities: [recipient] })).toThrow(expect.objectContaining({ code: 'E_AGE_BAD_IDENTITY' }));
    expect(() => createEncryptStream({ recipients: [] })).toThrow(expect.objectContaining({ code: 'E_AGE_NO_RECIPIENTS' }));
    expect(() => createDecryptStream({})).toThrow(expect.objectContaining({ code: 'E_AGE_NO_IDENTITIES' }));
  });

  it('isAgeFile recognises binary age files only', async () => {
    const enc = await encryptBuffer('x', { recipients: [recipient] });
    expect(isAgeFile(enc.subarray(0, 22))).toBe(true);
    expect(isAgeFile(enc)).toBe(true);
    expect(isAgeFile(enc.subarray(0, 21))).toBe(false);
    expect(isAgeFile(Buffer.from('PK\x03\x04 zip file'))).toBe(false);
    expect(isAgeFile(age(['-a', '-r', recipient], Buffer.from('x')))).toBe(false);
  });
});

describe('measureEncryptThroughput', () => {
  it('encrypts the requested amount through the stream', async () => {
    const r = await measureEncryptThroughput(3 * 1024 * 1024 + 5);
    expect(r.bytes).toBe(3 * 1024 * 1024 + 5);
    // Header (one X25519 stanza) + nonce + plaintext + a 16-byte tag per 64 KiB chunk.
    expect(r.outputBytes - r.bytes - 16 - 16 * 49).toBeGreaterThan(100);
    expect(r.outputBytes - r.bytes - 16 - 16 * 49).toBeLessThan(200);
    expect(r.mbPerSec).toBeGreaterThan(0);
  });
});

describe('passphrase (scrypt)', () => {
  it('refuses recipients and a passphrase together, citing age’s rule', () => {
    expect(() => createEncryptStream({ recipients: [recipient], passphrase: 'pw' })).toThrow(
      expect.objectContaining({ code: 'E_AGE_SCRYPT_NOT_ALONE', message: expect.stringMatching(/only one in a file/) }),
    );
  });

  it('round-trips through our own stream, and rejects a wrong passphrase', async () => {
    const plain = randomBytes(100_000);
    const enc = await encryptBuffer(plain, { passphrase: 'correct horse', scryptWorkFactor: 10 });
    expect(enc.toString('latin1')).toMatch(/\n-> scrypt [A-Za-z0-9+/]{22} 10\n/);
    expect((await decryptBuffer(enc, { passphrase: 'correct horse' })).equals(plain)).toBe(true);
    await expect(decryptBuffer(enc, { passphrase: 'wrong' })).rejects.toMatchObject({ code: 'E_AGE_NO_MATCH' });
    await expect(decryptBuffer(enc, { identities: [identity] })).rejects.toMatchObject({ code: 'E_AGE_NO_MATCH', message: expect.stringMatching(/passphrase/) });
  });

  it('refuses a work factor above the limit', async () => {
    const enc = await encryptBuffer('x', { passphrase: 'pw', scryptWorkFactor: 12 });
    await expect(decryptBuffer(enc, { passphrase: 'pw', maxScryptWorkFactor: 11 })).rejects.toMatchObject({ code: 'E_AGE_SCRYPT_WORK_FACTOR' });
  });

  it('interoperates with age-encryption (typage) as an independent implementation', async () => {
    const plain = randomBytes(150_000);
    const ours = await encryptBuffer(plain, { passphrase: 'typage interop', scryptWorkFactor: 12 });
    const d = new Decrypter();
    d.addPassphrase('typage interop');
    expect(Buffer.from(await d.decrypt(ours)).equals(plain)).toBe(true);

    const e = new Encrypter();
    e.setPassphrase('typage interop');
    e.setScryptWorkFactor(12);
    const theirs = await e.encrypt(plain);
    expect((await decryptBuffer(theirs, { passphrase: 'typage interop' })).equals(plain)).toBe(true);
  });

  it('interoperates with typage for X25519 too', async () => {
    const plain = randomBytes(70_000);
    const d = new Decrypter();
    d.addIdentity(identity);
    expect(Buffer.from(await d.decrypt(await encryptBuffer(plain, { recipients: [recipient] }))).equals(plain)).toBe(true);
    const e = new Encrypter();
    e.addRecipient(recipient);
    expect((await decryptBuffer(await e.encrypt(plain), { identities: [identity] })).equals(plain)).toBe(true);
  });

  // age reads passphrases from the terminal only; util-linux `script` gives it a pty
  // whose input is our stdin.
  const hasScript = spawnSync('script', ['--version']).status === 0;
  function ageOnPty(args: string, input: string): void {
    const r = spawnSync('script', ['-qec', `age ${args}`, '/dev/null'], { input, timeout: 60_000 });
    if (r.status !== 0) throw new Error(`age ${args} failed (${r.status}): ${r.stdout.toString()} ${r.stderr.toString()}`);
  }

  it.runIf(hasScript)('age -d decrypts our passphrase file (default work factor 18)', async () => {
    const plain = randomBytes(65536 * 2);
    const file = join(dir, 'pw-ours.age');
    const out = join(dir, 'pw-ours.out');
    writeFileSync(file, await encryptBuffer(plain, { passphrase: 'pty passphrase 1' }));
    ageOnPty(`-d -o ${out} ${file}`, 'pty passphrase 1\n');
    expect(readFileSync(out).equals(plain)).toBe(true);
  });

  it.runIf(hasScript)('we decrypt age -p output', async () => {
    const plain = randomBytes(100_001);
    const src = join(dir, 'pw-src.bin');
    const file = join(dir, 'pw-age.age');
    writeFileSync(src, plain);
    ageOnPty(`-p -o ${file} ${src}`, 'pty passphrase 2\npty passphrase 2\n');
    expect((await decryptBuffer(readFileSync(file), { passphrase: 'pty passphrase 2' })).equals(plain)).toBe(true);
  });
});
