import type { SourceCapabilities } from './capabilities.js';
import type { Conversation, Grant, Member, Membership, Message } from './domain.js';

export * from './capabilities.js';

/**
 * The `Source` port: one platform's data, read as streams. A source never holds a
 * member's whole history in memory; every collection is an async iterable.
 */
export interface Source {
  /** How users name the source on the command line, e.g. `demo`, `slack:export.zip`. */
  readonly name: string;

  /** Every member of the workspace. */
  members(): AsyncIterable<Member>;

  /**
   * Find one member by the selector users type: id, and where the platform has them,
   * username or email. `undefined` when no member matches.
   */
  findMember(selector: string): Promise<Member | undefined>;

  memberships(memberId: string): AsyncIterable<Membership>;

  /** Conversations the member is or was in, with their join / leave window. */
  conversations(memberId: string): AsyncIterable<Conversation>;

  /**
   * Messages of one conversation in the order they were sent (thread replies included,
   * each pointing at its parent).
   */
  messages(conversation: Conversation): AsyncIterable<Message>;

  /**
   * Optional: the same messages as `messages(conversation)`, in the same order, handed
   * over in batches. A source that has many messages at hand at once (generated, or
   * parsed from one file) offers it so that the exporter takes one asynchronous step
   * per batch instead of one per message, a sixth of a microsecond each.
   */
  messageBatches?(conversation: Conversation): AsyncIterable<readonly Message[]>;

  /** Third-party app authorizations of the member, active, expired and revoked. */
  grants(memberId: string): AsyncIterable<Grant>;

  /** Items the source skipped as invalid (with `--skip-invalid`), to be recorded in the manifest. */
  skipped?(): readonly SkippedItem[];

  /**
   * What the source can do besides reading (report blockers, revoke grants, erase a
   * member). Absent for read-only sources such as export files; ask with
   * `requireCapability(source, 'erase')`.
   */
  readonly capabilities?: SourceCapabilities;

  close?(): Promise<void>;
}

export interface SkippedItem {
  /** File inside the export, e.g. `general/2024-01-02.json`. */
  file: string;
  /** 1-based line (JSONL) or entry index, when known. */
  line?: number;
  reason: string;
}
