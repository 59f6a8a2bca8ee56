import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { SealedSecret } from '../secrets/secret-box';
import type { DbInstanceDatabaseRow } from './tables';

/**
 * Each instance's database is a schema of its own, owned by a role of its own that logs in with
 * a password of its own; plugin and explorer statements run on that role's connections
 * (instance-connections.ts). The role has no attributes, is a member of nothing and owns nothing
 * but its schema, so other schemas (other instances', Switchboard's tables) are out of its reach.
 *
 * Names come from a sequence, not from the instance's id: ids may hold any character and may
 * change (a rename). Roles belong to the whole PostgreSQL server, which several databases (other
 * Switchboards, test databases) may share, so role names also carry this database's oid:
 * `sbi_<database oid>_<n>`; the schema takes the same name. A name taken anyway gets a random
 * suffix.
 */
export interface InstanceDatabaseLogin {
  instanceId: string;
  schema: string;
  role: string;
  /** The role's password, sealed; null until the role may log in. */
  password: SealedSecret | null;
}

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The rows of a raw query's result. */
async function rowsOf<T>(query: Promise<unknown>): Promise<T[]> {
  return ((await query) as { rows: T[] }).rows;
}

function toLogin(row: DbInstanceDatabaseRow): InstanceDatabaseLogin {
  return {
    instanceId: row.instance_id,
    schema: row.schema_name,
    role: row.role_name,
    password:
      row.password_ciphertext && row.password_key_id
        ? { ciphertext: row.password_ciphertext, keyId: row.password_key_id }
        : null,
  };
}

/** The instance's database, found by its instance's id or by its role. */
export async function findInstanceDatabase(
  db: Knex,
  by: { instanceId: string } | { role: string },
): Promise<InstanceDatabaseLogin | null> {
  const row = await db('instance_database')
    .select<DbInstanceDatabaseRow[]>('*')
    .where('instanceId' in by ? { instance_id: by.instanceId } : { role_name: by.role })
    .first();
  return row ? toLogin(row) : null;
}

export async function saveInstanceDatabasePassword(
  db: Knex,
  instanceId: string,
  password: SealedSecret,
): Promise<void> {
  await db('instance_database')
    .where({ instance_id: instanceId })
    .update({ password_ciphertext: password.ciphertext, password_key_id: password.keyId });
}

function isCode(err: unknown, code: string): boolean {
  return (err as { code?: string }).code === code;
}

/**
 * Switchboard's own login may be a superuser (the embedded server) or a role with CREATEROLE
 * (DATABASE_URL); the latter makes itself a member of the roles it manages, which PostgreSQL
 * asks of whoever gives a role a schema, reassigns or drops its objects, or ends its sessions.
 */
async function manage(db: Knex, role: string): Promise<void> {
  const [me] = await rowsOf<{ super: boolean }>(
    db.raw('select rolsuper as super from pg_roles where rolname = current_user'),
  );
  if (!me?.super) await db.raw(`GRANT ${quoteIdent(role)} TO CURRENT_USER`);
}

/** A new role without login, privileges or memberships, named as described above. */
async function createInstanceRole(db: Knex): Promise<{ id: number; name: string }> {
  const [next] = await rowsOf<{ id: string; base: string }>(
    db.raw(
      `select nextval('instance_database_id_seq') as id,
              'sbi_' || (select oid from pg_database where datname = current_database()) as base`,
    ),
  );
  const id = Number(next!.id);
  for (let attempt = 0; ; attempt++) {
    const name = `${next!.base}_${id}${attempt === 0 ? '' : `_${randomBytes(4).toString('hex')}`}`;
    try {
      await db.transaction((savepoint) =>
        savepoint.raw(
          `CREATE ROLE ${quoteIdent(name)} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS`,
        ),
      );
    } catch (err) {
      if (isCode(err, '42710') && attempt < 5) continue; // duplicate_object: taken
      throw err;
    }
    await manage(db, name);
    return { id, name };
  }
}

/** Makes the instance's role (no login yet) and its schema. Run it in a transaction. */
export async function createInstanceDatabase(
  trx: Knex.Transaction,
  instanceId: string,
): Promise<InstanceDatabaseLogin> {
  const role = await createInstanceRole(trx);
  await trx.raw(`CREATE SCHEMA ${quoteIdent(role.name)} AUTHORIZATION ${quoteIdent(role.name)}`);
  await trx('instance_database').insert({
    id: role.id,
    instance_id: instanceId,
    schema_name: role.name,
    role_name: role.name,
  });
  return { instanceId, schema: role.name, role: role.name, password: null };
}

export class InstanceDatabaseUnsafeError extends Error {
  override name = 'InstanceDatabaseUnsafeError';
}

/**
 * Lets the role log in with the password whose SCRAM verifier is given, at most
 * `connectionLimit` sessions at a time (a limit the role cannot change itself). Checks first that
 * the role cannot create objects where Switchboard's own statements look for them (its search
 * path: PostgreSQL before 15 gave everyone CREATE on `public`), which would let it plant a
 * function or table that Switchboard then uses. Other instances' schemas are searched by nobody
 * but their own role.
 */
export async function enableInstanceLogin(
  db: Knex,
  login: InstanceDatabaseLogin,
  verifier: string,
  connectionLimit: number,
): Promise<void> {
  const writable = async () =>
    (
      await rowsOf<{ name: string }>(
        db.raw(
          `select nspname as name from unnest(current_schemas(false)) as nspname
            where nspname <> ? and has_schema_privilege(?, nspname, 'CREATE') order by 1`,
          [login.schema, login.role],
        ),
      )
    ).map((r) => r.name);
  if ((await writable()).includes('public')) {
    // Switchboard's database: everyone's CREATE on public is what PostgreSQL 15 took away too.
    await db
      .transaction((savepoint) => savepoint.raw('REVOKE CREATE ON SCHEMA public FROM PUBLIC'))
      .catch(() => undefined);
  }
  const others = await writable();
  if (others.length > 0) {
    throw new InstanceDatabaseUnsafeError(
      `the database lets the instance role ${login.role} create objects in ${others.join(', ')} ` +
        `(on Switchboard's search path); ` +
        `revoke CREATE on ${others.length > 1 ? 'those schemas' : 'that schema'} from PUBLIC ` +
        `(e.g. REVOKE CREATE ON SCHEMA public FROM PUBLIC) for instance databases to be confined`,
    );
  }
  if (!/^SCRAM-SHA-256\$[\w+/=:$]+$/.test(verifier)) throw new Error('not a SCRAM verifier');
  await db.raw(
    `ALTER ROLE ${quoteIdent(login.role)} LOGIN PASSWORD '${verifier}' CONNECTION LIMIT ${Math.floor(connectionLimit)}`,
  );
  const [database] = await rowsOf<{ name: string; allowed: boolean }>(
    db.raw(
      `select current_database() as name, has_database_privilege(?, current_database(), 'CONNECT') as allowed`,
      [login.role],
    ),
  );
  if (!database!.allowed) {
    await db.raw(
      `GRANT CONNECT ON DATABASE ${quoteIdent(database!.name)} TO ${quoteIdent(login.role)}`,
    );
  }
}

/**
 * Undoes what the role may do to itself between starts: a schema it dropped comes back empty,
 * and the defaults it gave its own sessions (ALTER ROLE … SET) go.
 */
export async function restoreInstanceDatabase(
  db: Knex,
  login: InstanceDatabaseLogin,
): Promise<void> {
  await db.raw(
    `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(login.schema)} AUTHORIZATION ${quoteIdent(login.role)}`,
  );
  await db.raw(`ALTER ROLE ${quoteIdent(login.role)} RESET ALL`);
}

/** Ends every session of the role but those given (Switchboard's own, still in use). */
export async function endInstanceSessions(
  db: Knex,
  role: string,
  except: readonly number[] = [],
): Promise<void> {
  await db.raw(
    `select pg_terminate_backend(pid) from pg_stat_activity
      where usename = ? and pid <> all(?::int[])`,
    [role, [...except]],
  );
}

/**
 * Drops exactly the instance's schema, whatever else its role owns in this database (large
 * objects, say), its privileges, the role and the row. A role that still owns something in
 * another database of the server cannot be dropped: it stays, unable to log in, and false says
 * so. Run it in a transaction, after the role's sessions ended.
 */
export async function dropInstanceDatabase(
  trx: Knex.Transaction,
  login: InstanceDatabaseLogin,
): Promise<boolean> {
  await trx.raw(`DROP SCHEMA IF EXISTS ${quoteIdent(login.schema)} CASCADE`);
  let dropped = true;
  const exists = await rowsOf(trx.raw('select 1 from pg_roles where rolname = ?', [login.role]));
  if (exists.length > 0) {
    await trx.raw(`DROP OWNED BY ${quoteIdent(login.role)}`);
    try {
      await trx.transaction((savepoint) => savepoint.raw(`DROP ROLE ${quoteIdent(login.role)}`));
    } catch (err) {
      if (!isCode(err, '2BP01')) throw err; // dependent_objects_still_exist, elsewhere
      await trx.raw(`ALTER ROLE ${quoteIdent(login.role)} NOLOGIN PASSWORD NULL`);
      dropped = false;
    }
  }
  await trx('instance_database').where({ instance_id: login.instanceId }).delete();
  return dropped;
}

/**
 * Releases before this one named an instance's schema and role `mbp_<id>` (`"` replaced by `_`,
 * cut to PostgreSQL's 63 bytes), so two ids could share them and another database of the same
 * server could hold a role of the same name; the import of PGlite data directories made those
 * roles again, without login. This moves each to the scheme above: the schema renamed, a new
 * role owning everything the old one owned in this database, the old role dropped unless it
 * still owns something elsewhere. A name two instances share goes to the older instance. Run in
 * a transaction (a migration).
 */
export async function adoptLegacyInstanceDatabases(trx: Knex.Transaction): Promise<void> {
  const instances = await rowsOf<{ id: string; legacy: string | null }>(
    trx.raw(
      `select i.id, n.nspname as legacy from instance i
         left join pg_namespace n on n.nspname = ('mbp_' || replace(i.id, '"', '_'))::name
        where i.database_engine is not null
        order by i.created_at, i.id`,
    ),
  );
  const claimed = new Set<string>();
  for (const { id, legacy } of instances) {
    if (legacy === null || claimed.has(legacy)) continue;
    claimed.add(legacy);
    const role = await createInstanceRole(trx);
    await trx.raw(`ALTER SCHEMA ${quoteIdent(legacy)} RENAME TO ${quoteIdent(role.name)}`);
    const oldRole = await rowsOf(trx.raw('select 1 from pg_roles where rolname = ?', [legacy]));
    if (oldRole.length > 0) {
      await manage(trx, legacy);
      await trx.raw(`REASSIGN OWNED BY ${quoteIdent(legacy)} TO ${quoteIdent(role.name)}`);
      await trx.raw(`DROP OWNED BY ${quoteIdent(legacy)}`);
      await trx
        .transaction((savepoint) => savepoint.raw(`DROP ROLE ${quoteIdent(legacy)}`))
        .catch((err: unknown) => {
          if (!isCode(err, '2BP01')) throw err;
        });
    } else {
      await trx.raw(`ALTER SCHEMA ${quoteIdent(role.name)} OWNER TO ${quoteIdent(role.name)}`);
    }
    await trx('instance_database').insert({
      id: role.id,
      instance_id: id,
      schema_name: role.name,
      role_name: role.name,
    });
  }
}

export interface ColumnInfo {
  type: string;
  nullable: string;
  default: string | null;
  primary: boolean;
  unique: boolean;
}

/** Tables of the instance's schema with their columns (maubot's Postgres shape). */
export async function instanceTables(
  db: Knex,
  schema: string,
): Promise<Record<string, { columns: Record<string, ColumnInfo> }>> {
  const columns = await rowsOf<{
    table_name: string;
    column_name: string;
    data_type: string;
    is_nullable: string;
    column_default: string | null;
    primary: boolean;
    unique: boolean;
  }>(
    db.raw(
      `select c.table_name, c.column_name, c.data_type, c.is_nullable, c.column_default,
            exists (select 1 from information_schema.table_constraints tc
                    join information_schema.key_column_usage k
                      on k.constraint_name = tc.constraint_name and k.table_schema = tc.table_schema
                    where tc.table_schema = c.table_schema and tc.table_name = c.table_name
                      and k.column_name = c.column_name and tc.constraint_type = 'PRIMARY KEY') as primary,
            exists (select 1 from information_schema.table_constraints tc
                    join information_schema.key_column_usage k
                      on k.constraint_name = tc.constraint_name and k.table_schema = tc.table_schema
                    where tc.table_schema = c.table_schema and tc.table_name = c.table_name
                      and k.column_name = c.column_name and tc.constraint_type = 'UNIQUE') as unique
       from information_schema.columns c
      where c.table_schema = ?
      order by c.table_name, c.ordinal_position`,
      [schema],
    ),
  );
  const tables: Record<string, { columns: Record<string, ColumnInfo> }> = {};
  for (const c of columns) {
    (tables[c.table_name] ??= { columns: {} }).columns[c.column_name] = {
      type: c.data_type,
      nullable: c.is_nullable,
      default: c.column_default,
      primary: c.primary,
      unique: c.unique,
    };
  }
  return tables;
}

/**
 * The explorer's statement for a table's rows, as maubot writes it (the admin sees it in the
 * answer's `query`): identifiers quoted, the order given, a whole non-negative limit.
 */
export function tableSelect(
  table: string,
  order: readonly { column: string; descending: boolean }[],
  limit: number,
): string {
  const sorts = order.map((o) => `${quoteIdent(o.column)} ${o.descending ? 'DESC' : 'ASC'}`);
  const orderBy = sorts.length ? ` ORDER BY ${sorts.join(', ')}` : '';
  return `SELECT * FROM ${quoteIdent(table)}${orderBy} LIMIT ${Math.max(0, Math.floor(limit))}`;
}
