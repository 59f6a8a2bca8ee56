import { FEED } from '../bridge/connection-types';
import type {
  BridgeIntegration,
  IntegrationContext,
  IntegrationRuntime,
} from '../bridge/integration';
import type { FeedSettings } from '../config/schema';
import { FeedKind } from './feed-kind';
import { FeedPoller } from './feed-poller';

/** Feeds' part of the bridge: the kind and the poller. */
export class FeedRuntime implements IntegrationRuntime {
  readonly kind: FeedKind;
  readonly poller: FeedPoller;

  constructor(
    { config, db, connections, bot, logger }: IntegrationContext,
    settings: FeedSettings,
  ) {
    const allowPrivate = config.allowPrivateDestinations;
    this.kind = new FeedKind({ settings, allowPrivate, db });
    connections.register(this.kind);
    this.poller = new FeedPoller({
      settings,
      allowPrivate,
      db,
      messenger: bot,
      logger,
      feeds: () => connections.ofType(FEED.eventType),
    });
  }

  start(): void {
    this.poller.start();
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }
}

export const feedIntegration: BridgeIntegration<FeedSettings, FeedRuntime> = {
  name: 'feeds',
  settings: (config) => (config.feeds?.enabled === true ? config.feeds : null),
  create: (context, settings) => new FeedRuntime(context, settings),
};
