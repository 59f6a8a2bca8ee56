import type { Knex } from 'knex';
import type { ClientPoolOptions } from '../clients/client-pool';
import type { Config } from '../config/schema';
import { namedLogger, type Logger } from '../logging/logger';
import type { SecretBox } from '../secrets/secret-box';
import { ConnectionService } from './connection-service';
import type { BridgeIntegration, IntegrationRuntime } from './integration';
import { ProvisioningBot, type SendRetryOptions } from './provisioning-bot';
import { RoomUpgrades } from './room-upgrades';

export interface BridgeOptions {
  config: Config;
  db: Knex;
  secrets: SecretBox;
  logger: Logger;
  /** What the bridge runs besides the bot and the connections, in start (and stop) order. */
  integrations: readonly BridgeIntegration<unknown, object>[];
  /** Start retry timing of the bot (tests shorten it). */
  botPool?: ClientPoolOptions;
  sendRetry?: SendRetryOptions;
}

/**
 * The bridge side of Switchboard: the provisioning bot, the connections, and the integrations
 * that make them work (webhook ingress, feed polling, outbound hooks, GitHub and JIRA events).
 */
export class Bridge {
  readonly bot: ProvisioningBot;
  readonly connections: ConnectionService;
  private readonly logger: Logger;
  private readonly runtimes = new Map<BridgeIntegration<unknown, object>, IntegrationRuntime>();

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
    for (const integration of options.integrations) {
      const settings = integration.settings(config);
      if (settings === null) continue;
      const context = {
        config,
        db,
        secrets,
        logger: namedLogger(this.logger, `bridge.${integration.name}`),
        connections: this.connections,
        bot: this.bot,
      };
      this.runtimes.set(integration, integration.create(context, settings));
    }
  }

  /** The runtime of an integration; null when the config switches it off. */
  runtime<R extends object>(integration: BridgeIntegration<unknown, R>): R | null {
    return (this.runtimes.get(integration) as R | undefined) ?? null;
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

  /** Loads the connections, then starts the bot (in the background) and the integrations. */
  async start(): Promise<void> {
    for (const runtime of this.runtimes.values()) await runtime.init?.();
    await this.connections.load();
    this.bot.start();
    for (const runtime of this.runtimes.values()) runtime.start?.();
  }

  /** The integrations stop first, in their order: their last deliveries still need the bot. */
  async stop(): Promise<void> {
    for (const runtime of this.runtimes.values()) await runtime.stop?.();
    await this.bot.stop();
  }
}
