import type { Knex } from 'knex';
import type { FeedSettings } from '../config/schema';
import { badValue } from '../bridge/connection-errors';
import {
  FEED,
  type ConnectionKind,
  type ConnectionSecrets,
  type CreateInput,
  type PreparedConnection,
  type StoredConnection,
  type UpdateInput,
} from '../bridge/connection-types';
import { getFeedState } from '../db/feed-repository';
import { FeedError, readFeed } from './feed-reader';
import { parseHttpUrl } from '../util/http-url';

export const TEMPLATE_MAX_CHARS = 1024;

/** The state content of a feed connection. */
export interface FeedConnectionConfig {
  url: string;
  label?: string;
  template?: string;
  notifyOnFailure?: boolean;
}

/**
 * hookshot's checks of a feed state, with its messages. A null or empty label or template and a
 * null notifyOnFailure count as absent (a PATCH can clear them).
 */
export function validateFeedConfig(body: Record<string, unknown>): FeedConnectionConfig {
  const { url, label, template, notifyOnFailure } = body;
  if (typeof url !== 'string') throw badValue('No URL specified');
  if (label !== undefined && label !== null && typeof label !== 'string') {
    throw badValue('Label must be a string');
  }
  if (template !== undefined && template !== null) {
    if (typeof template !== 'string') throw badValue('Template must be a string');
    if (template.length > TEMPLATE_MAX_CHARS) {
      throw badValue('Template should not be longer than 1024 characters');
    }
  }
  if (
    notifyOnFailure !== undefined &&
    notifyOnFailure !== null &&
    typeof notifyOnFailure !== 'boolean'
  ) {
    throw badValue('notifyOnFailure must be a boolean');
  }
  return {
    url,
    ...(typeof label === 'string' && label !== '' ? { label } : {}),
    ...(typeof template === 'string' && template !== '' ? { template } : {}),
    ...(typeof notifyOnFailure === 'boolean' ? { notifyOnFailure } : {}),
  };
}

function checkUrl(url: string): void {
  // Other schemes parse as URLs but can never be fetched as feeds.
  if (!(parseHttpUrl(url) instanceof URL)) throw badValue("Feed URL doesn't appear valid");
}

export interface FeedKindDeps {
  settings: FeedSettings;
  /** Feeds may be on loopback and private addresses (config `allowPrivateDestinations`). */
  allowPrivate: boolean;
  db: Knex;
  read?: typeof readFeed;
}

/**
 * RSS/Atom feed connections. The state key is the feed URL; a create fetches the feed once so
 * that a URL that is not a readable feed is refused at once. Polling is the FeedPoller's job.
 */
export class FeedKind implements ConnectionKind {
  readonly declaration = FEED;
  readonly tombstone = {};
  private readonly read: typeof readFeed;

  constructor(private readonly deps: FeedKindDeps) {
    this.read = deps.read ?? readFeed;
  }

  async create({ body }: CreateInput): Promise<PreparedConnection> {
    const config = validateFeedConfig(body);
    checkUrl(config.url);
    const timeoutMs = this.deps.settings.validationTimeoutSeconds * 1000;
    try {
      await this.read(config.url, {
        timeoutMs,
        allowPrivate: this.deps.allowPrivate,
      });
    } catch (err) {
      const reason = err instanceof FeedError ? err.message : 'the feed could not be read';
      throw badValue(`Could not read feed from URL: ${reason}`);
    }
    // The same URL in the room has the same state key, so the core replaces that connection.
    return { stateKey: config.url, config: { ...config } };
  }

  async update({ current, body }: UpdateInput): Promise<PreparedConnection> {
    const config = validateFeedConfig({ ...current.config, ...body });
    if (config.url !== current.stateKey) {
      throw badValue('Cannot alter url of existing feed. Please create a new one.');
    }
    return Promise.resolve({ stateKey: current.stateKey, config: { ...config } });
  }

  /** The recent poll results of the feed, shown in every answer (as hookshot does). */
  async secrets(connection: StoredConnection): Promise<ConnectionSecrets> {
    const state = await getFeedState(this.deps.db, connection.stateKey);
    return { always: { lastResults: state?.lastResults ?? [] } };
  }
}
