import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { createLogger, type Logger, namedLogger } from '../logging/logger';
import { connectionParamsFromUrl, type ConnectionParams } from './connection-params';
import { ChangeFeed } from './change-feed';
import { EmbeddedPostgres } from './embedded-postgres';
import { migrationSource } from './migrations';
import { importPgliteDataDir, pgliteDir } from './pglite-import';
import { DatabaseStartError, type DatabaseInUseError } from './database-errors';
import { ServerLock, type ServerLockOptions } from './server-lock';

export type { ConnectionParams } from './connection-params';

/** 'embedded': the PostgreSQL server Switchboard runs itself; 'postgres': DATABASE_URL. */
export type DatabaseKind = 'postgres' | 'embedded';

export interface Database {
  knex: Knex;
  kind: DatabaseKind;
  /**
   * How to reach this database, for modules that open connections of their own with other
   * credentials: keep host, port, database (and ssl), put in your own user and password. The
   * embedded server's host is the directory of its Unix socket (or 127.0.0.1 with a random
   * port); `user`/`password` are Switchboard's own login (the embedded server's superuser, or
   * DATABASE_URL's user), which those modules must not hand on.
   */
  connectionParams(): ConnectionParams;
  /** Committed changes to the tables kept in memory, from any process (LISTEN/NOTIFY). */
  changes: ChangeFeed;
  /** Resolves when the database answers a query (readiness). */
  ping(): Promise<void>;
  /** Closes the pool, the change feed's session, releases the server lock, and stops the embedded server. */
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Postgres connection string; null/undefined means the embedded server. */
  url?: string | null | undefined;
  /** The data directory; the embedded server keeps its cluster in <dataDir>/postgres. */
  dataDir?: string | undefined;
  logger?: Logger;
  migrate?: boolean;
  /** The server lock was lost to another Switchboard (see ServerLock); default: logged. */
  onLockLost?: (err: DatabaseInUseError) => void;
}

const REFUSAL = 'Only one Switchboard may use it at a time: stop the other one first.';

/**
 * Opens Switchboard's database: DATABASE_URL's, or the embedded server's (started here, with
 * the database of an earlier release imported on its first start). Either way this process
 * then holds the server lock, so a second Switchboard on the same database or data directory
 * is refused with DatabaseInUseError.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const logger = options.logger ?? createLogger('silent');
  const onLost =
    options.onLockLost ?? ((err: Error) => logger.error({ err }, 'lost the database lock'));
  if (options.url) {
    if (options.dataDir && existsSync(join(pgliteDir(options.dataDir), 'PG_VERSION'))) {
      logger.warn(
        { dir: pgliteDir(resolve(options.dataDir)) },
        'the data directory holds the database of an earlier release, which is not used with ' +
          'DATABASE_URL: start once without DATABASE_URL to import it into the embedded server',
      );
    }
    const params = connectionParamsFromUrl(options.url);
    const where = `the database "${params.database}" on ${params.host}:${params.port}`;
    return connectDatabase('postgres', params, {
      ...options,
      logger,
      lock: { inUseMessage: inUse(where), logger, onLost },
    }).catch((err: unknown) => {
      if (err instanceof DatabaseStartError || !(err as { code?: unknown }).code) throw err;
      // Refused, unknown host, wrong password, no such database: the driver's words suffice.
      throw new DatabaseStartError(
        `Cannot open ${where} (DATABASE_URL): ${(err as Error).message}`,
      );
    });
  }
  if (!options.dataDir) throw new Error('the embedded database needs a data directory');
  const dataDir = resolve(options.dataDir);
  const inUseMessage = inUse(`the data directory ${dataDir}`);
  const server = await EmbeddedPostgres.start({ dataDir, logger, inUseMessage });
  try {
    const db = await connectDatabase('embedded', server.connectionParams(), {
      ...options,
      logger,
      lock: { inUseMessage, logger, onLost },
      beforeMigrate: () => importPgliteDataDir(dataDir, server.connectionParams(), logger),
    });
    return {
      ...db,
      async close() {
        await db.close();
        await server.stop();
      },
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

function knexLog(logger: Logger): Knex.Config['log'] {
  const log = namedLogger(logger, 'knex');
  return {
    warn: (message: unknown) => log.warn(String(message)),
    error: (message: unknown) => log.error(String(message)),
    deprecate: (method: string, alternative: string) =>
      log.warn(`${method} is deprecated, use ${alternative}`),
    debug: (message: unknown) => log.debug(String(message)),
  };
}

function inUse(where: string): (holder: string | null) => string {
  return (holder) =>
    `Another Switchboard${holder ? ` (${holder})` : ''} is using ${where}. ${REFUSAL}`;
}

/**
 * A Database on a server that is already running: the pool, then (with `lock`) the server
 * lock, then whatever must happen before migrating, then the migrations.
 */
export async function connectDatabase(
  kind: DatabaseKind,
  params: ConnectionParams,
  options: {
    migrate?: boolean;
    /** Where knex's own warnings go (a connection lost while the server restarts, say). */
    logger?: Logger;
    lock?: ServerLockOptions;
    beforeMigrate?: () => Promise<unknown>;
  } = {},
): Promise<Database> {
  const lock = options.lock ? await ServerLock.acquire(params, options.lock) : undefined;
  const knex = knexFactory({
    client: 'pg',
    connection: { ...params },
    pool: { min: 0, max: 10 },
    acquireConnectionTimeout: 10_000,
    log: knexLog(options.logger ?? createLogger('silent')),
  });
  const changes = new ChangeFeed(params, options.logger ?? createLogger('silent'));
  const close = async () => {
    await changes.close();
    await knex.destroy();
    await lock?.release();
  };
  try {
    await options.beforeMigrate?.();
    if (options.migrate ?? true) await migrate(knex);
  } catch (err) {
    await close();
    throw err;
  }
  const ping = async () => {
    await knex.raw('select 1');
  };
  return { knex, kind, connectionParams: () => ({ ...params }), changes, ping, close };
}

export async function migrate(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

export async function rollbackAll(knex: Knex): Promise<void> {
  await knex.migrate.rollback({ migrationSource }, true);
}
