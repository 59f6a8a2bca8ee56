import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/database';
import { PgliteImportError } from '../../src/db/database-errors';
import { EMBEDDED_DATABASE, EmbeddedPostgres } from '../../src/db/embedded-postgres';
import { migrationSource } from '../../src/db/migrations';
import { readArchive } from '../../src/db/plugin-repository';
import { InstanceDatabases } from '../../src/instances/instance-databases';
import { SecretBox } from '../../src/secrets/secret-box';
import { databaseUrl, openTestDatabase } from '../helpers/databases';
import { captureLogs } from '../helpers/log-capture';

const FIXTURE = join(__dirname, '../fixtures/pglite-0.1.0-data-dir.tar.br');

let unpacked: string | undefined;

/** A data directory as Switchboard 0.1.0 (PGlite in <dataDir>/db) left it. */
async function releaseDataDir(): Promise<string> {
  if (!unpacked) {
    unpacked = await mkdtemp(join(tmpdir(), 'switchboard-release-'));
    const tar = brotliDecompressSync(await readFile(FIXTURE));
    const pglite = await PGlite.create(join(unpacked, 'db'), { loadDataDir: new Blob([tar]) });
    await pglite.close();
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'switchboard-import-'));
  await cp(join(unpacked, 'db'), join(dataDir, 'db'), { recursive: true });
  return dataDir;
}

interface Snapshot {
  /** "schema.table" -> its rows as JSON text, sorted. */
  tables: Record<string, string[]>;
  sequences: Record<string, string>;
  /** "schema.table" -> owner. */
  owners: Record<string, string>;
  indexes: string[];
  constraints: string[];
}

type Query = (sql: string) => Promise<Record<string, unknown>[]>;

const USER_SCHEMAS = `n.nspname <> 'information_schema' and n.nspname !~ '^pg_'`;

/** Everything a database holds outside the system catalogs, comparable across servers. */
async function snapshot(query: Query): Promise<Snapshot> {
  const tables: Snapshot['tables'] = {};
  const owners: Snapshot['owners'] = {};
  const relations = await query(
    `select n.nspname as schema, c.relname as name, pg_get_userbyid(c.relowner) as owner
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'r' and ${USER_SCHEMAS} order by 1, 2`,
  );
  for (const { schema, name, owner } of relations as {
    schema: string;
    name: string;
    owner: string;
  }[]) {
    const key = `${schema}.${name}`;
    const rows = await query(`select row_to_json(t)::text as r from "${schema}"."${name}" t`);
    tables[key] = rows.map((r) => String(r.r)).sort();
    owners[key] = owner;
  }
  const sequences: Snapshot['sequences'] = {};
  for (const { schema, name } of (await query(
    `select n.nspname as schema, c.relname as name from pg_class c
       join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'S' and ${USER_SCHEMAS}`,
  )) as { schema: string; name: string }[]) {
    const [at] = await query(
      `select last_value::text || '/' || is_called as v from "${schema}"."${name}"`,
    );
    sequences[`${schema}.${name}`] = String(at!.v);
  }
  const indexes = (
    await query(
      `select indexdef as d from pg_indexes where schemaname <> 'information_schema' and schemaname !~ '^pg_'`,
    )
  )
    .map((r) => String(r.d))
    .sort();
  const constraints = (
    await query(
      `select conrelid::regclass::text || ' ' || pg_get_constraintdef(c.oid) as d
         from pg_constraint c join pg_namespace n on n.oid = c.connamespace where ${USER_SCHEMAS}`,
    )
  )
    .map((r) => String(r.d))
    .sort();
  return { tables, sequences, owners, indexes, constraints };
}

const MIGRATIONS = 'public.knex_migrations';
const MIGRATIONS_SEQUENCE = 'public.knex_migrations_id_seq';

/**
 * The snapshot as the release left it: without the rows of the migrations added since, which
 * run after the import (checked apart).
 */
function asReleased(s: Snapshot, released: Snapshot): Snapshot {
  const rows = released.tables[MIGRATIONS]!;
  return {
    ...s,
    tables: { ...s.tables, [MIGRATIONS]: s.tables[MIGRATIONS]!.filter((r) => rows.includes(r)) },
    sequences: { ...s.sequences, [MIGRATIONS_SEQUENCE]: released.sequences[MIGRATIONS_SEQUENCE]! },
  };
}

const migrationNames = (s: Snapshot): string[] =>
  s.tables[MIGRATIONS]!.map((r) => JSON.parse(r) as { id: number; name: string })
    .sort((a, b) => a.id - b.id)
    .map((m) => m.name);

async function pgliteSnapshot(dir: string): Promise<Snapshot> {
  const pglite = await PGlite.create(dir);
  try {
    return await snapshot(async (sql) => (await pglite.query<Record<string, unknown>>(sql)).rows);
  } finally {
    await pglite.close();
  }
}

const SETTINGS = {
  statementTimeoutMs: 5000,
  maxRows: 1000,
  maxResultBytes: 1024 * 1024,
  connectionsPerInstance: 1,
  maxConnections: 2,
  idleMs: 1000,
};

/**
 * What the snapshot of an imported 0.1.0 database looks like once migrated: each `mbp_<id>`
 * schema and role under its new name, and the table (with its sequence, index and
 * constraints) and migration row that record them.
 */
function withInstanceDatabasesMoved(before: Snapshot, moved: Map<string, string>): Snapshot {
  const rename = (text: string) => text.replace(/\bmbp_\w+/g, (name) => moved.get(name) ?? name);
  const keys = <T>(record: Record<string, T>, value: (v: T) => T = (v) => v) =>
    Object.fromEntries(Object.entries(record).map(([k, v]) => [rename(k), value(v)]));
  return {
    tables: keys(before.tables),
    sequences: keys(before.sequences),
    owners: keys(before.owners, rename),
    indexes: before.indexes.map(rename).sort(),
    constraints: before.constraints.map(rename).sort(),
  };
}

/** The snapshot without what the migration of instance databases added. */
function withoutInstanceDatabaseTable(after: Snapshot): Snapshot {
  const ours = (text: string) => text.includes('instance_database');
  const drop = <T>(record: Record<string, T>) =>
    Object.fromEntries(Object.entries(record).filter(([k]) => !ours(k)));
  return {
    tables: drop(after.tables),
    sequences: drop(after.sequences),
    owners: drop(after.owners),
    indexes: after.indexes.filter((i) => !ours(i)),
    constraints: after.constraints.filter((c) => !ours(c)),
  };
}

async function serverSnapshot(db: Database): Promise<Snapshot> {
  const client = new pg.Client(db.connectionParams());
  await client.connect();
  try {
    return await snapshot(async (sql) => (await client.query<Record<string, unknown>>(sql)).rows);
  } finally {
    await client.end();
  }
}

describe('importing the database of release 0.1.0 (PGlite)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of [...dirs, unpacked ?? '']) await rm(dir, { recursive: true, force: true });
  });

  it('when the new version starts on its data directory, then every table, row, sequence, index, constraint and instance schema is there, and the old directory is kept', async () => {
    const dataDir = await releaseDataDir();
    dirs.push(dataDir);
    const before = await pgliteSnapshot(join(dataDir, 'db'));
    // The fixture really has the data the test is about.
    expect(Object.keys(before.tables)).toEqual([
      'mbp_echobot.seen',
      'mbp_karmabot.karma',
      'public.client',
      'public.connection',
      'public.feed_item_seen',
      'public.feed_state',
      'public.instance',
      'public.knex_migrations',
      'public.knex_migrations_lock',
      'public.oauth_state',
      'public.plugin',
      'public.plugin_archive',
      'public.provisioning_bot',
      'public.user_token',
      'public.webhook_delivery',
      'public.webhook_hook',
    ]);
    for (const [table, rows] of Object.entries(before.tables)) {
      expect([table, rows.length > 0]).toEqual([table, true]);
    }

    const logs = captureLogs();
    const db = await openDatabase({ dataDir, logger: logs.logger });
    const box = new SecretBox(Buffer.alloc(32, 7).toString('base64'), []);
    const instanceDbs = new InstanceDatabases(db, box, SETTINGS, logs.logger);
    try {
      // Everything is there; the instance schemas and roles got names of the current scheme.
      const moved = new Map<string, string>(
        (await db.knex('instance_database').select('instance_id', 'schema_name')).map((r) => [
          `mbp_${String(r.instance_id)}`,
          String(r.schema_name),
        ]),
      );
      expect([...moved.keys()].sort()).toEqual(['mbp_echobot', 'mbp_karmabot']);
      const after = await serverSnapshot(db);
      expect(withoutInstanceDatabaseTable(asReleased(after, before))).toEqual(
        withInstanceDatabasesMoved(before, moved),
      );
      expect(
        await db.knex('pg_roles').whereIn('rolname', ['mbp_echobot', 'mbp_karmabot']).select(),
      ).toEqual([]);
      // Then the migrations added since the release ran, in order after the release's own.
      const all = (await migrationSource.getMigrations([])).map((m) =>
        migrationSource.getMigrationName(m),
      );
      expect(migrationNames(before)).toEqual(all.slice(0, migrationNames(before).length));
      expect(migrationNames(after)).toEqual(all);
      expect(after.sequences[MIGRATIONS_SEQUENCE]).toBe(`${all.length}/true`);
      expect(existsSync(join(dataDir, 'db'))).toBe(false);
      expect(existsSync(join(dataDir, 'db.pglite-imported', 'PG_VERSION'))).toBe(true);
      const messages = logs.lines.map((l) => l.msg);
      expect(messages).toContain(
        'importing the database of an earlier release (PGlite) into the embedded PostgreSQL server',
      );
      expect(logs.lines.filter((l) => l.msg === 'imported a table')).toHaveLength(16);
      expect(
        logs.lines.find((l) => String(l.msg).startsWith('imported the database')),
      ).toMatchObject({
        from: join(dataDir, 'db'),
        keptAt: join(dataDir, 'db.pglite-imported'),
        tables: 16,
        instanceSchemas: 2,
      });

      // Instance databases work as before: their role owns them, and nothing else.
      expect(
        (
          await instanceDbs.query(
            'karmabot',
            'insert into karma (user_id) values ($1) returning id, current_user',
            ['@new:example.org'],
          )
        ).rows,
      ).toEqual([[26, moved.get('mbp_karmabot')]]);
      await expect(instanceDbs.query('karmabot', 'select * from public.client')).rejects.toThrow(
        'permission denied',
      );
      expect((await instanceDbs.query('echobot', 'select last from seen')).rows).toEqual([
        [Buffer.from([0, 1, 2, 255])],
      ]);
      // Archives are the uploaded bytes; secrets open with the same key.
      for (const row of await db.knex('plugin_archive').select('id', 'sha256', 'size')) {
        const data = await readArchive(db.knex, Number(row.id));
        expect(data!.length).toBe(Number(row.size));
        expect(createHash('sha256').update(data!).digest('hex')).toBe(row.sha256);
      }
      const client = await db.knex('client').where({ id: '@karma:example.org' }).first();
      expect(
        box.open({ keyId: client.access_token_key_id, ciphertext: client.access_token_ciphertext }),
      ).toBe('syt_token_of_@karma:example.org');
    } finally {
      await instanceDbs.close();
      await db.close();
    }

    // The next start has nothing to import and keeps everything.
    const again = captureLogs();
    const reopened = await openDatabase({ dataDir, logger: again.logger });
    try {
      expect(again.text()).not.toContain('importing');
      expect((await reopened.knex('plugin').pluck('id')).sort()).toEqual([
        'xyz.maubot.echo',
        'xyz.maubot.karma',
      ]);
      const karma = await reopened
        .knex('instance_database')
        .where({ instance_id: 'karmabot' })
        .first();
      expect(await reopened.knex(`${karma.schema_name}.karma`).count({ n: '*' })).toEqual([
        { n: '26' },
      ]);
    } finally {
      await reopened.close();
    }
  }, 120_000);

  it('when the import fails half-way, then nothing of it stays in the new database and the old directory stays where it was', async () => {
    const dataDir = await releaseDataDir();
    dirs.push(dataDir);
    // A table named as the last primary key index the import makes, after it copied every row.
    const blocker = await startAndBlock(dataDir, 'webhook_hook_pkey');
    await expect(openDatabase({ dataDir })).rejects.toThrow(
      'relation "webhook_hook_pkey" already exists',
    );
    expect(existsSync(join(dataDir, 'db', 'PG_VERSION'))).toBe(true);
    expect(existsSync(join(dataDir, 'db.pglite-imported'))).toBe(false);
    expect(await blocker.contents()).toEqual({ tables: ['public.webhook_hook_pkey'], roles: [] });
  }, 120_000);

  it('when an instance schema holds code that would run as the superuser (a function in a CHECK constraint and a default, a trigger, a CHECK calling a file-reading built-in), then nothing is imported and nothing of it runs', async () => {
    const dataDir = await releaseDataDir();
    dirs.push(dataDir);
    // What a plugin of the earlier release could leave in its schema (it ran as the database's
    // only user): code that makes its role a superuser and writes a mark when it runs.
    const old = await PGlite.create(join(dataDir, 'db'));
    try {
      await old.exec(`
        create table mbp_karmabot.ran (at text);
        create function mbp_karmabot.escalate() returns boolean language plpgsql as $$
        begin
          execute 'alter role mbp_karmabot superuser';
          insert into mbp_karmabot.ran values ('escalate');
          return true;
        end $$;
        alter table mbp_karmabot.karma
          add constraint escalates check (mbp_karmabot.escalate()) not valid;
        alter table mbp_karmabot.karma add column extra boolean;
        alter table mbp_karmabot.karma alter column extra set default mbp_karmabot.escalate();
        create function mbp_echobot.on_insert() returns trigger language plpgsql as $$
        begin
          execute 'alter role mbp_echobot superuser';
          return new;
        end $$;
        create trigger escalates before insert on mbp_echobot.seen
          for each row execute function mbp_echobot.on_insert();
        alter table mbp_echobot.seen
          add constraint reads check (length(pg_catalog.pg_read_file('postmaster.pid')) > 0) not valid;
      `);
      await old.exec('truncate mbp_karmabot.ran');
    } finally {
      await old.close();
    }
    const blocker = await startAndBlock(dataDir, 'before_import');
    const logs = captureLogs();
    const refusal = openDatabase({ dataDir, logger: logs.logger });
    await expect(refusal).rejects.toThrow(PgliteImportError);
    const message = await refusal.catch((err: Error) => err.message);
    for (const object of [
      'function mbp_karmabot.escalate()',
      'function mbp_echobot.on_insert()',
      'trigger escalates on mbp_echobot.seen',
      'constraint escalates on mbp_karmabot.karma, which calls escalate',
      'default of mbp_karmabot.karma.extra, which calls escalate',
      'constraint reads on mbp_echobot.seen, which calls pg_read_file',
      // Made as the database's user: a view or table like it would run as the superuser.
      'mbp_karmabot.ran (owned by postgres, not by the owner of mbp_karmabot)',
    ]) {
      expect(message).toContain(object);
      expect(logs.lines).toContainEqual(expect.objectContaining({ level: 50, object }));
    }
    expect(message).toContain('holds 7 object(s) that run code');
    expect(message).toContain('Nothing was imported.');
    // Nothing was restored, no role came over (let alone as a superuser), nothing ran.
    expect(await blocker.contents()).toEqual({ tables: ['public.before_import'], roles: [] });
    expect(existsSync(join(dataDir, 'db', 'PG_VERSION'))).toBe(true);
    expect(existsSync(join(dataDir, 'db.pglite-imported'))).toBe(false);
    const after = await PGlite.create(join(dataDir, 'db'));
    try {
      expect((await after.query('select * from mbp_karmabot.ran')).rows).toEqual([]);
    } finally {
      await after.close();
    }
  }, 120_000);

  it('when the new version already has its tables and an earlier release database appears beside them, then the start is refused with what to do', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'switchboard-import-'));
    dirs.push(dataDir);
    const db = await openDatabase({ dataDir });
    await db.close();
    // What the import looks for: a PostgreSQL data directory in <dataDir>/db.
    await mkdir(join(dataDir, 'db'));
    await writeFile(join(dataDir, 'db', 'PG_VERSION'), '18\n');
    await expect(openDatabase({ dataDir })).rejects.toThrow(
      `${join(dataDir, 'db')} holds the database of an earlier release (PGlite), but the ` +
        `embedded PostgreSQL database already has Switchboard's tables, so it was imported or ` +
        `started without it before. Move ${join(dataDir, 'db')} out of the data directory to start.`,
    );
    expect(existsSync(join(dataDir, 'db', 'PG_VERSION'))).toBe(true);
  }, 60_000);
});

describe('an earlier release database beside DATABASE_URL', () => {
  it('when Switchboard runs with DATABASE_URL, then the old database is left alone and a warning says how to import it', async () => {
    const target = await openTestDatabase('embedded');
    const dataDir = await mkdtemp(join(tmpdir(), 'switchboard-import-'));
    try {
      await mkdir(join(dataDir, 'db'));
      await writeFile(join(dataDir, 'db', 'PG_VERSION'), '18\n');
      const logs = captureLogs();
      const db = await openDatabase({
        url: databaseUrl(target.connectionParams()),
        dataDir,
        logger: logs.logger,
      });
      await db.close();
      expect(logs.lines).toContainEqual(
        expect.objectContaining({
          level: 40,
          dir: join(dataDir, 'db'),
          msg:
            'the data directory holds the database of an earlier release, which is not used with ' +
            'DATABASE_URL: start once without DATABASE_URL to import it into the embedded server',
        }),
      );
      expect(existsSync(join(dataDir, 'db', 'PG_VERSION'))).toBe(true);
    } finally {
      await target.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * Makes `table` in the embedded server's database before any import, and gives a way to see
 * what that database holds later (tables and instance roles).
 */
async function startAndBlock(dataDir: string, table: string) {
  const inServer = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const server = await EmbeddedPostgres.start({ dataDir, logger: captureLogs().logger });
    const client = new pg.Client(server.connectionParams(EMBEDDED_DATABASE));
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
      await server.stop();
    }
  };
  await inServer((client) => client.query(`create table ${table} (id int)`));
  return {
    contents: () =>
      inServer(async (client) => ({
        tables: (
          await client.query<{ name: string }>(
            `select table_schema || '.' || table_name as name from information_schema.tables
              where table_schema not in ('pg_catalog', 'information_schema') order by 1`,
          )
        ).rows.map((r) => r.name),
        roles: (
          await client.query<{ name: string }>(
            `select rolname as name from pg_roles where rolname like 'mbp%'`,
          )
        ).rows.map((r) => r.name),
      })),
  };
}
