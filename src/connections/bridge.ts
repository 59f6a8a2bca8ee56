import type { Knex } from 'knex';
import type { ClientPoolOptions } from '../clients/client-pool';
import type { Config } from '../config/schema';
import { createGithubBridge, type GithubBridge } from '../github/github-bridge';
import { createFeedBridge, type FeedBridge } from '../feeds/feed-bridge';
import { createJiraBridge, type JiraBridge } from '../jira/jira-bridge';
import { namedLogger, type Logger } from '../logging/logger';
import { OutboundHookKind } from '../outbound/outbound-hook-kind';
import { OutboundSender } from '../outbound/outbound-sender';
import type { SecretBox } from '../secrets/secret-box';
import { createWebhookBridge, type WebhookBridge } from '../webhooks/webhook-bridge';
import { ConnectionService } from './connection-service';
import { OUTBOUND_HOOK } from './connection-types';
import { ProvisioningBot, type SendRetryOptions } from './provisioning-bot';
import { RoomUpgrades } from './room-upgrades';

/** How long a stop waits for queued outbound hook deliveries. */
const OUTBOUND_DRAIN_MS = 5_000;

export interface BridgeOptions {
  config: Config;
  db: Knex;
  secrets: SecretBox;
  logger: Logger;
  /** Start retry timing of the bot (tests shorten it). */
  botPool?: ClientPoolOptions;
  sendRetry?: SendRetryOptions;
}

/**
 * The bridge side of Switchboard: the provisioning bot, the connections and the runtimes that
 * make them work (webhook ingress, feed polling, outbound hooks, GitHub and JIRA events).
 */
export class Bridge {
  readonly bot: ProvisioningBot;
  readonly connections: ConnectionService;
  /** null when JIRA is not configured. */
  readonly jira: JiraBridge | null;
  /** null when feeds are not enabled. */
  readonly feeds: FeedBridge | null;
  /** null when inbound webhooks are not enabled. */
  readonly webhooks: WebhookBridge | null;
  /** null when GitHub is not configured. */
  readonly github: GithubBridge | null;
  private readonly logger: Logger;
  private outbound: OutboundSender | undefined;

  constructor(options: BridgeOptions) {
    const { config, db, secrets } = options;
    this.logger = namedLogger(options.logger, 'bridge');
    this.bot = new ProvisioningBot({
      config,
      db,
      secrets,
      logger: namedLogger(this.logger, 'bridge.bot'),
      ...(options.botPool ? { pool: options.botPool } : {}),
      ...(options.sendRetry ? { sendRetry: options.sendRetry } : {}),
    });
    this.connections = new ConnectionService(db, config, secrets, this.bot, this.logger);
    this.followRooms();
    this.webhooks = createWebhookBridge({
      config,
      db,
      logger: this.logger,
      connections: this.connections,
      messenger: this.bot,
    });
    if (config.webhooks) this.wireOutboundHooks(config);
    this.feeds = createFeedBridge({
      config,
      db,
      logger: this.logger,
      connections: this.connections,
      messenger: this.bot,
    });
    this.jira = createJiraBridge({
      config,
      db,
      secrets,
      logger: this.logger,
      connections: this.connections,
      messenger: this.bot,
      permissions: this.bot.permissions,
    });
    this.github = createGithubBridge({
      config,
      db,
      secrets,
      logger: this.logger,
      connections: this.connections,
      messenger: this.bot,
    });
  }

  /**
   * The bot's rooms decide where connections live: leaving a room (kicked, banned) drops its
   * connections, an upgrade moves them to the new room, and connection state edited by hand
   * in the room is read as configuration.
   */
  private followRooms(): void {
    const upgrades = new RoomUpgrades(this.bot, this.connections, this.logger);
    this.bot.onMembership(({ roomId, membership, sender }) => {
      if (membership === 'join') upgrades.retry(roomId);
      if (membership !== 'leave' && membership !== 'ban') return;
      const how =
        sender !== undefined && sender !== this.bot.userId
          ? `the bot was ${membership === 'ban' ? 'banned' : 'kicked'} by ${sender}`
          : 'the bot left the room';
      void this.connections.dropRoom(roomId, how);
    });
    // Rooms the bot left (or was removed from) while Switchboard was not running.
    this.bot.onStarted(() => {
      for (const roomId of new Set(this.connections.all().map((c) => c.roomId))) {
        if (this.bot.isJoined(roomId)) continue;
        void this.connections.dropRoom(roomId, 'the bot is no longer in the room');
      }
    });
    this.bot.onRoomEvent((event) => {
      if (event.stateKey === undefined) return;
      if (event.type === 'm.room.tombstone') upgrades.tombstone(event);
      else if (event.type === 'm.room.power_levels') upgrades.retry(event.roomId);
      else {
        this.connections
          .applyStateEdit(event)
          .catch((err: unknown) =>
            this.logger.error({ err, roomId: event.roomId }, 'could not apply a state change'),
          );
      }
    });
  }

  /** Room messages (not the bot's own) go to the room's outbound hooks. */
  private wireOutboundHooks(config: Config): void {
    this.connections.register(new OutboundHookKind({ config }));
    const sender = (this.outbound = new OutboundSender({
      allowPrivate: config.allowPrivateDestinations,
      logger: namedLogger(this.logger, 'bridge.outbound'),
      download: (mxc) => this.bot.download(mxc),
      userAgent: 'Switchboard (outbound webhook)',
      botUserId: this.bot.userId,
    }));
    this.bot.onRoomEvent((event) => {
      const hooks = this.connections
        .inRoom(event.roomId)
        .filter((c) => c.eventType === OUTBOUND_HOOK.eventType);
      if (hooks.length > 0) void sender.handleRoomEvent(event, hooks);
    });
  }

  /** Loads the connections, then starts the bot (in the background) and the runtimes. */
  async start(): Promise<void> {
    await this.webhooks?.init();
    await this.connections.load();
    this.bot.start();
    this.feeds?.poller.start();
    this.webhooks?.start();
  }

  async stop(): Promise<void> {
    this.webhooks?.stop();
    await this.feeds?.poller.stop();
    // Deliveries still need the bot (media downloads); they get a few seconds.
    await this.outbound?.drain(OUTBOUND_DRAIN_MS);
    await this.bot.stop();
  }
}
