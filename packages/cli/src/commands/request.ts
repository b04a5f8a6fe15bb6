import { Command, Option } from '@commander-js/extra-typings';
import { InputError, MAX_PRESIGN_SECONDS, presignGet } from '@handover/core';
import {
  fulfilmentFor,
  REQUEST_OUTCOMES,
  REQUEST_TYPES,
  RequestError,
  RequestRegistry,
  type RequestView,
} from '@handover/offboarding';
import { audited, openAudit } from '../audit.js';
import { createContext, type CommandContext, type GlobalOptions } from '../context.js';
import { runExport, type ExportOutcome } from '../export-service.js';
import { confirmOnTerminal, reportRefusal, runOffboard, type OffboardOutcome } from '../offboard-service.js';
import { createOutput, createProgress, formatBytes, table, type Progress } from '../output.js';
import { policiesOf } from '../policies.js';
import { ALLOW_CLOCK_OVERRIDE_ENV, CLOCK_OVERRIDE_ENV, noteClock, openAuditOn, resolveClock, type ResolvedClock } from '../retention-context.js';
import { openConfiguredStore, openKeyRing, type StoreContext } from '../store-context.js';
import type { RunEnv } from '../run-env.js';
import { parseExpiry } from './share.js';

/*
 * Data-subject requests (GDPR Art. 12, 15, 17, 20): requests/<uuid>.json in the store.
 * Due dates are calendar months from receipt (31 Jan + 1 month = 28/29 Feb). "Now" is the
 * system clock, or HANDOVER_NOW (the clock override the retention commands use): listings
 * accept it as a what-if; commands that record something accept it only together with
 * HANDOVER_ALLOW_CLOCK_OVERRIDE=test, and every audit record they write then says so.
 */

/** The clock of a request command. `write`: it records times (opened, extended, closed, linked). */
function requestClock(ctx: CommandContext, write: boolean): ResolvedClock {
  const override = ctx.env[CLOCK_OVERRIDE_ENV];
  if (write && override !== undefined && override !== '' && ctx.env[ALLOW_CLOCK_OVERRIDE_ENV] !== 'test') {
    throw new InputError(
      `${CLOCK_OVERRIDE_ENV}=${override} would record this request's times and deadlines as if it were then: refused. ` +
        `Listings accept the override as a what-if; for tests set ${ALLOW_CLOCK_OVERRIDE_ENV}=test as well; otherwise unset ${CLOCK_OVERRIDE_ENV}`,
      { code: 'E_CLOCK_OVERRIDE', exitCode: 2 },
    );
  }
  return resolveClock(ctx, undefined, 'what-if');
}

function registryOf(ctx: CommandContext, sc: StoreContext, clock: ResolvedClock, subjectRefOf?: (id: string) => string): RequestRegistry {
  return new RequestRegistry(sc.store, {
    clock: clock.clock,
    audit: openAuditOn(sc, clock),
    policies: policiesOf(ctx),
    ...(subjectRefOf ? { subjectRefOf } : {}),
  });
}

const short = (id: string): string => id.slice(0, 8);

function left(r: RequestView): string {
  if (r.status === 'closed') return '-';
  if (r.daysLeft === 0) return 'due today';
  if (r.daysLeft > 0) return `${r.daysLeft} day${r.daysLeft === 1 ? '' : 's'}`;
  return `OVERDUE ${-r.daysLeft} day${r.daysLeft === -1 ? '' : 's'}`;
}

function statusOf(r: RequestView): string {
  if (r.status === 'closed') return `closed: ${r.outcome ?? '?'}`;
  const ext = r.extensions.reduce((a, e) => a + e.months, 0);
  return ext > 0 ? `open (extended +${ext}m)` : 'open';
}

function describe(r: RequestView): string {
  const f = fulfilmentFor(r.type);
  return [
    `request ${r.id}`,
    `  type:      ${r.type} (${f.legalBasis})`,
    `  subject:   ${r.subjectId}`,
    `  reason:    ${r.reason}`,
    `  received:  ${r.receivedAt.slice(0, 10)} (opened ${r.openedAt.slice(0, 19)}Z by ${r.openedBy})`,
    `  due:       ${r.dueDate}${r.status === 'open' ? ` (${left(r)})` : ''}`,
    ...r.extensions.map((e) => `  extended:  +${e.months} month${e.months === 1 ? '' : 's'} to ${e.dueDate} by ${e.actor} on ${e.at.slice(0, 10)}${e.late ? ' (LATE: after the first month)' : ''}: ${e.reason}`),
    `  status:    ${statusOf(r)}`,
    ...(r.status === 'closed'
      ? [`  closed:    ${r.closedAt?.slice(0, 19)}Z by ${r.closedBy}${r.closeNote ? `: ${r.closeNote}` : ''}`, `  appeal:    until ${r.appealUntil?.slice(0, 10)} (retention class ${r.retentionClass})`]
      : []),
    ...r.archives.map((a) => `  archive:   ${a.key}${a.shareUrl ? `\n             link valid until ${a.shareExpiresAt}: ${a.shareUrl}` : ''}`),
  ].join('\n');
}

export function requestCommand(env: RunEnv): Command<[], Record<string, unknown>> {
  const request = new Command('request').description('data-subject requests (GDPR access, portability, erasure) with their calendar due dates');

  request
    .command('open')
    .description('record a request; it is due one calendar month after receipt')
    .requiredOption('--subject <id>', 'the member the request is about')
    .addOption(new Option('--type <type>', 'what the subject asks for').choices(REQUEST_TYPES).makeOptionMandatory())
    .requiredOption('--reason <text>', 'how the request came in and what it asks (recorded)')
    .option('--received <date>', 'day of receipt, YYYY-MM-DD (or an ISO-8601 time); default now')
    .option('--master-key-file <file>', 'file holding the master key, to name the subject in the audit log by its ref (env HANDOVER_MASTER_KEY)')
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      const clock = requestClock(ctx, true);
      noteClock(out, clock);
      const sc = openConfiguredStore(ctx);
      const ring = await openKeyRing(ctx, sc, {
        ...(opts.masterKeyFile ? { file: opts.masterKeyFile } : {}),
        create: true,
        onCreated: (f) => out.warn(`created a new master key at ${f}: back it up, without it no archive in this store can be decrypted`),
      });
      const r = await registryOf(ctx, sc, clock, (id) => ring.subjectRef(id)).open({
        subjectId: opts.subject,
        type: opts.type,
        reason: opts.reason,
        ...(opts.received !== undefined ? { receivedAt: opts.received } : {}),
        actor: ctx.actor,
      });
      out.result({ request: r }, () => `request ${r.id} (${r.type}, subject ${r.subjectId}) received ${r.receivedAt.slice(0, 10)}, due ${r.dueDate} (${left(r)})\nfulfil it with: handover request fulfil ${short(r.id)}`);
    });

  request
    .command('list')
    .description('requests by due date, with the days left')
    .option('--overdue', 'only open requests past their due date', false)
    .addOption(new Option('--status <status>', 'only open or only closed requests').choices(['open', 'closed'] as const))
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      const clock = requestClock(ctx, false);
      noteClock(out, clock);
      const sc = openConfiguredStore(ctx);
      const list = await registryOf(ctx, sc, clock).list({ ...(opts.overdue ? { overdue: true } : {}), ...(opts.status ? { status: opts.status } : {}) });
      out.result({ today: clock.now.toISOString().slice(0, 10), requests: list }, () =>
        list.length === 0
          ? opts.overdue
            ? 'no overdue requests'
            : 'no requests'
          : table(
              ['REQUEST', 'TYPE', 'SUBJECT', 'RECEIVED', 'DUE', 'LEFT', 'STATUS'],
              list.map((r) => [short(r.id), r.type, r.subjectId, r.receivedAt.slice(0, 10), r.dueDate, left(r), statusOf(r)]),
            ),
      );
    });

  request
    .command('show')
    .description('one request: deadlines, extensions, archives, closing')
    .argument('<request>', 'request id, or the start of it as listed')
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (id, opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      const clock = requestClock(ctx, false);
      noteClock(out, clock);
      const sc = openConfiguredStore(ctx);
      const r = await registryOf(ctx, sc, clock).get(id);
      out.result({ request: r, fulfilment: fulfilmentFor(r.type) }, () => describe(r));
    });

  request
    .command('extend')
    .description('extend the deadline by 1 or 2 months (never beyond three months from receipt); tell the subject why')
    .argument('<request>', 'request id, or the start of it as listed')
    .addOption(new Option('--months <n>', 'months to add').choices(['1', '2'] as const).makeOptionMandatory())
    .requiredOption('--reason <text>', 'why (Art. 12(3): complexity or number of requests); recorded')
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (id, opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      const clock = requestClock(ctx, true);
      noteClock(out, clock);
      const sc = openConfiguredStore(ctx);
      const r = await registryOf(ctx, sc, clock).extend(id, { months: Number(opts.months), reason: opts.reason, actor: ctx.actor });
      if (r.late) out.warn(`the extension comes after the first month (due ${r.extensions.at(-1)?.dueDate}): Art. 12(3) wants the subject told within the first month`);
      out.result({ request: r }, () => `request ${r.id} extended: due ${r.dueDate} (${left(r)})`);
    });

  request
    .command('close')
    .description('close the request; the 60-day appeal window (retention class gdpr-appeal) starts now')
    .argument('<request>', 'request id, or the start of it as listed')
    .addOption(new Option('--outcome <outcome>', 'how it ended').choices(REQUEST_OUTCOMES).default('fulfilled' as const))
    .option('--reason <text>', 'a note on the closing (recorded)')
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (id, opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      const clock = requestClock(ctx, true);
      noteClock(out, clock);
      const sc = openConfiguredStore(ctx);
      const r = await registryOf(ctx, sc, clock).close(id, { actor: ctx.actor, outcome: opts.outcome, ...(opts.reason ? { note: opts.reason } : {}) });
      out.result({ request: r }, () => `request ${r.id} closed (${r.outcome}); it can be appealed until ${r.appealUntil?.slice(0, 10)} and is kept that long (${r.retentionClass})`);
    });

  request
    .command('fulfil')
    .alias('fulfill')
    .description('answer the request: access → export (participant scope, Art. 15); portability → export of what the subject provided (authored scope, Art. 20); erasure → offboard (Art. 17). Links the archive, and on an S3 store a download link (exports)')
    .argument('<request>', 'request id, or the start of it as listed')
    .option('--source <source>', 'demo, demo:<seed>, slack:<export.zip|dir>, mattermost:<export.zip|file.jsonl>')
    .option('--yes', 'erasure: confirm without the prompt; it cannot be undone', false)
    .option('--force', 'erasure: proceed despite non-legal blockers (see handover offboard)', false)
    .option('--force-reason <text>', 'erasure: why the blockers may be ignored (required with --force)')
    .option('--erased-in-source', 'erasure, read-only source: the subject was erased in the platform itself (see handover offboard)', false)
    .option('--expires <duration>', 'S3: how long the download link works (at most 7d)', '7d')
    .option('--no-share', 'S3: no download link')
    .option('--master-key-file <file>', 'file holding the master key (env HANDOVER_MASTER_KEY)')
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (id, opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      const clock = requestClock(ctx, true);
      noteClock(out, clock);
      const seconds = parseExpiry(opts.expires);
      if (seconds <= 0 || seconds > MAX_PRESIGN_SECONDS) throw new InputError(`--expires ${opts.expires} must be positive and at most 7 days (the S3 limit for a presigned link)`, { exitCode: 2 });
      const sc = openConfiguredStore(ctx);
      const registry = registryOf(ctx, sc, clock);
      const r = await registry.get(id);
      if (r.status === 'closed') {
        throw new RequestError('E_REQUEST_CLOSED', `request ${r.id} was closed on ${r.closedAt ?? '?'} (${r.outcome ?? 'no outcome'}): it cannot be fulfilled any more`);
      }
      const f = fulfilmentFor(r.type);
      const reason = `${r.type} request ${r.id}: ${r.reason}`;
      // Created at the first update, after any confirmation prompt.
      let bar: Progress | undefined;
      const progress = {
        update: (v: { what: string; member: string; detail: string }) => (bar ??= createProgress('{what} {member} | {detail}', env.stderr)).update(v),
        stop: () => bar?.stop(),
      };
      let key: string;
      let exported: ExportOutcome | undefined;
      let offboarded: OffboardOutcome | undefined;
      try {
        if (f.kind === 'export') {
          exported = await runExport(ctx, sc, {
            member: r.subjectId,
            ...(opts.source ? { source: opts.source } : {}),
            scope: f.scope ?? 'participant',
            class: 'export-download',
            html: true,
            reason,
            requestId: r.id,
            legalBasis: f.legalBasis,
            ...(opts.masterKeyFile ? { masterKeyFile: opts.masterKeyFile } : {}),
            onProgress: (p) => progress.update({ what: 'exporting', member: p.member, detail: `${p.messages} messages, ${p.files} files, ${formatBytes(p.bytes)}` }),
            warn: (t) => out.warn(t),
            signal: env.signal,
          });
          key = exported.key!;
        } else {
          offboarded = await runOffboard(ctx, sc, {
            member: r.subjectId,
            reason,
            ...(opts.source ? { source: opts.source } : {}),
            force: opts.force,
            ...(opts.forceReason !== undefined ? { forceReason: opts.forceReason } : {}),
            requestId: r.id,
            legalBasis: f.legalBasis,
            erasedInSource: opts.erasedInSource,
            ...(opts.masterKeyFile ? { masterKeyFile: opts.masterKeyFile } : {}),
            confirm: async ({ memberId, sourceName }) => {
              if (opts.yes) return true;
              return confirmOnTerminal(env, `Request ${short(r.id)} asks to erase '${memberId}' in ${sourceName}; this cannot be undone.\nType the member id to confirm: `, memberId, `erasing '${memberId}'`);
            },
            onEvent: (e) => progress.update({ what: 'offboarding', member: r.subjectId, detail: `${e.step}: ${e.status}` }),
            warn: (t) => out.warn(t),
            signal: env.signal,
          });
          key = offboarded.backupKey || offboarded.archiveKey;
        }
      } catch (err) {
        progress.stop();
        throw reportRefusal(err, out);
      }
      progress.stop();

      // A download link is for delivering an export to its subject; the post-deletion backup of an erasure is not handed out.
      let share: { url: string; expiresAt: Date } | undefined;
      if (f.kind === 'export' && sc.kind === 's3' && opts.share) {
        const expiresAt = new Date(Date.now() + seconds * 1000);
        const url = await audited(
          openAudit(sc),
          { actor: ctx.actor, action: 'share', target: key, ...(exported?.subjectRef ? { subjectRef: exported.subjectRef } : {}), reason: `delivery of the answer to ${reason}`, details: { expiresAt: expiresAt.toISOString(), request: r.id } },
          () => presignGet(sc.store, key, seconds),
        );
        share = { url, expiresAt };
      }
      const linked = await registry.linkArchive(r.id, { key, actor: ctx.actor, ...(share ? { shareUrl: share.url, shareExpiresAt: share.expiresAt } : {}) });
      const result = {
        request: linked,
        fulfilment: f,
        archive: key,
        ...(share ? { share: { url: share.url, expiresAt: share.expiresAt.toISOString() } } : {}),
        ...(exported ? { export: exported } : {}),
        ...(offboarded ? { offboard: offboarded } : {}),
      };
      out.result(result, () =>
        [
          `request ${r.id} (${r.type}) fulfilled by ${f.kind === 'export' ? `an export (${f.scope} scope)` : 'offboarding the subject'}: ${key}`,
          ...(exported ? [`  ${exported.counts.messages} messages, ${exported.counts.files} files, ${formatBytes(exported.bytes)}, encrypted to the subject's key`] : []),
          ...(offboarded ? [`  grants revoked: ${offboarded.revokedGrants.join(', ') || 'none'}; erased ${offboarded.erasedAt}; kept as the post-deletion backup`] : []),
          ...(share ? [`  download link (valid until ${share.expiresAt.toISOString()}): ${share.url}`] : []),
          `  due ${linked.dueDate} (${left(linked)}); close it with: handover request close ${short(r.id)} --outcome fulfilled`,
        ].join('\n'),
      );
    });
  return request;
}
