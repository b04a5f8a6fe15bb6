import type { RetentionAction } from '../policy/classes.js';
import { ERASURE_NAMESPACE } from './erasure-certificate-xsd.js';

/** Where certificates are stored: `certificates/<id>.xml`. */
export const CERTIFICATES_PREFIX = 'certificates/';

export interface CertificateRule {
  class: string;
  duration: string;
  action: RetentionAction;
  legalBasis: string;
  /** The retain-until that ended (ISO-8601). */
  retainedUntil?: string;
}

export interface CertificateLifecycle {
  rule: CertificateRule;
  /** ISO-8601 UTC. */
  dueSince: string;
  erasure: { at: string; method: RetentionAction; keyId?: string };
  /** `absent`: checked gone after destruction; `unverified`: no way to check (stated, not hidden). */
  postCheck: { result: 'absent' | 'unverified'; method: 'list' | 'head' | 'key-ring' | 'none'; checkedAt: string };
}

export interface DestroyedObjectEntry extends CertificateLifecycle {
  kind: 'object';
  key: string;
  bytes: number;
  version?: string;
  /** SHA-256 hex of the ciphertext, when it was known. */
  sha256?: string;
}

export interface DestroyedKeyEntry extends CertificateLifecycle {
  kind: 'cryptoKey';
  subjectRef: string;
  keyId: string;
}

export interface ErasureCertificate {
  id: string;
  /** ISO-8601 UTC. */
  issuedAt: string;
  run: { id: string; batch?: number };
  actor: string;
  subjectRef?: string;
  holdCheck: { checkedAt: string; activeHolds: number };
  destroyed: (DestroyedObjectEntry | DestroyedKeyEntry)[];
  /** The audit record that logged this destruction. */
  audit: { seq: number; hash: string };
}

/** XML-escape text and attribute values; drop characters XML 1.0 cannot carry. */
export function escapeXml(s: string): string {
  return s
    // XML 1.0 has no way to carry these, even escaped.
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function attrs(pairs: Record<string, string | number | undefined>): string {
  let out = '';
  for (const [k, v] of Object.entries(pairs)) if (v !== undefined) out += ` ${k}="${escapeXml(String(v))}"`;
  return out;
}

function lifecycle(e: CertificateLifecycle, indent: string): string {
  const r = e.rule;
  return [
    `${indent}<rule${attrs({ class: r.class, duration: r.duration, action: r.action, retainedUntil: r.retainedUntil })}>`,
    `${indent}  <legalBasis>${escapeXml(r.legalBasis)}</legalBasis>`,
    `${indent}</rule>`,
    `${indent}<dueSince>${escapeXml(e.dueSince)}</dueSince>`,
    `${indent}<erasure${attrs({ at: e.erasure.at, method: e.erasure.method, keyId: e.erasure.keyId })}/>`,
    `${indent}<postCheck${attrs({ result: e.postCheck.result, method: e.postCheck.method, checkedAt: e.postCheck.checkedAt })}/>`,
  ].join('\n');
}

/** The certificate as an XML document valid against ERASURE_CERTIFICATE_XSD. */
export function renderErasureCertificate(c: ErasureCertificate): string {
  const lines: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<erasureCertificate xmlns="${ERASURE_NAMESPACE}"${attrs({ schemaVersion: 1, id: c.id, issuedAt: c.issuedAt })}>`,
    `  <run${attrs({ id: c.run.id, batch: c.run.batch })}/>`,
    `  <actor>${escapeXml(c.actor)}</actor>`,
  ];
  if (c.subjectRef !== undefined) lines.push(`  <subject${attrs({ ref: c.subjectRef })}/>`);
  lines.push(`  <holdCheck${attrs({ checkedAt: c.holdCheck.checkedAt, activeHolds: c.holdCheck.activeHolds, result: 'clear' })}/>`);
  lines.push('  <destroyed>');
  for (const d of c.destroyed) {
    if (d.kind === 'object') {
      lines.push(`    <object${attrs({ key: d.key, version: d.version, bytes: d.bytes, sha256: d.sha256 })}>`);
      lines.push(lifecycle(d, '      '));
      lines.push('    </object>');
    } else {
      lines.push(`    <cryptoKey${attrs({ subjectRef: d.subjectRef, keyId: d.keyId })}>`);
      lines.push(lifecycle(d, '      '));
      lines.push('    </cryptoKey>');
    }
  }
  lines.push('  </destroyed>');
  lines.push(`  <audit${attrs({ seq: c.audit.seq, hash: c.audit.hash })}/>`);
  lines.push('</erasureCertificate>', '');
  return lines.join('\n');
}

export function certificateKey(id: string, prefix = CERTIFICATES_PREFIX): string {
  return `${prefix}${id}.xml`;
}
