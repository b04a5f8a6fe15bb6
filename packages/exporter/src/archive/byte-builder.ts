/**
 * Text collected as UTF-8 bytes outside the JavaScript heap, for documents built from
 * thousands of rendered records (an XML part, an HTML page). Kept as strings until the
 * document is written, every record survived the young generation and was copied into
 * the old one, and garbage collection became the largest single cost of an export; a
 * record written here at once dies young, which costs the collector nothing.
 * The slabs are kept and reused from one document to the next.
 */
export class ByteBuilder {
  readonly #slabBytes: number;
  readonly #slabs: Buffer[] = [];
  /** Bytes used in each slab up to the current one. */
  readonly #used: number[] = [];
  #current = 0;
  #length = 0;

  /** @param slabBytes size of each slab; a longer text gets a slab of its own size. */
  constructor(slabBytes = 1024 * 1024) {
    this.#slabBytes = slabBytes;
  }

  /** UTF-8 bytes collected so far. */
  get byteLength(): number {
    return this.#length;
  }

  /** Appends `text` as UTF-8 and returns the number of bytes it took. */
  append(text: string): number {
    let slab = this.#slabs[this.#current];
    let used = this.#used[this.#current] ?? 0;
    // UTF-8 needs at most three bytes per UTF-16 unit; only measure when that might not fit.
    if (slab === undefined || slab.length - used < text.length * 3) {
      const need = Buffer.byteLength(text, 'utf8');
      if (slab === undefined || slab.length - used < need) {
        slab = this.#nextSlab(need);
        used = 0;
      }
    }
    const written = slab.write(text, used, 'utf8');
    this.#used[this.#current] = used + written;
    this.#length += written;
    return written;
  }

  /**
   * The collected bytes between `head` and `tail`, as one new buffer the caller owns;
   * the builder is then empty again.
   */
  take(head = '', tail = ''): Buffer {
    const headBytes = Buffer.byteLength(head, 'utf8');
    const out = Buffer.allocUnsafe(headBytes + this.#length + Buffer.byteLength(tail, 'utf8'));
    let at = out.write(head, 0, 'utf8');
    for (let i = 0; i <= this.#current && i < this.#slabs.length; i++) {
      const used = this.#used[i] ?? 0;
      this.#slabs[i]!.copy(out, at, 0, used);
      at += used;
      this.#used[i] = 0;
    }
    out.write(tail, at, 'utf8');
    this.#current = 0;
    this.#length = 0;
    return out;
  }

  #nextSlab(need: number): Buffer {
    if (this.#slabs.length > 0 && (this.#used[this.#current] ?? 0) > 0) this.#current++;
    const existing = this.#slabs[this.#current];
    if (existing !== undefined && existing.length >= need) return existing;
    const slab = Buffer.allocUnsafe(Math.max(this.#slabBytes, need));
    if (existing === undefined) this.#slabs.push(slab);
    else this.#slabs[this.#current] = slab; // too small for this text: replaced, not kept
    this.#used[this.#current] = 0;
    return slab;
  }
}
