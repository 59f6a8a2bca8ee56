import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import pg from 'pg';
import { migrate, type Database } from '../../src/db/database';
import type { InstanceQueryError } from '../../src/db/instance-connections';
import { findInstanceDatabase } from '../../src/db/instance-database';
import { deleteInstance } from '../../src/db/instance-repository';
import { migrationSource } from '../../src/db/migrations';
import {
  InstanceDatabases,
  type InstanceDatabaseSettings,
} from '../../src/instances/instance-databases';
import { SecretBox } from '../../src/secrets/secret-box';
import { openTestDatabase, queryRows, testDatabaseKinds } from '../helpers/databases';
import { addInstanceRows } from '../helpers/instance-rows';
import { captureLogs } from '../helpers/log-capture';
import { waitFor } from '../helpers/wait';

const KEY = Buffer.alloc(32, 3).toString('base64');

const SETTINGS: InstanceDatabaseSettings = {
  statementTimeoutMs: 1000,
  maxRows: 100,
  maxResultBytes: 256 * 1024,
  connectionsPerInstance: 2,
  maxConnections: 10,
  idleMs: 60_000,
};

describe.each(testDatabaseKinds())('instance databases (%s)', (kind) => {
  let db: Database;
  const open: InstanceDatabases[] = [];
  const logs = captureLogs('debug');

  function databases(settings: Partial<InstanceDatabaseSettings> = {}): InstanceDatabases {
    const made = new InstanceDatabases(
      db,
      new SecretBox(KEY),
      { ...SETTINGS, ...settings },
      logs.logger,
    );
    open.push(made);
    return made;
  }

  const rows = <T = Record<string, unknown>>(sql: string, bindings: Knex.RawBinding[] = []) =>
    queryRows<T>(db.knex, sql, bindings);

  /** Sessions of a role as the server sees them. */
  async function sessionsOf(role: string): Promise<number> {
    const [r] = await rows<{ n: string }>(
      'select count(*) as n from pg_stat_activity where usename = ?',
      [role],
    );
    return Number(r!.n);
  }

  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterEach(async () => {
    for (const made of open.splice(0)) await made.close();
  });
  afterAll(async () => {
    await db.close();
  });

  it("runs statements on a login of the instance's own role, in its schema, and nothing else", async () => {
    await addInstanceRows(db.knex, ['own']);
    const dbs = databases();
    const login = await dbs.prepare('own');
    const [{ oid }] = (await rows<{ oid: number }>(
      'select oid from pg_database where datname = current_database()',
    )) as [{ oid: number }];
    expect(login.role).toMatch(new RegExp(`^sbi_${oid}_\\d+$`));
    expect(login.schema).toBe(login.role);
    await dbs.query('own', 'create table notes (id serial primary key, body text)');
    const inserted = await dbs.query('own', 'insert into notes (body) values ($1), ($2)', [
      'a',
      'b',
    ]);
    expect(inserted).toEqual({ columns: [], rows: [], rowCount: 2, statusMessage: 'INSERT 0 2' });
    expect(
      await dbs.query(
        'own',
        'select current_user as u, session_user as s, current_schema() as c, body from notes order by id',
      ),
    ).toEqual({
      columns: ['u', 's', 'c', 'body'],
      rows: [
        [login.role, login.role, login.schema, 'a'],
        [login.role, login.role, login.schema, 'b'],
      ],
      rowCount: 2,
      statusMessage: 'SELECT 2',
    });
    // The role: no attributes, a member of nothing, a few sessions at most, owning its schema.
    expect(
      await rows(
        `select rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication,
                rolbypassrls, rolconnlimit from pg_roles where rolname = ?`,
        [login.role],
      ),
    ).toEqual([
      {
        rolsuper: false,
        rolinherit: false,
        rolcreaterole: false,
        rolcreatedb: false,
        rolcanlogin: true,
        rolreplication: false,
        rolbypassrls: false,
        rolconnlimit: 4,
      },
    ]);
    expect(
      await rows(
        'select 1 from pg_auth_members m join pg_roles r on r.oid = m.member where r.rolname = ?',
        [login.role],
      ),
    ).toEqual([]);
    expect(
      await rows(
        `select nspname from pg_namespace where nspowner = (select oid from pg_roles where rolname = ?)`,
        [login.role],
      ),
    ).toEqual([{ nspname: login.schema }]);
    // Its password is stored sealed, and the server keeps only a SCRAM verifier of it.
    const stored = await findInstanceDatabase(db.knex, { instanceId: 'own' });
    const password = new SecretBox(KEY).open(stored!.password!);
    expect(JSON.stringify(await db.knex('instance_database').select('*'))).not.toContain(password);
    const [authid] = await rows<{ p: string }>(
      'select rolpassword as p from pg_authid where rolname = ?',
      [login.role],
    );
    expect(authid!.p).toMatch(/^SCRAM-SHA-256\$4096:/);
    const params = db.connectionParams();
    const client = new pg.Client({ ...params, user: login.role, password });
    await client.connect();
    expect((await client.query('select current_user as u')).rows).toEqual([{ u: login.role }]);
    await client.end();
    if (kind === 'embedded') {
      // The embedded server checks passwords (the test server trusts local logins).
      const wrong = new pg.Client({ ...params, user: login.role, password: 'guessed' });
      await expect(wrong.connect()).rejects.toThrow('password authentication failed');
    }
  });

  it('refuses several statements in one call by the protocol, with or without parameters', async () => {
    await addInstanceRows(db.knex, ['multi']);
    const dbs = databases();
    await dbs.query('multi', 'create table t (x int)');
    for (const [sql, params] of [
      ['insert into t values (1); insert into t values (2)', []],
      ['insert into t values ($1); insert into t values (2)', [1]],
      [`select 1 -- '\n; insert into t values (3); select 1 --'`, []],
      [`select 1 /* ; */; insert into t values (4)`, []],
      [`select $a$ ; $a$; insert into t values (5)`, []],
      [`select E'\\''; insert into t values (6) --'`, []],
    ] as const) {
      await expect(dbs.query('multi', sql, params)).rejects.toMatchObject({
        reason: 'statement',
        message: 'cannot insert multiple commands into a prepared statement',
      });
    }
    expect((await dbs.query('multi', 'select count(*)::int as n from t')).rows).toEqual([[0]]);
  });

  it('stops a statement at the timeout Switchboard sets for every call, whatever the role set', async () => {
    await addInstanceRows(db.knex, ['slow']);
    const dbs = databases();
    const timedOut = {
      reason: 'timeout',
      message:
        'the statement ran longer than 1 s, the limit (instances.database.statementTimeoutSeconds)',
    };
    await expect(dbs.query('slow', 'select pg_sleep(3)')).rejects.toMatchObject(timedOut);
    await expect(
      dbs.query('slow', `select set_config('statement_timeout', '0', false), pg_sleep(3)`),
    ).rejects.toMatchObject(timedOut);
    await dbs.query('slow', 'set statement_timeout = 0');
    await dbs.query('slow', 'commit'); // ends Switchboard's transaction early: a warning only
    await expect(dbs.query('slow', 'select pg_sleep(3)')).rejects.toMatchObject(timedOut);
    await dbs.query('slow', 'alter role current_user set statement_timeout = 0');
    await dbs.close(); // the next call opens a new session, with the role's defaults
    await expect(dbs.query('slow', 'select pg_sleep(3)')).rejects.toMatchObject(timedOut);
    await expect(
      dbs.query(
        'slow',
        'with recursive r(n) as (select 1 union all select n + 1 from r) select count(*) from r',
      ),
    ).rejects.toMatchObject(timedOut);
    expect(
      (await dbs.query('slow', `select current_setting('statement_timeout') as t`)).rows,
    ).toEqual([['1s']]);
    // A deferred trigger that runs at COMMIT is within the timeout too; nothing is committed.
    await dbs.query('slow', 'create table d (x int)');
    await dbs.query(
      'slow',
      `create function slow() returns trigger language plpgsql as $$ begin perform pg_sleep(3); return null; end $$`,
    );
    await dbs.query(
      'slow',
      'create constraint trigger d_slow after insert on d deferrable initially deferred for each row execute function slow()',
    );
    await expect(dbs.query('slow', 'insert into d values (1)')).rejects.toMatchObject(timedOut);
    expect((await dbs.query('slow', 'select count(*)::int from d')).rows).toEqual([[0]]);
    // Its defaults are undone at the next start.
    const login = await dbs.prepare('slow');
    expect(await rows('select rolconfig from pg_roles where rolname = ?', [login.role])).toEqual([
      { rolconfig: null },
    ]);
  });

  it('cancels a statement the server did not stop by its deadline itself', async () => {
    await addInstanceRows(db.knex, ['stuck']);
    // The server's own timeout is out of play here: only Switchboard's deadline is left.
    const dbs = databases({ statementTimeoutMs: 60_000, cancelAfterMs: 500 });
    const login = await dbs.prepare('stuck');
    const started = Date.now();
    await expect(dbs.query('stuck', 'select pg_sleep(30)')).rejects.toMatchObject({
      reason: 'timeout',
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    await waitFor(
      async () =>
        (
          await rows(`select 1 from pg_stat_activity where usename = ? and state = 'active'`, [
            login.role,
          ])
        ).length === 0,
      { what: 'the statement to stop' },
    );
  });

  if (kind === 'embedded') {
    it('closes and ends a session whose statement ignores even the cancel', async () => {
      await addInstanceRows(db.knex, ['frozen']);
      const dbs = databases({ statementTimeoutMs: 60_000, cancelAfterMs: 300 });
      const login = await dbs.prepare('frozen');
      const call = dbs.query('frozen', 'select pg_sleep(30)');
      let pid = 0;
      await waitFor(async () => {
        const [r] = await rows<{ pid: number }>(
          `select pid from pg_stat_activity where usename = ? and state = 'active'`,
          [login.role],
        );
        pid = r?.pid ?? 0;
        return pid > 0;
      });
      // A stopped process handles no interrupt: only closing its session and ending it helps.
      process.kill(pid, 'SIGSTOP');
      try {
        const started = Date.now();
        await expect(call).rejects.toMatchObject({ reason: 'timeout' });
        expect(Date.now() - started).toBeLessThan(10_000);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await waitFor(
        async () =>
          (await rows('select 1 from pg_stat_activity where pid = ?', [pid])).length === 0,
        { what: 'the session to end' },
      );
      expect((await dbs.query('frozen', 'select 1 as one')).rows).toEqual([[1]]);
    });
  }

  it('refuses a result over the row limit, undoing the statement, and one over the size limit', async () => {
    await addInstanceRows(db.knex, ['big']);
    const dbs = databases();
    expect((await dbs.query('big', 'select generate_series(1, 100)')).rows).toHaveLength(100);
    await expect(dbs.query('big', 'select generate_series(1, 101)')).rejects.toMatchObject({
      reason: 'rows',
      message:
        'the result has more than 100 rows, the limit (instances.database.maxRows); nothing was changed',
    });
    await expect(dbs.query('big', 'select generate_series(1, 1e9)')).rejects.toMatchObject({
      reason: 'rows',
    });
    await dbs.query('big', 'create table t (x int)');
    expect(await dbs.query('big', 'insert into t select generate_series(1, 500)')).toMatchObject({
      rowCount: 500,
    });
    await expect(dbs.query('big', 'delete from t returning x')).rejects.toMatchObject({
      reason: 'rows',
    });
    expect((await dbs.query('big', 'select count(*)::int from t')).rows).toEqual([[500]]);
    await expect(dbs.query('big', `select repeat('x', 1000000)`)).rejects.toMatchObject({
      reason: 'size',
      message: 'the result is larger than 0.25 MB, the limit (instances.database.maxResultMb)',
    });
    await expect(
      dbs.query('big', `select repeat('x', 10000) from generate_series(1, 50)`),
    ).rejects.toMatchObject({ reason: 'size' });
    expect((await dbs.query('big', 'select 1')).rows).toEqual([[1]]);
  });

  it('opens sessions when needed, closes them when idle, and keeps to both bounds', async () => {
    await addInstanceRows(db.knex, ['p1', 'p2', 'p3']);
    const dbs = databases({ idleMs: 1500, maxConnections: 3 });
    const logins = await Promise.all(['p1', 'p2', 'p3'].map((id) => dbs.prepare(id)));
    expect(await sessionsOf(logins[0]!.role)).toBe(0);
    let most = { own: 0, all: 0 };
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const counts = await Promise.all(logins.map((l) => sessionsOf(l.role)));
        most = {
          own: Math.max(most.own, ...counts),
          all: Math.max(most.all, counts[0]! + counts[1]! + counts[2]!),
        };
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const calls = ['p1', 'p2', 'p3'].flatMap((id) =>
      Array.from({ length: 4 }, () => dbs.query(id, 'select pg_sleep(0.2)')),
    );
    await Promise.all(calls);
    watching = false;
    await watcher;
    expect(most).toEqual({ own: 2, all: 3 });
    // Alone again: one session, closed once unused for idleMs.
    await dbs.close();
    await waitFor(async () => (await sessionsOf(logins[0]!.role)) === 0);
    await dbs.query('p1', 'select 1');
    expect(await sessionsOf(logins[0]!.role)).toBe(1);
    const used = Date.now();
    await waitFor(async () => (await sessionsOf(logins[0]!.role)) === 0, {
      what: 'the idle session to close',
    });
    expect(Date.now() - used).toBeGreaterThanOrEqual(1000);
  });

  it('fails calls that wait for a session past their deadline', async () => {
    await addInstanceRows(db.knex, ['crowd']);
    const dbs = databases({ maxConnections: 1 });
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => dbs.query('crowd', 'select pg_sleep(10)')),
    );
    const reasons = results.map((r) =>
      r.status === 'rejected' ? (r.reason as InstanceQueryError).reason : 'ok',
    );
    expect(reasons).toContain('timeout');
    expect(reasons).toContain('busy');
    expect(reasons).not.toContain('ok');
  });

  it('replaces a password the role changed itself, and ends the sessions that used it', async () => {
    await addInstanceRows(db.knex, ['pw']);
    const dbs = databases();
    const login = await dbs.prepare('pw');
    await dbs.query('pw', `alter role current_user password 'chosen-by-plugin'`);
    await dbs.close();
    logs.lines.length = 0;
    expect((await dbs.query('pw', 'select 1')).rows).toEqual([[1]]);
    if (kind === 'embedded') {
      expect(logs.lines.map((l) => l.msg)).toContain(
        "the instance database refused Switchboard's login; its password is replaced and its other sessions ended",
      );
      const direct = new pg.Client({
        ...db.connectionParams(),
        user: login.role,
        password: 'chosen-by-plugin',
      });
      await expect(direct.connect()).rejects.toThrow('password authentication failed');
    }
  });

  it('names schemas and roles without collisions; deleting one instance removes exactly its own', async () => {
    const long = 'x'.repeat(70);
    const ids = ['a"b', 'a_b', `${long}1`, `${long}2`];
    await addInstanceRows(db.knex, ids);
    // A role of the next name exists already (another database on the same server, say).
    const [{ next, oid }] = (await rows<{ next: string; oid: number }>(
      `select case when is_called then last_value + 1 else last_value end as next, (select oid from pg_database where datname = current_database()) as oid
         from instance_database_id_seq`,
    )) as [{ next: string; oid: number }];
    const squatter = `sbi_${oid}_${next}`;
    await db.knex.raw(`create role "${squatter}"`);
    try {
      const dbs = databases();
      const logins = [];
      for (const id of ids) {
        logins.push(await dbs.prepare(id));
        await dbs.query(id, 'create table mine (id text)');
        await dbs.query(id, 'insert into mine values ($1)', [id]);
        await dbs.query(id, 'select lo_create(0)');
      }
      expect(new Set(logins.map((l) => l.role)).size).toBe(4);
      expect(logins[0]!.role).toMatch(new RegExp(`^${squatter}_[0-9a-f]{8}$`));
      for (const id of ids)
        expect((await dbs.query(id, 'select id from mine')).rows).toEqual([[id]]);

      await db.knex.transaction(async (trx) => {
        await dbs.drop(trx, 'a"b');
        await deleteInstance(trx, 'a"b');
      });
      expect(await rows('select 1 from pg_roles where rolname = ?', [logins[0]!.role])).toEqual([]);
      expect(
        await rows('select 1 from pg_namespace where nspname = ?', [logins[0]!.schema]),
      ).toEqual([]);
      // Its large object went with it; the others' stay.
      expect(
        (await rows<{ n: string }>('select count(*) as n from pg_largeobject_metadata'))[0]!.n,
      ).toBe('3');
      expect(await rows('select 1 from pg_roles where rolname = ?', [squatter])).toHaveLength(1);
      for (const id of ids.slice(1)) {
        expect((await dbs.query(id, 'select id from mine')).rows).toEqual([[id]]);
      }
    } finally {
      await db.knex.raw(`drop role if exists "${squatter}"`);
    }
  });

  it('keeps the data of a renamed instance, and gives back an empty schema it dropped', async () => {
    await addInstanceRows(db.knex, ['before']);
    const dbs = databases();
    await dbs.query('before', 'create table kept (x int)');
    await dbs.query('before', 'insert into kept values (7)');
    await db.knex('instance').where({ id: 'before' }).update({ id: 'after' });
    expect((await dbs.query('after', 'select x from kept')).rows).toEqual([[7]]);
    expect(await findInstanceDatabase(db.knex, { instanceId: 'before' })).toBeNull();
    const login = await dbs.prepare('after');
    await dbs.query('after', `drop schema "${login.schema}" cascade`);
    await expect(dbs.query('after', 'create table again (x int)')).rejects.toMatchObject({
      reason: 'statement',
    });
    await dbs.prepare('after');
    await dbs.query('after', 'create table again (x int)');
  });

  it("refuses a database that lets every role create objects on Switchboard's search path", async () => {
    await addInstanceRows(db.knex, ['open1', 'open2', 'open3']);
    const dbs = databases();
    // Switchboard's search path is "$user", public: a schema named after its login is on it.
    const own = `"${db.connectionParams().user}"`;
    await db.knex.raw('grant create on schema public to public');
    await db.knex.raw(`create schema ${own}`);
    await db.knex.raw(`grant create on schema ${own} to public`);
    try {
      // public is Switchboard's to fix; the other schema is the admin's.
      await expect(dbs.prepare('open1')).rejects.toThrow(
        new RegExp(
          `lets the instance role sbi_\\d+_\\d+ create objects in ${db.connectionParams().user} \\(on Switchboard's search path\\)`,
        ),
      );
      expect(await rows(`select has_schema_privilege('public', 'public', 'CREATE') as c`)).toEqual([
        { c: false },
      ]);
      await db.knex.raw(`drop schema ${own}`);
      await dbs.prepare('open2');
      await expect(dbs.query('open2', 'create table public.planted (x int)')).rejects.toMatchObject(
        { reason: 'statement' },
      );
      // What one instance opens in its own schema is searched by nobody else: no refusal.
      const login = await dbs.prepare('open2');
      await dbs.query('open2', `grant create, usage on schema "${login.schema}" to public`);
      await dbs.prepare('open3');
      await dbs.query('open3', 'select 1');
    } finally {
      await db.knex.raw(`drop schema if exists ${own}`);
    }
  });
});

describe.each(testDatabaseKinds())('instance databases of earlier releases (%s)', (kind) => {
  it('moves mbp_<id> schemas and roles to names of their own, keeping their data and a role another database still uses', async () => {
    const db = await openTestDatabase(kind);
    const tag = randomBytes(4).toString('hex');
    const other = `switchboard_test_other_${tag}`;
    const ids = {
      /** Its role also owns a schema in another database of the server. */
      shared: `legacy${tag}a`,
      quoted: `legacy${tag}"b`,
      /** Had the same schema as `quoted` (`"` became `_`): the older instance keeps it. */
      underscore: `legacy${tag}_b`,
      schemaless: `legacy${tag}c`,
    };
    const legacy = (id: string) => `mbp_${id.replace(/"/g, '_')}`;
    const admin = new pg.Client({ ...db.connectionParams(), database: 'postgres' });
    await admin.connect();
    const dbs = new InstanceDatabases(db, new SecretBox(KEY), SETTINGS, captureLogs().logger);
    try {
      await db.knex.migrate.down({ migrationSource, name: '20261215000000_instance_database' });
      await addInstanceRows(db.knex, [ids.quoted, ids.underscore, ids.shared, ids.schemaless]);
      await addInstanceRows(db.knex, [`legacy${tag}d`], null);
      // As releases before made them: the role without login, its tables made through SET ROLE.
      for (const name of [legacy(ids.shared), legacy(ids.quoted)]) {
        await db.knex.transaction(async (trx) => {
          await trx.raw(`create role "${name}" nologin noinherit`);
          await trx.raw(`create schema "${name}" authorization "${name}"`);
          await trx.raw(`set local role "${name}"`);
          await trx.raw(`create table "${name}".karma (thing text primary key, score int)`);
          await trx.raw(`insert into "${name}".karma values ('from ${name}', 1)`);
          await trx.raw('select lo_create(0)');
        });
      }
      await admin.query(`create database ${other}`);
      const elsewhere = new pg.Client({ ...db.connectionParams(), database: other });
      await elsewhere.connect();
      await elsewhere.query(
        `create schema "${legacy(ids.shared)}" authorization "${legacy(ids.shared)}"`,
      );
      await elsewhere.end();

      expect(await migrate(db.knex)).toEqual(['20261215000000_instance_database']);

      const moved = await db
        .knex('instance_database')
        .orderBy('id')
        .select<{ instance_id: string; schema_name: string; role_name: string }[]>('*');
      expect(moved.map((m) => m.instance_id)).toEqual([ids.quoted, ids.shared]);
      const ownerOf = async (sql: string, name: string) =>
        (await queryRows<{ owner: string }>(db.knex, sql, [name])).map((r) => r.owner);
      for (const m of moved) {
        expect(m.schema_name).toBe(m.role_name);
        expect(
          await ownerOf(
            'select pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = ?',
            m.schema_name,
          ),
        ).toEqual([m.role_name]);
        expect(
          await ownerOf(
            `select pg_get_userbyid(relowner) as owner from pg_class
              where relnamespace = ?::regnamespace and relname = 'karma'`,
            m.schema_name,
          ),
        ).toEqual([m.role_name]);
        expect(
          await ownerOf(
            `select pg_get_userbyid(lomowner) as owner from pg_largeobject_metadata
              where pg_get_userbyid(lomowner) = ?`,
            m.role_name,
          ),
        ).toEqual([m.role_name]);
        expect(
          (await dbs.query(m.instance_id, 'select thing, current_user from karma')).rows,
        ).toEqual([[`from ${legacy(m.instance_id)}`, m.role_name]]);
      }
      const roles = (
        await queryRows<{ rolname: string }>(
          db.knex,
          `select rolname from pg_roles where rolname like ? order by 1`,
          [`mbp_legacy${tag}%`],
        )
      ).map((r) => r.rolname);
      // The shared role still owns a schema elsewhere; the other went.
      expect(roles).toEqual([legacy(ids.shared)]);
      expect(
        await queryRows(
          db.knex,
          `select nspname from pg_namespace where starts_with(nspname, 'mbp_')`,
        ),
      ).toEqual([]);
      // The instance that lost the shared name, and the one without a schema, start empty.
      for (const id of [ids.underscore, ids.schemaless]) {
        await dbs.prepare(id);
        await expect(dbs.query(id, 'select * from karma')).rejects.toThrow(
          'relation "karma" does not exist',
        );
      }
    } finally {
      await dbs.close();
      await admin.query(`drop database if exists ${other} with (force)`);
      for (const id of Object.values(ids)) {
        await admin.query(`drop role if exists "${legacy(id)}"`).catch(() => undefined);
      }
      await admin.end();
      await db.close();
    }
  });
});
