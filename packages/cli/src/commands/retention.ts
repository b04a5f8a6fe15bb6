import type { LifecycleRule } from '@aws-sdk/client-s3';
import { Command } from '@commander-js/extra-typings';
import { InputError, parseStoreUrl, resolveForcePathStyle, StoreError } from '@handover/core';
import { CLASS_TAG, HELD_TAG_VALUE, HoldRegistry, isHoldActive, parseDuration, planFromStore, purge, type Plan, type PurgeResult, type RetentionClass } from '@handover/retention';
import { audited } from '../audit.js';
import { syncStorageHoldsAudited } from '../storage-sync.js';
import { createContext, type GlobalOptions } from '../context.js';
import { createOutput, formatBytes, table } from '../output.js';
import { policiesOf } from '../policies.js';
import { noteClock, openAuditOn, optionalKeyShredder, resolveClock, withPurgeLease } from '../retention-context.js';
import { openConfiguredStore } from '../store-context.js';
import type { RunEnv } from '../run-env.js';

const NOW_HELP = 'plan as if it were this instant (ISO-8601; env HANDOVER_NOW)';

/** The tag every stored archive carries with its (first) retention class; see the exporter's ARCHIVE_TAGS. */
export const ARCHIVE_CLASS_TAG = CLASS_TAG;
/** Days S3 waits past a class's duration before its lifecycle rule expires an archive. */
export const DEFAULT_LIFECYCLE_MARGIN_DAYS = 7;
/**
 * Test-only: `<keys per delete request>/<keys per journal batch>` for `retention run`, so an
 * end-to-end test can kill a run between batches without seeding 10,000 objects.
 */
export const TEST_PURGE_BATCH_ENV = 'HANDOVER_TEST_PURGE_BATCH';

function testPurgeBatch(env: NodeJS.ProcessEnv): { batchSize?: number; checkpointSize?: number } {
  const text = env[TEST_PURGE_BATCH_ENV];
  if (text === undefined || text === '') return {};
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (m === null) throw new InputError(`${TEST_PURGE_BATCH_ENV}='${text}' must be <keys per delete>/<keys per batch>`, { exitCode: 2 });
  return { batchSize: Number(m[1]), checkpointSize: Number(m[2]) };
}

/** Objects the plan table lists unless --limit says otherwise. */
const DEFAULT_PLAN_ROWS = 200;

export function retentionCommand(env: RunEnv): Command<[], Record<string, unknown>> {
  const retention = new Command('retention').description('retention: what is due, destroying it with certificates, and S3 lifecycle rules');

  retention
    .command('plan')
    .description('dry run: what would be deleted or crypto-shredded now, and why; changes nothing')
    .option('--now <instant>', NOW_HELP)
    .option('--full', 'read the whole store, and list the objects kept too (default: only the due range)', false)
    .option('--limit <n>', `objects to list; 0 lists all (default: all with --json, ${DEFAULT_PLAN_ROWS} in the table); totals always count everything`)
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      if (opts.limit !== undefined && !/^\d+$/.test(opts.limit)) throw new InputError(`--limit '${opts.limit}' must be a whole number (0 for all)`, { exitCode: 2 });
      const limit = Number(opts.limit ?? (opts.json ? 0 : DEFAULT_PLAN_ROWS)) || Infinity;
      const policies = policiesOf(ctx);
      const time = resolveClock(ctx, opts.now, 'what-if');
      noteClock(out, time);
      const sc = openConfiguredStore(ctx);
      const plan = await planFromStore(sc.store, { policies, now: time.now, signal: env.signal, ...(opts.full ? { scan: 'full' as const, includeKept: true } : {}) });
      const doc = {
        store: ctx.storeLocation,
        now: plan.now,
        ...(time.override ? { clockOverride: time.override } : {}),
        changed: false,
        fingerprint: plan.fingerprint,
        totals: plan.totals,
        coverage: plan.coverage,
        decisions: plan.decisions.length > limit ? plan.decisions.slice(0, limit) : plan.decisions,
        ...(plan.decisions.length > limit ? { decisionsOmitted: plan.decisions.length - limit } : {}),
        shreds: plan.shreds,
        deferredShreds: plan.deferredShreds,
        warnings: plan.warnings,
      };
      out.result(doc, () => renderPlan(plan, ctx.storeLocation, limit));
    });

  retention
    .command('run')
    .description('destroy what is due: delete, crypto-shred, certify and audit; resumable, and safe to run again')
    .option('--now <instant>', 'act as if it were this instant: tests only (needs HANDOVER_ALLOW_CLOCK_OVERRIDE=test; env HANDOVER_NOW)')
    .option('--master-key-file <file>', 'file holding the master key, for crypto-shreds (env HANDOVER_MASTER_KEY)')
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      const policies = policiesOf(ctx);
      const time = resolveClock(ctx, opts.now, 'act');
      noteClock(out, time);
      const sc = openConfiguredStore(ctx);
      const keyShredder = await optionalKeyShredder(ctx, sc, out, opts.masterKeyFile);
      const audit = openAuditOn(sc, time);
      const entry = {
        actor: ctx.actor,
        action: 'retention.run',
        target: `${ctx.storeLocation.replace(/\/+$/, '')}/archives/`,
        reason: 'retention periods ended: destroy what is due',
        details: { now: time.now.toISOString(), ...(time.override ? { clockOverride: time.override } : {}) },
      };
      const { plan, result } = await audited(
        audit,
        entry,
        () =>
          withPurgeLease(sc, time.clock, async ({ renew, lost }) => {
            const signal = AbortSignal.any([env.signal, lost]);
            const plan = await planFromStore(sc.store, { policies, now: time.now, signal });
            await renew();
            const result = await purge({
              store: sc.store,
              plan,
              audit,
              clock: time.clock,
              actor: ctx.actor,
              signal,
              onProgress: renew,
              logger: ctx.logger,
              ...testPurgeBatch(env.env),
              ...(keyShredder ? { keyShredder } : {}),
            });
            return { plan, result };
          }),
        ({ plan, result }) => ({
          runId: result.runId ?? null,
          fingerprint: plan.fingerprint,
          resumedRuns: result.resumedRuns,
          deleted: result.deleted.count,
          bytes: result.deleted.bytes,
          keyShreds: result.keyShreds,
          certificates: result.certificates,
          failed: result.failed.length,
          held: result.held.length,
          deferredShreds: result.deferredShreds,
        }),
      );
      const doc = {
        store: ctx.storeLocation,
        now: plan.now,
        ...(time.override ? { clockOverride: time.override } : {}),
        fingerprint: plan.fingerprint,
        planned: plan.totals,
        ...result,
        runId: result.runId ?? null,
      };
      out.result(doc, () => renderRun(plan, result));
      if (result.failed.length > 0) {
        throw new InputError(`${result.failed.length} objects could not be deleted; they stay due and the next run retries them`, { code: 'E_PURGE_INCOMPLETE' });
      }
    });

  retention
    .command('sync-lifecycle')
    .description(`write S3 lifecycle rules as a backstop: expire each class's archives ${DEFAULT_LIFECYCLE_MARGIN_DAYS} days (--margin-days) after its period, and abort stale uploads`)
    .option('--margin-days <days>', 'days S3 waits past each class duration, so the worker (which honours holds) acts first', String(DEFAULT_LIFECYCLE_MARGIN_DAYS))
    .option('--dry-run', 'print the rules, write nothing', false)
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      const margin = Number(opts.marginDays);
      if (!/^\d+$/.test(opts.marginDays) || !Number.isSafeInteger(margin) || margin > 36_500) {
        throw new InputError(`--margin-days '${opts.marginDays}' must be a whole number of days (0 to 36500)`, { exitCode: 2 });
      }
      const loc = parseStoreUrl(ctx.storeLocation);
      if (loc.kind !== 's3') {
        throw new InputError(`sync-lifecycle writes S3 bucket lifecycle rules, but the store '${ctx.storeLocation}' is a local directory: use --store s3://bucket/prefix`, { code: 'E_NOT_S3', exitCode: 2 });
      }
      const policies = policiesOf(ctx);
      const sc = openConfiguredStore(ctx);
      const rules = lifecycleRules([...policies.values()], loc.prefix, margin);
      const warnings = [
        `S3 expires an archive by its '${ARCHIVE_CLASS_TAG}' tag, its first class: an archive that also carries a longer class is kept that long only by \`handover retention run\` or the worker`,
        'for crypto-shred classes a rule removes only the ciphertext; the subject key is shredded by `handover retention run` or the worker',
        'closed request records (requests/) have no rule: `handover retention run` or the worker purges them',
      ];
      // Held objects carry a class tag no rule matches (and the storage legal hold where the
      // bucket has Object Lock): re-applied here, before any rule is written, so that an
      // interrupted `hold add` or release cannot leave a held archive within a rule's reach.
      const holds = await new HoldRegistry(sc.store).list();
      const now = Date.now();
      const active = holds.filter((h) => isHoldActive(h, now));
      const storage = opts.dryRun ? undefined : await syncStorageHoldsAudited(ctx, sc, async () => holds, now, 'keep held archives out of the lifecycle rules about to be written');
      if (storage !== undefined && storage.failed.length > 0) {
        throw new StoreError(
          `${storage.failed.length} held object(s) could not be kept out of the lifecycle rules (first: ${storage.failed[0]!.key}: ${storage.failed[0]!.message}); no rule was written: fix it and run again`,
          { code: 'E_STORAGE_HOLD' },
        );
      }
      if (active.length > 0) {
        warnings.unshift(
          `${active.length} legal hold(s) stand: their archives carry '${ARCHIVE_CLASS_TAG}=${HELD_TAG_VALUE}', which no rule matches${storage?.legalHoldUnsupported === true ? ' (the bucket has no Object Lock, so no storage legal hold)' : ', and the storage legal hold where the bucket has Object Lock'}; ${opts.dryRun ? 'a real run re-applies that first' : `re-applied to ${storage?.held ?? 0} object(s)`}. See 'handover hold list'`,
        );
      }

      const s3 = await import('@aws-sdk/client-s3');
      const pathStyle = resolveForcePathStyle({}, ctx.env);
      const client = new s3.S3Client(pathStyle === undefined ? {} : { forcePathStyle: pathStyle });
      try {
        let existing: LifecycleRule[] = [];
        try {
          existing = (await client.send(new s3.GetBucketLifecycleConfigurationCommand({ Bucket: loc.bucket }))).Rules ?? [];
        } catch (err) {
          if ((err as { name?: string }).name !== 'NoSuchLifecycleConfiguration') throw err;
        }
        const ours = (id: string | undefined): boolean => id !== undefined && id.startsWith(ruleIdBase(loc.prefix));
        const kept = existing.filter((r) => !ours(r.ID));
        const replaced = existing.filter((r) => ours(r.ID)).map((r) => r.ID as string);
        const doc = {
          bucket: loc.bucket,
          prefix: loc.prefix,
          marginDays: margin,
          dryRun: opts.dryRun,
          rules: rules.map((r) => ({ id: r.rule.ID, class: r.class, duration: r.duration, days: r.days, filter: r.rule.Filter, kind: r.class === undefined ? 'abort-incomplete-multipart-upload' : 'expiration' })),
          ...(storage === undefined ? {} : { storageHolds: storage }),
          replaced,
          keptOtherRules: kept.map((r) => r.ID ?? '(no id)'),
          warnings,
        };
        if (!opts.dryRun) {
          await audited(
            openAuditOn(sc, resolveClock(ctx, undefined, 'what-if')),
            {
              actor: ctx.actor,
              action: 'retention.sync-lifecycle',
              target: `s3://${loc.bucket}/${loc.prefix}`,
              reason: 'S3 lifecycle rules as a backstop for the retention classes',
              details: {
                marginDays: margin,
                rules: doc.rules.map((r) => ({ id: r.id, days: r.days })),
                keptOtherRules: doc.keptOtherRules,
                ...(storage === undefined ? {} : { storageHolds: { held: storage.held, released: storage.released, retagged: storage.retagged, legalHolds: storage.legalHolds } }),
              },
            },
            () => client.send(new s3.PutBucketLifecycleConfigurationCommand({ Bucket: loc.bucket, LifecycleConfiguration: { Rules: [...kept, ...rules.map((r) => r.rule)] } })),
          );
        }
        for (const w of warnings) out.warn(w);
        out.result(doc, () =>
          [
            `${opts.dryRun ? 'would write' : 'wrote'} ${rules.length} lifecycle rules on bucket ${loc.bucket}${loc.prefix ? ` (prefix ${loc.prefix})` : ''}${kept.length > 0 ? `, keeping ${kept.length} other rule(s)` : ''}:`,
            table(
              ['RULE', 'CLASS', 'DURATION', 'EXPIRES AFTER'],
              rules.map((r) => [r.rule.ID ?? '', r.class ?? '(incomplete uploads)', r.duration ?? '', r.class === undefined ? '1 day' : `${r.days} days`]),
            ),
          ].join('\n'),
        );
      } finally {
        client.destroy();
      }
    });
  return retention;
}

function ruleIdBase(prefix: string): string {
  return `handover:${prefix}:`;
}

/** The most days a duration can span (a year as 366 days, a month as 31), so S3 never expires before the planner would. */
export function maxDays(duration: string): number {
  const d = parseDuration(duration);
  const seconds = d.hours * 3600 + d.minutes * 60 + d.seconds;
  return d.years * 366 + d.months * 31 + d.weeks * 7 + d.days + Math.ceil(seconds / 86_400);
}

interface BuiltRule {
  class?: string;
  duration?: string;
  days?: number;
  rule: {
    ID: string;
    Status: 'Enabled';
    Filter: { Prefix: string } | { And: { Prefix: string; Tags: { Key: string; Value: string }[] } };
    Expiration?: { Days: number };
    AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
  };
}

/**
 * One Expiration rule per class, filtered by the archives' prefix and their class tag, after
 * the class duration (as its longest calendar span) plus `margin` days; S3 counts from the
 * object's creation and rounds up to the next midnight UTC. Audit records and certificates
 * carry no `handover-class` tag, and held archives carry `handover:held`, so no rule touches them. Plus one rule aborting multipart
 * uploads left incomplete for a day (a killed export leaves one behind).
 */
export function lifecycleRules(classes: readonly RetentionClass[], prefix: string, margin: number): BuiltRule[] {
  const base = ruleIdBase(prefix);
  const rules: BuiltRule[] = [...classes]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((c) => {
      const days = Math.max(1, maxDays(c.duration) + margin);
      return {
        class: c.name,
        duration: c.duration,
        days,
        rule: {
          ID: `${base}${c.name}`,
          Status: 'Enabled',
          Filter: { And: { Prefix: `${prefix}archives/`, Tags: [{ Key: ARCHIVE_CLASS_TAG, Value: c.name }] } },
          Expiration: { Days: days },
        },
      };
    });
  rules.push({
    rule: { ID: `${base}abort-incomplete-multipart-uploads`, Status: 'Enabled', Filter: { Prefix: prefix }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
  });
  return rules;
}

function renderPlan(plan: Plan, store: string, limit: number): string {
  const t = plan.totals;
  const lines = [`retention plan for ${plan.now} on ${store} (a dry run: nothing was changed)`];
  if (plan.decisions.length > 0) {
    const shown = plan.decisions.length > limit ? plan.decisions.slice(0, limit) : plan.decisions;
    lines.push(
      '',
      table(
        ['ACTION', 'CLASS', 'SIZE', 'KEY', 'REASON'],
        shown.map((d) => [d.action === 'keep' ? (d.hold ? 'keep (held)' : 'keep') : d.action, d.class, formatBytes(d.size), d.key, d.reason]),
      ),
    );
    if (shown.length < plan.decisions.length) lines.push(`… and ${plan.decisions.length - shown.length} more (--limit 0 lists all)`);
  } else {
    lines.push('', 'nothing is due.');
  }
  if (plan.shreds.length > 0) {
    lines.push('', 'subject keys to crypto-shred:', table(['SUBJECT REF', 'CLASS', 'DUE SINCE', 'OBJECTS', 'REASON'], plan.shreds.map((s) => [s.subjectRef, s.class, s.dueSince, String(s.objects), s.reason])));
  }
  if (plan.deferredShreds.length > 0) {
    lines.push('', 'key shreds that must wait:', table(['SUBJECT REF', 'CLASS', 'NOT BEFORE', 'REASON'], plan.deferredShreds.map((s) => [s.subjectRef, s.class, s.notBefore ?? '(next run)', s.reason])));
  }
  lines.push(
    '',
    `delete: ${t.delete.count} objects (${formatBytes(t.delete.bytes)}); crypto-shred class: ${t.shred.count} objects (${formatBytes(t.shred.bytes)}) and ${t.keyShreds} subject keys; ` +
      `held: ${t.held.count} (${formatBytes(t.held.bytes)}); unknown class: ${t.unknown.count}`,
  );
  if (plan.coverage && !plan.coverage.complete) lines.push(`read ${plan.coverage.listed} archives up to today's due range; --full reads the whole store`);
  const rr = plan.coverage?.requestRecords;
  if (rr !== undefined && rr.listed > 0) lines.push(`request records: ${rr.listed} listed, ${rr.read} read (closed long enough ago that their appeal window may have ended)`);
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

function renderRun(plan: Plan, r: PurgeResult): string {
  const lines: string[] = [];
  if (r.resumedRuns.length > 0) lines.push(`finished interrupted runs first: ${r.resumedRuns.join(', ')}`);
  if (r.runId === undefined && r.deleted.count === 0 && r.keyShreds === 0) {
    lines.push(`nothing due at ${plan.now}: nothing destroyed`);
  } else {
    lines.push(
      `retention run ${r.runId ?? '(resumed only)'} at ${plan.now}: destroyed ${r.deleted.count} objects (${formatBytes(r.deleted.bytes)}): ` +
        `${r.deletedByAction.delete} deleted, ${r.deletedByAction.shred} ciphertexts of crypto-shred classes; ${r.keyShreds} subject keys crypto-shredded; ${r.certificates} erasure certificates`,
    );
  }
  if (r.deferredShreds > 0) lines.push(`  ${r.deferredShreds} key shreds wait (an object of the subject is held or still retained)`);
  if (r.held.length > 0) lines.push(`  ${r.held.length} objects kept by holds placed after planning`);
  if (r.failed.length > 0) lines.push(`  ${r.failed.length} objects could not be deleted (they stay due): ${r.failed.slice(0, 5).map((f) => `${f.key}: ${f.message}`).join('; ')}`);
  lines.push('certificates: handover audit certificates; audit log: handover audit verify');
  return lines.join('\n');
}
