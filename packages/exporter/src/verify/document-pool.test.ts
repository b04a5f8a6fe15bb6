import { describe, expect, it } from 'vitest';
import { ownedBytes } from './document-pool.js';

describe('ownedBytes', () => {
  it('copies a view into the Buffer pool, which Node 22 refuses to transfer', () => {
    const neighbour = Buffer.from('neighbour');
    const pooled = Buffer.from('<doc/>');
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.byteLength); // a pool slice
    const owned = ownedBytes(pooled);
    expect(owned.buffer).not.toBe(pooled.buffer);
    expect(owned.byteLength).toBe(owned.buffer.byteLength);
    expect(Buffer.from(owned).toString()).toBe('<doc/>');
    // What verify does next: transfer the owned copy. The pool and its other Buffers stay intact.
    structuredClone(owned, { transfer: [owned.buffer as ArrayBuffer] });
    expect(pooled.toString()).toBe('<doc/>');
    expect(neighbour.toString()).toBe('neighbour');
  });

  it('keeps bytes that own their memory as they are', () => {
    const own = new Uint8Array([60, 120, 47, 62]);
    expect(ownedBytes(own)).toBe(own);
  });
});
