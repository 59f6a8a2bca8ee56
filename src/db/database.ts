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
