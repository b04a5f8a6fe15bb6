import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createKeyRing, InputError, loadMasterKey, openStore, parseStoreUrl, type KeyRing, type MasterKey, type Store } from '@handover/core';
import type { CommandContext } from './context.js';

export interface StoreContext {
  store: Store;
  kind: 'fs' | 's3';
  /** The local root, for filesystem stores. */
  root?: string;
}

export function openConfiguredStore(ctx: CommandContext): StoreContext {
  const loc = parseStoreUrl(ctx.storeLocation);
  const store = openStore(ctx.storeLocation);
  return loc.kind === 'fs' ? { store, kind: 'fs', root: loc.root } : { store, kind: 's3' };
}

/** Where a master key is created for a local store when none is configured. */
export function defaultMasterKeyFile(env: NodeJS.ProcessEnv): string {
  const base = env['XDG_CONFIG_HOME'] || join(homedir(), '.config');
  return join(base, 'handover', 'master.key');
}

export interface MasterKeyOptions {
  /** `--master-key-file`. */
  file?: string;
  /** Create a master key when none exists (only ever for a local store). */
  create?: boolean;
  /** Told when a key was created, so the user can back it up. */
  onCreated?: (path: string) => void;
}

/**
 * The master key: `--master-key-file`, then HANDOVER_MASTER_KEY, then the config file's
 * `masterKeyFile`, then the per-user default file. For a local store, a missing default
 * key is created (0600) so that the quick start works with no setup; an S3 store is
 * shared, so its key must be given explicitly.
 */
export async function resolveMasterKey(ctx: CommandContext, sc: StoreContext, options: MasterKeyOptions = {}): Promise<MasterKey> {
  const explicitFile = options.file ?? ctx.config.masterKeyFile;
  const fromEnv = ctx.env['HANDOVER_MASTER_KEY'];
  if (options.file) return (await loadMasterKey({ file: options.file, env: undefined }))!;
  if (fromEnv) return (await loadMasterKey({ env: fromEnv }))!;
  if (explicitFile) return (await loadMasterKey({ file: explicitFile, env: undefined }))!;
  const file = ctx.env['HANDOVER_MASTER_KEY_FILE'] || defaultMasterKeyFile(ctx.env);
  if (!existsSync(file)) {
    if (sc.kind !== 'fs' || !options.create) {
      throw new InputError(
        sc.kind === 's3'
          ? `no master key: an S3 store is shared, so set HANDOVER_MASTER_KEY (generate one with: openssl rand -base64 32) or --master-key-file on every machine that uses it`
          : `no master key at '${file}': set HANDOVER_MASTER_KEY or --master-key-file, or export something first to create one`,
        { code: 'E_MASTER_KEY_MISSING' },
      );
    }
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, randomBytes(32).toString('base64') + '\n', { flag: 'wx', mode: 0o600 });
      options.onCreated?.(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return (await loadMasterKey({ file, env: undefined }))!;
}

export async function openKeyRing(ctx: CommandContext, sc: StoreContext, options: MasterKeyOptions = {}): Promise<KeyRing> {
  const master = await resolveMasterKey(ctx, sc, options);
  return createKeyRing({ store: sc.store, masterKey: master.key, masterKeyId: master.id });
}
