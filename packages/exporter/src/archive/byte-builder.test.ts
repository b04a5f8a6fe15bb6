import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ByteBuilder } from './byte-builder.js';

describe('ByteBuilder', () => {
  it('gives the UTF-8 of head, every appended text and tail, across slabs and texts longer than a slab', () => {
    const b = new ByteBuilder(16);
    const parts = ['<m>', 'héllo', '中文字符', '🙂🙂', 'x'.repeat(40), '', 'مرحبا', '\uD800'];
    let total = 0;
    for (const p of parts) total += b.append(p);
    expect(b.byteLength).toBe(total);
    expect(total).toBe(Buffer.byteLength(parts.join('')));
    expect(b.take('<?xml?>', '</end>').equals(Buffer.from('<?xml?>' + parts.join('') + '</end>', 'utf8'))).toBe(true);
    expect(b.byteLength).toBe(0);
  });

  it('starts empty again after take, reusing its slabs without leaking old bytes', () => {
    const b = new ByteBuilder(8);
    b.append('first document, long enough for several slabs');
    b.take();
    b.append('2nd');
    expect(b.take('[', ']').toString()).toBe('[2nd]');
    expect(b.take().length).toBe(0);
  });

  it('matches Buffer.from of each text for any sequence of strings and slab size', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }), { maxLength: 30 }), fc.integer({ min: 1, max: 64 }), fc.string(), (texts, slab, head) => {
        const b = new ByteBuilder(slab);
        for (const t of texts) b.append(t);
        // Each text is encoded on its own: a lone surrogate at the end of one never pairs with the next.
        const utf8 = (list: string[]): Buffer => Buffer.concat(list.map((t) => Buffer.from(t, 'utf8')));
        expect(b.take(head).equals(utf8([head, ...texts]))).toBe(true);
        for (const t of texts.slice(0, 3)) b.append(t);
        expect(b.take().equals(utf8(texts.slice(0, 3)))).toBe(true);
      }),
    );
  });
});
