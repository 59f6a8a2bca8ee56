/** Process entry: loads config, opens the database, starts the listeners, stops cleanly. */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/load';
import type { Config } from './config/schema';
import { secureDataDir } from './db/data-dir';
import { DatabaseStartError } from './db/database-errors';
import { migrate, openDatabase } from './db/database';
import { bufferedDestination, createLogger } from './logging/logger';
import { Switchboard } from './app/switchboard';
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

  // Shutdown stays in this process's hands: until the services run there is nothing to drain
  // and exiting stops the embedded database server; once they run, they are stopped in order; a
  // second signal while that happens exits at once.
  const running: { shutDown?: (reason: string, code?: number) => void } = {};
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (running.shutDown) running.shutDown(signal);
      else process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }

  // The embedded server secures the data directory itself (it knows its own OS user).
  if (config.database.url) await secureDataDir(config.dataDir);
  const db = await openDatabase({
    url: config.database.url,
    dataDir: config.dataDir,
    logger,
    migrate: false,
    onLockLost: (err) => {
      logger.error({ err }, 'another Switchboard took over the database; stopping');
      if (running.shutDown) running.shutDown('database lock lost', 1);
      else process.exit(1);
    },
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

  const switchboard = new Switchboard({ config, logger, db, logHub });
  await switchboard.services.plugins.removeUnusedArchives();
  // Connections are loaded before any listener answers for them.
  await switchboard.start();
  for (const listener of config.listeners) {
    await switchboard.listen(listener);
    logger.info(
      { address: `http://${listener.bindAddress}:${listener.port}`, resources: listener.resources },
      'listening',
    );
  }

  // In the background: the listeners answer while clients connect to their homeservers.
  switchboard.services.clients.startAll().catch((err: unknown) => {
    logger.error({ err }, 'could not start the Matrix clients');
  });

  let stopping = false;
  const stop = async (reason: string): Promise<void> => {
    logger.info({ reason }, 'shutting down');
    await switchboard.stop();
    await db.close();
    logger.info('stopped');
  };
  running.shutDown = (reason, code = 0) => {
    if (stopping) process.exit(1);
    stopping = true;
    stop(reason).then(
      () => process.exit(code),
      (err: unknown) => {
        logger.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
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
  if (err instanceof ConfigError || err instanceof DatabaseStartError) {
    process.stderr.write(`switchboard: ${err.message}\n`);
  } else {
    process.stderr.write(`switchboard: failed to start: ${String((err as Error).stack ?? err)}\n`);
  }
  process.exit(1);
});
