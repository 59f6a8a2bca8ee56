import { AdminAuthService } from '../admins/admin-auth-service';
import { ClientAuthService } from '../clients/client-auth-service';
import type { ClientPoolOptions } from '../clients/client-pool';
import { ClientService, type ClientInstances } from '../clients/client-service';
import type { Config } from '../config/schema';
import { Bridge } from '../bridge/bridge';
import type { SendRetryOptions } from '../bridge/provisioning-bot';
import type { Database } from '../db/database';
import { RowCache } from '../db/row-cache';
import type { AppDeps } from './create-app';
import { INTEGRATIONS } from './integrations';
import { createMetrics } from '../http/metrics';
import type { Logger } from '../logging/logger';
import { LogHub } from '../logging/log-hub';
import { routeSdkGlobalLogging } from '../matrix/sdk-logger';
import {
  InstanceDatabases,
  instanceDatabaseSettings,
  type InstanceDatabaseSettings,
} from '../instances/instance-databases';
import {
  InstanceRuntime,
  instanceDatabases,
  runtimeSettings,
  type RuntimeSettings,
} from '../instances/instance-runtime';
import { InstanceService } from '../instances/instance-service';
import { InstanceDatabaseService } from '../instances/instance-database-service';
import { PluginService, type PluginInstances } from '../plugins/plugin-service';
import { SecretBox } from '../secrets/secret-box';

export interface ServiceOptions {
  config: Config;
  logger: Logger;
  db: Database;
  /** Which instances use a plugin; none until instances exist. */
  pluginInstances?: PluginInstances;
  clientInstances?: ClientInstances;
  /** Where the log websocket reads records from (connected to `logger` by its creator). */
  logHub?: LogHub;
  /** Plugin host limits over those of the config (tests shorten the timings). */
  runtime?: Partial<RuntimeSettings>;
  /** Instance database limits over those of the config (tests shorten the timings). */
  instanceDatabases?: Partial<InstanceDatabaseSettings>;
  /** Start retry timing of Matrix clients (tests shorten it). */
  clientPool?: ClientPoolOptions;
  /** Retry timing of the provisioning bot's messages (tests shorten it). */
  sendRetry?: SendRetryOptions;
}

/** Wires the services every listener's app shares; the process entry, tests and bench use it. */
export type Services = Omit<AppDeps, 'resources'>;

export function createServices(options: ServiceOptions): Services {
  const { config, logger, db } = options;
  routeSdkGlobalLogging(logger);
  const secrets = new SecretBox(config.encryptionKey, config.previousEncryptionKeys);
  // Plugins, clients and instances as the list endpoints read them, kept in memory.
  const rows = new RowCache(db.knex, db.changes);
  // Clients start instances and instances run on clients: this port reaches the instance
  // service, which is made below (the calls come later, once both exist).
  const clientInstances: ClientInstances = options.clientInstances ?? {
    byClient: (knex, ids) => instanceService.byClient(knex, ids),
    answersByClient: (cached) => instanceService.answersByClient(cached),
    clientStarted: (id, bot) => instanceService.clientStarted(id, bot),
    clientStopped: (id) => instanceService.clientStopped(id),
  };
  const clients = new ClientService(
    db.knex,
    secrets,
    logger,
    clientInstances,
    options.clientPool,
    rows,
  );
  const databases = new InstanceDatabases(
    db,
    secrets,
    { ...instanceDatabaseSettings(config.instances.database), ...options.instanceDatabases },
    logger,
  );
  const runtime = new InstanceRuntime(
    db.knex,
    (id) => clients.pool.running(id),
    logger,
    { ...runtimeSettings(config.instances), ...options.runtime },
    instanceDatabases(databases),
    rows,
  );
  const instanceService = new InstanceService(
    db.knex,
    runtime,
    databases,
    logger,
    config.apiFeatures.instance_database,
    rows,
  );
  const metrics = createMetrics();
  metrics.gauge(
    'switchboard_matrix_clients_started',
    'Matrix clients running',
    () => clients.pool.counts().started,
  );
  metrics.gauge(
    'switchboard_matrix_clients_sync_failing',
    'Running Matrix clients whose last sync failed',
    () => clients.pool.counts().syncFailing,
  );
  metrics.gauge(
    'switchboard_plugin_instances_running',
    'Plugin instances running',
    () => runtime.runningOf({}).length,
  );
  metrics.gauge(
    'switchboard_plugin_hosts_running',
    'Plugin host processes (one per plugin with running instances)',
    () => runtime.hostCount(),
  );
  const bridge = new Bridge({
    config,
    db: db.knex,
    secrets,
    logger,
    integrations: INTEGRATIONS,
    ...(options.clientPool ? { botPool: options.clientPool } : {}),
    ...(options.sendRetry ? { sendRetry: options.sendRetry } : {}),
  });
  metrics.gauge(
    'switchboard_bridge_connections',
    'Bridge connections in rooms',
    () => bridge.connections.count,
  );
  metrics.gauge(
    'switchboard_bridge_messages_pending',
    'Messages of the provisioning bot waiting to be sent, over all rooms',
    () => bridge.bot.backlog,
  );
  return {
    config,
    logger,
    db,
    admins: new AdminAuthService(config.server.unsharedSecret, config.admins),
    plugins: new PluginService(db.knex, logger, options.pluginInstances ?? instanceService, rows),
    clients,
    instances: instanceService,
    instanceDatabases: new InstanceDatabaseService(db.knex, databases),
    logHub: options.logHub ?? new LogHub(),
    clientAuth: new ClientAuthService(config, clients, logger),
    metrics,
    bridge,
  };
}
