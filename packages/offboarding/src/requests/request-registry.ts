import { randomUUID } from 'node:crypto';
import { systemClock, type AuditLog, type Clock, type Store } from '@handover/core';
import { addDuration, defaultPolicies, REQUEST_RECORD_CLASS, REQUEST_RECORDS_PREFIX, type RetentionPolicies } from '@handover/retention';
import { z } from 'zod';
import { RequestError } from '../errors.js';
import { readJsonObject, writeJsonObject } from '../json-object.js';
import { calendarDay, daysLeft, dueDateFor, isOverdue, MAX_EXTENSION_MONTHS, parseReceived } from './due-dates.js';

/*
 * ## Data-subject requests: requests/<uuid>.json
 *
 * Closed records are destroyed by the retention run once their appeal window has ended
 * (see @handover/retention's request-records.ts), unless a hold covers their subject.
 *
 * One JSON document per request, keyed by a random UUID. The document names its subject
 * (`subjectId`): it is the legal record of the request and the admin must know whom it is
 * about; the store is access-controlled. Keys never name the subject, since they appear in
 * listings, logs and S3 access logs; audit records carry the pseudonymous subjectRef only.
 *
 * Updates (extend, close, link an archive) read, change and rewrite the document. The
 * Store port has no compare-and-swap, so two admins changing the same request at the same
 * instant can lose one change; requests are handled by one person at a time in practice.
 */

export const REQUEST_TYPES = ['access', 'portability', 'erasure'] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

export const REQUEST_OUTCOMES = ['fulfilled', 'refused', 'withdrawn'] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

/** Where the records live; the retention planner reads closed ones there (request-records.ts). */
export const REQUESTS_PREFIX = REQUEST_RECORDS_PREFIX;
/**
 * The retention class of a closed request: kept while it can be appealed, then purged by the
 * retention run (unless a hold covers its subject), with an erasure certificate.
 */
export const GDPR_APPEAL_CLASS = REQUEST_RECORD_CLASS;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const isoTime = z.string().refine((s) => Number.isFinite(Date.parse(s)), 'must be an ISO-8601 time');
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

export const requestSchema = z.object({
  version: z.literal(1),
  id: z.string().regex(UUID),
  type: z.enum(REQUEST_TYPES),
  subjectId: z.string().min(1),
  subjectRef: z.string().optional(),
  reason: z.string(),
  receivedAt: isoTime,
  openedAt: isoTime,
  openedBy: z.string(),
  /** The day the answer is due (UTC), extensions included. */
  dueDate: day,
  extensions: z.array(
    z.object({
      months: z.number().int().positive(),
      reason: z.string(),
      actor: z.string(),
      at: isoTime,
      dueDate: day,
      /** Recorded after the first month: Art. 12(3) wants the subject told within it. */
      late: z.boolean(),
    }),
  ),
  status: z.enum(['open', 'closed']),
  closedAt: isoTime.optional(),
  closedBy: z.string().optional(),
  outcome: z.enum(REQUEST_OUTCOMES).optional(),
  closeNote: z.string().optional(),
  /** End of the appeal window (closedAt + the gdpr-appeal class duration, 60 days by default). */
  appealUntil: isoTime.optional(),
  retentionClass: z.string().optional(),
  archives: z.array(
    z.object({
      key: z.string().min(1),
      shareUrl: z.string().optional(),
      shareExpiresAt: isoTime.optional(),
      linkedAt: isoTime,
      actor: z.string(),
    }),
  ),
});

export type DataSubjectRequest = z.infer<typeof requestSchema>;

/** A request as listed: the stored record plus where it stands today. */
export type RequestView = DataSubjectRequest & {
  /** Open and past its due day. */
  overdue: boolean;
  /** Days until the due day (0: due today; negative: overdue). */
  daysLeft: number;
};

export interface RequestRegistryOptions {
  /** Default: the system clock. */
  clock?: Clock;
  /** When given, every open, extension, closing and archive link is recorded. */
  audit?: AuditLog;
  /** Pseudonymous ref of a subject (the key ring's `subjectRef`), for audit records and the request. */
  subjectRefOf?: (subjectId: string) => string;
  /** Where the gdpr-appeal duration comes from. Default: the built-in classes (60 days). */
  policies?: RetentionPolicies;
  /** Default `requests/`. */
  prefix?: string;
}

export interface OpenRequestInput {
  /** The member the request is about (id in the source, or as the subject named themself). */
  subjectId: string;
  type: RequestType;
  /** How it came in and what it asks: recorded and audited. */
  reason: string;
  /** Day (YYYY-MM-DD) or time of receipt. Default: now. Deadlines count from it. */
  receivedAt?: Date | string;
  actor: string;
}

export interface ExtendRequestInput {
  /** 1 or 2; all extensions together at most 2 (three months from receipt). */
  months: number;
  reason: string;
  actor: string;
}

export interface CloseRequestInput {
  actor: string;
  outcome: RequestOutcome;
  note?: string;
}

export interface LinkArchiveInput {
  /** Key of the archive in the store. */
  key: string;
  /** A download link (S3 presigned URL) handed to the subject. */
  shareUrl?: string;
  shareExpiresAt?: Date;
  actor: string;
}

/** What fulfilling a request of this type means. */
export interface Fulfilment {
  kind: 'export' | 'offboard';
  /** Export scope: everything the subject took part in (access), or what they provided (portability). */
  scope?: 'participant' | 'authored';
  legalBasis: string;
}

/** access → export (participant scope, Art. 15); portability → export (authored, Art. 20); erasure → offboard (Art. 17). */
export function fulfilmentFor(type: RequestType): Fulfilment {
  switch (type) {
    case 'access':
      return { kind: 'export', scope: 'participant', legalBasis: 'GDPR Art. 15 (right of access)' };
    case 'portability':
      return { kind: 'export', scope: 'authored', legalBasis: 'GDPR Art. 20 (right to data portability)' };
    case 'erasure':
      return { kind: 'offboard', legalBasis: 'GDPR Art. 17 (right to erasure)' };
  }
}

const text = (value: unknown, message: string): string => {
  if (typeof value !== 'string' || value.trim() === '') throw new RequestError('E_REQUEST_INPUT', message, { exitCode: 2 });
  return value.trim();
};

/** Data-subject requests kept in a Store. */
export class RequestRegistry {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #audit: AuditLog | undefined;
  readonly #refOf: ((subjectId: string) => string) | undefined;
  readonly #policies: RetentionPolicies;
  readonly #prefix: string;

  constructor(store: Store, options: RequestRegistryOptions = {}) {
    this.#store = store;
    this.#clock = options.clock ?? systemClock;
    this.#audit = options.audit;
    this.#refOf = options.subjectRefOf;
    this.#policies = options.policies ?? defaultPolicies();
    this.#prefix = options.prefix ?? REQUESTS_PREFIX;
  }

  #key(id: string): string {
    return `${this.#prefix}${id}.json`;
  }

  /** Record a new request; its due date is one calendar month after receipt. */
  async open(input: OpenRequestInput): Promise<RequestView> {
    const subjectId = text(input.subjectId, 'a request needs its subject (--subject <member id>)');
    const reason = text(input.reason, 'a request needs a reason (--reason): how it came in and what it asks');
    const actor = text(input.actor, 'a request needs an actor (who records it)');
    if (!REQUEST_TYPES.includes(input.type)) {
      throw new RequestError('E_REQUEST_INPUT', `request type '${String(input.type)}' is unknown: use ${REQUEST_TYPES.join(', ')}`, { exitCode: 2 });
    }
    const now = this.#clock.now();
    const receivedAt = input.receivedAt === undefined ? now : parseReceived(input.receivedAt);
    // A day of receipt may be "today" in a timezone ahead of UTC; anything later is a typo.
    if (receivedAt.getTime() > now.getTime() + 86_400_000) {
      throw new RequestError('E_REQUEST_INPUT', `the request cannot have been received on ${calendarDay(receivedAt)}, after today (${calendarDay(now)})`, {
        exitCode: 2,
      });
    }
    const subjectRef = this.#refOf?.(subjectId);
    const request: DataSubjectRequest = {
      version: 1,
      id: randomUUID(),
      type: input.type,
      subjectId,
      ...(subjectRef === undefined ? {} : { subjectRef }),
      reason,
      receivedAt: receivedAt.toISOString(),
      openedAt: now.toISOString(),
      openedBy: actor,
      dueDate: dueDateFor(receivedAt),
      extensions: [],
      status: 'open',
      archives: [],
    };
    await writeJsonObject(this.#store, this.#key(request.id), request, { create: true });
    await this.#record('request.open', request, actor, reason, { type: request.type, receivedAt: request.receivedAt, dueDate: request.dueDate });
    return this.#view(request);
  }

  /** A request by id, or by a prefix of its id that only it has (as listings show). */
  async find(idOrPrefix: string): Promise<RequestView | undefined> {
    const wanted = idOrPrefix.trim().toLowerCase();
    if (UUID.test(wanted)) {
      const r = await readJsonObject(this.#store, this.#key(wanted), requestSchema, 'request');
      return r === undefined ? undefined : this.#view(r);
    }
    if (!/^[0-9a-f-]{4,}$/.test(wanted)) return undefined;
    const matches: string[] = [];
    for await (const e of this.#store.list(`${this.#prefix}${wanted}`)) {
      const id = e.key.slice(this.#prefix.length).replace(/\.json$/, '');
      if (UUID.test(id)) matches.push(id);
    }
    if (matches.length > 1) {
      throw new RequestError('E_REQUEST_AMBIGUOUS', `'${idOrPrefix}' matches ${matches.length} requests (${matches.join(', ')}): give more of the id`, {
        exitCode: 2,
      });
    }
    return matches[0] === undefined ? undefined : this.find(matches[0]);
  }

  /** Like find, but throws E_REQUEST_NOT_FOUND. */
  async get(idOrPrefix: string): Promise<RequestView> {
    const r = await this.find(idOrPrefix);
    if (r === undefined) throw new RequestError('E_REQUEST_NOT_FOUND', `no request '${idOrPrefix}'; list them with 'handover request list'`);
    return r;
  }

  /** Requests by due date (soonest first). `overdue`: open ones past their due day only. */
  async list(filter: { overdue?: boolean; status?: 'open' | 'closed' } = {}): Promise<RequestView[]> {
    const out: RequestView[] = [];
    for await (const e of this.#store.list(this.#prefix)) {
      const id = e.key.slice(this.#prefix.length).replace(/\.json$/, '');
      if (!UUID.test(id) || !e.key.endsWith('.json')) continue;
      const r = await readJsonObject(this.#store, e.key, requestSchema, 'request');
      if (r === undefined) continue;
      const view = this.#view(r);
      if (filter.status !== undefined && view.status !== filter.status) continue;
      if (filter.overdue === true && !view.overdue) continue;
      out.push(view);
    }
    return out.sort((a, b) => a.dueDate.localeCompare(b.dueDate) || a.receivedAt.localeCompare(b.receivedAt) || a.id.localeCompare(b.id));
  }

  /**
   * Extend the deadline by 1 or 2 months. All extensions together stay within two months,
   * so the answer is never due later than three months after receipt. The new due date
   * counts from receipt (31 Jan + 3 months = 30 Apr), not from the previous due date.
   */
  async extend(idOrPrefix: string, input: ExtendRequestInput): Promise<RequestView & { late: boolean }> {
    const reason = text(input.reason, 'an extension needs a reason (--reason): Art. 12(3) requires telling the subject why');
    const actor = text(input.actor, 'an extension needs an actor');
    if (input.months !== 1 && input.months !== 2) {
      throw new RequestError('E_REQUEST_INPUT', `an extension is 1 or 2 months (--months 1|2), not ${String(input.months)}`, { exitCode: 2 });
    }
    const request = await this.get(idOrPrefix);
    this.#requireOpen(request, 'extend');
    const already = request.extensions.reduce((a, e) => a + e.months, 0);
    const receivedAt = new Date(request.receivedAt);
    if (already + input.months > MAX_EXTENSION_MONTHS) {
      const left = MAX_EXTENSION_MONTHS - already;
      throw new RequestError(
        'E_REQUEST_EXTENSION_LIMIT',
        `request ${request.id} is already extended by ${already} month${already === 1 ? '' : 's'} (due ${request.dueDate}); another ${input.months} would go beyond three months from receipt (${dueDateFor(receivedAt, MAX_EXTENSION_MONTHS)}): ${left > 0 ? `extend by at most ${left}` : 'it cannot be extended any further'}`,
        { exitCode: 2 },
      );
    }
    const now = this.#clock.now();
    const late = isOverdue(dueDateFor(receivedAt), now);
    const dueDate = dueDateFor(receivedAt, already + input.months);
    const updated: DataSubjectRequest = {
      ...strip(request),
      dueDate,
      extensions: [...request.extensions, { months: input.months, reason, actor, at: now.toISOString(), dueDate, late }],
    };
    await writeJsonObject(this.#store, this.#key(updated.id), updated);
    await this.#record('request.extend', updated, actor, reason, { months: input.months, dueDate, late });
    return { ...this.#view(updated), late };
  }

  /** Close the request; the appeal window (gdpr-appeal, 60 days by default) starts now. */
  async close(idOrPrefix: string, input: CloseRequestInput): Promise<RequestView> {
    const actor = text(input.actor, 'closing a request needs an actor');
    if (!REQUEST_OUTCOMES.includes(input.outcome)) {
      throw new RequestError('E_REQUEST_INPUT', `outcome '${String(input.outcome)}' is unknown: use ${REQUEST_OUTCOMES.join(', ')}`, { exitCode: 2 });
    }
    const request = await this.get(idOrPrefix);
    this.#requireOpen(request, 'close');
    const now = this.#clock.now();
    const appeal = this.#policies.get(GDPR_APPEAL_CLASS);
    const appealUntil = addDuration(now, appeal?.duration ?? 'P60D');
    const note = input.note?.trim();
    const updated: DataSubjectRequest = {
      ...strip(request),
      status: 'closed',
      closedAt: now.toISOString(),
      closedBy: actor,
      outcome: input.outcome,
      ...(note ? { closeNote: note } : {}),
      appealUntil: appealUntil.toISOString(),
      retentionClass: GDPR_APPEAL_CLASS,
    };
    await writeJsonObject(this.#store, this.#key(updated.id), updated, {
      tags: { class: GDPR_APPEAL_CLASS },
      metadata: { 'retention-class': GDPR_APPEAL_CLASS, 'appeal-until': updated.appealUntil! },
    });
    await this.#record('request.close', updated, actor, note || `closed: ${input.outcome}`, { outcome: input.outcome, appealUntil: updated.appealUntil });
    return this.#view(updated);
  }

  /** Link the archive that answers the request (and the link handed to the subject). */
  async linkArchive(idOrPrefix: string, input: LinkArchiveInput): Promise<RequestView> {
    const key = text(input.key, 'linking an archive needs its key');
    const actor = text(input.actor, 'linking an archive needs an actor');
    const request = await this.get(idOrPrefix);
    const now = this.#clock.now();
    const updated: DataSubjectRequest = {
      ...strip(request),
      archives: [
        ...request.archives.filter((a) => a.key !== key),
        {
          key,
          ...(input.shareUrl === undefined ? {} : { shareUrl: input.shareUrl }),
          ...(input.shareExpiresAt === undefined ? {} : { shareExpiresAt: input.shareExpiresAt.toISOString() }),
          linkedAt: now.toISOString(),
          actor,
        },
      ],
    };
    await writeJsonObject(this.#store, this.#key(updated.id), updated);
    // The share link is a bearer credential: the audit log records that one exists, not the link.
    await this.#record('request.link-archive', updated, actor, `archive linked to the ${request.type} request`, { key, shared: input.shareUrl !== undefined });
    return this.#view(updated);
  }

  #requireOpen(request: DataSubjectRequest, what: string): void {
    if (request.status === 'closed') {
      throw new RequestError('E_REQUEST_CLOSED', `cannot ${what} request ${request.id}: it was closed on ${request.closedAt ?? '?'} (${request.outcome ?? 'no outcome'})`);
    }
  }

  #view(request: DataSubjectRequest): RequestView {
    const now = this.#clock.now();
    return { ...request, overdue: request.status === 'open' && isOverdue(request.dueDate, now), daysLeft: daysLeft(request.dueDate, now) };
  }

  async #record(action: string, request: DataSubjectRequest, actor: string, reason: string, details: Record<string, unknown>): Promise<void> {
    await this.#audit?.append({
      actor,
      action,
      target: request.id,
      ...(request.subjectRef === undefined ? {} : { subjectRef: request.subjectRef }),
      reason,
      outcome: 'success',
      details,
    });
  }
}

/** The stored part of a view. */
function strip(view: RequestView | DataSubjectRequest): DataSubjectRequest {
  const { overdue: _o, daysLeft: _d, ...rest } = view as RequestView;
  return rest;
}
