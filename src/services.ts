import { AdminAuthService } from './admins/admin-auth-service';
import type { Config } from './config/schema';
import type { Database } from './db/database';
import type { AppDeps } from './http/app';
import { createMetrics } from './http/metrics';
import type { Logger } from './logging/logger';
import { PluginService, type PluginInstances } from './plugins/plugin-service';

export interface ServiceOptions {
  config: Config;
  logger: Logger;
  db: Database;
  /** Which instances use a plugin; none until instances exist. */
  pluginInstances?: PluginInstances;
}

/** Wires the services every listener's app shares; the process entry, tests and bench use it. */
export function createServices(options: ServiceOptions): Omit<AppDeps, 'resources'> {
  const { config, logger, db } = options;
  return {
    config,
    logger,
    db,
    admins: new AdminAuthService(config.server.unsharedSecret, config.admins),
    plugins: new PluginService(db.knex, logger, options.pluginInstances),
    metrics: createMetrics(),
  };
}
