import type { Knex } from 'knex';
import type { ClientPoolOptions } from '../clients/client-pool';
import type { Config } from '../config/schema';
import { createJiraBridge, type JiraBridge } from '../jira/jira-bridge';
import type { Logger } from '../logging/logger';
import type { SecretBox } from '../secrets/secret-box';
import { ConnectionService } from './connection-service';
import { ProvisioningBot, type SendRetryOptions } from './provisioning-bot';

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
  private readonly logger: Logger;

  constructor(options: BridgeOptions) {
    const { config, db, secrets } = options;
    this.logger = options.logger.child({ logger: 'bridge' });
    this.bot = new ProvisioningBot({
      config,
      db,
      secrets,
      logger: this.logger.child({ logger: 'bridge.bot' }),
      ...(options.botPool ? { pool: options.botPool } : {}),
      ...(options.sendRetry ? { sendRetry: options.sendRetry } : {}),
    });
    this.connections = new ConnectionService(db, config, secrets, this.bot, this.logger);
    this.jira = createJiraBridge({
      config,
      db,
      secrets,
      logger: this.logger,
      connections: this.connections,
      messenger: this.bot,
      permissions: this.bot.permissions,
    });
  }

  /** Loads the connections, then starts the bot (in the background) and the runtimes. */
  async start(): Promise<void> {
    await this.connections.load();
    this.bot.start();
  }

  async stop(): Promise<void> {
    await this.bot.stop();
  }
}
