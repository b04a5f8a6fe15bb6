import { readObject, type Store } from '@handover/core';
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

/** One `<erasureCertificate>` element (with its namespace, so it also stands alone), indented by `indent`. */
function renderElement(c: ErasureCertificate, indent: string): string[] {
  const lines: string[] = [
    `${indent}<erasureCertificate xmlns="${ERASURE_NAMESPACE}"${attrs({ schemaVersion: 1, id: c.id, issuedAt: c.issuedAt })}>`,
    `${indent}  <run${attrs({ id: c.run.id, batch: c.run.batch })}/>`,
    `${indent}  <actor>${escapeXml(c.actor)}</actor>`,
  ];
  if (c.subjectRef !== undefined) lines.push(`${indent}  <subject${attrs({ ref: c.subjectRef })}/>`);
  lines.push(`${indent}  <holdCheck${attrs({ checkedAt: c.holdCheck.checkedAt, activeHolds: c.holdCheck.activeHolds, result: 'clear' })}/>`);
  lines.push(`${indent}  <destroyed>`);
  for (const d of c.destroyed) {
    if (d.kind === 'object') {
      lines.push(`${indent}    <object${attrs({ key: d.key, version: d.version, bytes: d.bytes, sha256: d.sha256 })}>`);
      lines.push(lifecycle(d, `${indent}      `));
      lines.push(`${indent}    </object>`);
    } else {
      lines.push(`${indent}    <cryptoKey${attrs({ subjectRef: d.subjectRef, keyId: d.keyId })}>`);
      lines.push(lifecycle(d, `${indent}      `));
      lines.push(`${indent}    </cryptoKey>`);
    }
  }
  lines.push(`${indent}  </destroyed>`);
  lines.push(`${indent}  <audit${attrs({ seq: c.audit.seq, hash: c.audit.hash })}/>`);
  lines.push(`${indent}</erasureCertificate>`);
  return lines;
}

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/** The certificate as an XML document valid against ERASURE_CERTIFICATE_XSD. */
export function renderErasureCertificate(c: ErasureCertificate): string {
  return [XML_DECLARATION, ...renderElement(c, ''), ''].join('\n');
}

/**
 * A purge batch's certificates, one per subject, as one `<erasureCertificates>` document
 * (valid against ERASURE_CERTIFICATE_XSD). Each certificate keeps its own id; see
 * extractCertificate.
 */
export function renderErasureCertificateBatch(batch: { id: string; issuedAt: string; certificates: readonly ErasureCertificate[] }): string {
  const lines = [XML_DECLARATION, `<erasureCertificates xmlns="${ERASURE_NAMESPACE}"${attrs({ schemaVersion: 1, id: batch.id, issuedAt: batch.issuedAt })}>`];
  for (const c of batch.certificates) lines.push(...renderElement(c, '  '));
  lines.push('</erasureCertificates>', '');
  return lines.join('\n');
}

/** The ids of the certificates in a document (one for a single certificate, several for a batch). */
export function certificateIds(xml: string): string[] {
  return [...xml.matchAll(/<erasureCertificate xmlns="[^"]*" schemaVersion="1" id="([^"]+)"/g)].map((m) => m[1] as string);
}

/**
 * One certificate of a batch document, as a standalone document (valid against the XSD on
 * its own), or undefined when the document has no certificate with that id.
 */
export function extractCertificate(xml: string, id: string): string | undefined {
  const start = xml.indexOf(`<erasureCertificate xmlns="${ERASURE_NAMESPACE}" schemaVersion="1" id="${escapeXml(id)}"`);
  if (start < 0) return undefined;
  const close = '</erasureCertificate>';
  const end = xml.indexOf(close, start);
  if (end < 0) return undefined;
  const lineStart = xml.lastIndexOf('\n', start) + 1;
  const indent = xml.slice(lineStart, start);
  const body = xml
    .slice(start, end + close.length)
    .split('\n')
    .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
    .join('\n');
  return `${XML_DECLARATION}\n${body}\n`;
}

/** A batch document's id: `<runId>-b<batch 6 digits>`; its certificates' ids add `-<12 hex>`. */
export const batchCertificateId = (runId: string, batch: number): string => `${runId}-b${String(batch).padStart(6, '0')}`;

/** The batch document a per-subject certificate id lives in, if the id has that shape. */
export function batchOfCertificateId(id: string): string | undefined {
  const m = /^(.+-b\d{6})-[0-9a-f]{12}$/.exec(id);
  return m?.[1];
}

export function certificateKey(id: string, prefix = CERTIFICATES_PREFIX): string {
  return `${prefix}${id}.xml`;
}

async function readText(store: Store, key: string): Promise<string | undefined> {
  return (await readObject(store, key))?.toString('utf8');
}

/**
 * A certificate by id, as a standalone XML document: its own object, or its entry in its
 * batch's document. Undefined when there is none.
 */
export async function readCertificate(store: Store, id: string, prefix = CERTIFICATES_PREFIX): Promise<string | undefined> {
  const own = await readText(store, certificateKey(id, prefix));
  if (own !== undefined) return own;
  const batch = batchOfCertificateId(id);
  if (batch === undefined) return undefined;
  const doc = await readText(store, certificateKey(batch, prefix));
  return doc === undefined ? undefined : extractCertificate(doc, id);
}

export interface CertificateListing {
  id: string;
  /** The object it is stored in (a batch document holds several). */
  key: string;
  /** Size of that object. */
  bytes: number;
  lastModified: Date;
}

/**
 * Every certificate, by id: single documents as listed, batch documents read to name the
 * certificates inside (one GET per batch document). `run` keeps only one run's.
 */
export async function* listCertificates(store: Store, options: { run?: string; prefix?: string } = {}): AsyncIterable<CertificateListing> {
  const prefix = options.prefix ?? CERTIFICATES_PREFIX;
  for await (const e of store.list(options.run === undefined ? prefix : `${prefix}${options.run}-`)) {
    if (!e.key.endsWith('.xml')) continue;
    const id = e.key.slice(prefix.length, -'.xml'.length);
    if (!/-b\d{6}$/.test(id)) {
      yield { id, key: e.key, bytes: e.size, lastModified: e.lastModified };
      continue;
    }
    const doc = (await readText(store, e.key)) ?? '';
    for (const inner of certificateIds(doc)) yield { id: inner, key: e.key, bytes: e.size, lastModified: e.lastModified };
  }
}
