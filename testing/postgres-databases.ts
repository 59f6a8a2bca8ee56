import pg from 'pg';

/**
 * Drops a scratch database and the instance roles it made. Roles belong to the whole server,
 * shared by every suite and benchmark run on it; their names carry the database's oid.
 */
export async function dropDatabaseAndRoles(
  connection: string | pg.ClientConfig,
  name: string,
): Promise<void> {
  const client = new pg.Client(connection);
  await client.connect();
  try {
    const { rows } = await client.query<{ role: string }>(
      `select r.rolname as role from pg_roles r, pg_database d
        where d.datname = $1 and starts_with(r.rolname, 'sbi_' || d.oid || '_')`,
      [name],
    );
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    for (const { role } of rows) await client.query(`DROP ROLE IF EXISTS "${role}"`);
  } finally {
    await client.end();
  }
}
