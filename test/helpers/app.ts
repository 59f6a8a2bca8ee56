import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Express } from 'express';
import { signToken } from '../../src/admins/token';
import type { Config, Resource } from '../../src/config/schema';
import type { Database } from '../../src/db/database';
import { createLogger, type Logger } from '../../src/logging/logger';
import type { InstanceService } from '../../src/instances/instance-service';
import type { ServiceOptions } from '../../src/app/services';
import { Switchboard } from '../../src/app/switchboard';
import type { ClientService } from '../../src/clients/client-service';
import type { PluginService } from '../../src/plugins/plugin-service';
import type { Bridge } from '../../src/bridge/bridge';
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

/** The service options a test may set; the config, logger and database have defaults here. */
export type TestAppOptions = Partial<ServiceOptions> & {
  resources?: Resource[];
  /** Start the enabled stored clients, as the server does at startup. */
  startClients?: boolean;
};

export async function createTestApp(
  kind: TestDatabaseKind,
  options: TestAppOptions = {},
): Promise<TestApp> {
  const { resources, startClients, ...serviceOptions } = options;
  const config = options.config ?? testConfig();
  const logger = options.logger ?? createLogger('silent');
  // Reused when given (e.g. to restart the app on it), and then left open at close.
  const db = options.db ?? (await openTestDatabase(kind));
  const switchboard = new Switchboard({
    clientPool: { retryBaseMs: 200, retryMaxMs: 1000 },
    ...serviceOptions,
    config,
    logger,
    db,
  });
  const { services } = switchboard;
  await switchboard.start({ clients: startClients ?? false });
  const app = switchboard.app(resources);
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
