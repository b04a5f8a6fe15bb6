import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { NotFoundError } from '@handover/core';
import type { Conversation, FileRecord, Membership, Message } from '../source/domain.js';
import type { Source } from '../source/source.js';
import type { ArchivedFile, ExportContext, ExportRequest, ExportTotals, ExportView } from './view.js';
import { ZipSink, type ManifestEntry } from '../archive/zip-sink.js';
import { fileEntryName } from '../archive/entry-names.js';
import { isAlreadyCompressed } from '../archive/compression.js';
import { XmlView, type PartLimits } from '../xml/xml-view.js';
import { manifestEntryLine, renderManifestFrame, type Manifest, type ManifestCounts } from '../xml/manifest.js';
import { Pseudonymizer } from './pseudonymizer.js';

export const GENERATOR = { name: 'handover', version: '0.1.0' } as const;

/** Files queued in the zip before the exporter waits for the oldest: each open stream buffers up to ~200 KiB. */
const MAX_FILES_IN_FLIGHT = 16;

export interface ExportProgress {
  conversations: number;
  messages: number;
  files: number;
  /** Bytes of zip written so far. */
  bytes: number;
}

/** Makes the human-readable view; given the exporter's file path resolver. */
export type HtmlViewFactory = (resolveFilePath: (file: FileRecord) => string | undefined) => ExportView;

export interface ExportOptions {
  source: Source;
  /** Member id, or a username / email where the source supports them. */
  member: string;
  /** `participant` (default): every message in the member's conversations while they were in them. `authored`: only what the member wrote (GDPR Art. 20). */
  scope?: 'participant' | 'authored';
  /** Replace other people's ids and names by stable pseudonyms (keyed by `pseudonymKey`). */
  pseudonymizeOthers?: boolean;
  /** Secret for pseudonyms; required with `pseudonymizeOthers`. */
  pseudonymKey?: Uint8Array | string;
  /** In `participant` scope, include the bytes of files other people posted (default: metadata only). */
  includeSharedFiles?: boolean;
  /** The request this export answers; missing fields get defaults (`id`: a UUID). */
  request?: Partial<ExportRequest>;
  /** Creation time recorded in the archive; default now. */
  createdAt?: Date;
  /** Bounds of each XML document. */
  limits?: Partial<PartLimits>;
  /** zlib level for deflated entries (default 6). */
  level?: number;
  /** Adds the human-readable HTML pages. */
  htmlView?: HtmlViewFactory;
  onProgress?: (progress: ExportProgress) => void;
  signal?: AbortSignal;
}

export interface ExportSummary {
  manifest: Manifest;
  counts: ManifestCounts & { replacedCharacters: number };
}

/**
 * Streams one member's archive into `destination`, which must consume the zip stream
 * and resolve once the bytes are durably stored (or reject and leave nothing behind).
 * Memory stays bounded: one XML part, one file chunk, and small per-file bookkeeping.
 */
export async function exportMember<T>(options: ExportOptions, destination: (zip: Readable) => Promise<T>): Promise<ExportSummary & { destination: T }> {
  const { source } = options;
  const member = await source.findMember(options.member);
  if (!member) {
    throw new NotFoundError(`member '${options.member}' not found in source '${source.name}'; list members with 'handover demo members' or check the id, username or email`, { code: 'E_MEMBER_NOT_FOUND' });
  }
  const memberships: Membership[] = [];
  for await (const m of source.memberships(member.id)) memberships.push(m);

  const createdAt = options.createdAt ?? new Date();
  const scope = options.scope ?? 'participant';
  const request: ExportRequest = {
    id: options.request?.id ?? randomUUID(),
    reason: options.request?.reason ?? 'member-initiated export before account deletion',
    requester: options.request?.requester ?? member.id,
    legalBasis: options.request?.legalBasis ?? 'GDPR Art. 15 and Art. 20',
    scope,
  };
  if (options.pseudonymizeOthers && options.pseudonymKey === undefined) {
    throw new TypeError('pseudonymizeOthers needs a pseudonymKey');
  }
  const pseudo = options.pseudonymizeOthers ? new Pseudonymizer(options.pseudonymKey!, member.id) : undefined;

  const sink = new ZipSink({ level: options.level, date: createdAt, manifestLine: manifestEntryLine });
  const stored = destination(sink.output);
  // When the destination fails (the endpoint died, the disk is full) it stops reading, and
  // the zip would wait forever for it: stop writing, and report the destination's error,
  // which is the one that says what went wrong.
  let destinationError: unknown;
  stored.catch((err: unknown) => {
    destinationError = err;
    sink.abort(err instanceof Error ? err : new Error(String(err)));
  });

  const xml = new XmlView(options.limits);
  const filePaths = new Map<string, string | undefined>();
  const views: ExportView[] = [xml];
  if (options.htmlView) views.push(options.htmlView((f) => filePaths.get(f.id)));

  const totals: ExportTotals = { conversations: 0, messages: 0, files: 0, fileBytes: 0, grants: 0, replacedCharacters: 0 };
  let filesIncluded = 0;
  let fileSeq = 0;
  let pending: FileRecord[] = [];
  const progress = (): void => options.onProgress?.({ conversations: totals.conversations, messages: totals.messages, files: totals.files, bytes: sink.bytesWritten });

  const ctx: ExportContext = {
    subject: member,
    memberships,
    request,
    createdAt,
    sourceName: source.name,
    generator: GENERATOR,
    pseudonymized: Boolean(pseudo),
    sink,
  };

  const bytesStatusOf = (f: FileRecord): ArchivedFile['bytesStatus'] => {
    if (f.availability === 'not-in-source' || !f.open) return 'not-in-source';
    if (f.ownerId === member.id) return 'included';
    return scope === 'participant' && options.includeSharedFiles ? 'included' : 'shared-not-included';
  };

  // Entry paths are decided when a file is first seen, so views can link to it before its bytes are written.
  const notice = (m: Message): void => {
    for (const f of m.attachments) {
      if (filePaths.has(f.id)) continue;
      const status = bytesStatusOf(f);
      filePaths.set(f.id, status === 'included' ? fileEntryName(++fileSeq, f.name) : undefined);
      pending.push(f);
    }
  };

  // Files whose bytes are queued in the zip (written in the background, in order) but not
  // yet reported to the views, which need each file's SHA-256. The exporter goes on
  // rendering messages meanwhile instead of waiting for every file, so that deflating
  // (in zlib's threads) overlaps with rendering; it waits only when this many are behind.
  const inflight: { archived: ArchivedFile; entry?: Promise<ManifestEntry> }[] = [];

  const startFiles = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    for (const f of batch) {
      options.signal?.throwIfAborted();
      const entryPath = filePaths.get(f.id);
      const archived: ArchivedFile = { file: f, bytesStatus: bytesStatusOf(f) };
      if (entryPath === undefined) {
        inflight.push({ archived });
        continue;
      }
      const body = await f.open!();
      const entry = sink.add(entryPath, body, { kind: 'file', store: isAlreadyCompressed(f.mimeType, f.name), size: f.size });
      // A failure aborts the zip; it surfaces where the entry is awaited, never unhandled.
      entry.catch(() => undefined);
      archived.entryPath = entryPath;
      inflight.push({ archived, entry });
      if (inflight.length > MAX_FILES_IN_FLIGHT) await reportFiles(MAX_FILES_IN_FLIGHT);
    }
  };

  /** Reports queued files to the views, oldest first, until at most `keep` remain in flight. */
  const reportFiles = async (keep: number): Promise<void> => {
    while (inflight.length > keep) {
      const { archived, entry: pendingEntry } = inflight.shift()!;
      if (pendingEntry) {
        const entry = await pendingEntry;
        archived.sha256 = entry.sha256;
        // The record keeps the size actually archived, which is what the manifest checks.
        archived.file = { ...archived.file, size: entry.size };
        totals.fileBytes += entry.size;
        filesIncluded++;
      }
      totals.files++;
      for (const v of views) await v.file(archived);
      progress();
    }
  };

  try {
    for (const v of views) await v.begin(ctx);

    for await (const conv of source.conversations(member.id)) {
      options.signal?.throwIfAborted();
      const c: Conversation = pseudo ? pseudo.conversation(conv) : conv;
      totals.conversations++;
      for (const v of views) await v.conversationStart(c);
      let count = 0;
      const from = conv.memberJoinedAt?.getTime() ?? -Infinity;
      const to = conv.memberLeftAt?.getTime() ?? Infinity;
      // One asynchronous step per batch where the source offers batches, else per message.
      const batches = source.messageBatches ? source.messageBatches(conv) : oneByOne(source.messages(conv));
      for await (const batch of batches) for (const raw of batch) {
        if (scope === 'authored') {
          if (raw.authorId !== member.id) continue;
        } else {
          const t = raw.sentAt.getTime();
          if (t < from || t > to) continue;
        }
        const m = pseudo ? pseudo.message(raw) : raw;
        // Before the views render it, so that the HTML view can link the message's files.
        if (m.attachments.length > 0) notice(m);
        for (const v of views) {
          const wait = v.message(m);
          if (wait) await wait;
        }
        count++;
        totals.messages++;
        if (pending.length >= 64) await startFiles();
        if ((totals.messages & 1023) === 0) {
          options.signal?.throwIfAborted();
          progress();
        }
      }
      await startFiles();
      for (const v of views) await v.conversationEnd(c, count);
    }
    await reportFiles(0);

    for await (const raw of source.grants(member.id)) {
      const g = pseudo ? pseudo.grant(raw) : raw;
      totals.grants++;
      for (const v of views) await v.grant(g);
    }

    totals.replacedCharacters = xml.escaper.replaced;
    for (const v of views) await v.end(totals);

    const counts: ManifestCounts = {
      memberships: memberships.length,
      conversations: totals.conversations,
      messages: totals.messages,
      files: totals.files,
      filesIncluded,
      fileBytes: totals.fileBytes,
      grants: totals.grants,
    };
    const manifest: Manifest = {
      formatVersion: '1.0',
      generator: GENERATOR,
      createdAt,
      source: source.name,
      subject: { id: member.id, displayName: member.displayName },
      request,
      options: { pseudonymizeOthers: Boolean(pseudo), includeSharedFiles: Boolean(options.includeSharedFiles), html: Boolean(options.htmlView), limits: xml.limits },
      counts,
      replacedCharacters: xml.escaper.replaced,
      skipped: source.skipped?.() ?? [],
    };
    const frame = renderManifestFrame(manifest);
    await sink.finish(frame.head, frame.tail);
    progress();
    const result = await stored;
    return { manifest, counts: { ...counts, replacedCharacters: xml.escaper.replaced }, destination: result };
  } catch (err) {
    sink.abort(err instanceof Error ? err : new Error(String(err)));
    // Wait for the destination to clean up whatever it had started writing.
    await stored.catch(() => undefined);
    throw destinationError ?? err;
  }
}

async function* oneByOne<T>(items: AsyncIterable<T>): AsyncGenerator<readonly T[]> {
  for await (const item of items) yield [item];
}
