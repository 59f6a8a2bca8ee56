import type { Knex } from 'knex';
import type { Config } from '../config/schema';

/** One kind of room connection: its state event types, service and when it is offered. */
export interface ConnectionTypeDeclaration {
  /** hookshot's short type name, the key of /v1/connectiontypes. */
  type: string;
  eventType: string;
  legacyEventTypes: readonly string[];
  /** The permission service category (hookshot's names). */
  service: string;
  /** Offered by /v1/connectiontypes when the config enables it. */
  listed(config: Config): boolean;
  /** Whether the service behind it is on at all (a PUT of a disabled one is refused). */
  enabled(config: Config): boolean;
  /** What a disabled one answers (HS_DISABLED_FEATURE). */
  disabledMessage: string;
}

const EVENT_PREFIX = 'uk.half-shot.matrix-hookshot';

export const JIRA_PROJECT: ConnectionTypeDeclaration = {
  type: 'JiraProject',
  eventType: `${EVENT_PREFIX}.jira.project`,
  legacyEventTypes: ['uk.half-shot.matrix-github.jira.project'],
  service: 'jira',
  listed: (c) => c.jira !== null,
  enabled: (c) => c.jira !== null,
  disabledMessage: 'JIRA is not configured',
};

export const GITHUB_REPO: ConnectionTypeDeclaration = {
  type: 'GithubRepo',
  eventType: `${EVENT_PREFIX}.github.repository`,
  legacyEventTypes: ['uk.half-shot.matrix-github.repository'],
  service: 'github',
  listed: (c) => c.github !== null,
  enabled: (c) => c.github !== null,
  disabledMessage: 'GitHub is not configured',
};

export const WEBHOOK: ConnectionTypeDeclaration = {
  type: 'Webhook',
  eventType: `${EVENT_PREFIX}.generic.hook`,
  legacyEventTypes: ['uk.half-shot.matrix-github.generic.hook'],
  service: 'generic',
  listed: (c) => c.webhooks?.enabled === true,
  enabled: (c) => c.webhooks?.enabled === true,
  disabledMessage: 'Webhooks are not configured',
};

export const OUTBOUND_HOOK: ConnectionTypeDeclaration = {
  // hookshot reports outbound hooks as "Webhook" too.
  type: 'Webhook',
  eventType: `${EVENT_PREFIX}.outbound-hook`,
  legacyEventTypes: [],
  service: 'genericOutbound',
  listed: () => false,
  enabled: (c) => c.webhooks?.enabled === true && c.webhooks.outbound,
  disabledMessage: 'Outbound webhooks are not configured',
};

export const FEED: ConnectionTypeDeclaration = {
  type: 'Feed',
  eventType: `${EVENT_PREFIX}.feed`,
  legacyEventTypes: [],
  service: 'feeds',
  listed: (c) => c.feeds?.enabled === true,
  enabled: (c) => c.feeds?.enabled === true,
  disabledMessage: 'RSS/Atom feeds are not configured',
};

/** Every connection type Switchboard knows, in the order /v1/connectiontypes lists them. */
export const CONNECTION_TYPES: readonly ConnectionTypeDeclaration[] = [
  JIRA_PROJECT,
  GITHUB_REPO,
  WEBHOOK,
  OUTBOUND_HOOK,
  FEED,
];

export function listedConnectionTypes(config: Config): ConnectionTypeDeclaration[] {
  return CONNECTION_TYPES.filter((t) => t.listed(config));
}

/** The declaration whose canonical or legacy event type this is. */
export function connectionTypeOf(eventType: string): ConnectionTypeDeclaration | undefined {
  return CONNECTION_TYPES.find(
    (t) => t.eventType === eventType || t.legacyEventTypes.includes(eventType),
  );
}

/** A connection as services see it; `secrets` are the opened side secrets, if any. */
export interface StoredConnection {
  id: string;
  roomId: string;
  /** Canonical event type. */
  eventType: string;
  stateKey: string;
  type: string;
  service: string;
  /** The state event content. */
  config: Record<string, unknown>;
  /** Private side data (an outbound token), never in room state; null when none. */
  secrets: Record<string, unknown> | null;
  /** The user it was provisioned for. */
  createdBy: string;
}

export interface ConnectionWarning {
  header: string;
  message: string;
}

/** What a create or update makes of a request: the state to write and side secrets to keep. */
export interface PreparedConnection {
  stateKey: string;
  config: Record<string, unknown>;
  /** Replaces the stored side secrets when given (null clears them). */
  secrets?: Record<string, unknown> | null;
  warning?: ConnectionWarning;
}

export interface CreateInput {
  roomId: string;
  /** The requesting user. */
  userId: string;
  /** The PUT body (an object; {} when absent). */
  body: Record<string, unknown>;
  /** The room's connections of this type, to find one the create replaces. */
  existing: readonly StoredConnection[];
}

export interface UpdateInput {
  userId: string;
  current: StoredConnection;
  /** The PATCH body, not yet merged. */
  body: Record<string, unknown>;
}

/**
 * Secrets of an answer: `shown` only in PUT/PATCH answers, `always` in every item; `config`
 * is added to the item's config for users who may manage the connection (never in room state).
 */
export interface ConnectionSecrets {
  shown?: Record<string, unknown>;
  always?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

/**
 * The behaviour of one connection type. Methods throw ConnectionError for refusals. Created and
 * updated connections are written by the connection service: the room state, then the row
 * (with `persist` in the same transaction), then `committed`.
 */
export interface ConnectionKind {
  readonly declaration: ConnectionTypeDeclaration;
  /** State content that marks a removed connection in the room. */
  readonly tombstone: Record<string, unknown>;
  /** The command prefix a connection of this kind uses when its config names none. */
  readonly defaultCommandPrefix?: string;
  create(input: CreateInput): Promise<PreparedConnection>;
  /** Merges the body over the current config and validates the result. */
  update(input: UpdateInput): Promise<PreparedConnection>;
  /** Writes the kind's own rows (in the connection's transaction). */
  persist?(trx: Knex.Transaction, connection: StoredConnection, created: boolean): Promise<void>;
  secrets?(connection: StoredConnection): Promise<ConnectionSecrets>;
  /** After the connection was stored (created or updated) and its state written. */
  committed?(connection: StoredConnection): void;
  /** Carries the kind's rows over to the connection's new id (a room upgrade moved it). */
  moved?(trx: Knex.Transaction, from: StoredConnection, to: StoredConnection): Promise<void>;
  /** Before the row is deleted: release the kind's side data. */
  remove?(connection: StoredConnection): Promise<void>;
  /** After the connection is gone. */
  removed?(connection: StoredConnection): void;
}
