import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMasterKey, masterKeyIdOf } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'handover-mk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function caught(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

describe('loadMasterKey', () => {
  const key = randomBytes(32);

  it('reads hex, base64 and base64url from the environment value', async () => {
    for (const env of [key.toString('hex'), key.toString('hex').toUpperCase(), key.toString('base64'), key.toString('base64url'), ` ${key.toString('base64')}\n`]) {
      const mk = await loadMasterKey({ env });
      expect(mk?.key.equals(key)).toBe(true);
      expect(mk?.source).toBe('HANDOVER_MASTER_KEY');
    }
  });

  it('reads file:/path and the file option (raw 32 bytes or text), the file option first', async () => {
    const raw = join(dir, 'raw.key');
    const txt = join(dir, 'text.key');
    writeFileSync(raw, key);
    writeFileSync(txt, `${key.toString('base64')}\n`);
    expect((await loadMasterKey({ env: `file:${raw}` }))?.key.equals(key)).toBe(true);
    expect((await loadMasterKey({ env: `file:${txt}` }))?.key.equals(key)).toBe(true);
    const other = randomBytes(32).toString('hex');
    const mk = await loadMasterKey({ env: other, file: txt });
    expect(mk?.key.equals(key)).toBe(true);
    expect(mk?.source).toBe(txt);
  });

  it('is undefined when nothing is configured, and reads process.env by default', async () => {
    expect(await loadMasterKey({ env: undefined })).toBeUndefined();
    expect(await loadMasterKey({ env: '  ' })).toBeUndefined();
    const saved = process.env['HANDOVER_MASTER_KEY'];
    process.env['HANDOVER_MASTER_KEY'] = key.toString('hex');
    try {
      expect((await loadMasterKey())?.key.equals(key)).toBe(true);
    } finally {
      if (saved === undefined) delete process.env['HANDOVER_MASTER_KEY'];
      else process.env['HANDOVER_MASTER_KEY'] = saved;
    }
  });

  it('rejects the wrong length or encoding without echoing the value', async () => {
    for (const bad of [randomBytes(16).toString('hex'), randomBytes(31).toString('base64'), randomBytes(33).toString('base64'), 'not a key at all!']) {
      const err = await caught(loadMasterKey({ env: bad }));
      expect(err.code).toBe('E_MASTER_KEY_INVALID');
      expect(err.message).toMatch(/32 bytes/);
      expect(err.message).not.toContain(bad);
      expect(err.message).not.toContain(bad.slice(0, 10));
    }
    const badFile = join(dir, 'bad.key');
    const secret = randomBytes(20).toString('hex');
    writeFileSync(badFile, secret);
    const err = await caught(loadMasterKey({ file: badFile }));
    expect(err).toMatchObject({ code: 'E_MASTER_KEY_INVALID' });
    expect(err.message).toContain(badFile);
    expect(err.message).not.toContain(secret.slice(0, 10));
  });

  it('says which file it cannot read', async () => {
    const missing = join(dir, 'missing.key');
    expect(await caught(loadMasterKey({ env: `file:${missing}` }))).toMatchObject({ code: 'E_MASTER_KEY_INVALID', message: expect.stringContaining(`'${missing}' (ENOENT)`) });
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked.key');
      writeFileSync(locked, key);
      chmodSync(locked, 0o000);
      expect(await caught(loadMasterKey({ file: locked }))).toMatchObject({ code: 'E_MASTER_KEY_INVALID', message: expect.stringContaining('EACCES') });
    }
  });

  it('masterKeyIdOf is the first 16 hex of SHA-256(HKDF(key, "handover master-key-id"))', () => {
    const derived = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'handover master-key-id', 32));
    expect(masterKeyIdOf(key)).toBe(createHash('sha256').update(derived).digest('hex').slice(0, 16));
    expect(masterKeyIdOf(randomBytes(32))).not.toBe(masterKeyIdOf(key));
  });
});
