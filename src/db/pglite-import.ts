/**
 * The first release kept its database in PGlite (PostgreSQL compiled to WebAssembly) in
 * <dataDir>/db. PostgreSQL cannot open those files, so the first start of the embedded server
 * copies that database over, logically: every schema and table (Switchboard's, with its
 * migration history, and each instance's), every row, sequence positions, indexes,
 * constraints and the instance roles. It runs in one transaction and checks every table's row
 * count before committing; the old directory is then renamed and kept.
 */
import { existsSync } from 'node:fs';
import { chmod, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite' with { 'resolution-mode': 'import' };
import pg from 'pg';
import type { Logger } from '../logging/logger';
import type { ConnectionParams } from './connection-params';
import { PgliteImportError } from './database-errors';
import { unsafeObjects } from './pglite-import-check';

export function pgliteDir(dataDir: string): string {
  return join(dataDir, 'db');
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Rows per round trip: plugin archives are megabytes each. */
const BATCH_ROWS = 20;

interface SourceTable {
  schema: string;
  name: string;
  /** "schema"."name" */
  qualified: string;
}

/** pg_dump's psql-only lines (a restore key) mean nothing to a plain connection. */
function withoutPsqlCommands(sql: string): string {
  return sql.replace(/^\\(un)?restrict \w+$/gm, '');
}

async function dumpSection(pglite: PGlite, section: 'pre-data' | 'post-data'): Promise<string> {
  const { pgDump } = await import('@electric-sql/pglite-tools/pg_dump');
  const file = await pgDump({ pg: pglite, args: [`--section=${section}`] });
  return withoutPsqlCommands(await file.text());
}

async function sourceTables(pglite: PGlite): Promise<SourceTable[]> {
  const { rows } = await pglite.query<{ schema: string; name: string }>(
    `select n.nspname as schema, c.relname as name
       from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'r' and n.nspname <> 'information_schema' and n.nspname !~ '^pg_'
      order by 1, 2`,
  );
  return rows.map((t) => ({ ...t, qualified: `${quote(t.schema)}.${quote(t.name)}` }));
}

async function count(
  run: (sql: string) => Promise<{ rows: { n: string | number }[] }>,
  table: SourceTable,
): Promise<number> {
  const { rows } = await run(`select count(*) as n from ${table.qualified}`);
  return Number(rows[0]!.n);
}

/**
 * Copies a table's rows through JSON, which every type's text form survives (bytea as hex,
 * jsonb, arrays, timestamps), BATCH_ROWS at a time. Generated columns are computed again.
 */
async function copyRows(pglite: PGlite, target: pg.Client, table: SourceTable): Promise<number> {
  const { rows: columns } = await pglite.query<{ name: string; always: boolean }>(
    `select attname as name, attidentity = 'a' as always from pg_catalog.pg_attribute
      where attrelid = $1::regclass and attnum > 0 and not attisdropped and attgenerated = ''
      order by attnum`,
    [table.qualified],
  );
  const list = columns.map((c) => quote(c.name)).join(', ');
  const overriding = columns.some((c) => c.always) ? 'overriding system value' : '';
  let copied = 0;
  await pglite.transaction(async (tx) => {
    await tx.query(
      `declare switchboard_import no scroll cursor for
       select row_to_json(r)::text as r from (select ${list} from ${table.qualified}) r`,
    );
    for (;;) {
      const { rows } = await tx.query<{ r: string }>(`fetch ${BATCH_ROWS} from switchboard_import`);
      if (rows.length === 0) break;
      await target.query(
        `insert into ${table.qualified} (${list}) ${overriding}
         select ${list} from json_populate_recordset(null::${table.qualified}, $1::json)`,
        [`[${rows.map((row) => row.r).join(',')}]`],
      );
      copied += rows.length;
    }
    await tx.query('close switchboard_import');
  });
  return copied;
}

async function copySequences(pglite: PGlite, target: pg.Client): Promise<void> {
  const { rows } = await pglite.query<{ schema: string; name: string }>(
    `select n.nspname as schema, c.relname as name
       from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'S' and n.nspname <> 'information_schema' and n.nspname !~ '^pg_'`,
  );
  for (const seq of rows) {
    const qualified = `${quote(seq.schema)}.${quote(seq.name)}`;
    const { rows: at } = await pglite.query<{ last_value: string; is_called: boolean }>(
      `select last_value::text, is_called from ${qualified}`,
    );
    await target.query('select pg_catalog.setval($1::regclass, $2::bigint, $3)', [
      qualified,
      at[0]!.last_value,
      at[0]!.is_called,
    ]);
  }
}

/**
 * Roles own the instance schemas; pg_dump leaves roles out (they belong to the whole server).
 * They come back as Switchboard makes them: no login, no privileges of their own.
 */
async function copyRoles(pglite: PGlite, target: pg.Client): Promise<void> {
  const { rows } = await pglite.query<{ name: string }>(
    `select rolname as name from pg_catalog.pg_roles
      where rolname !~ '^pg_' and rolname <> current_user order by 1`,
  );
  for (const { name } of rows) {
    const exists = await target.query('select 1 from pg_catalog.pg_roles where rolname = $1', [
      name,
    ]);
    if (!exists.rowCount) await target.query(`create role ${quote(name)} nologin noinherit`);
  }
}

/**
 * Nothing that runs code is restored as the superuser (see pglite-import-check.ts): such an
 * object stops the import, each one logged, before anything is written.
 */
async function refuseUnsafeObjects(pglite: PGlite, dir: string, logger: Logger): Promise<void> {
  const found = await unsafeObjects(pglite);
  if (found.length === 0) return;
  for (const object of found) {
    logger.error(
      { object },
      'the database of an earlier release holds an object that would run code with ' +
        'superuser rights if imported; nothing was imported',
    );
  }
  const shown =
    found.slice(0, 10).join('; ') + (found.length > 10 ? `; and ${found.length - 10} more` : '');
  throw new PgliteImportError(
    `${dir} (the database of an earlier release) holds ${found.length} object(s) that run code ` +
      `and would run with superuser rights in the embedded server: ${shown}. Nothing was ` +
      `imported. Drop them with the earlier release (for an instance's, through its database ` +
      `explorer, or delete the instance), then start this version again.`,
  );
}

/** Where the old directory goes: the first free name. */
function keptName(dir: string): string {
  for (let i = 1; ; i++) {
    const name = `${dir}.pglite-imported${i === 1 ? '' : `-${i}`}`;
    if (!existsSync(name)) return name;
  }
}

/**
 * Imports <dataDir>/db when it holds an earlier release's database, into `target` (Switchboard's
 * empty database, as its superuser). Returns where the old directory was kept, or null when
 * there was nothing to import.
 */
export async function importPgliteDataDir(
  dataDir: string,
  target: ConnectionParams,
  logger: Logger,
): Promise<string | null> {
  const dir = pgliteDir(dataDir);
  if (!existsSync(join(dir, 'PG_VERSION'))) return null;
  const client = new pg.Client(target);
  await client.connect();
  try {
    const { rows } = await client.query<{ migrated: boolean }>(
      `select to_regclass('public.knex_migrations') is not null as migrated`,
    );
    if (rows[0]!.migrated) {
      throw new PgliteImportError(
        `${dir} holds the database of an earlier release (PGlite), but the embedded PostgreSQL ` +
          `database already has Switchboard's tables, so it was imported or started without ` +
          `it before. Move ${dir} out of the data directory to start.`,
      );
    }
    const started = Date.now();
    logger.info(
      { from: dir },
      'importing the database of an earlier release (PGlite) into the embedded PostgreSQL server',
    );
    const { PGlite } = await import('@electric-sql/pglite');
    let pglite: PGlite;
    try {
      pglite = await PGlite.create(dir);
    } catch (err) {
      throw new PgliteImportError(
        `Could not open the earlier release's database in ${dir}: ${(err as Error).message}`,
      );
    }
    let tables: SourceTable[];
    try {
      await refuseUnsafeObjects(pglite, dir, logger);
      await client.query('begin');
      await copyRoles(pglite, client);
      await client.query(await dumpSection(pglite, 'pre-data'));
      tables = await sourceTables(pglite);
      for (const [i, table] of tables.entries()) {
        const rows = await copyRows(pglite, client, table);
        logger.info(
          { table: `${table.schema}.${table.name}`, rows, progress: `${i + 1}/${tables.length}` },
          'imported a table',
        );
      }
      await copySequences(pglite, client);
      await client.query(await dumpSection(pglite, 'post-data'));
      for (const table of tables) {
        const [from, to] = await Promise.all([
          count((sql) => pglite.query(sql), table),
          count((sql) => client.query(sql), table),
        ]);
        if (from !== to) {
          throw new PgliteImportError(`${table.qualified} has ${from} rows but ${to} were copied`);
        }
      }
      await client.query('commit');
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    } finally {
      await pglite.close();
    }
    const kept = keptName(dir);
    await rename(dir, kept);
    await chmod(kept, 0o700);
    logger.info(
      {
        from: dir,
        keptAt: kept,
        tables: tables.length,
        instanceSchemas: new Set(tables.map((t) => t.schema).filter((s) => s.startsWith('mbp_')))
          .size,
        ms: Date.now() - started,
      },
      'imported the database of an earlier release; its old directory is kept (remove it once everything is there)',
    );
    return kept;
  } finally {
    await client.end();
  }
}
