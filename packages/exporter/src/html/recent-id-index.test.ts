import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecentIdIndex } from './recent-id-index.js';

/** The behaviour it must match: a Map that forgets its oldest key (by first insertion) when full. */
class ReferenceIndex {
  readonly map = new Map<string, number>();
  evicted = false;
  constructor(private readonly capacity: number) {}
  get(id: string): number {
    return this.map.get(id) ?? 0;
  }
  set(id: string, value: number): void {
    if (!this.map.has(id) && this.map.size >= this.capacity) {
      this.map.delete(this.map.keys().next().value as string);
      this.evicted = true;
    }
    this.map.set(id, value);
  }
}

describe('RecentIdIndex', () => {
  it('remembers, updates and forgets the oldest first, like a bounded Map (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), id: fc.nat(60).map(String), value: fc.integer({ min: 1, max: 1000 }) }),
      fc.record({ kind: fc.constant('get' as const), id: fc.nat(60).map(String) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.array(op, { maxLength: 400 }), (capacity, ops) => {
        const index = new RecentIdIndex(capacity);
        const reference = new ReferenceIndex(capacity);
        for (const o of ops) {
          if (o.kind === 'set') {
            index.set(o.id, o.value);
            reference.set(o.id, o.value);
          } else {
            expect(index.get(o.id)).toBe(reference.get(o.id));
          }
          expect(index.size).toBe(reference.map.size);
          expect(index.evicted).toBe(reference.evicted);
        }
        for (let i = 0; i <= 60; i++) expect(index.get(String(i))).toBe(reference.get(String(i)));
      }),
      { numRuns: 300 },
    );
  });

  it('stays correct under heavy churn in a small, nearly half-full table (probe runs wrapping the end)', () => {
    // Capacity 7 keeps the table at 16 slots, so evictions constantly delete from runs that wrap around.
    const index = new RecentIdIndex(7);
    const reference = new ReferenceIndex(7);
    let seed = 42;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % 40;
    const mismatches: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const id = `id-${next()}`;
      index.set(id, (i % 100) + 1);
      reference.set(id, (i % 100) + 1);
      for (let k = 0; k < 40; k++) {
        if (index.get(`id-${k}`) !== reference.get(`id-${k}`)) mismatches.push(`step ${i}: id-${k}`);
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  });

  it('holds many ids through growth and keeps exactly the newest `capacity`', () => {
    const index = new RecentIdIndex(50_000);
    for (let i = 0; i < 120_000; i++) index.set(`1700000000.${i}`, (i % 7) + 1);
    expect(index.size).toBe(50_000);
    expect(index.get('1700000000.69999')).toBe(0);
    for (let i = 70_000; i < 120_000; i += 997) expect(index.get(`1700000000.${i}`)).toBe((i % 7) + 1);
    expect(index.get('never seen')).toBe(0);
  });

  it('rejects values it cannot store', () => {
    expect(() => new RecentIdIndex(0)).toThrow(RangeError);
    expect(() => new RecentIdIndex(3).set('a', 0)).toThrow(RangeError);
  });
});
