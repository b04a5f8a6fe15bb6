import { Command } from '@commander-js/extra-typings';
import { InputError, MAX_PRESIGN_SECONDS, presignGet } from '@handover/core';
import { locateArchive } from '../archive-ref.js';
import { audited, openAudit } from '../audit.js';
import { createContext, type GlobalOptions } from '../context.js';
import { createOutput } from '../output.js';
import { openConfiguredStore } from '../store-context.js';
import type { RunEnv } from '../run-env.js';

/** `7d`, `36h`, `90m`, `600s` or ISO-8601 `P7D`/`PT12H` → seconds. */
export function parseExpiry(text: string): number {
  const simple = /^(\d+)([smhd])$/.exec(text.trim());
  if (simple) return Number(simple[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[simple[2] as 's' | 'm' | 'h' | 'd'];
  const iso = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(text.trim());
  if (iso && text.trim() !== 'P' && text.trim() !== 'PT') {
    const [, d, h, m, s] = iso;
    return Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0);
  }
  throw new InputError(`--expires '${text}' is not a duration: use e.g. 7d, 36h, 90m or P7D`, { exitCode: 2 });
}

export function shareCommand(env: RunEnv): Command<[string], Record<string, unknown>> {
  return new Command('share')
    .description('print a presigned download link for an archive in an S3 store (at most 7 days)')
    .argument('<archive>', 'store key or s3:// URL of the archive')
    .option('--expires <duration>', 'how long the link works: 7d, 36h, 90m, P7D (at most 7 days)', '7d')
    .option('--reason <text>', 'why the link is given (recorded in the audit log)', 'delivery of an export to its subject')
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (archive, opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      const seconds = parseExpiry(opts.expires);
      if (seconds <= 0) throw new InputError('--expires must be positive', { exitCode: 2 });
      if (seconds > MAX_PRESIGN_SECONDS) throw new InputError(`--expires ${opts.expires} is longer than S3 allows for a presigned link (7 days)`, { exitCode: 2 });
      const sc = openConfiguredStore(ctx);
      const loc = locateArchive(archive, ctx, sc);
      if (loc.kind !== 'object' || sc.kind !== 's3') throw new InputError('share needs an archive in an S3 store (--store s3://bucket/prefix): a local store has no download links', { exitCode: 2 });
      const expiresAt = new Date(Date.now() + seconds * 1000);
      const url = await audited(openAudit(sc), { actor: ctx.actor, action: 'share', target: loc.key, reason: opts.reason, details: { expiresAt: expiresAt.toISOString() } }, () =>
        presignGet(loc.store, loc.key, seconds),
      );
      out.result({ archive, url, expiresAt: expiresAt.toISOString() }, () => `${url}\n(valid until ${expiresAt.toISOString()}; the archive is encrypted: the subject needs their age key or passphrase)`);
    });
}
