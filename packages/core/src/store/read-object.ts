import type { Readable } from 'node:stream';
import { isHandoverError } from '../errors.js';
import type { Store } from './store.js';

/** Every byte of a stream, for the small documents (JSON, XML, keys) kept in a store. */
export async function readStream(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** The object at `key`, whole, or undefined when there is none; other failures are thrown. */
export async function readObject(store: Store, key: string): Promise<Buffer | undefined> {
  let stream: Readable;
  try {
    stream = await store.get(key);
  } catch (err) {
    if (isHandoverError(err) && err.code === 'E_NOT_FOUND') return undefined;
    throw err;
  }
  return readStream(stream);
}
