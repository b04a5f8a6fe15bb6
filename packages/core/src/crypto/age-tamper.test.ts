import { execFileSync, spawnSync } from 'node:child_process';
import { createCipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeHeader, encodeHeaderNoMac } from './age-format.js';
import { parseRecipient, wrapX25519 } from './age-keys.js';
import { decryptBuffer, encryptBuffer, generateIdentity } from './index.js';

const CT = 65536 + 16;

async function decryptError(file: Uint8Array, identities: string[]): Promise<Error & { code?: string; chunkIndex?: number }> {
  try {
    await decryptBuffer(file, { identities });
  } catch (err) {
    return err as Error & { code?: string; chunkIndex?: number };
  }
  throw new Error('decryption unexpectedly succeeded');
}

function headerLength(file: Buffer): number {
  const mac = file.indexOf('\n---');
  return file.indexOf(0x0a, mac + 1) + 1;
}

function flip(file: Buffer, at: number, mask = 0x01): Buffer {
  const out = Buffer.from(file);
  out[at] = (out[at] as number) ^ mask;
  return out;
}

describe('tamper and damage detection', async () => {
  const me = await generateIdentity();
  const someoneElse = await generateIdentity();
  const ids = [me.identity];
  // Four chunks: three full, and a short final one.
  const plain = randomBytes(3 * 65536 + 100);
  const file = await encryptBuffer(plain, { recipients: [me.recipient] });
  const hl = headerLength(file);
  const payload = hl + 16; // after the nonce

  it('decrypts the untouched file', async () => {
    expect((await decryptBuffer(file, { identities: ids })).equals(plain)).toBe(true);
  });

  it('wrong key: a clear error that prints no keys', async () => {
    const err = await decryptError(file, [someoneElse.identity]);
    expect(err.code).toBe('E_AGE_NO_MATCH');
    expect(err.message).toBe('no identity matches any recipient of this file');
    for (const secret of [someoneElse.identity, me.identity]) expect(`${err.message}${err.stack}`).not.toContain(secret.slice(16));
  });

  /** The file with one MAC character changed to another valid base64 character. */
  function macTampered(): Buffer {
    const out = Buffer.from(file);
    // hl-1 is the newline, hl-2 the last character (only 4 bits used), hl-3 a full 6-bit one.
    out[hl - 3] = out[hl - 3] === 0x41 ? 0x42 : 0x41;
    return out;
  }

  it('a changed MAC character fails the header MAC', async () => {
    expect((await decryptError(macTampered(), ids)).code).toBe('E_AGE_HEADER_MAC');
  });

  it('an inserted stanza fails the header MAC', async () => {
    const macAt = file.indexOf('\n---') + 1;
    const forged = Buffer.concat([file.subarray(0, macAt), Buffer.from('-> grease x y\nAAAA\n'), file.subarray(macAt)]);
    expect((await decryptError(forged, ids)).code).toBe('E_AGE_HEADER_MAC');
  });

  it('every single-bit flip anywhere in the header is rejected', async () => {
    const codes = new Set<string>();
    for (let i = 0; i < hl; i++) {
      const err = await decryptError(flip(file, i), ids);
      codes.add(err.code ?? 'none');
    }
    // Which error depends on what the flip hits: the version line, base64, the share, the MAC.
    expect([...codes].sort()).toEqual([...codes].sort().filter((c) => ['E_AGE_HEADER', 'E_AGE_HEADER_MAC', 'E_AGE_NO_MATCH'].includes(c)));
    expect([...codes].every((c) => ['E_AGE_HEADER', 'E_AGE_HEADER_MAC', 'E_AGE_NO_MATCH'].includes(c))).toBe(true);
    expect(codes.has('E_AGE_HEADER')).toBe(true);
    expect(codes.has('E_AGE_HEADER_MAC')).toBe(true);
  });

  it('a flipped payload byte names the chunk that failed', async () => {
    for (const chunk of [0, 2, 3]) {
      const err = await decryptError(flip(file, payload + chunk * CT + 17), ids);
      expect(err).toMatchObject({ code: 'E_AGE_CHUNK_AUTH', chunkIndex: chunk });
      expect(err.message).toContain(`chunk ${chunk}`);
    }
    // The payload nonce feeds the payload key: every chunk fails, the first one first.
    expect(await decryptError(flip(file, hl + 3), ids)).toMatchObject({ code: 'E_AGE_CHUNK_AUTH', chunkIndex: 0 });
  });

  it('swapped chunks fail at the first one out of place', async () => {
    const swapped = Buffer.from(file);
    file.copy(swapped, payload + CT, payload + 2 * CT, payload + 3 * CT);
    file.copy(swapped, payload + 2 * CT, payload + CT, payload + 2 * CT);
    expect(await decryptError(swapped, ids)).toMatchObject({ code: 'E_AGE_CHUNK_AUTH', chunkIndex: 1 });
  });

  it('truncation at a chunk boundary is reported as truncation', async () => {
    const err = await decryptError(file.subarray(0, payload + 3 * CT), ids);
    expect(err).toMatchObject({ code: 'E_AGE_TRUNCATED', chunkIndex: 3 });
  });

  it('truncation of an exact multiple of 64 KiB (full final chunk) is detected', async () => {
    const exact = await encryptBuffer(randomBytes(2 * 65536), { recipients: [me.recipient] });
    expect(exact.length).toBe(headerLength(exact) + 16 + 2 * CT);
    expect((await decryptBuffer(exact, { identities: ids })).length).toBe(2 * 65536);
    expect(await decryptError(exact.subarray(0, exact.length - CT), ids)).toMatchObject({ code: 'E_AGE_TRUNCATED' });
  });

  it('truncation inside a chunk, the nonce or the header fails', async () => {
    expect((await decryptError(file.subarray(0, file.length - 1), ids)).code).toBe('E_AGE_CHUNK_AUTH');
    expect((await decryptError(file.subarray(0, payload + CT + 10), ids)).code).toBe('E_AGE_TRUNCATED');
    expect((await decryptError(file.subarray(0, payload + CT + 1000), ids)).code).toBe('E_AGE_CHUNK_AUTH');
    expect((await decryptError(file.subarray(0, payload), ids)).code).toBe('E_AGE_TRUNCATED');
    expect((await decryptError(file.subarray(0, hl + 5), ids)).code).toBe('E_AGE_TRUNCATED');
    expect((await decryptError(file.subarray(0, hl - 10), ids)).code).toBe('E_AGE_TRUNCATED');
    expect((await decryptError(file.subarray(0, 10), ids)).code).toBe('E_AGE_TRUNCATED');
    expect((await decryptError(Buffer.alloc(0), ids)).code).toBe('E_AGE_HEADER');
  });

  it('data appended after a full final chunk is reported as trailing data', async () => {
    const exact = await encryptBuffer(randomBytes(65536), { recipients: [me.recipient] });
    for (const extra of [1, 100, CT + 5]) {
      expect(await decryptError(Buffer.concat([exact, randomBytes(extra)]), ids)).toMatchObject({ code: 'E_AGE_TRAILING_DATA', chunkIndex: 0 });
    }
  });

  it('data appended after a short final chunk fails authentication of that chunk', async () => {
    // The chunk boundary is unknowable here, so this cannot be told apart from tampering.
    expect(await decryptError(Buffer.concat([file, Buffer.from('x')]), ids)).toMatchObject({ code: 'E_AGE_CHUNK_AUTH', chunkIndex: 3 });
    const empty = await encryptBuffer(new Uint8Array(0), { recipients: [me.recipient] });
    expect((await decryptBuffer(empty, { identities: ids })).length).toBe(0);
    expect(await decryptError(Buffer.concat([empty, Buffer.from('x')]), ids)).toMatchObject({ code: 'E_AGE_CHUNK_AUTH', chunkIndex: 0 });
  });

  it('an empty final chunk after a full one is rejected, as age rejects it', async () => {
    // Hand-build the file an encoder that does not hold back a chunk would write.
    const fileKey = randomBytes(16);
    const noMac = encodeHeaderNoMac([wrapX25519(fileKey, parseRecipient(me.recipient))]);
    const macKey = Buffer.from(hkdfSync('sha256', fileKey, Buffer.alloc(0), 'header', 32));
    const nonce = randomBytes(16);
    const key = Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
    const seal = (pt: Buffer, counter: number, last: boolean): Buffer => {
      const n = Buffer.alloc(12);
      n[10] = counter;
      n[11] = last ? 1 : 0;
      const c = createCipheriv('chacha20-poly1305', key, n, { authTagLength: 16 });
      return Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
    };
    const bad = Buffer.concat([
      encodeHeader(noMac, createHmac('sha256', macKey).update(noMac).digest()),
      nonce,
      seal(randomBytes(65536), 0, false),
      seal(Buffer.alloc(0), 1, true),
    ]);
    expect(await decryptError(bad, ids)).toMatchObject({ code: 'E_AGE_PAYLOAD', chunkIndex: 1 });
    const keyFile = `${process.env['TMPDIR'] ?? '/tmp'}/handover-empty-final-${process.pid}.txt`;
    execFileSync('sh', ['-c', `printf '%s\\n' "$1" > "$2"`, 'sh', me.identity, keyFile]);
    expect(spawnSync('age', ['-d', '-i', keyFile], { input: bad }).status).not.toBe(0);
    execFileSync('rm', ['-f', keyFile]);
  });

  it('rejects armored and non-age input with a clear header error', async () => {
    const armored = execFileSync('age', ['-a', '-r', me.recipient], { input: 'hi' });
    expect(await decryptError(armored, ids)).toMatchObject({ code: 'E_AGE_HEADER', message: expect.stringMatching(/armored/) });
    expect(await decryptError(Buffer.from('PK\x03\x04 this is a zip'), ids)).toMatchObject({ code: 'E_AGE_HEADER', message: expect.stringMatching(/not an age/) });
  });

  it('no error message carries key material', async () => {
    const errs = await Promise.all([
      decryptError(macTampered(), ids),
      decryptError(flip(file, payload + 5), ids),
      decryptError(file.subarray(0, payload + CT), ids),
      decryptError(file, [someoneElse.identity]),
    ]);
    for (const e of errs) {
      expect(e.message).not.toMatch(/AGE-SECRET-KEY/i);
      expect(e.message).not.toContain(me.identity.slice(16, 40));
    }
  });
});
