import { existsSync, readFileSync, statSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { InputError, NotFoundError, openStore, parseIdentityFile, type KeyRing, type Store } from '@handover/core';
import { ARCHIVE_META, fileSource, type ArchiveReadSource } from '@handover/exporter';
import { parseArchiveKey } from '@handover/retention';
import type { CommandContext } from './context.js';
import { openKeyRing, type StoreContext } from './store-context.js';

/** An archive named on the command line: an object in a store, or a plain file. */
export type ArchiveLocation = { kind: 'object'; store: Store; key: string; name: string } | { kind: 'file'; path: string; name: string };

/**
 * `s3://bucket/key`, a path inside the local store, a store key (`archives/…`), or any
 * local file. Objects in a store carry the metadata that finds their key in the key ring.
 */
export function locateArchive(arg: string, ctx: CommandContext, sc: StoreContext): ArchiveLocation {
  if (arg.startsWith('s3://')) {
    const configured = ctx.storeLocation.replace(/\/+$/, '');
    if (sc.kind === 's3' && arg.startsWith(configured + '/')) return { kind: 'object', store: sc.store, key: arg.slice(configured.length + 1), name: arg };
    const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(arg);
    if (!m) throw new InputError(`'${arg}' is not an object URL: expected s3://bucket/key`, { exitCode: 2 });
    // An archive's URL names its store: everything before `archives/` (where the key ring is too).
    const at = m[2]!.lastIndexOf('archives/');
    const root = at > 0 ? `s3://${m[1]}/${m[2]!.slice(0, at)}` : `s3://${m[1]}`;
    return { kind: 'object', store: openStore(root), key: at > 0 ? m[2]!.slice(at) : m[2]!, name: arg };
  }
  const path = resolve(arg);
  if (existsSync(path) && statSync(path).isFile()) {
    if (sc.kind === 'fs' && sc.root) {
      const rel = relative(resolve(sc.root), path);
      if (rel && !rel.startsWith('..') && !rel.startsWith(sep)) return { kind: 'object', store: sc.store, key: rel.split(sep).join('/'), name: arg };
    }
    return { kind: 'file', path, name: arg };
  }
  if (/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._+-]+)+$/.test(arg)) return { kind: 'object', store: sc.store, key: arg, name: arg };
  throw new NotFoundError(`archive '${arg}' not found: give a file path, a key in the store (${ctx.storeLocation}) or an s3:// URL`);
}

export function readSourceOf(loc: ArchiveLocation): ArchiveReadSource {
  if (loc.kind === 'file') return fileSource(loc.path);
  return { name: loc.name, open: () => loc.store.get(loc.key) };
}

/** The subject ref of a stored archive: from its metadata, else from its key. */
export async function subjectRefOf(loc: ArchiveLocation): Promise<string | undefined> {
  if (loc.kind === 'file') return undefined;
  const info = await loc.store.head(loc.key);
  if (!info) throw new NotFoundError(`archive '${loc.name}' does not exist in the store`);
  return info.metadata[ARCHIVE_META.subjectRef] ?? parseArchiveKey(loc.key)?.subjectRef;
}

/**
 * Identities that may decrypt the archive: `--identity` files (age-keygen format), or
 * the subject's key from the key ring. Asked for only when the archive is encrypted.
 */
export function identitiesFor(loc: ArchiveLocation, ctx: CommandContext, sc: StoreContext, options: { identity?: readonly string[]; masterKeyFile?: string }): () => Promise<string[]> {
  return async () => {
    const identityFiles = options.identity;
    if (identityFiles && identityFiles.length > 0) {
      return identityFiles.flatMap((f) => {
        if (!existsSync(f)) throw new InputError(`identity file '${f}' does not exist`);
        return parseIdentityFile(readFileSync(f, 'utf8'));
      });
    }
    const ref = await subjectRefOf(loc);
    if (!ref) {
      throw new InputError(`'${loc.name}' is encrypted and is not an object of the store, so the key ring cannot tell whose it is: give --identity <file>, or name it by its store key`);
    }
    // The key ring is in the archive's own store (an s3:// URL names it), else the configured one.
    const ringStore: StoreContext = loc.kind === 'object' && loc.store !== sc.store ? { store: loc.store, kind: 's3' } : sc;
    const ring: KeyRing = await openKeyRing(ctx, ringStore, options.masterKeyFile ? { file: options.masterKeyFile } : {});
    return [await ring.identityForRef(ref)];
  };
}
