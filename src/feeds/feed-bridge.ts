import type { Knex } from 'knex';
import type { Config } from '../config/schema';
import type { ConnectionService } from '../connections/connection-service';
import { FEED } from '../connections/connection-types';
import type { RoomMessenger } from '../connections/room-messenger';
import { namedLogger, type Logger } from '../logging/logger';
import { FeedKind } from './feed-kind';
import { FeedPoller } from './feed-poller';

export interface FeedBridgeDeps {
  config: Config;
  db: Knex;
  logger: Logger;
  connections: ConnectionService;
  messenger: RoomMessenger;
}

/** Feeds' part of the bridge: the kind (registered here) and the poller (started by the caller). */
export interface FeedBridge {
  kind: FeedKind;
  poller: FeedPoller;
}

/** Registers the feed kind and builds the poller; null when feeds are not enabled. */
export function createFeedBridge(deps: FeedBridgeDeps): FeedBridge | null {
  const { config, db, connections } = deps;
  if (config.feeds?.enabled !== true) return null;
  const kind = new FeedKind({ config, db });
  connections.register(kind);
  const poller = new FeedPoller({
    config,
    db,
    messenger: deps.messenger,
    logger: namedLogger(deps.logger, 'bridge.feeds'),
    feeds: () => connections.ofType(FEED.eventType),
  });
  return { kind, poller };
}
