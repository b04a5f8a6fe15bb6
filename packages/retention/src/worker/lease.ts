import type { Clock, Store } from '@handover/core';
import { RetentionError } from '../errors.js';
import { isExists, readJson, RETENTION_PREFIX, writeJson } from '../purge/journal.js';

/*
 * ## The purge lease: one create-only object per time window
 *
 *   retention/lease/<window>.json   { holder, window, expiresAt }   window = floor(now / windowMs)
 *
 * Renewing a single lease object would need compare-and-swap (S3 If-Match), which the Store
 * port doesn't have; "delete then create" would let a second replica slip in between. So a
 * holder owns time windows instead, each created with `ifNoneMatch` (exactly one creator):
 * - acquire: create the current window AND the next one. Whoever created the current window
 *   holds the lease; the pre-claimed next window keeps others out when the clock ticks over.
 * - renew (between batches, and on a timer): create the window after the current one. If a
 *   window we need is someone else's, the lease is lost and the purge stops.
 * - expiry needs no writes: a crashed holder's windows just pass; a replica can take over at
 *   the latest two windows later.
 * - release: delete our windows, later ones first (so nobody gets a window whose successor
 *   is still ours).
 * Limits: replicas' clocks must agree to well within one window (NTP does); a holder that
 * stalls (GC, suspended VM) for longer than a window can, between its last renew and the
 * next, overlap with a new holder — the renew before every batch bounds that to one batch,
 * and deleting an already-deleted object is harmless, though it may then be certified twice.
 */

export const LEASE_PREFIX = `${RETENTION_PREFIX}lease/`;

export interface LeaseOptions {
  store: Store;
  clock: Clock;
  /** Unique per replica and process, e.g. `host:pid:random`. */
  holderId: string;
  /** Window length. Default 10 minutes. Runs renew before every batch and every windowMs/4. */
  windowMs?: number;
  prefix?: string;
}

interface LeaseDoc {
  holder: string;
  window: number;
  expiresAt: string;
  acquiredAt: string;
}

export class WindowLease {
  readonly holderId: string;
  readonly windowMs: number;
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #prefix: string;
  readonly #owned = new Set<number>();

  constructor(o: LeaseOptions) {
    this.#store = o.store;
    this.#clock = o.clock;
    this.holderId = o.holderId;
    this.windowMs = o.windowMs ?? 10 * 60_000;
    this.#prefix = o.prefix ?? LEASE_PREFIX;
    if (!(this.windowMs > 0)) throw new RetentionError('E_LEASE', 'lease windowMs must be positive');
  }

  #key(w: number): string {
    return `${this.#prefix}${String(w).padStart(12, '0')}.json`;
  }

  #window(): number {
    return Math.floor(this.#clock.now().getTime() / this.windowMs);
  }

  /** Claim window w: true if it is ours (created now or earlier), false if someone else's. */
  async #claim(w: number): Promise<boolean> {
    if (this.#owned.has(w)) return true;
    const doc: LeaseDoc = {
      holder: this.holderId,
      window: w,
      expiresAt: new Date((w + 1) * this.windowMs).toISOString(),
      acquiredAt: this.#clock.now().toISOString(),
    };
    try {
      await writeJson(this.#store, this.#key(w), doc, { ifNoneMatch: true });
      this.#owned.add(w);
      return true;
    } catch (err) {
      if (!isExists(err)) throw new RetentionError('E_LEASE', `could not write lease window ${w}`, { cause: err });
      const other = await readJson<LeaseDoc>(this.#store, this.#key(w));
      if (other?.holder === this.holderId) {
        this.#owned.add(w);
        return true;
      }
      return false;
    }
  }

  /** Who holds the current window, if anyone. */
  async holder(): Promise<string | undefined> {
    return (await readJson<LeaseDoc>(this.#store, this.#key(this.#window())))?.holder;
  }

  /** Take the lease; false when another replica holds it. */
  async acquire(): Promise<boolean> {
    const w = this.#window();
    if (!(await this.#claim(w))) return false;
    if (!(await this.#claim(w + 1))) {
      await this.release();
      return false;
    }
    await this.#sweep(w);
    return true;
  }

  /** Keep the lease going; throws RetentionError(E_LEASE) once it is lost. */
  async renew(): Promise<void> {
    const w = this.#window();
    if (!(await this.#claim(w)) || !(await this.#claim(w + 1))) {
      throw new RetentionError('E_LEASE', `lease lost to another replica in window ${w}`);
    }
  }

  /** Give the lease up. */
  async release(): Promise<void> {
    const mine = [...this.#owned].sort((a, b) => b - a);
    this.#owned.clear();
    for (const w of mine) await this.#store.delete([this.#key(w)]);
  }

  /** Drop windows that ended long ago (crashed holders leave them behind). */
  async #sweep(current: number): Promise<void> {
    const stale: string[] = [];
    for await (const e of this.#store.list(this.#prefix)) {
      const w = Number(e.key.slice(this.#prefix.length, this.#prefix.length + 12));
      if (Number.isFinite(w) && w < current - 1) stale.push(e.key);
    }
    if (stale.length > 0) await this.#store.delete(stale);
  }
}
