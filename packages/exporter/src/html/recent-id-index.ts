/**
 * A bounded map from message id to a small positive integer (the page a thread's first
 * message is on), forgetting the oldest entries first.
 *
 * Why not a `Map<string, number>`: it costs about as much as rendering the message.
 * Each entry keeps an id string alive past the young generation, and the large table
 * pointing at young strings makes every scavenge slower. Here ids are reduced to a
 * 64-bit fingerprint kept in typed arrays, so the index holds no JS objects at all.
 * Two different ids share a fingerprint with odds around n²/2⁶⁵ (≈ 3·10⁻¹⁰ for 100,000
 * ids); the cost of that would be a reply linking to the wrong page, where its
 * `#m-…` fragment then matches nothing.
 *
 * Open addressing with linear probing and backward-shift deletion; a ring of inserted
 * fingerprints gives the eviction order. Tables start small and double, so the many
 * short conversations of an export cost a few hundred bytes each.
 */
export class RecentIdIndex {
  readonly #capacity: number;
  // Hash table: fingerprint halves and value (0 marks an empty slot, so values are ≥ 1).
  #hi = new Int32Array(16);
  #lo = new Int32Array(16);
  #val = new Int32Array(16);
  #mask = 15;
  // Insertion order of the keys present, oldest at #head.
  #ringHi = new Int32Array(8);
  #ringLo = new Int32Array(8);
  #head = 0;
  #size = 0;
  /** Some entry was evicted to stay within capacity. */
  evicted = false;

  /** @param capacity most ids remembered; the oldest is forgotten to make room. */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#size;
  }

  /** The value remembered for `id`, or 0 when it was never set or has been forgotten. */
  get(id: string): number {
    fingerprint(id);
    const slot = this.#find(fpHi, fpLo);
    return slot < 0 ? 0 : (this.#val[slot] as number);
  }

  /** Remember `value` (a positive 31-bit integer) for `id`, replacing what was there. */
  set(id: string, value: number): void {
    if (!(value >= 1 && value <= 0x7fffffff)) throw new RangeError(`value must be a positive 31-bit integer, got ${value}`);
    fingerprint(id);
    const hi = fpHi;
    const lo = fpLo;
    const existing = this.#find(hi, lo);
    if (existing >= 0) {
      this.#val[existing] = value;
      return;
    }
    if (this.#size >= this.#capacity) this.#evictOldest();
    if ((this.#size + 1) * 2 > this.#mask + 1) this.#growTable();
    if (this.#size === this.#ringHi.length) this.#growRing();
    this.#insert(hi, lo, value);
    const at = (this.#head + this.#size) % this.#ringHi.length;
    this.#ringHi[at] = hi;
    this.#ringLo[at] = lo;
    this.#size++;
  }

  #find(hi: number, lo: number): number {
    const mask = this.#mask;
    for (let i = hi & mask; ; i = (i + 1) & mask) {
      if (this.#val[i] === 0) return -1;
      if (this.#hi[i] === hi && this.#lo[i] === lo) return i;
    }
  }

  #insert(hi: number, lo: number, value: number): void {
    const mask = this.#mask;
    let i = hi & mask;
    while (this.#val[i] !== 0) i = (i + 1) & mask;
    this.#hi[i] = hi;
    this.#lo[i] = lo;
    this.#val[i] = value;
  }

  #evictOldest(): void {
    const ring = this.#ringHi.length;
    const slot = this.#find(this.#ringHi[this.#head] as number, this.#ringLo[this.#head] as number);
    this.#head = (this.#head + 1) % ring;
    this.#size--;
    this.evicted = true;
    if (slot >= 0) this.#delete(slot);
  }

  /** Backward-shift deletion: pull later entries of the probe run into the hole so lookups never stop early. */
  #delete(slot: number): void {
    const mask = this.#mask;
    let hole = slot;
    this.#val[hole] = 0;
    for (let j = (hole + 1) & mask; this.#val[j] !== 0; j = (j + 1) & mask) {
      const home = (this.#hi[j] as number) & mask;
      // Entry j may move into the hole only if its home slot is not cyclically in (hole, j].
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      this.#hi[hole] = this.#hi[j] as number;
      this.#lo[hole] = this.#lo[j] as number;
      this.#val[hole] = this.#val[j] as number;
      this.#val[j] = 0;
      hole = j;
    }
  }

  #growTable(): void {
    const oldHi = this.#hi;
    const oldLo = this.#lo;
    const oldVal = this.#val;
    const size = oldVal.length * 2;
    this.#hi = new Int32Array(size);
    this.#lo = new Int32Array(size);
    this.#val = new Int32Array(size);
    this.#mask = size - 1;
    for (let i = 0; i < oldVal.length; i++) {
      if (oldVal[i] !== 0) this.#insert(oldHi[i] as number, oldLo[i] as number, oldVal[i] as number);
    }
  }

  #growRing(): void {
    const ring = this.#ringHi.length;
    const size = Math.min(ring * 2, Math.max(this.#capacity, 8));
    const hi = new Int32Array(size);
    const lo = new Int32Array(size);
    for (let k = 0; k < this.#size; k++) {
      const from = (this.#head + k) % ring;
      hi[k] = this.#ringHi[from] as number;
      lo[k] = this.#ringLo[from] as number;
    }
    this.#ringHi = hi;
    this.#ringLo = lo;
    this.#head = 0;
  }
}

// The fingerprint's two halves, returned through module variables so the hot path
// allocates nothing (no tuple, no BigInt).
let fpHi = 0;
let fpLo = 0;

/** cyrb53-style mixing over UTF-16 units, keeping both 32-bit lanes (64 bits). */
function fingerprint(s: string): void {
  let h1 = 0xdeadbeef ^ s.length;
  let h2 = 0x41c6ce57 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  fpHi = h1 | 0;
  fpLo = h2 | 0;
}
