import { Command } from '@commander-js/extra-typings';
import { HandoverError, InputError, NotFoundError, type AuditListFilter, type AuditRecord } from '@handover/core';
import { listCertificates, readCertificate } from '@handover/retention';
import { openAudit } from '../audit.js';
import { createContext, type GlobalOptions } from '../context.js';
import { createOutput, formatBytes, table } from '../output.js';
import { openConfiguredStore, openKeyRing } from '../store-context.js';
import type { RunEnv } from '../run-env.js';

const CERT_ID = /^[A-Za-z0-9._-]{1,200}$/;

/** `--since`: a sequence number (`42`) or an ISO-8601 date or time. */
function parseSince(text: string): Date | number {
  if (/^\d+$/.test(text)) return Number(text);
  const t = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(t)) throw new InputError(`--since '${text}' is neither a record number nor an ISO-8601 date (e.g. 2026-01-31 or 2026-01-31T12:00:00Z)`, { exitCode: 2 });
  return new Date(t);
}

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function auditCommand(env: RunEnv): Command<[], Record<string, unknown>> {
  const audit = new Command('audit').description('the hash-chained audit log and the erasure certificates');

  audit
    .command('verify')
    .description('check the whole audit chain; names the first edited, deleted, inserted or reordered record')
    .option('--expected-head <seq:hash>', 'also detect truncation: the head quoted elsewhere (a certificate, a report)')
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      let expectedHead: { seq: number; hash: string } | undefined;
      if (opts.expectedHead !== undefined) {
        const m = /^(\d+):([0-9a-f]{64})$/.exec(opts.expectedHead);
        if (!m) throw new InputError(`--expected-head '${opts.expectedHead}' must be <seq>:<64 hex digits>`, { exitCode: 2 });
        expectedHead = { seq: Number(m[1]), hash: m[2]! };
      }
      const sc = openConfiguredStore(ctx);
      const r = await openAudit(sc).verify(expectedHead ? { expectedHead } : {});
      out.result(r, () =>
        r.ok
          ? `audit log intact: ${r.records} records${r.head ? `, head ${r.head.seq}:${r.head.hash}` : ''}`
          : `audit log BROKEN at record ${r.firstBad!.seq} (${r.firstBad!.key}): ${r.firstBad!.problem}: ${r.firstBad!.detail}\n${r.records} records before it are intact`,
      );
      if (!r.ok) {
        const bad = r.firstBad!;
        throw new HandoverError('E_AUDIT_BROKEN', `audit record ${bad.seq} (${bad.key}) is ${bad.problem}: ${bad.detail}`, { reported: true });
      }
    });

  audit
    .command('list')
    .description('audit records in order, filtered')
    .option('--since <date|seq>', 'records from this record number, or at or after this date')
    .option('--subject <id>', 'records about this subject (member id; matched by its subject ref, needs the master key)')
    .option('--subject-ref <ref>', 'records about this subject ref')
    .option('--action <action>', 'records of this action, e.g. retention.purge, hold.add, export')
    .option('--master-key-file <file>', 'file holding the master key, for --subject (env HANDOVER_MASTER_KEY)')
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      if (opts.subject !== undefined && opts.subjectRef !== undefined) throw new InputError('give --subject or --subject-ref, not both', { exitCode: 2 });
      const filter: AuditListFilter = {};
      if (opts.since !== undefined) filter.since = parseSince(opts.since);
      if (opts.action !== undefined) filter.action = opts.action;
      const sc = openConfiguredStore(ctx);
      if (opts.subjectRef !== undefined) filter.subjectRef = opts.subjectRef;
      if (opts.subject !== undefined) {
        const ring = await openKeyRing(ctx, sc, opts.masterKeyFile ? { file: opts.masterKeyFile } : {});
        filter.subjectRef = ring.subjectRef(opts.subject);
      }
      // A purge batch's record names several subjects in details.subjects (subjectRef only
      // when there is one): filter on both here rather than on the record's subjectRef alone.
      const subjectRef = filter.subjectRef;
      delete filter.subjectRef;
      const records: AuditRecord[] = [];
      for await (const rec of openAudit(sc).list(filter)) {
        if (subjectRef !== undefined && rec.subjectRef !== subjectRef) {
          const subjects = rec.details['subjects'];
          if (!Array.isArray(subjects) || !subjects.includes(subjectRef)) continue;
        }
        records.push(rec);
      }
      out.result({ records }, () =>
        records.length === 0
          ? 'no audit records match'
          : table(
              ['SEQ', 'TIME', 'ACTOR', 'ACTION', 'OUTCOME', 'TARGET', 'REASON'],
              records.map((r) => [String(r.seq), r.time.slice(0, 19), r.actor, r.action, r.outcome, clip(r.target, 60), clip(r.reason, 80)]),
            ),
      );
    });

  audit
    .command('certificate')
    .description('print an erasure certificate (XML)')
    .argument('<id>', 'the certificate id, as listed by `handover audit certificates`')
    .option('--json', 'print {id, xml} as one JSON document', false)
    .action(async (idArg, opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      const id = idArg.replace(/^certificates\//, '').replace(/\.xml$/, '');
      if (!CERT_ID.test(id)) throw new InputError(`'${idArg}' is not a certificate id`, { exitCode: 2 });
      const sc = openConfiguredStore(ctx);
      // Its own document, or its entry in its purge batch's document, printed standalone.
      const xml = await readCertificate(sc.store, id);
      if (xml === undefined) {
        throw new NotFoundError(`no erasure certificate '${id}' in ${ctx.storeLocation}; list them with: handover audit certificates`, { code: 'E_CERTIFICATE_NOT_FOUND' });
      }
      if (opts.json) out.result({ id, xml }, () => xml);
      else env.stdout.write(xml.endsWith('\n') ? xml : `${xml}\n`);
    });

  audit
    .command('certificates')
    .description('list the erasure certificates')
    .option('--run <runId>', 'only those of one retention run')
    .option('--json', 'print one JSON document on stdout', false)
    .action(async (opts, cmd) => {
      const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions, env.env);
      const out = createOutput(opts.json, env.stdout, env.stderr);
      const sc = openConfiguredStore(ctx);
      const certificates: { id: string; key: string; bytes: number; lastModified: string }[] = [];
      // One per subject per batch; a batch's certificates share one document (`key`, `bytes`).
      for await (const c of listCertificates(sc.store, opts.run === undefined ? {} : { run: opts.run })) {
        certificates.push({ id: c.id, key: c.key, bytes: c.bytes, lastModified: c.lastModified.toISOString() });
      }
      out.result({ certificates }, () =>
        certificates.length === 0
          ? 'no erasure certificates'
          : table(['CERTIFICATE', 'SIZE', 'WRITTEN'], certificates.map((c) => [c.id, formatBytes(c.bytes), c.lastModified.slice(0, 19)])),
      );
    });
  return audit;
}
