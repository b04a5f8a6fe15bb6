import type { Command } from '@commander-js/extra-typings';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** Options of every command that reads an archive, which may be encrypted. */
export function withDecryptionOptions<T extends Command<any, any>>(cmd: T): T {
  return cmd
    .option('--identity <file>', 'age identity file (AGE-SECRET-KEY-1…) instead of the key ring; repeatable', collect)
    .option('--master-key-file <file>', 'file holding the master key (env HANDOVER_MASTER_KEY)') as T;
}

/** The options `withDecryptionOptions` adds, read back (commander's types do not follow the helper). */
export function decryptionOptionsOf(opts: object): { identity?: string[]; masterKeyFile?: string } {
  return opts as { identity?: string[]; masterKeyFile?: string };
}
