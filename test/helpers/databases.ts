import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';
import { openDatabase, type Database } from '../../src/db/database';

export type TestDatabaseKind = 'embedded' | 'postgres';

/** The embedded database always; real Postgres too when TEST_DATABASE_URL is set. */
export function testDatabaseKinds(): TestDatabaseKind[] {
  return process.env.TEST_DATABASE_URL ? ['embedded', 'postgres'] : ['embedded'];
}

/** A fresh, migrated database of that kind; close() also drops a Postgres one. */
export async function openTestDatabase(kind: TestDatabaseKind): Promise<Database> {
  if (kind === 'embedded') return openDatabase({});
  const adminUrl = process.env.TEST_DATABASE_URL!;
  const name = `switchboard_test_${randomBytes(6).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = await openDatabase({ url: url.toString() });
  return {
    ...db,
    async close() {
      await db.close();
      await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.destroy();
    },
  };
}
