import { randomBytes } from 'node:crypto';
import { isHandoverError, type Store } from '@handover/core';

const KEY = 'secrets/pseudonym.key';

/**
 * A per-store secret for pseudonyms: stable across exports from one store (the same
 * person gets the same pseudonym) and useless to anyone without the store.
 */
export async function pseudonymKeyOf(store: Store): Promise<Buffer> {
  const existing = await read(store);
  if (existing) return existing;
  try {
    await store.put(KEY, randomBytes(32).toString('hex'), { ifNoneMatch: true });
  } catch (err) {
    if (!(isHandoverError(err) && err.code === 'E_EXISTS')) throw err;
  }
  return (await read(store))!;
}

async function read(store: Store): Promise<Buffer | undefined> {
  if (!(await store.head(KEY))) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of await store.get(KEY)) chunks.push(c as Buffer);
  return Buffer.from(Buffer.concat(chunks).toString('utf8').trim(), 'hex');
}
