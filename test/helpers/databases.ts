import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { connectDatabase, type Database } from '../../src/db/database';
import { connectionParamsFromUrl, type ConnectionParams } from '../../src/db/connection-params';
import { EmbeddedPostgres } from '../../src/db/embedded-postgres';
import { createLogger } from '../../src/logging/logger';
import { dropDatabaseAndRoles } from '../../testing/postgres-databases';

export type TestDatabaseKind = 'embedded' | 'postgres';

/** The embedded database always; real Postgres too when TEST_DATABASE_URL is set. */
export function testDatabaseKinds(): TestDatabaseKind[] {
  return process.env.TEST_DATABASE_URL ? ['embedded', 'postgres'] : ['embedded'];
}

/** Set by the global setup: one embedded server per jest worker (JSON of ConnectionParams[]). */
export const TEST_SERVERS_ENV = 'SWITCHBOARD_TEST_EMBEDDED_SERVERS';
/** A migrated database on each test server that every test database is copied from. */
export const TEMPLATE_DATABASE = 'switchboard_template';

/** A throwaway embedded server: no fsync, in the test process's group (it goes with it). */
export function startTestServer(dataDir: string): Promise<EmbeddedPostgres> {
  return EmbeddedPostgres.start({
    dataDir,
    logger: createLogger('warn', process.stderr),
    durable: false,
    ownProcessGroup: false,
  });
}

/** This worker's embedded server (superuser login to its `postgres` database). */
function workerServer(): ConnectionParams | null {
  const servers = JSON.parse(process.env[TEST_SERVERS_ENV] ?? 'null') as ConnectionParams[] | null;
  if (!servers?.length) return null;
  const worker = Number(process.env.JEST_WORKER_ID ?? 1);
  return servers[(worker - 1) % servers.length]!;
}

async function onServer(params: ConnectionParams, sql: string): Promise<void> {
  const client = new pg.Client(params);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A fresh, migrated database of that kind; close() drops it. Embedded ones are copies of the
 * migrated template on this worker's server; without the global setup (a test run some other
 * way) a server of its own is started and stopped with it.
 */
export async function openTestDatabase(kind: TestDatabaseKind): Promise<Database> {
  const name = `switchboard_test_${randomBytes(6).toString('hex')}`;
  if (kind === 'embedded') {
    const server = workerServer();
    if (!server) return openOwnServerDatabase();
    await onServer(server, `CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE}`);
    const db = await connectDatabase('embedded', { ...server, database: name });
    return {
      ...db,
      async close() {
        await db.close();
        await dropDatabaseAndRoles(server, name);
      },
    };
  }
  const adminUrl = process.env.TEST_DATABASE_URL!;
  const admin = knexFactory({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  // Like the embedded ones, without the server lock: a test may open its own Switchboard on it.
  const db = await connectDatabase('postgres', connectionParamsFromUrl(url.toString()));
  return {
    ...db,
    async close() {
      await db.close();
      await admin.destroy();
      await dropDatabaseAndRoles(connectionParamsFromUrl(adminUrl), name);
    },
  };
}

/** A DATABASE_URL for those parameters (a socket directory goes in `?host=`). */
export function databaseUrl(params: ConnectionParams): string {
  const url = new URL(`postgres://localhost/${params.database}`);
  url.username = params.user;
  if (params.password) url.password = params.password;
  if (params.host.startsWith('/')) {
    url.searchParams.set('host', params.host);
  } else {
    url.hostname = params.host;
    url.port = String(params.port);
  }
  return url.toString();
}

async function openOwnServerDatabase(): Promise<Database> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-test-db-'));
  const server = await startTestServer(dir);
  const db = await connectDatabase('embedded', server.connectionParams());
  return {
    ...db,
    async close() {
      await db.close();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The rows of a raw query. */
export async function queryRows<T = Record<string, unknown>>(
  knex: Knex,
  sql: string,
  bindings: Knex.RawBinding[] = [],
): Promise<T[]> {
  const result: { rows: T[] } = await knex.raw(sql, bindings);
  return result.rows;
}
