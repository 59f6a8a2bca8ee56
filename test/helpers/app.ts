import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Express } from 'express';
import { AdminAuthService } from '../../src/admins/admin-auth-service';
import { signToken } from '../../src/api/maubot/token';
import type { Config, Resource } from '../../src/config/schema';
import type { Database } from '../../src/db/database';
import { createApp } from '../../src/http/app';
import { createMetrics } from '../../src/http/metrics';
import { createLogger, type Logger } from '../../src/logging/logger';
import { TEST_SECRET, testConfig } from './config';
import { openTestDatabase, type TestDatabaseKind } from './databases';

export interface TestApp {
  app: Express;
  config: Config;
  db: Database;
  logger: Logger;
  /** A valid management token for the configured admin. */
  token: string;
  /** Listens on a loopback port (for clients that need a real URL). */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export async function createTestApp(
  kind: TestDatabaseKind,
  options: { config?: Config; resources?: Resource[]; logger?: Logger } = {},
): Promise<TestApp> {
  const config = options.config ?? testConfig();
  const logger = options.logger ?? createLogger('silent');
  const db = await openTestDatabase(kind);
  const admins = new AdminAuthService(config.server.unsharedSecret, config.admins);
  const app = createApp({
    config,
    logger,
    db,
    admins,
    metrics: createMetrics(),
    ...(options.resources ? { resources: options.resources } : {}),
  });
  let server: Server | undefined;
  return {
    app,
    config,
    db,
    logger,
    token: signToken(TEST_SECRET, 'admin'),
    async listen() {
      server ??= await new Promise<Server>((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    async close() {
      if (server) await new Promise((resolve) => server!.close(resolve));
      await db.close();
    },
  };
}
