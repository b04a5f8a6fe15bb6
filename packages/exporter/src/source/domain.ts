import type { Readable } from 'node:stream';

/**
 * The domain every source maps its platform onto. Dates are `Date` (UTC on output);
 * ids are strings, whatever the platform uses.
 */

export interface Member {
  id: string;
  /** The name shown in the platform (handle, nickname). */
  displayName: string;
  /** Full legal or profile name, when the platform has one. */
  realName?: string;
  email?: string;
  /** Platform-specific handle (Slack / Mattermost username). */
  username?: string;
  /** The account is deactivated or deleted in the platform. */
  deleted?: boolean;
  /** A bot or integration account rather than a person. */
  bot?: boolean;
}

export type Role = 'owner' | 'admin' | 'member' | 'guest';

export interface Membership {
  organizationId: string;
  organizationName: string;
  role: Role;
  joinedAt?: Date;
  leftAt?: Date;
}

export type ConversationKind = 'channel' | 'private-group' | 'dm' | 'group-dm';

export interface Conversation {
  id: string;
  kind: ConversationKind;
  /** Channel or group name; DMs may have none. */
  name?: string;
  organizationId?: string;
  topic?: string;
  createdAt?: Date;
  /** When the member joined and (if they did) left: in `participant` scope only messages inside this window are exported. */
  memberJoinedAt?: Date;
  memberLeftAt?: Date;
  /** Ids of the other participants of a DM / group DM, when known. */
  participantIds?: string[];
}

export interface Reaction {
  emoji: string;
  userIds: string[];
}

export interface Edit {
  editedAt: Date;
  /** The text before this edit, when the platform keeps it. */
  previousText?: string;
  editorId?: string;
}

export interface Message {
  id: string;
  conversationId: string;
  authorId: string;
  /** Name of the author as shown at the time, when the platform keeps it (bots, deleted users). */
  authorName?: string;
  sentAt: Date;
  editedAt?: Date;
  edits?: Edit[];
  deleted: boolean;
  /** Id of the thread's root message when this is a reply. */
  threadParentId?: string;
  /** Platform subtype (join, bot_message, file_share…); absent for plain messages. */
  subtype?: string;
  text: string;
  reactions: Reaction[];
  /** Files attached to this message, with their metadata. */
  attachments: FileRecord[];
}

/** Whether the file's bytes can be read from the source. */
export type FileAvailability = 'available' | 'not-in-source';

export interface FileRecord {
  id: string;
  /** The name as the platform had it: may be empty, absolute, contain `..`, be 300 characters long. */
  name: string;
  mimeType: string;
  size: number;
  ownerId: string;
  createdAt: Date;
  availability: FileAvailability;
  /** A link to the file in the platform, secrets removed. */
  url?: string;
  /** Opens the file's bytes. Absent when `availability` is `not-in-source`. */
  open?: () => Promise<Readable>;
}

export interface GrantEvent {
  at: Date;
  /** added, removed, expanded, disabled, enabled, revoked… as the platform says. */
  change: string;
  actorId?: string;
  scopes?: string[];
  reason?: string;
}

export interface Grant {
  id: string;
  appId: string;
  appName: string;
  scopes: string[];
  grantedAt?: Date;
  grantedBy?: string;
  expiresAt?: Date;
  revokedAt?: Date;
  /** Service or channel the authorization is bound to, when relevant. */
  target?: string;
  history?: GrantEvent[];
}
