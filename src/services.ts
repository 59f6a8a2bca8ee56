import { AdminAuthService } from './admins/admin-auth-service';
import { ClientAuthService } from './clients/client-auth-service';
import type { ClientPoolOptions } from './clients/client-pool';
import { ClientService, type ClientInstances } from './clients/client-service';
import type { Config } from './config/schema';
import type { Database } from './db/database';
import type { AppDeps } from './http/app';
import { createMetrics } from './http/metrics';
import type { Logger } from './logging/logger';
import { routeSdkGlobalLogging } from './matrix/sdk-logger';
import { PluginService, type PluginInstances } from './plugins/plugin-service';
import { SecretBox } from './secrets/secret-box';

export interface ServiceOptions {
  config: Config;
  logger: Logger;
  db: Database;
  /** Which instances use a plugin; none until instances exist. */
  pluginInstances?: PluginInstances;
  clientInstances?: ClientInstances;
  /** Start retry timing of Matrix clients (tests shorten it). */
  clientPool?: ClientPoolOptions;
}

/** Wires the services every listener's app shares; the process entry, tests and bench use it. */
export function createServices(options: ServiceOptions): Omit<AppDeps, 'resources'> {
  const { config, logger, db } = options;
  routeSdkGlobalLogging(logger);
  const secrets = new SecretBox(config.encryptionKey, config.previousEncryptionKeys);
  const clients = new ClientService(
    db.knex,
    secrets,
    logger,
    options.clientInstances,
    options.clientPool,
  );
  return {
    config,
    logger,
    db,
    admins: new AdminAuthService(config.server.unsharedSecret, config.admins),
    plugins: new PluginService(db.knex, logger, options.pluginInstances),
    clients,
    clientAuth: new ClientAuthService(config, clients, logger),
    metrics: createMetrics(),
  };
}
