import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from './memory-store.js';
import { readObject, readStream } from './read-object.js';

describe('readObject', () => {
  it('gives the whole object, or undefined when there is none', async () => {
    const store = createMemoryStore();
    await store.put('docs/a.json', '{"ok":true}');
    expect((await readObject(store, 'docs/a.json'))?.toString('utf8')).toBe('{"ok":true}');
    expect(await readObject(store, 'docs/missing.json')).toBeUndefined();
  });

  it('throws what is not a missing object', async () => {
    const store = createMemoryStore();
    await expect(readObject(store, '../escape')).rejects.toThrow();
  });

  it('joins string, Buffer and Uint8Array chunks', async () => {
    const bytes = await readStream(Readable.from(['ab', Buffer.from('cd'), new Uint8Array([101, 102])], { objectMode: true }));
    expect(bytes.toString('utf8')).toBe('abcdef');
  });
});
