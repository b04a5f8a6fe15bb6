import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { InputError } from '@handover/core';
import { decryptArchiveTo } from '@handover/exporter';
import { identitiesFor, locateArchive, readSourceOf } from '../archive-ref.js';
import { decryptionOptionsOf, withDecryptionOptions } from '../archive-options.js';
import { createContext, type GlobalOptions } from '../context.js';
import { createOutput, formatBytes } from '../output.js';
import { openConfiguredStore } from '../store-context.js';
import type { RunEnv } from '../run-env.js';

export function decryptCommand(env: RunEnv): Command<[string], Record<string, unknown>> {
  return withDecryptionOptions(
    new Command('decrypt')
      .description('decrypt an archive into a plain zip (with the key ring, or --identity)')
      .argument('<archive>', 'archive file, store key or s3:// URL')
      .requiredOption('--out <file>', 'where to write the plain zip (must not exist)')
      .option('--json', 'print one JSON document on stdout', false),
  ).action(async (archive, opts, cmd) => {
    const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
    const out = createOutput(opts.json, env.stdout, env.stderr);
    const target = resolve(opts.out);
    if (existsSync(target)) throw new InputError(`'${target}' already exists; choose another --out or remove it first`);
    const sc = openConfiguredStore(ctx);
    const loc = locateArchive(archive, ctx, sc);
    const r = await decryptArchiveTo(readSourceOf(loc), identitiesFor(loc, ctx, sc, decryptionOptionsOf(opts)), target);
    out.result({ archive, out: target, bytes: r.bytes, encrypted: r.encrypted }, () => `${r.encrypted ? 'decrypted' : 'copied (it was not encrypted)'} ${archive} → ${target} (${formatBytes(r.bytes)})`);
  });
}
