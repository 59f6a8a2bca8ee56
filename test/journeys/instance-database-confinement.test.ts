import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import pg from 'pg';
import { buildPlugin } from '../../scripts/build-plugins';
import type { Database } from '../../src/db/database';
import { createTestApp, type TestApp } from '../helpers/app';
import { botInRoom, type BotRoom } from '../helpers/bot-room';
import { openTestDatabase, queryRows, testDatabaseKinds } from '../helpers/databases';
import {
  HOSTILE_SETUP,
  hostileCorpus,
  type HostileStatement,
  type HostileTargets,
} from '../helpers/hostile-sql';
import { maubotApi } from '../helpers/maubot-api';
import { waitFor } from '../helpers/wait';
import { TestHomeserver } from '../../testing/homeserver/test-homeserver';

const TIMEOUT_MS = 1000;

/** Runs the statements given (base64 JSON) through its db.query and answers with the results. */
const SQL_PLUGIN = `const { Plugin } = require('switchboard-plugin');
class SqlBot extends Plugin {
  start() {
    this.command('sql', 'run statements', async (event, args) => {
      const [tag, encoded] = args.split(' ');
      const results = [];
      for (const sql of JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'))) {
        try {
          const { rows } = await this.db.query(sql);
          results.push({ ok: true, rows: rows.slice(0, 5) });
        } catch (err) {
          results.push({ ok: false, error: String(err.message) });
        }
      }
      await event.respond(JSON.stringify({ tag, results }));
    });
  }
}
module.exports = { SqlBot };`;

interface Outcome {
  ok: boolean;
  rows?: unknown[];
  error?: string;
}

/**
 * Everything outside the attacker's own schema that an escape could change: Switchboard's
 * tables, the victim's data, roles and memberships, privileges, what the attacker's role owns
 * elsewhere, extensions, event triggers, publications, prepared transactions.
 */
async function stateOutside(knex: Knex, attackerRole: string, victimSchema: string) {
  const tables = await queryRows<{ name: string }>(
    knex,
    `select c.relname as name from pg_class c where c.relnamespace = 'public'::regnamespace
      and c.relkind = 'r' order by 1`,
  );
  const content: Record<string, unknown> = {};
  for (const { name } of tables) {
    // Sync positions and filters are written while the bot runs; an instance role's password
    // is replaced when the role changes it itself.
    content[name] = await queryRows(
      knex,
      `select md5(coalesce(string_agg(r, ',' order by r), '')) as h
         from (select (to_jsonb(t) - 'next_batch' - 'filter_id' - 'updated_at' - 'password_ciphertext'
                       - 'password_key_id')::text as r from public."${name}" t) x`,
    );
  }
  const roleIs = `(select oid from pg_roles where rolname = '${attackerRole}')`;
  return {
    content,
    victim: await queryRows(knex, `select * from "${victimSchema}".karma order by thing`),
    roles: await queryRows(
      knex,
      `select rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,
              rolreplication, rolbypassrls, rolconnlimit, rolvaliduntil
         from pg_roles where rolsuper or rolname = ? or rolname like 'evil%' order by 1`,
      [attackerRole],
    ),
    memberships: await queryRows(
      knex,
      `select roleid from pg_auth_members where member = ${roleIs}`,
    ),
    schemas: await queryRows(
      knex,
      `select nspname, pg_get_userbyid(nspowner) as owner, nspacl::text as acl from pg_namespace
        where nspname <> ? and nspname !~ '^pg_(temp|toast_temp)_' order by 1`,
      [attackerRole],
    ),
    privileges: await queryRows(
      knex,
      `select c.oid::regclass::text as name, c.relacl::text as acl from pg_class c
        where c.relnamespace <> ?::regnamespace and c.relnamespace::regnamespace::text !~ '^pg_temp'
          and c.relacl is not null order by 1`,
      [attackerRole],
    ),
    database: await queryRows(
      knex,
      `select datacl::text as acl from pg_database where datname = current_database()`,
    ),
    ownedElsewhere: await queryRows(
      knex,
      `select 'class' as kind, oid::regclass::text as name from pg_class
        where relowner = ${roleIs} and relnamespace <> ?::regnamespace
          and relnamespace <> 'pg_toast'::regnamespace and relpersistence <> 't'
       union all
       select 'function', oid::regprocedure::text from pg_proc
        where proowner = ${roleIs} and pronamespace <> ?::regnamespace
       union all
       select 'type', oid::regtype::text from pg_type
        where typowner = ${roleIs} and typnamespace <> ?::regnamespace
          and typnamespace::regnamespace::text !~ '^pg_temp'
       order by 1, 2`,
      [attackerRole, attackerRole, attackerRole],
    ),
    extensions: await queryRows(knex, 'select extname from pg_extension order by 1'),
    eventTriggers: await queryRows(knex, 'select evtname from pg_event_trigger'),
    publications: await queryRows(knex, 'select pubname from pg_publication'),
    prepared: await queryRows(knex, 'select gid from pg_prepared_xacts'),
    defaults: await queryRows(
      knex,
      `select defaclrole::regrole::text as role from pg_default_acl where defaclrole <> ${roleIs}`,
    ),
  };
}

/**
 * The hostile corpus through the explorer API and through a plugin's db.query, on both
 * databases: every statement that must be refused is, and afterwards nothing outside the
 * attacker's schema changed, and its next call is as confined and as limited as the first.
 */
describe.each(testDatabaseKinds())('instance database confinement (%s)', (kind) => {
  let hs: TestHomeserver;
  let db: Database;
  let t: TestApp;
  let room: BotRoom;
  let admin: pg.Client;
  let targets: HostileTargets;
  let attackerRole: string;
  let corpus: HostileStatement[];
  const api = () => maubotApi(t);

  async function viaExplorer(statements: string[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (const query of statements) {
      const res = await api().post('/instance/attacker/database/query', { query });
      if (res.status === 200) {
        expect(res.body).toMatchObject({ ok: true, query });
        outcomes.push({ ok: true, rows: (res.body as { rows?: unknown[] }).rows ?? [] });
      } else {
        expect([res.status, res.body]).toEqual([
          400,
          { ok: false, query, errcode: 'sql_error', error: expect.any(String) },
        ]);
        outcomes.push({ ok: false, error: (res.body as { error: string }).error });
      }
    }
    return outcomes;
  }

  let runs = 0;
  async function viaPlugin(statements: string[]): Promise<Outcome[]> {
    const tag = `run${++runs}`;
    const encoded = Buffer.from(JSON.stringify(statements)).toString('base64');
    await room.say(`!sql ${tag} ${encoded}`);
    let answer: { tag: string; results: Outcome[] } | undefined;
    await waitFor(
      () => {
        for (const body of room.botMessages()) {
          if (!body.startsWith(`{"tag":"${tag}"`)) continue;
          answer = JSON.parse(body) as typeof answer;
          return true;
        }
        return false;
      },
      { what: `the plugin's answer to ${tag}`, timeoutMs: 60_000 },
    );
    return answer!.results;
  }

  beforeAll(async () => {
    hs = await TestHomeserver.start();
    db = await openTestDatabase(kind);
    t = await createTestApp(kind, {
      db,
      runtime: { callsPerSecond: 1000, callBurst: 1000, stallMs: 10_000, startMs: 20_000 },
      instanceDatabases: {
        statementTimeoutMs: TIMEOUT_MS,
        maxRows: 50,
        maxResultBytes: 512 * 1024,
        // Sessions close between most calls: the next one logs in again, with whatever
        // defaults the role gave itself.
        idleMs: 200,
      },
    });
    room = await botInRoom(hs, t);
    const karma = await buildPlugin('karma');
    const sql = await buildPlugin(
      'karma',
      { id: 'test.sql', main_class: 'SqlBot' },
      { karma: SQL_PLUGIN },
    );
    for (const plugin of [karma, sql])
      expect((await api().upload(plugin.archive)).status).toBe(201);
    for (const [id, type] of [
      ['victim', 'switchboard.karma'],
      ['attacker', 'test.sql'],
    ]) {
      const res = await api().put(`/instance/${id}`, { type, primary_user: room.bot.userId });
      expect(res.body).toMatchObject({ started: true, database: true });
    }
    for (const query of [
      "INSERT INTO karma VALUES ('cats', 3)",
      "INSERT INTO karma VALUES ('dogs', -1)",
    ]) {
      expect((await api().post('/instance/victim/database/query', { query })).status).toBe(200);
    }
    expect((await viaExplorer(HOSTILE_SETUP)).every((o) => o.ok)).toBe(true);

    const logins = await db
      .knex('instance_database')
      .select('instance_id', 'schema_name', 'role_name');
    const login = (id: string) =>
      logins.find((l) => l.instance_id === id) as Record<string, string>;
    attackerRole = login('attacker').role_name!;
    admin = new pg.Client(db.connectionParams());
    await admin.connect();
    const tag = randomBytes(4).toString('hex');
    const file = (what: string) => join(tmpdir(), `switchboard-hostile-${tag}-${what}`);
    targets = {
      admin: db.connectionParams().user,
      adminPid: (await admin.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid,
      database: db.connectionParams().database,
      ownSchema: login('attacker').schema_name!,
      victimSchema: login('victim').schema_name!,
      victimRole: login('victim').role_name!,
      files: { program: file('program'), copy: file('copy'), largeObject: file('lo') },
      tag,
    };
    corpus = hostileCorpus(targets);
  }, 60_000);

  afterAll(async () => {
    await admin?.end();
    await t?.close();
    await db?.close();
    await hs?.close();
    for (const f of Object.values(targets?.files ?? {})) await rm(f, { force: true });
  });

  /** The attacker's next call: still its own role, schema and limits, nothing left over. */
  const NEXT_CALL = [
    `select current_user = session_user and current_user = '{role}' as own,
            current_setting('search_path') as path,
            current_setting('statement_timeout') as timeout,
            (select count(*)::int from pg_listening_channels()) as listening,
            (select count(*)::int from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()) as locks,
            (select count(*)::int from pg_class where relpersistence = 't') as temporary`,
    'select pg_sleep(3)',
    'select count(*) from public.plugin',
    'select count(*)::int from notes',
  ];

  async function expectConfinedAfterwards(
    run: (statements: string[]) => Promise<Outcome[]>,
    before: Awaited<ReturnType<typeof stateOutside>>,
  ): Promise<void> {
    expect(await stateOutside(db.knex, attackerRole, targets.victimSchema)).toEqual(before);
    for (const file of Object.values(targets.files))
      expect([file, existsSync(file)]).toEqual([file, false]);
    // Nothing of the role's sessions holds a lock or listens from outside either.
    expect(
      await queryRows(
        db.knex,
        `select l.locktype from pg_locks l join pg_stat_activity a on a.pid = l.pid
          where a.usename = ? and l.locktype = 'advisory'`,
        [attackerRole],
      ),
    ).toEqual([]);
    // Let the sessions close: the next call logs in again, with the defaults the role gave itself.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const next = await run(NEXT_CALL.map((s) => s.replace('{role}', attackerRole)));
    expect(next[0]!.ok).toBe(true);
    const [own] = next[0]!.rows!;
    const values = Array.isArray(own) ? own : Object.values(own as Record<string, unknown>);
    expect(values).toEqual([true, targets.ownSchema, `${TIMEOUT_MS / 1000}s`, 0, 0, 0]);
    expect(next[1]).toEqual({
      ok: false,
      error: `the statement ran longer than ${TIMEOUT_MS / 1000} s, the limit (instances.database.statementTimeoutSeconds)`,
    });
    expect(next[2]).toEqual({ ok: false, error: expect.stringMatching(/^permission denied/) });
    expect(next[3]!.ok).toBe(true);
    // Switchboard itself works as before (its statements never see the attacker's schema).
    const plugins = await api().get('/plugins');
    expect((plugins.body as { id: string }[]).map((p) => p.id).sort()).toEqual([
      'switchboard.karma',
      'test.sql',
    ]);
  }

  function expectRefusals(outcomes: Outcome[]): void {
    const wrong = corpus
      .map((statement, i) => ({ ...statement, outcome: outcomes[i]! }))
      .filter((s) => s.refused === s.outcome.ok || (!s.refused && !s.outcome.ok));
    expect(wrong).toEqual([]);
  }

  it('refuses every escape through the explorer API and changes nothing outside the instance', async () => {
    const before = await stateOutside(db.knex, attackerRole, targets.victimSchema);
    expectRefusals(await viaExplorer(corpus.map((s) => s.sql)));
    await expectConfinedAfterwards(viaExplorer, before);
  }, 120_000);

  it("refuses every escape through a plugin's db.query and changes nothing outside the instance", async () => {
    const before = await stateOutside(db.knex, attackerRole, targets.victimSchema);
    expectRefusals(await viaPlugin(corpus.map((s) => s.sql)));
    await expectConfinedAfterwards(viaPlugin, before);
  }, 120_000);

  it("when the attacker is deleted, its schema, role and large objects go, and the victim's data stays", async () => {
    // What it opened of its own schema keeps no other instance from starting.
    const newcomer = await api().put('/instance/newcomer', {
      type: 'switchboard.karma',
      primary_user: room.bot.userId,
    });
    expect(newcomer.body).toMatchObject({ started: true, database: true });
    expect(
      await queryRows(
        db.knex,
        `select count(*)::int as n from pg_largeobject_metadata where lomowner = ?::regrole`,
        [attackerRole],
      ),
    ).not.toEqual([{ n: 0 }]);
    expect((await api().delete('/instance/attacker')).status).toBe(204);
    expect(
      await queryRows(db.knex, 'select 1 from pg_roles where rolname = ?', [attackerRole]),
    ).toEqual([]);
    expect(
      await queryRows(db.knex, 'select 1 from pg_namespace where nspname = ?', [targets.ownSchema]),
    ).toEqual([]);
    expect(
      await queryRows(db.knex, 'select count(*)::int as n from pg_largeobject_metadata'),
    ).toEqual([{ n: 0 }]);
    expect(
      (
        await api().post('/instance/victim/database/query', {
          query: 'SELECT * FROM karma ORDER BY thing',
        })
      ).body.rows,
    ).toEqual([
      ['cats', 3],
      ['dogs', -1],
    ]);
  });
});
