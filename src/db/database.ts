import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import { migrationSource } from './migrations';

export type DatabaseKind = 'postgres' | 'embedded';

export interface Database {
  knex: Knex;
  kind: DatabaseKind;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Postgres connection string; null/undefined means embedded. */
  url?: string | null | undefined;
  /** Directory of the embedded database; undefined means in memory. */
  embeddedDir?: string | undefined;
  migrate?: boolean;
}

/** `int8`/`numeric` come back as strings from pg; counts are small, so parse them. */
function postgresConfig(url: string): Knex.Config {
  return {
    client: 'pg',
    connection: url,
    pool: { min: 0, max: 10 },
    acquireConnectionTimeout: 10_000,
  };
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  let knex: Knex;
  let kind: DatabaseKind;
  if (options.url) {
    knex = knexFactory(postgresConfig(options.url));
    kind = 'postgres';
  } else {
    if (options.embeddedDir) await mkdir(options.embeddedDir, { recursive: true });
    knex = knexFactory({
      client: ClientPgLite,
      dialect: 'postgres',
      connection: options.embeddedDir ? { filename: resolve(options.embeddedDir) } : {},
      // The embedded engine has one connection; waiting on it must not time out under load.
      acquireConnectionTimeout: 60_000,
    } as Knex.Config);
    kind = 'embedded';
  }
  if (options.migrate ?? true) await migrate(knex);
  return { knex, kind, close: () => knex.destroy() };
}

/** The minimal part of the embedded engine's own client that repositories use directly. */
export interface EmbeddedEngine {
  query<T>(
    sql: string,
    params?: unknown[],
    options?: { blob?: Blob },
  ): Promise<{ rows: T[]; blob?: Blob }>;
}

/**
 * The embedded engine behind a knex handle or transaction, or null for a Postgres server.
 * There is only one embedded connection, so a query sent to it directly runs in the same
 * session, inside the transaction when `db` is one.
 */
export async function embeddedEngine(db: Knex): Promise<EmbeddedEngine | null> {
  const client: unknown = db.client;
  if (!(client instanceof ClientPgLite)) return null;
  // A transaction's client hands out the connection it holds; the root client keeps the engine.
  if ((db as Knex.Transaction).isTransaction) {
    return await (client as { acquireConnection(): Promise<EmbeddedEngine> }).acquireConnection();
  }
  return (client as unknown as { pglite: EmbeddedEngine }).pglite;
}

export function embeddedDatabaseDir(dataDir: string): string {
  return join(dataDir, 'db');
}

export async function migrate(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

export async function rollbackAll(knex: Knex): Promise<void> {
  await knex.migrate.rollback({ migrationSource }, true);
}
