import type { Knex } from 'knex';

/**
 * Each instance's database is a schema of its own, owned by a role of its own; plugin and
 * admin queries run as that role, so other schemas (other instances, Switchboard's tables)
 * are out of reach. The role cannot log in.
 */
export function instanceSchema(instanceId: string): string {
  return `mbp_${instanceId.replace(/"/g, '_')}`;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The rows of a raw query's result (pg and the embedded driver answer alike). */
async function rowsOf<T>(query: Promise<unknown>): Promise<T[]> {
  return ((await query) as { rows: T[] }).rows;
}

export class InstanceQueryError extends Error {
  override name = 'InstanceQueryError';
}

/**
 * Statements that could leave the instance's role or schema are refused before they run
 * (one statement at a time is enforced separately).
 */
const ESCAPES =
  /^\s*(set|reset|do|copy|grant|revoke|listen|notify|load|discard)\b|\bset_config\b|\bsession_authorization\b|\bcreate\s+(or\s+replace\s+)?(function|procedure|trigger|event\s+trigger|extension|role|user|language|cast|operator|aggregate)\b|\balter\s+(role|user|system|database|default\s+privileges)\b|\bcopy\b|\blo_\w+|\bpg_read|\bdblink/i;

/**
 * `$1`-style parameters (what plugin authors write) as knex's `?` ones, in order; literal `?`
 * escaped. Quoted strings and identifiers are left alone.
 */
function toKnexBindings(
  sql: string,
  params: readonly unknown[],
): { sql: string; bindings: unknown[] } {
  const bindings: unknown[] = [];
  let out = '';
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end === -1 ? sql.length : end + 1;
      out += sql.slice(i, stop).replace(/\?/g, '\\?');
      i = stop - 1;
    } else if (c === '$' && /\d/.test(sql[i + 1] ?? '')) {
      const digits = /^\d+/.exec(sql.slice(i + 1))![0];
      const index = Number(digits) - 1;
      if (index >= params.length) throw new InstanceQueryError(`there is no parameter $${digits}`);
      bindings.push(params[index]);
      out += '?';
      i += digits.length;
    } else if (c === '?') {
      out += '\\?';
    } else if (c === ';' && sql.slice(i + 1).trim() !== '') {
      throw new InstanceQueryError('one statement at a time, please');
    } else {
      out += c;
    }
  }
  return { sql: out, bindings };
}

export async function ensureInstanceDatabase(db: Knex, instanceId: string): Promise<void> {
  const name = instanceSchema(instanceId);
  await db.transaction(async (trx) => {
    const exists = await rowsOf(trx.raw('select 1 from pg_roles where rolname = ?', [name]));
    if (exists.length === 0) {
      await trx.raw(`CREATE ROLE ${quote(name)} NOLOGIN NOINHERIT`);
    }
    await trx.raw(`CREATE SCHEMA IF NOT EXISTS ${quote(name)} AUTHORIZATION ${quote(name)}`);
  });
}

export async function dropInstanceDatabase(db: Knex, instanceId: string): Promise<void> {
  const name = instanceSchema(instanceId);
  await db.transaction(async (trx) => {
    await trx.raw(`DROP SCHEMA IF EXISTS ${quote(name)} CASCADE`);
    await trx.raw(`DROP ROLE IF EXISTS ${quote(name)}`);
  });
}

export async function renameInstanceDatabase(db: Knex, from: string, to: string): Promise<void> {
  const [a, b] = [instanceSchema(from), instanceSchema(to)];
  await db.transaction(async (trx) => {
    const exists = await rowsOf(trx.raw('select 1 from pg_namespace where nspname = ?', [a]));
    if (exists.length === 0) return;
    await trx.raw(`ALTER SCHEMA ${quote(a)} RENAME TO ${quote(b)}`);
    await trx.raw(`ALTER ROLE ${quote(a)} RENAME TO ${quote(b)}`);
  });
}

export interface InstanceQueryResult {
  rows: Record<string, unknown>[];
  columns: string[];
  rowCount: number;
  /** Postgres' command tag, e.g. "INSERT 0 1". */
  statusMessage: string;
}

/** One statement as the instance's role, in its schema, in a transaction of its own. */
export async function runInstanceQuery(
  db: Knex,
  instanceId: string,
  sql: string,
  params: readonly unknown[] = [],
): Promise<InstanceQueryResult> {
  if (ESCAPES.test(sql)) {
    throw new InstanceQueryError(
      'this statement is not allowed in an instance database (SET, RESET, DO, COPY, GRANT, functions, roles)',
    );
  }
  const name = instanceSchema(instanceId);
  const query = toKnexBindings(sql, params);
  return db.transaction(async (trx) => {
    await trx.raw(`SET LOCAL search_path TO ${quote(name)}`);
    await trx.raw(`SET LOCAL ROLE ${quote(name)}`);
    const result: {
      rows: Record<string, unknown>[];
      rowCount: number | null;
      fields?: { name: string }[];
    } = await trx.raw(query.sql, query.bindings as Knex.RawBinding[]);
    const verb = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? '';
    const count = result.rowCount ?? result.rows.length;
    return {
      rows: result.rows,
      columns: (result.fields ?? []).map((f) => f.name),
      rowCount: count,
      statusMessage: verb === 'INSERT' ? `INSERT 0 ${count}` : `${verb} ${count}`,
    };
  });
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
  instanceId: string,
): Promise<Record<string, { columns: Record<string, ColumnInfo> }>> {
  const name = instanceSchema(instanceId);
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
      [name],
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
