import { Command } from '@commander-js/extra-typings';
import { InputError, loadMasterKey } from '@handover/core';
import { audited, openAudit } from '../audit.js';
import { createContext, type GlobalOptions } from '../context.js';
import { createOutput, table } from '../output.js';
import { openConfiguredStore, openKeyRing } from '../store-context.js';
import type { RunEnv } from '../run-env.js';

export function keysCommand(env: RunEnv): Command<[], Record<string, unknown>> {
  const keys = new Command('keys').description("the key ring: one key per subject, wrapped by the master key");

  keys
    .command('shred')
    .description("destroy a subject's key: every archive of that subject, every copy and backup, becomes unreadable")
    .requiredOption('--subject <id>', 'the subject (member id) whose key to destroy')
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .option('--master-key-file <file>', 'file holding the master key (env HANDOVER_MASTER_KEY)')
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      if (!opts.reason.trim()) throw new InputError('--reason must say why the key is destroyed', { exitCode: 2 });
      const sc = openConfiguredStore(ctx);
      const ring = await openKeyRing(ctx, sc, opts.masterKeyFile ? { file: opts.masterKeyFile } : {});
      const subjectRef = ring.subjectRef(opts.subject);
      const keyId = await audited(openAudit(sc), { actor: ctx.actor, action: 'keys.shred', target: `keys/${subjectRef}`, subjectRef, reason: opts.reason }, () =>
        ring.shred(opts.subject, { reason: opts.reason, actor: ctx.actor }),
      (k) => ({ keyId: k }));
      out.result({ subjectRef, keyId, shredded: true }, () => `key ${keyId} of subject ref ${subjectRef} destroyed: no archive encrypted to it can be decrypted any more`);
    });

  keys
    .command('rotate-master')
    .description('re-wrap every subject key under a new master key (archives are not touched)')
    .requiredOption('--new-key-file <file>', 'file holding the new master key (32 bytes, hex or base64)')
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .option('--master-key-file <file>', 'file holding the current master key (env HANDOVER_MASTER_KEY)')
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      const sc = openConfiguredStore(ctx);
      const ring = await openKeyRing(ctx, sc, opts.masterKeyFile ? { file: opts.masterKeyFile } : {});
      const next = (await loadMasterKey({ file: opts.newKeyFile, env: undefined }))!;
      const r = await audited(openAudit(sc), { actor: ctx.actor, action: 'keys.rotate-master', target: 'keys/', reason: opts.reason, details: { from: ring.masterKeyId, to: next.id } }, () =>
        ring.rotateMaster(next.key),
      (x) => ({ rewrapped: x.rewrapped, alreadyCurrent: x.alreadyCurrent }));
      out.result(r, () => `re-wrapped ${r.rewrapped} subject keys under master key ${r.masterKeyId} (${r.alreadyCurrent} already were); from now on use the new master key`);
    });

  keys
    .command('list')
    .description('list subject keys and tombstones (no key material)')
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      const sc = openConfiguredStore(ctx);
      const ring = await openKeyRing(ctx, sc);
      const entries = await ring.list();
      out.result({ keys: entries }, () => table(['SUBJECT REF', 'STATE', 'KEY ID', 'SINCE'], entries.map((e) => [e.ref, e.state, e.keyId, (e.shreddedAt ?? e.createdAt ?? '').slice(0, 19)])));
    });
  return keys;
}
