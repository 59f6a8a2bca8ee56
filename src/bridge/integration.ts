import type { Knex } from 'knex';
import type { Config } from '../config/schema';
import type { Logger } from '../logging/logger';
import type { SecretBox } from '../secrets/secret-box';
import type { ConnectionService } from './connection-service';
import type { ProvisioningBot } from './provisioning-bot';

/** What the bridge core hands each integration it starts. */
export interface IntegrationContext {
  config: Config;
  db: Knex;
  secrets: SecretBox;
  /** The integration's own logger (`bridge.<name>`). */
  logger: Logger;
  /** Where its connection kinds are registered and its connections read. */
  connections: ConnectionService;
  /** The provisioning bot: posts into rooms, hears room events, knows the permissions. */
  bot: ProvisioningBot;
}

/** An integration's running part; the core calls these in its start and stop order. */
export interface IntegrationRuntime {
  /** Before the connections are loaded (kinds that need async set-up register here). */
  init?(): Promise<void>;
  /** Once the connections are loaded and the bot is starting. */
  start?(): void;
  /** Before the bot stops (deliveries may still need it). */
  stop?(): Promise<void>;
}

/**
 * One kind of bridge work (webhooks, feeds, outbound hooks, GitHub, JIRA), declared for the
 * core: the core builds, starts and stops what the registry lists and imports none of them.
 */
export interface BridgeIntegration<S = unknown, R extends object = IntegrationRuntime> {
  readonly name: string;
  /** Its own config section, defaults resolved; null when the config switches it off. */
  settings(config: Config): S | null;
  /** Builds the runtime and registers its connection kinds. */
  create(context: IntegrationContext, settings: S): R;
}
