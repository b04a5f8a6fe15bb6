import type { Grant, Member, Membership } from '../../source/domain.js';
import { buildGrants } from './grants.js';
import type { GeneratorContext } from './messages.js';
import { MEMBERS, MEMBERSHIPS, ORGANIZATIONS } from './people.js';
import { buildPlans, type ConversationPlan, type Sizing } from './plan.js';
import { buildSentencePools } from './text.js';

/**
 * The state of one demo workspace. Members, memberships and grants are plain maps this
 * object owns (built fresh for each source): a source applies revocations to its grants
 * in place, and layers erasures on top when it reads (see DemoSource); the generated
 * messages read authors and windows from the plans at iteration time.
 */
export class DemoWorkspace {
  readonly members = new Map<string, Member>();
  readonly memberships = new Map<string, Membership[]>();
  readonly grants: Map<string, Grant[]>;
  readonly plans = new Map<string, ConversationPlan>();
  readonly context: GeneratorContext;

  constructor(seed: number, sizing: Sizing) {
    for (const member of MEMBERS) this.members.set(member.id, { ...member });
    for (const seedRow of MEMBERSHIPS) {
      const org = ORGANIZATIONS.find((o) => o.id === seedRow.organizationId);
      const membership: Membership = {
        organizationId: seedRow.organizationId,
        organizationName: org?.name ?? seedRow.organizationId,
        role: seedRow.role,
        joinedAt: new Date(seedRow.joinedAt),
      };
      if (seedRow.leftAt !== undefined) membership.leftAt = new Date(seedRow.leftAt);
      const list = this.memberships.get(seedRow.memberId) ?? [];
      list.push(membership);
      this.memberships.set(seedRow.memberId, list);
    }
    this.grants = buildGrants();
    this.context = { seed, sizing, pools: buildSentencePools(seed) };
    for (const plan of buildPlans(sizing, this.members, this.context)) this.plans.set(plan.id, plan);
  }
}
