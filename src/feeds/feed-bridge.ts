import type { Knex } from 'knex';
import type { Config } from '../config/schema';
import type { ConnectionService } from '../bridge/connection-service';
import { FEED } from '../bridge/connection-types';
import type { RoomMessenger } from '../bridge/room-messenger';
import type { Logger } from '../logging/logger';
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
    logger: deps.logger.child({ logger: 'bridge.feeds' }),
    feeds: () => connections.ofType(FEED.eventType),
  });
  return { kind, poller };
}
