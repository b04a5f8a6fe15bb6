import type { Grant, GrantEvent } from '../../source/domain.js';

/**
 * Third-party app authorizations in the demo workspace: active, expired and revoked,
 * with their history. Expiry dates are fixed: "expired" ones lie before the end of the
 * timeline (2026-10-31) and "active" ones have none or lie years after it, so the
 * classification does not change with the day the demo runs.
 */

interface GrantEventSeed {
  at: string;
  change: string;
  actorId?: string;
  scopes?: readonly string[];
  reason?: string;
}

interface GrantSeed {
  memberId: string;
  id: string;
  appId: string;
  appName: string;
  scopes: readonly string[];
  grantedAt?: string;
  grantedBy?: string;
  expiresAt?: string;
  revokedAt?: string;
  target?: string;
  history?: readonly GrantEventSeed[];
}

const GRANT_SEEDS: readonly GrantSeed[] = [
  // ---- alice
  {
    memberId: 'alice',
    id: 'grant-alice-jira',
    appId: 'A-jira-cloud',
    appName: 'Jira Cloud',
    scopes: ['channels:history', 'chat:write', 'users:read'],
    grantedAt: '2024-02-10T10:00:00Z',
    grantedBy: 'alice',
    target: 'acme',
    history: [{ at: '2024-02-10T10:00:00Z', change: 'added', actorId: 'alice', scopes: ['channels:history', 'chat:write', 'users:read'] }],
  },
  {
    memberId: 'alice',
    id: 'grant-alice-gdrive',
    appId: 'A-google-drive',
    appName: 'Google Drive',
    scopes: ['files:read', 'files:write', 'links:read', 'links:write'],
    grantedAt: '2024-03-01T08:15:00Z',
    grantedBy: 'alice',
    expiresAt: '2029-03-01T00:00:00Z',
    target: 'acme',
    history: [
      { at: '2024-03-01T08:15:00Z', change: 'added', actorId: 'alice', scopes: ['files:read', 'links:read'] },
      { at: '2025-01-15T13:40:00Z', change: 'expanded', actorId: 'alice', scopes: ['files:write', 'links:write'], reason: 'Share exports back to Drive' },
    ],
  },
  {
    memberId: 'alice',
    id: 'grant-alice-dingtalk',
    appId: 'A-dingtalk-approval',
    appName: '钉钉审批',
    scopes: ['approval:read', 'approval:write', 'contacts:read'],
    grantedAt: '2024-04-02T03:00:00Z',
    grantedBy: 'wang.wei',
    target: 'bjcloud',
    history: [
      { at: '2024-04-02T03:00:00Z', change: 'added', actorId: 'wang.wei', scopes: ['approval:read', 'approval:write', 'contacts:read'], reason: '审批流程迁移' },
    ],
  },
  {
    memberId: 'alice',
    id: 'grant-alice-github',
    appId: 'A-github',
    appName: 'GitHub',
    scopes: ['channels:read', 'chat:write', 'commands'],
    grantedAt: '2024-06-30T12:00:00Z',
    grantedBy: 'alice',
    expiresAt: '2025-06-30T12:00:00Z',
    target: 'acme',
    history: [
      { at: '2024-06-30T12:00:00Z', change: 'added', actorId: 'alice', scopes: ['channels:read', 'chat:write', 'commands'] },
      { at: '2025-06-30T12:00:00Z', change: 'expired' },
    ],
  },
  {
    memberId: 'alice',
    id: 'grant-alice-zoom',
    appId: 'A-zoom',
    appName: 'Zoom',
    scopes: ['calls:read', 'calls:write', 'users:read.email'],
    grantedAt: '2024-03-20T15:00:00Z',
    grantedBy: 'alice',
    revokedAt: '2025-11-12T16:20:00Z',
    target: 'acme',
    history: [
      { at: '2024-03-20T15:00:00Z', change: 'added', actorId: 'alice', scopes: ['calls:read', 'calls:write', 'users:read.email'] },
      { at: '2025-11-12T16:20:00Z', change: 'revoked', actorId: 'bob', reason: 'Security review: unused for 90 days' },
    ],
  },
  {
    memberId: 'alice',
    id: 'grant-alice-deploy-webhook',
    appId: 'A-deploy-bot',
    appName: 'Deploy Bot',
    scopes: ['incoming-webhook', 'chat:write'],
    grantedAt: '2024-01-02T12:00:00Z',
    grantedBy: 'alice',
    target: '#engineering',
    history: [{ at: '2024-01-02T12:00:00Z', change: 'added', actorId: 'alice', scopes: ['incoming-webhook', 'chat:write'] }],
  },
  {
    memberId: 'alice',
    id: 'grant-alice-notion',
    appId: 'A-notion',
    appName: 'Notion',
    scopes: ['channels:history', 'search:read'],
    grantedAt: '2024-02-05T10:00:00Z',
    grantedBy: 'alice',
    revokedAt: '2025-09-30T17:00:00Z',
    target: 'globex',
    history: [
      { at: '2024-02-05T10:00:00Z', change: 'added', actorId: 'alice', scopes: ['channels:history', 'search:read'] },
      { at: '2025-01-10T09:00:00Z', change: 'disabled', actorId: 'zoe', reason: 'Pending DPA renewal' },
      { at: '2025-02-01T09:00:00Z', change: 'enabled', actorId: 'zoe' },
      { at: '2025-09-30T17:00:00Z', change: 'revoked', reason: 'Member left the organization' },
    ],
  },
  {
    // No scopes left: the one it had was removed, the authorization itself lingered until it expired.
    memberId: 'alice',
    id: 'grant-alice-legacy-crm',
    appId: 'A-legacy-crm',
    appName: 'Legacy CRM Sync',
    scopes: [],
    grantedAt: '2024-01-05T09:00:00Z',
    grantedBy: 'erin',
    expiresAt: '2026-01-31T00:00:00Z',
    target: 'acme',
    history: [
      { at: '2024-01-05T09:00:00Z', change: 'added', actorId: 'erin', scopes: ['contacts:read'] },
      { at: '2025-03-01T17:00:00Z', change: 'removed', actorId: 'bob', scopes: ['contacts:read'], reason: 'Installer deactivated' },
      { at: '2026-01-31T00:00:00Z', change: 'expired' },
    ],
  },
  {
    memberId: 'alice',
    id: 'grant-alice-feishu',
    appId: 'A-feishu-docs',
    appName: '飞书文档',
    scopes: ['docs:read'],
    grantedAt: '2025-10-01T02:00:00Z',
    grantedBy: 'alice',
    expiresAt: '2030-12-31T00:00:00Z',
    target: 'bjcloud',
    history: [{ at: '2025-10-01T02:00:00Z', change: 'added', actorId: 'alice', scopes: ['docs:read'] }],
  },
  // ---- others
  {
    memberId: 'bob',
    id: 'grant-bob-jira',
    appId: 'A-jira-cloud',
    appName: 'Jira Cloud',
    scopes: ['channels:history', 'chat:write'],
    grantedAt: '2024-02-11T09:00:00Z',
    grantedBy: 'bob',
    target: 'acme',
    history: [{ at: '2024-02-11T09:00:00Z', change: 'added', actorId: 'bob', scopes: ['channels:history', 'chat:write'] }],
  },
  {
    memberId: 'bob',
    id: 'grant-bob-figma',
    appId: 'A-figma',
    appName: 'Figma',
    scopes: ['links:read', 'links:write'],
    grantedAt: '2024-03-01T09:00:00Z',
    grantedBy: 'bob',
    expiresAt: '2025-02-28T00:00:00Z',
    target: 'acme',
    history: [{ at: '2024-03-01T09:00:00Z', change: 'added', actorId: 'bob', scopes: ['links:read', 'links:write'] }],
  },
  {
    memberId: 'carol',
    id: 'grant-carol-salesforce',
    appId: 'A-salesforce',
    appName: 'Salesforce',
    scopes: ['channels:read', 'chat:write', 'users:read.email'],
    grantedAt: '2024-01-20T09:00:00Z',
    grantedBy: 'carol',
    target: 'globex',
    history: [{ at: '2024-01-20T09:00:00Z', change: 'added', actorId: 'carol', scopes: ['channels:read', 'chat:write', 'users:read.email'] }],
  },
  {
    memberId: 'wang.wei',
    id: 'grant-wang.wei-dingtalk',
    appId: 'A-dingtalk-approval',
    appName: '钉钉审批',
    scopes: ['approval:read', 'approval:write', 'contacts:read'],
    grantedAt: '2024-04-01T03:00:00Z',
    grantedBy: 'wang.wei',
    target: 'bjcloud',
    history: [{ at: '2024-04-01T03:00:00Z', change: 'added', actorId: 'wang.wei', scopes: ['approval:read', 'approval:write', 'contacts:read'] }],
  },
  {
    memberId: 'wang.wei',
    id: 'grant-wang.wei-feishu',
    appId: 'A-feishu-docs',
    appName: '飞书文档',
    scopes: ['docs:read', 'docs:write'],
    grantedAt: '2024-05-01T03:00:00Z',
    grantedBy: 'wang.wei',
    revokedAt: '2025-07-01T03:00:00Z',
    target: 'bjcloud',
    history: [
      { at: '2024-05-01T03:00:00Z', change: 'added', actorId: 'wang.wei', scopes: ['docs:read', 'docs:write'] },
      { at: '2025-07-01T03:00:00Z', change: 'revoked', actorId: 'wang.wei', reason: '改用钉钉文档' },
    ],
  },
  {
    memberId: 'fatima',
    id: 'grant-fatima-gdrive',
    appId: 'A-google-drive',
    appName: 'Google Drive',
    scopes: ['files:read'],
    grantedAt: '2024-02-01T09:00:00Z',
    grantedBy: 'fatima',
    target: 'acme',
    history: [{ at: '2024-02-01T09:00:00Z', change: 'added', actorId: 'fatima', scopes: ['files:read'] }],
  },
  {
    memberId: 'erin',
    id: 'grant-erin-github',
    appId: 'A-github',
    appName: 'GitHub',
    scopes: ['channels:read', 'commands'],
    grantedAt: '2024-01-12T09:00:00Z',
    grantedBy: 'erin',
    revokedAt: '2025-03-01T17:00:00Z',
    target: 'acme',
    history: [
      { at: '2024-01-12T09:00:00Z', change: 'added', actorId: 'erin', scopes: ['channels:read', 'commands'] },
      { at: '2025-03-01T17:00:00Z', change: 'revoked', actorId: 'alice', reason: 'Account deactivated' },
    ],
  },
  {
    memberId: 'zoe',
    id: 'grant-zoe-notion',
    appId: 'A-notion',
    appName: 'Notion',
    scopes: ['channels:history', 'search:read'],
    grantedAt: '2024-01-05T09:00:00Z',
    grantedBy: 'zoe',
    target: 'globex',
    history: [{ at: '2024-01-05T09:00:00Z', change: 'added', actorId: 'zoe', scopes: ['channels:history', 'search:read'] }],
  },
];

const date = (iso: string | undefined): Date | undefined => (iso === undefined ? undefined : new Date(iso));

function toEvent(seed: GrantEventSeed): GrantEvent {
  const event: GrantEvent = { at: new Date(seed.at), change: seed.change };
  if (seed.actorId !== undefined) event.actorId = seed.actorId;
  if (seed.scopes !== undefined) event.scopes = [...seed.scopes];
  if (seed.reason !== undefined) event.reason = seed.reason;
  return event;
}

function toGrant(seed: GrantSeed): Grant {
  const grant: Grant = { id: seed.id, appId: seed.appId, appName: seed.appName, scopes: [...seed.scopes] };
  const optional = {
    grantedAt: date(seed.grantedAt),
    grantedBy: seed.grantedBy,
    expiresAt: date(seed.expiresAt),
    revokedAt: date(seed.revokedAt),
    target: seed.target,
    history: seed.history?.map(toEvent),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) Object.assign(grant, { [key]: value });
  }
  return grant;
}

/** Each member's grants, freshly built: the workspace owns and may change them. */
export function buildGrants(): Map<string, Grant[]> {
  const byMember = new Map<string, Grant[]>();
  for (const seed of GRANT_SEEDS) {
    const list = byMember.get(seed.memberId) ?? [];
    list.push(toGrant(seed));
    byMember.set(seed.memberId, list);
  }
  return byMember;
}
