import { syncStorageHolds, type Hold } from '@handover/retention';
import { audited, openAudit } from './audit.js';
import type { CommandContext } from './context.js';
import type { StoreContext } from './store-context.js';

/**
 * Makes the storage agree with the holds (see the retention package's storage-hold.ts) and
 * records it in the audit log, also when it fails part way: objects may have changed by then.
 */
export function syncStorageHoldsAudited(ctx: CommandContext, sc: StoreContext, holds: () => Promise<readonly Hold[]>, now: number, reason: string) {
  return audited(
    openAudit(sc),
    { actor: ctx.actor, action: 'hold.storage-sync', target: `${ctx.storeLocation.replace(/\/+$/, '')}/archives/`, reason },
    async () => syncStorageHolds(sc.store, { holds: await holds(), now }),
    (r) => ({ ...r, failed: r.failed.slice(0, 100) }),
    (r) => r.failed.length > 0,
  );
}
