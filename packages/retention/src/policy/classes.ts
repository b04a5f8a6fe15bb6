import { parseDuration } from './duration.js';

/** What happens when a retention period ends. */
export type RetentionAction = 'delete' | 'crypto-shred';

/** One retention class: how long objects of this class are kept, and how they are destroyed. */
export interface RetentionClass {
  /** kebab-case identifier; appears in object keys, reasons and certificates. */
  name: string;
  /** ISO-8601 duration from the object's creation (its anchor). */
  duration: string;
  /**
   * `delete` removes the ciphertext. `crypto-shred` also destroys the subject's key, so copies
   * of the ciphertext we cannot reach (backups, replicas, object versions) become unreadable.
   */
  action: RetentionAction;
  /** The legal ground for keeping (and for ending) — quoted in erasure certificates. */
  legalBasis: string;
  description: string;
}

/** Classes by name. Build with `defaultPolicies()` or `resolvePolicies(config)`. */
export type RetentionPolicies = ReadonlyMap<string, RetentionClass>;

/** The built-in classes: the defaults a deployment starts from before its config overrides. */
export const DEFAULT_CLASSES: readonly RetentionClass[] = Object.freeze([
  {
    name: 'export-download',
    duration: 'P30D',
    action: 'delete',
    legalBasis: 'GDPR Art. 5(1)(e) storage limitation; Art. 20 data portability (download window)',
    description: 'An export archive a member can download; deleted once the download window ends.',
  },
  {
    name: 'post-deletion-backup',
    duration: 'P180D',
    action: 'crypto-shred',
    legalBasis: 'GDPR Art. 5(1)(e) storage limitation; Art. 17 right to erasure (backup restore window)',
    description:
      'The encrypted backup kept after an account is deleted, to restore a wrongful deletion; its key is shredded at the end.',
  },
  {
    name: 'gdpr-appeal',
    duration: 'P60D',
    action: 'delete',
    legalBasis: 'GDPR Art. 17(3)(e) defence of legal claims while a request can be appealed; Art. 5(1)(e) storage limitation',
    description: 'Material kept while a data-subject request can still be appealed.',
  },
  {
    name: 'financial-audit-log',
    duration: 'P7Y',
    action: 'delete',
    legalBasis: 'GDPR Art. 6(1)(c) and 17(3)(b): statutory bookkeeping and tax record-keeping obligations',
    description: 'Audit records and billing evidence kept for statutory audit periods.',
  },
  {
    name: 'oauth-token',
    duration: 'P7D',
    action: 'delete',
    legalBasis: 'GDPR Art. 5(1)(c) data minimisation; Art. 32 security of processing',
    description: 'OAuth tokens and grants captured with an export; kept only as long as a retry may need them.',
  },
].map((c) => Object.freeze(c as RetentionClass)));

/** A fresh map of the built-in classes. */
export function defaultPolicies(): Map<string, RetentionClass> {
  const m = new Map<string, RetentionClass>();
  for (const c of DEFAULT_CLASSES) {
    parseDuration(c.duration);
    m.set(c.name, c);
  }
  return m;
}

/** kebab-case, so a class name is safe in an object key segment. */
export const CLASS_NAME_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
