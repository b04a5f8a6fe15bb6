import { Command } from '@commander-js/extra-typings';
import { HandoverError, InputError } from '@handover/core';
import type { BlockerReport } from '@handover/offboarding';
import { createContext, type GlobalOptions } from '../context.js';
import { checkMember, confirmOnTerminal, reportRefusal, runOffboard, type OffboardOutcome } from '../offboard-service.js';
import { createOutput, createProgress, formatBytes, table, type Progress } from '../output.js';
import { openConfiguredStore } from '../store-context.js';
import type { RunEnv } from '../run-env.js';

/** Blockers were found by --check: the report is printed; exit 1. */
class BlockersFoundError extends HandoverError {
  constructor(member: string, n: number) {
    super('E_OFFBOARD_BLOCKED', `${n} blocker${n === 1 ? '' : 's'} stand${n === 1 ? 's' : ''} in the way of offboarding '${member}'`, { reported: true });
  }
}

export function offboardCommand(env: RunEnv): Command<[], Record<string, unknown>> {
  return new Command('offboard')
    .summary('offboard one member: blockers, export, verify, revoke grants, erase, keep the backup; resumable')
    .description(
      "offboard one member: check blockers, export, verify the stored archive, revoke every grant, erase the member in the source, keep the archive as the post-deletion backup. Every step is journaled and audited; run it again to continue after an interruption",
    )
    .requiredOption('--member <id>', 'member id (username or email also work until the member is erased)')
    .option('--check', 'only list what blocks the offboarding (exit 1 if anything does); changes nothing', false)
    .option('--reason <text>', 'why the member is offboarded (required; recorded in the journal and every audit record)')
    .option('--force', 'proceed despite sole ownership or admin rights and pending approvals or tasks (never despite a legal hold)', false)
    .option('--force-reason <text>', 'why the blockers may be ignored (required with --force; audited)')
    .option('--yes', 'confirm the erasure without the prompt: it cannot be undone', false)
    .option('--erased-in-source', 'for a read-only source: grants were revoked and the member erased in the platform itself; record that after the export and verification', false)
    .option('--source <source>', 'demo, demo:<seed>, slack:<export.zip|dir>, mattermost:<export.zip|file.jsonl>')
    .option('--master-key-file <file>', 'file holding the master key (env HANDOVER_MASTER_KEY)')
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      const sc = openConfiguredStore(ctx);

      if (opts.check) {
        const report = await checkMember(ctx, sc, {
          member: opts.member,
          ...(opts.source ? { source: opts.source } : {}),
          ...(opts.masterKeyFile ? { masterKeyFile: opts.masterKeyFile } : {}),
        });
        if (!report.sourceChecked) {
          out.warn(`source '${report.source}' cannot report ownership or pending work: only grants and legal holds were checked; check the rest in the platform itself`);
        }
        out.result(report, () => formatReport(report));
        if (report.blockers.length > 0) throw new BlockersFoundError(report.memberId, report.blockers.length);
        return;
      }

      if (opts.reason === undefined || opts.reason.trim() === '') {
        throw new InputError('offboarding needs --reason <text>: it is recorded in the journal and the audit log', { exitCode: 2 });
      }
      if (!opts.force && opts.forceReason !== undefined) throw new InputError('--force-reason goes with --force', { exitCode: 2 });

      // Created at the first step, after the confirmation prompt: nothing must draw over the prompt.
      let bar: Progress | undefined;
      const progress = {
        update: (v: { member: string; step: string; detail: string }) => (bar ??= createProgress('offboarding {member} | {step} | {detail}', env.stderr)).update(v),
        stop: () => bar?.stop(),
      };
      let outcome: OffboardOutcome;
      try {
        outcome = await runOffboard(ctx, sc, {
          member: opts.member,
          reason: opts.reason,
          ...(opts.source ? { source: opts.source } : {}),
          force: opts.force,
          ...(opts.forceReason !== undefined ? { forceReason: opts.forceReason } : {}),
          erasedInSource: opts.erasedInSource,
          ...(opts.masterKeyFile ? { masterKeyFile: opts.masterKeyFile } : {}),
          confirm: async ({ memberId, sourceName }) => {
            if (opts.yes) return true;
            return confirmOnTerminal(
              env,
              `Offboarding erases '${memberId}' in ${sourceName}; this cannot be undone.\nType the member id to confirm: `,
              memberId,
              `erasing '${memberId}'`,
            );
          },
          onEvent: (e) => progress.update({ member: opts.member, step: e.step, detail: e.status }),
          onExportProgress: (p) => progress.update({ member: p.member, step: 'export', detail: `${p.messages} messages, ${p.files} files, ${formatBytes(p.bytes)}` }),
          warn: (t) => out.warn(t),
          signal: env.signal,
        });
      } catch (err) {
        progress.stop();
        throw reportRefusal(err, out);
      }
      progress.stop();
      out.result(outcome, () => formatOutcome(outcome));
    });
}

function formatReport(r: BlockerReport & { source: string }): string {
  if (r.blockers.length === 0) return `nothing blocks offboarding '${r.memberId}' (${r.source}): run handover offboard --member ${r.memberId} --reason <text>`;
  const kind = (code: string, legal: boolean): string =>
    legal ? 'legal: cannot be overridden' : r.handledByOffboarding.some((b) => b.code === code) ? 'resolved by the offboarding (revoke-grants)' : 'resolve it, or --force';
  return [
    `${r.blockers.length} blocker${r.blockers.length === 1 ? '' : 's'} for '${r.memberId}' (${r.source}):`,
    table(['CODE', 'KIND', 'WHAT TO DO'], r.blockers.map((b) => [b.code, kind(b.code, b.legal), b.message])),
  ].join('\n');
}

function formatOutcome(o: OffboardOutcome): string {
  if (o.status === 'already-completed') {
    return `the offboarding of '${o.memberId}' was already completed (erased ${o.erasedAt.slice(0, 19)}Z); backup: ${o.backupKey}`;
  }
  return [
    `offboarded '${o.memberId}' (${o.source})${o.resumedFrom ? `, continuing from step '${o.resumedFrom}'` : ''}: ${o.ranSteps.join(' → ')}`,
    ...(o.blockers.length > 0 ? [`  blockers found: ${o.blockers.map((b) => b.code).join(', ')}`] : []),
    ...(o.forced ? [`  forced past: ${o.forced.overridden.join(', ')} (${o.forced.reason})`] : []),
    `  archive verified: ${o.archiveKey}${o.export ? ` (${o.export.counts.messages} messages, ${o.export.counts.files} files, ${formatBytes(o.export.bytes)})` : ''}`,
    `  grants revoked: ${o.steps.find((s) => s.step === 'revoke-grants')?.how === 'attested' ? 'in the platform (attested with --erased-in-source)' : o.revokedGrants.length === 0 ? 'none were active' : o.revokedGrants.join(', ')}`,
    `  erased in the source: ${o.erasedAt} (${o.erasure})`,
    `  post-deletion backup: ${o.backupKey}${o.backupRetainUntil ? `, kept until ${o.backupRetainUntil}, then its key is shredded` : ''}`,
  ].join('\n');
}
