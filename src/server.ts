/** Process entry: loads config, opens the database, starts the listeners, stops cleanly. */
import { once } from 'node:events';
import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/load';
import type { Config } from './config/schema';
import { embeddedDatabaseDir, migrate, openDatabase } from './db/database';
import { createApp } from './http/app';
import { bufferedDestination, createLogger } from './logging/logger';
import { createServices } from './services';
import { attachLogSocket, type LogSocket } from './api/maubot/log-socket';
import { LogHub } from './logging/log-hub';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { config: { type: 'string', short: 'c' } },
    allowPositionals: true,
  });
  const loaded = await loadConfig({ path: values.config, env: process.env });
  const { config } = loaded;
  const destination = bufferedDestination();
  process.once('exit', () => destination.flushSync());
  const logHub = new LogHub();
  const logger = createLogger(config.logging.level, destination, logHub);
  logger.info({ config: loaded.path }, 'configuration loaded');
  for (const warning of loaded.warnings) logger.warn(warning);
  for (const name of loaded.hashedAdmins) {
    logger.info({ admin: name }, 'hashed a plain-text admin password and saved it to the config');
  }

  const db = await openDatabase({
    url: config.database.url,
    embeddedDir: embeddedDatabaseDir(config.dataDir),
    migrate: false,
  });
  const applied = await migrate(db.knex);
  logger.info(
    { database: db.kind, migrations: applied },
    applied.length ? 'database migrated' : 'database schema is up to date',
  );
  // Shown in every mode: the generated password exists nowhere else.
  if (loaded.firstStart) printFirstStart(loaded.path, loaded.firstStart, config);
  if (positionals[0] === 'migrate') {
    await db.close();
    return;
  }

  // A stray rejection inside a library (a Matrix client stopped mid-request, say) is logged:
  // it must not take every other bot and API down with it.
  process.on('unhandledRejection', (err) => {
    logger.error({ err }, 'unhandled promise rejection');
  });

  const services = createServices({ config, logger, db, logHub });
  // Connections are loaded before any listener answers for them.
  await services.bridge.start();
  const servers: Server[] = [];
  const logSockets: LogSocket[] = [];
  for (const listener of config.listeners) {
    const app = createApp({ ...services, resources: listener.resources });
    const server = app.listen(listener.port, listener.bindAddress);
    await once(server, 'listening');
    servers.push(server);
    if (listener.resources.includes('maubot')) logSockets.push(attachLogSocket(server, services));
    logger.info(
      { address: `http://${listener.bindAddress}:${listener.port}`, resources: listener.resources },
      'listening',
    );
  }

  // In the background: the listeners answer while clients connect to their homeservers.
  services.clients.startAll().catch((err: unknown) => {
    logger.error({ err }, 'could not start the Matrix clients');
  });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    for (const socket of logSockets) socket.close();
    services.clientAuth.close();
    await services.instances.stopAll();
    await services.clients.stopAll();
    await services.bridge.stop();
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeIdleConnections();
          }),
      ),
    );
    await db.close();
    logger.info('stopped');
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      stop(signal).then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'error while shutting down');
          process.exit(1);
        },
      );
    });
  }
}

function printFirstStart(
  path: string,
  { adminName, adminPassword }: { adminName: string; adminPassword: string },
  config: Config,
): void {
  const first = config.listeners[0]!;
  process.stdout.write(
    [
      '',
      `  Switchboard wrote a new configuration to ${path}`,
      `  Management API: http://${first.bindAddress}:${first.port}/_matrix/maubot/v1`,
      `  API docs:       http://${first.bindAddress}:${first.port}/docs`,
      `  Log in as "${adminName}" with password: ${adminPassword}`,
      '  (shown only this once; only its hash is stored)',
      '',
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`switchboard: ${err.message}\n`);
  } else {
    process.stderr.write(`switchboard: failed to start: ${String((err as Error).stack ?? err)}\n`);
  }
  process.exit(1);
});
