import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { IntegrityError, isHandoverError, readStream, type Store } from '@handover/core';

/*
 * What has been written to the demo workspace: erasures and grant revocations. The
 * generated workspace itself never changes (it is a function of the seed); these changes
 * are layered on top of it when a source loads them.
 *
 * Why a log of create-only changes rather than one state document rewritten on each
 * change: every CLI call is a new process, and a batch offboarding may run several
 * processes side by side (`--shard i/n`). A shared document updated by read-modify-write
 * would lose one of two concurrent erasures (both read, both write, the last write wins);
 * with one create-only object per erased member and per revoked grant there is nothing to
 * overwrite, and the first write for a member or grant is the one that stands.
 */

export interface DemoErasure {
  kind: 'erase';
  memberId: string;
  /** The id the member's messages, reactions and files are attributed to from now on. */
  tombstoneId: string;
  /** ISO-8601 UTC. */
  at: string;
  actor: string;
  reason: string;
}

export interface DemoRevocation {
  kind: 'revoke';
  memberId: string;
  grantId: string;
  /** ISO-8601 UTC; becomes the grant's `revokedAt`. */
  at: string;
  actor: string;
  reason: string;
}

export type DemoChange = DemoErasure | DemoRevocation;

/** Every change made to one demo workspace, oldest first within each list. */
export interface DemoState {
  erased: DemoErasure[];
  revoked: DemoRevocation[];
}

/**
 * Where a demo workspace keeps its changes. `record` is create-only per member (erasure)
 * or per grant (revocation): when one already exists it is kept and returned, so
 * concurrent writers agree on a single erasure (and tombstone) per member.
 */
export interface DemoStateStore {
  load(): Promise<DemoState>;
  /** Records `change` unless one for the same member / grant exists; returns the one that stands. */
  record(change: DemoChange): Promise<DemoChange>;
}

const identity = (change: DemoChange): string => (change.kind === 'erase' ? `erase:${change.memberId}` : `revoke:${change.grantId}`);

/** Changes kept in this process only: what a demo source uses when given no state store. */
export function memoryDemoState(): DemoStateStore {
  const changes = new Map<string, DemoChange>();
  return {
    async load() {
      const all = [...changes.values()].map((c) => ({ ...c }));
      return { erased: all.filter((c): c is DemoErasure => c.kind === 'erase'), revoked: all.filter((c): c is DemoRevocation => c.kind === 'revoke') };
    },
    async record(change) {
      const id = identity(change);
      const existing = changes.get(id);
      if (existing !== undefined) return { ...existing };
      changes.set(id, { ...change });
      return { ...change };
    },
  };
}

/** Prefix of a demo workspace's changes in a store. */
export function demoStatePrefix(seed: number): string {
  return `sources/demo/seed-${seed}/`;
}

// Keys carry a hash, not the id: ids may be emails on other platforms, and keys show up in listings and logs.
const hashed = (id: string): string => createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 32);

function changeKey(prefix: string, change: DemoChange): string {
  return change.kind === 'erase' ? `${prefix}erased/${hashed(change.memberId)}.json` : `${prefix}revoked/${hashed(change.grantId)}.json`;
}

async function readText(stream: Readable): Promise<string> {
  return (await readStream(stream)).toString('utf8');
}

const isText = (v: unknown): v is string => typeof v === 'string' && v !== '';

function parseChange(key: string, text: string): DemoChange {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new IntegrityError(`demo state object '${key}' is not valid JSON`, { cause: err });
  }
  const v = value as Record<string, unknown>;
  const common = typeof v === 'object' && v !== null && isText(v['memberId']) && isText(v['at']) && isText(v['actor']) && typeof v['reason'] === 'string';
  if (common && Number.isFinite(Date.parse(v['at'] as string))) {
    if (v['kind'] === 'erase' && isText(v['tombstoneId'])) return v as unknown as DemoErasure;
    if (v['kind'] === 'revoke' && isText(v['grantId'])) return v as unknown as DemoRevocation;
  }
  // Refusing is the safe reading: ignoring a damaged erasure would bring an erased member back.
  throw new IntegrityError(`demo state object '${key}' is not an erasure or revocation record; restore it or remove the demo state under its prefix`);
}

/**
 * The changes of demo workspace `seed` kept in a Store, one object per change under
 * `sources/demo/seed-<seed>/` (`erased/<hash>.json`, `revoked/<hash>.json`), so every
 * process using the same store sees the same workspace.
 */
export function demoStateInStore(store: Store, seed: number): DemoStateStore {
  if (!Number.isSafeInteger(seed)) throw new TypeError(`demo state: seed must be an integer (got ${String(seed)})`);
  const prefix = demoStatePrefix(seed);
  const read = async (key: string): Promise<DemoChange | undefined> => {
    try {
      return parseChange(key, await readText(await store.get(key)));
    } catch (err) {
      if (isHandoverError(err) && err.code === 'E_NOT_FOUND') return undefined;
      throw err;
    }
  };
  return {
    async load() {
      const state: DemoState = { erased: [], revoked: [] };
      for await (const entry of store.list(prefix)) {
        if (!entry.key.endsWith('.json')) continue;
        const change = await read(entry.key);
        if (change === undefined) continue;
        if (change.kind === 'erase') state.erased.push(change);
        else state.revoked.push(change);
      }
      const byTime = (a: DemoChange, b: DemoChange): number => a.at.localeCompare(b.at);
      state.erased.sort(byTime);
      state.revoked.sort(byTime);
      return state;
    },
    async record(change) {
      const key = changeKey(prefix, change);
      try {
        await store.put(key, `${JSON.stringify(change, null, 2)}\n`, { ifNoneMatch: true, contentType: 'application/json' });
        return change;
      } catch (err) {
        if (!(isHandoverError(err) && err.code === 'E_EXISTS')) throw err;
        // Someone recorded this member's erasure (or this grant's revocation) first: theirs stands.
        const existing = await read(key);
        if (existing === undefined) throw new IntegrityError(`demo state object '${key}' exists but cannot be read`, { cause: err });
        return existing;
      }
    },
  };
}
