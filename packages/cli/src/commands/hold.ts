import { Command } from '@commander-js/extra-typings';
import { assertValidKey, InputError, StoreError, systemClock, type AuditLog } from '@handover/core';
import { HoldRegistry, isHoldActive, RetentionError, type Hold, type StorageHoldResult } from '@handover/retention';
import { openAudit } from '../audit.js';
import { createContext, type CommandContext, type GlobalOptions } from '../context.js';
import { createOutput, table } from '../output.js';
import { syncStorageHoldsAudited } from '../storage-sync.js';
import { openConfiguredStore, openKeyRing, type StoreContext } from '../store-context.js';
import type { RunEnv } from '../run-env.js';

/** Distinct actors whose approvals release a hold (HoldRegistry's four-eyes rule). */
const APPROVALS_NEEDED = 2;

const distinctApprovers = (h: Hold): number => new Set(h.releaseApprovals.map((a) => a.actor.trim().toLowerCase())).size;

function stateOf(h: Hold, now: number): string {
  if (!isHoldActive(h, now)) return 'released';
  const n = distinctApprovers(h);
  return n === 0 ? 'active' : `active (${n}/${APPROVALS_NEEDED} release approvals)`;
}

function scopeOf(h: Hold): string {
  return 'subjectRef' in h.scope ? `subject ${h.scope.subjectRef}` : `object ${h.scope.key}`;
}

/**
 * The registry records every add, approval and release in the audit log itself, and takes
 * (or gives back) the storage's own hold on the covered objects: see storage-hold.ts.
 */
function registryOf(sc: StoreContext): { registry: HoldRegistry; audit: AuditLog } {
  const audit = openAudit(sc);
  return { registry: new HoldRegistry(sc.store, { audit, clock: systemClock, storageHolds: true }), audit };
}

/** One line on what the storage now does with the covered objects; warns about failures. */
function storageLine(r: StorageHoldResult | undefined, on: boolean, warn: (text: string) => void): string {
  if (r === undefined) return '';
  for (const f of r.failed.slice(0, 5)) warn(`could not ${on ? 'hold' : 'release'} ${f.key} in the storage: ${f.message}`);
  if (r.failed.length > 0) warn(`${r.failed.length} object(s) not ${on ? 'held' : 'released'} in the storage; run 'handover hold sync-storage' to repair`);
  if (r.objects === 0) return on ? '\nno stored object is covered yet; archives written later are held as they are written' : '';
  const lock = r.legalHolds > 0 ? `; storage legal hold ${on ? 'ON' : 'OFF'} on ${r.legalHolds}` : r.legalHoldUnsupported ? '; the bucket has no Object Lock, so the class tag alone keeps lifecycle rules off them' : '';
  return on
    ? `\n${r.objects} stored object(s) held in the storage: class tag set to no lifecycle rule's value${lock}`
    : `\n${r.objects} stored object(s) released in the storage: class tag restored${lock}`;
}

function actorOf(ctx: CommandContext, flag: string | undefined): string {
  const actor = (flag ?? ctx.actor).trim();
  if (!actor) throw new InputError('--actor must name who acts', { exitCode: 2 });
  return actor;
}

export function holdCommand(env: RunEnv): Command<[], Record<string, unknown>> {
  const hold = new Command('hold').description('legal holds: keep a subject\'s data, or one object, whatever its retention says');

  hold
    .command('add')
    .description('place a legal hold on a subject (every object of theirs) or on one object')
    .option('--subject <id>', 'the subject (member id) to hold; stored only as its pseudonymous subject ref')
    .option('--object <key>', 'the store key of one object to hold (archives/…)')
    .requiredOption('--reason <text>', 'the matter, ticket or authority request behind the hold (recorded)')
    .option('--actor <name>', 'who places it (env HANDOVER_ACTOR; default the OS user)')
    .option('--master-key-file <file>', 'file holding the master key, to turn --subject into its ref (env HANDOVER_MASTER_KEY)')
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      if ((opts.subject === undefined) === (opts.object === undefined)) {
        throw new InputError('give exactly one of --subject <id> or --object <key>', { exitCode: 2 });
      }
      if (!opts.reason.trim()) throw new InputError('--reason must say why the data is held', { exitCode: 2 });
      const actor = actorOf(ctx, opts.actor);
      const sc = openConfiguredStore(ctx);
      let subjectRef: string | undefined;
      if (opts.subject !== undefined) {
        // Never the raw id: holds, audit records and listings carry the keyed hash only.
        const ring = await openKeyRing(ctx, sc, opts.masterKeyFile ? { file: opts.masterKeyFile } : {});
        subjectRef = ring.subjectRef(opts.subject);
      } else {
        try {
          assertValidKey(opts.object!);
        } catch (err) {
          throw new InputError(`--object '${opts.object}' is not a store key: ${(err as Error).message}`, { exitCode: 2, cause: err });
        }
        if ((await sc.store.head(opts.object!)) === undefined) out.warn(`no object '${opts.object}' exists in ${ctx.storeLocation} now; the hold is placed anyway`);
      }
      const { registry } = registryOf(sc);
      const h = await registry.add({ ...(subjectRef ? { subjectRef } : { key: opts.object! }), reason: opts.reason, actor });
      const { storage, ...placed } = h;
      const line = storageLine(storage, true, (t) => out.warn(t));
      out.result({ hold: placed, ...(storage ? { storage } : {}) }, () => `hold ${h.id} placed on ${scopeOf(h)} by ${h.actor}: nothing it covers is deleted or crypto-shredded until two different people approve its release${line}`);
    });

  hold
    .command('list')
    .description('every hold, with its scope, state and release approvals')
    .option('--active', 'only holds that stand', false)
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      const sc = openConfiguredStore(ctx);
      const now = Date.now();
      const all = await new HoldRegistry(sc.store).list();
      const holds = opts.active ? all.filter((h) => isHoldActive(h, now)) : all;
      out.result({ holds: holds.map((h) => ({ ...h, active: isHoldActive(h, now) })) }, () =>
        holds.length === 0
          ? 'no holds'
          : table(
              ['HOLD', 'STATE', 'SCOPE', 'PLACED BY', 'SINCE', 'REASON'],
              holds.map((h) => [h.id, stateOf(h, now), scopeOf(h), h.actor, h.createdAt.slice(0, 19), h.reason]),
            ),
      );
    });

  hold
    .command('approve-release')
    .alias('release')
    .description(`approve releasing a hold; it is released once ${APPROVALS_NEEDED} different people approved, and stands until then`)
    .argument('<hold>', 'the hold id (hold-…)')
    .requiredOption('--reason <text>', 'why the hold may end (recorded)')
    .option('--actor <name>', 'who approves (env HANDOVER_ACTOR; default the OS user)')
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (id, opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      if (!opts.reason.trim()) throw new InputError('--reason must say why the hold may end', { exitCode: 2 });
      const actor = actorOf(ctx, opts.actor);
      const sc = openConfiguredStore(ctx);
      const { registry } = registryOf(sc);
      const before = await registry.get(id);
      if (before === undefined) throw new RetentionError('E_HOLD_NOT_FOUND', `no hold '${id}' in ${ctx.storeLocation}; list them with: handover hold list`);
      const already = before.releaseApprovals.some((a) => a.actor.trim().toLowerCase() === actor.toLowerCase());
      const { storage, ...after } = await registry.approveRelease(id, actor, opts.reason);
      const line = storageLine(storage, false, (t) => out.warn(t));
      const approvals = distinctApprovers(after);
      const released = after.releasedAt !== undefined;
      const needed = released ? 0 : Math.max(0, APPROVALS_NEEDED - approvals);
      out.result({ hold: after, released, approvals, needed, duplicate: already || before.releasedAt !== undefined, ...(storage ? { storage } : {}) }, () => {
        if (before.releasedAt !== undefined) return `hold ${id} was already released at ${before.releasedAt}`;
        if (released) return `hold ${id} released at ${after.releasedAt} with the approvals of ${after.releaseApprovals.map((a) => a.actor).join(' and ')}: retention applies again to ${scopeOf(after)}${line}`;
        return `${already ? `${actor} had already approved; ` : `release approval by ${actor} recorded; `}${needed} more approval${needed === 1 ? '' : 's'} by a different person needed: hold ${id} stands until then`;
      });
    });
  hold
    .command('sync-storage')
    .description("make the storage agree with the holds: hold every object an active hold covers, release what only released holds cover (repairs an interrupted add or release)")
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      const sc = openConfiguredStore(ctx);
      const r = await syncStorageHoldsAudited(ctx, sc, () => new HoldRegistry(sc.store).list(), Date.now(), 'make the storage holds agree with the legal holds');
      for (const f of r.failed.slice(0, 5)) out.warn(`could not change ${f.key} in the storage: ${f.message}`);
      out.result({ storage: r }, () => `${r.held} object(s) held and ${r.released} released in the storage (${r.retagged} retagged, ${r.legalHolds} storage legal hold changes${r.legalHoldUnsupported ? '; the bucket has no Object Lock' : ''})${r.failed.length > 0 ? `; ${r.failed.length} failed` : ''}`);
      if (r.failed.length > 0) throw new StoreError(`${r.failed.length} object(s) could not be changed in the storage (first: ${r.failed[0]!.key}: ${r.failed[0]!.message}); run it again`, { code: 'E_STORAGE_HOLD' });
    });
  return hold;
}
