/** Process entry: loads config, opens the database, starts the listeners, stops cleanly. */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, randomToken, setAdminPassword } from './config/load';
import type { Config } from './config/schema';
import { secureDataDir } from './db/data-dir';
import { DatabaseStartError } from './db/database-errors';
import { migrate, openDatabase } from './db/database';
import { createLogger, processDestination } from './logging/logger';
import { Switchboard } from './app/switchboard';
import { LogHub } from './logging/log-hub';
import { MemoryTrim, processTrimProbe } from './util/memory-trim';

/** Writes out buffered log lines; set once the logger exists. */
let flushLogs = (): void => {};

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { config: { type: 'string', short: 'c' } },
    allowPositionals: true,
  });
  if (positionals[0] === 'set-password') {
    await setPassword(values.config, positionals[1] ?? 'admin');
    return;
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

  // The generated password is shown before its hash is written and before anything else can
  // fail: no start, however it ends, leaves a config whose password nobody saw.
  const loaded = await loadConfig({
    path: values.config,
    env: process.env,
    onFirstStart: (login, config, path) => printFirstStart(path, login, config),
  });
  const { config } = loaded;
  const destination = processDestination();
  flushLogs = () => destination.flushSync();
  process.once('exit', flushLogs);
  const logHub = new LogHub();
  const logger = createLogger(config.logging.level, destination, logHub);
  logger.info({ config: loaded.path }, 'configuration loaded');
  for (const warning of loaded.warnings) logger.warn(warning);
  for (const name of loaded.hashedAdmins) {
    logger.info({ admin: name }, 'hashed a plain-text admin password and saved it to the config');
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
    await switchboard.listen(listener).catch((err: unknown) => {
      throw new ListenError(listener, err);
    });
    logger.info(
      { address: `http://${listener.bindAddress}:${listener.port}`, resources: listener.resources },
      'listening',
    );
  }

  const trim = new MemoryTrim(processTrimProbe(), {
    onTrim: (before, after) =>
      logger.debug({ rssBefore: before, rssAfter: after }, 'idle: memory given back'),
  });
  trim.start();
  if (!trim.available) logger.debug('started without --expose-gc: idle memory is not trimmed');

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

/** A listener's port or address cannot be used: said in one line, with what to change. */
class ListenError extends Error {
  override name = 'ListenError';
  constructor(listener: { port: number; bindAddress: string }, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE'
        ? "the port is in use (another process listens there; change the listener's port in the config or SWITCHBOARD_PORT)"
        : code === 'EACCES'
          ? 'permission denied (ports below 1024 need privileges)'
          : code === 'EADDRNOTAVAIL'
            ? 'no network interface has that address'
            : String((cause as Error).message ?? cause);
    super(`cannot listen on ${listener.bindAddress}:${listener.port}: ${why}`);
  }
}

/** `set-password [name]`: a new password for an admin, read from stdin or generated. */
async function setPassword(configPath: string | undefined, name: string): Promise<void> {
  const given = process.stdin.isTTY ? '' : (await readStdin()).split('\n')[0]!.trim();
  const password = given || randomToken(20);
  const path = await setAdminPassword({ path: configPath, env: process.env, name, password });
  process.stdout.write(
    `Set a new password for "${name}" in ${path}` +
      (given ? '.\n' : `: ${password}\n`) +
      'A running Switchboard uses it after its next start.\n',
  );
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
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
      `  Switchboard is writing a new configuration to ${path}`,
      `  Management API: http://${first.bindAddress}:${first.port}/_matrix/maubot/v1`,
      `  API docs:       http://${first.bindAddress}:${first.port}/docs`,
      `  Log in as "${adminName}" with password: ${adminPassword}`,
      '  (shown only this once; only its hash is stored. Lost it? npm run set-password)',
      '',
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  // The log lines written so far come first, then the reason in one line.
  flushLogs();
  if (
    err instanceof ConfigError ||
    err instanceof DatabaseStartError ||
    err instanceof ListenError
  ) {
    process.stderr.write(`switchboard: ${err.message}\n`);
  } else {
    // Not foreseen: the stack trace is what a bug report needs.
    process.stderr.write(`switchboard: failed to start: ${String((err as Error).stack ?? err)}\n`);
  }
  process.exit(1);
});
