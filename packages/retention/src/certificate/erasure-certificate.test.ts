import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderErasureCertificate, type ErasureCertificate } from './erasure-certificate.js';
import { ERASURE_CERTIFICATE_XSD, ERASURE_NAMESPACE } from './erasure-certificate-xsd.js';

const HASH = 'a'.repeat(64);

const cert: ErasureCertificate = {
  id: 'run-20240701T020000Z-0a1b2c3d-b000001-3f2a9c1b0d4e',
  issuedAt: '2024-07-01T02:00:05.000Z',
  run: { id: 'run-20240701T020000Z-0a1b2c3d', batch: 1 },
  actor: 'retention-worker@host <ops & "legal">',
  subjectRef: 's-7f3a9c',
  holdCheck: { checkedAt: '2024-07-01T02:00:00.000Z', activeHolds: 2 },
  destroyed: [
    {
      kind: 'object',
      key: 'archives/20240301/export-download/s-7f3a9c/20240131T101500Z-01HQ7Z.zip.age',
      bytes: 123456,
      version: '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY',
      sha256: 'b'.repeat(64),
      rule: { class: 'export-download', duration: 'P30D', action: 'delete', legalBasis: 'GDPR Art. 5(1)(e) storage limitation', retainedUntil: '2024-03-01T10:15:00.000Z' },
      dueSince: '2024-03-01T10:15:00.000Z',
      erasure: { at: '2024-07-01T02:00:03.000Z', method: 'delete' },
      postCheck: { result: 'absent', method: 'list', checkedAt: '2024-07-01T02:00:04.000Z' },
    },
    {
      kind: 'cryptoKey',
      subjectRef: 's-7f3a9c',
      keyId: 'age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq',
      rule: { class: 'post-deletion-backup', duration: 'P180D', action: 'crypto-shred', legalBasis: 'GDPR Art. 17' },
      dueSince: '2024-06-29T00:00:00.000Z',
      erasure: { at: '2024-07-01T02:00:04.000Z', method: 'crypto-shred', keyId: 'age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq' },
      postCheck: { result: 'unverified', method: 'none', checkedAt: '2024-07-01T02:00:04.000Z' },
    },
  ],
  audit: { seq: 42, hash: HASH },
};

function xmllint(xml: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'handover-cert-'));
  try {
    writeFileSync(join(dir, 'erasure-certificate.xsd'), ERASURE_CERTIFICATE_XSD);
    writeFileSync(join(dir, 'cert.xml'), xml);
    const r = spawnSync('xmllint', ['--noout', '--schema', join(dir, 'erasure-certificate.xsd'), join(dir, 'cert.xml')], {
      encoding: 'utf8',
    });
    if (r.error !== undefined) throw r.error;
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('erasure certificate', () => {
  it('validates against its XSD with xmllint', () => {
    const xml = renderErasureCertificate(cert);
    const r = xmllint(xml);
    expect(r.output).toMatch(/validates/);
    expect(r.ok).toBe(true);
  });

  it('says what, under which rule, when due, when and how destroyed, the checks, who, and the audit hash', () => {
    const xml = renderErasureCertificate(cert);
    expect(xml).toContain(`<erasureCertificate xmlns="${ERASURE_NAMESPACE}" schemaVersion="1"`);
    expect(xml).toContain('key="archives/20240301/export-download/s-7f3a9c/20240131T101500Z-01HQ7Z.zip.age"');
    expect(xml).toContain(`sha256="${'b'.repeat(64)}"`);
    expect(xml).toContain('<legalBasis>GDPR Art. 5(1)(e) storage limitation</legalBasis>');
    expect(xml).toContain('<dueSince>2024-03-01T10:15:00.000Z</dueSince>');
    expect(xml).toContain('<erasure at="2024-07-01T02:00:04.000Z" method="crypto-shred" keyId="age1');
    expect(xml).toContain('<postCheck result="absent" method="list" checkedAt="2024-07-01T02:00:04.000Z"/>');
    expect(xml).toContain('<holdCheck checkedAt="2024-07-01T02:00:00.000Z" activeHolds="2" result="clear"/>');
    expect(xml).toContain('<actor>retention-worker@host &lt;ops &amp; &quot;legal&quot;&gt;</actor>');
    expect(xml).toContain(`<audit seq="42" hash="${HASH}"/>`);
  });

  it('the schema rejects a certificate that lacks the audit hash or has a bad duration', () => {
    const xml = renderErasureCertificate(cert);
    expect(xmllint(xml.replace(/\s*<audit [^>]*\/>/, '')).ok).toBe(false);
    expect(xmllint(xml.replace('duration="P30D"', 'duration="30 days"')).ok).toBe(false);
    expect(xmllint(xml.replace('method="delete"', 'method="burn"')).ok).toBe(false);
  });

  it('the XSD for humans (schema/erasure-certificate.xsd) equals the embedded one', () => {
    const path = fileURLToPath(new URL('../../schema/erasure-certificate.xsd', import.meta.url));
    expect(readFileSync(path, 'utf8')).toBe(ERASURE_CERTIFICATE_XSD);
  });
});
