import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Express } from 'express';
import { signToken } from '../../src/admins/token';
import type { Config, Resource } from '../../src/config/schema';
import type { Database } from '../../src/db/database';
import { createLogger, type Logger } from '../../src/logging/logger';
import type { PluginInstances, PluginService } from '../../src/plugins/plugin-service';
import type { ClientPoolOptions } from '../../src/clients/client-pool';
import type { InstanceService } from '../../src/instances/instance-service';
import type { RuntimeSettings } from '../../src/instances/instance-runtime';
import type { InstanceDatabaseSettings } from '../../src/instances/instance-databases';
import type { LogHub } from '../../src/logging/log-hub';
import type { ClientInstances, ClientService } from '../../src/clients/client-service';
import { Switchboard } from '../../src/app/switchboard';
import type { Bridge } from '../../src/bridge/bridge';
import type { SendRetryOptions } from '../../src/bridge/provisioning-bot';
import { TEST_SECRET, testConfig } from './config';
import { openTestDatabase, type TestDatabaseKind } from './databases';

export interface TestApp {
  app: Express;
  config: Config;
  db: Database;
  logger: Logger;
  clients: ClientService;
  instances: InstanceService;
  plugins: PluginService;
  bridge: Bridge;
  /** A valid management token for the configured admin. */
  token: string;
  /** Listens on a loopback port (for clients that need a real URL). */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export async function createTestApp(
  kind: TestDatabaseKind,
  options: {
    config?: Config;
    resources?: Resource[];
    logger?: Logger;
    pluginInstances?: PluginInstances;
    /** Reuse this database instead of opening a fresh one (e.g. to restart the app on it). */
    db?: Database;
    clientPool?: ClientPoolOptions;
    clientInstances?: ClientInstances;
    runtime?: Partial<RuntimeSettings>;
    instanceDatabases?: Partial<InstanceDatabaseSettings>;
    logHub?: LogHub;
    /** Start the enabled stored clients, as the server does at startup. */
    startClients?: boolean;
    sendRetry?: SendRetryOptions;
  } = {},
): Promise<TestApp> {
  const config = options.config ?? testConfig();
  const logger = options.logger ?? createLogger('silent');
  const db = options.db ?? (await openTestDatabase(kind));
  const switchboard = new Switchboard({
    config,
    logger,
    db,
    ...(options.pluginInstances ? { pluginInstances: options.pluginInstances } : {}),
    clientPool: options.clientPool ?? { retryBaseMs: 200, retryMaxMs: 1000 },
    ...(options.clientInstances ? { clientInstances: options.clientInstances } : {}),
    ...(options.runtime ? { runtime: options.runtime } : {}),
    ...(options.instanceDatabases ? { instanceDatabases: options.instanceDatabases } : {}),
    ...(options.logHub ? { logHub: options.logHub } : {}),
    ...(options.sendRetry ? { sendRetry: options.sendRetry } : {}),
  });
  const { services } = switchboard;
  await switchboard.start({ clients: options.startClients ?? false });
  const app = switchboard.app(options.resources);
  let server: Server | undefined;
  return {
    app,
    config,
    db,
    logger,
    clients: services.clients,
    instances: services.instances,
    plugins: services.plugins,
    bridge: services.bridge,
    token: signToken(TEST_SECRET, 'admin'),
    async listen() {
      server ??= await switchboard.listen({ port: 0, bindAddress: '127.0.0.1' }, app);
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    async close() {
      await switchboard.stop();
      if (!options.db) await db.close();
    },
  };
}
