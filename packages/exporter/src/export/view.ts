import type { Readable } from 'node:stream';
import type { Conversation, FileRecord, Grant, Member, Membership, Message } from '../source/domain.js';

/** What an archive entry holds, as the manifest records it. */
export type EntryKind = 'schema' | 'subject' | 'conversations' | 'messages' | 'files' | 'file' | 'grants' | 'html' | 'asset';

export interface AddEntryOptions {
  kind: EntryKind;
  /** Store without deflating (already-compressed media). Default: deflate. */
  store?: boolean;
  /** zlib level for this entry, instead of the archive's (e.g. faster for a view that is not the record). */
  level?: number;
  /** Modification time recorded in the zip. */
  date?: Date;
  /** Number of records (messages, files, grants, conversations) in an XML document, for the manifest. */
  records?: number;
  /** Expected size of a stream entry (a file record's `size`): small ones are deflated beside the others. */
  size?: number;
}

/**
 * Where views put their output: entries of the archive being written, in call order.
 * `add` resolves once the entry is hashed and no more than a bounded amount of earlier
 * output waits to be written, so a view that awaits each `add` keeps memory bounded.
 */
export interface EntrySink {
  add(path: string, content: string | Uint8Array | Readable, options: AddEntryOptions): Promise<unknown>;
}

/** The request an export answers, as recorded in the manifest and shown in the overview. */
export interface ExportRequest {
  id: string;
  reason: string;
  requester: string;
  legalBasis: string;
  scope: 'participant' | 'authored';
}

export interface ExportContext {
  subject: Member;
  memberships: readonly Membership[];
  request: ExportRequest;
  createdAt: Date;
  sourceName: string;
  generator: { name: string; version: string };
  /** Replace other people's ids and names with stable pseudonyms (already applied to the records views receive). */
  pseudonymized: boolean;
  sink: EntrySink;
}

/** A file as it stands in the archive: its record and, when its bytes are included, the entry holding them. */
export interface ArchivedFile {
  file: FileRecord;
  /** Entry path of the bytes (`files/…`), absent when only the metadata is kept. */
  entryPath?: string;
  /** SHA-256 of the bytes, when included. */
  sha256?: string;
  /** Why the bytes are absent: `not-in-source`, `shared-not-included`. */
  bytesStatus: 'included' | 'not-in-source' | 'shared-not-included';
}

export interface ExportTotals {
  conversations: number;
  messages: number;
  files: number;
  fileBytes: number;
  grants: number;
  /** XML-illegal characters replaced by U+FFFD. */
  replacedCharacters: number;
}

/**
 * A view renders the records of one export into archive entries. The exporter calls
 * the hooks in this order: begin; for each conversation, conversationStart, its
 * messages in order, conversationEnd; then every grant; then end.
 * `file` is called once per distinct file, after the `message` that first references
 * it and before the first `grant`; it may fall between any two other calls, since the
 * exporter reports files once their bytes are written, which runs behind the messages.
 * Records passed to the hooks are already filtered by scope and pseudonymized.
 * Views must keep memory bounded: buffer at most one page or part, never the history.
 */
export interface ExportView {
  readonly name: string;
  begin(ctx: ExportContext): Promise<void>;
  conversationStart(conversation: Conversation): Promise<void>;
  /** May return nothing when it did not need to wait, which saves the exporter a microtask per message. */
  message(message: Message): void | Promise<void>;
  conversationEnd(conversation: Conversation, messageCount: number): Promise<void>;
  file(file: ArchivedFile): Promise<void>;
  grant(grant: Grant): Promise<void>;
  end(totals: ExportTotals): Promise<void>;
}
