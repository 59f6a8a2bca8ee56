import request from 'supertest';
import { buildPlugin as buildExample } from '../../scripts/build-plugins';
import { createTestApp, type TestApp } from '../helpers/app';
import { maubotApi } from '../helpers/maubot-api';
import { captureLogs } from '../helpers/log-capture';
import { testDatabaseKinds } from '../helpers/databases';
import { buildPlugin } from '../helpers/zip';
import { waitFor } from '../helpers/wait';
import { TestHomeserver, type RegisteredUser } from '../../testing/homeserver/test-homeserver';
import { expectAnswer } from '../helpers/answers';

const API = '/_matrix/maubot/v1';

describe.each(testDatabaseKinds())('maubot instances API (%s)', (kind) => {
  let hs: TestHomeserver;
  let t: TestApp;
  let bot: RegisteredUser;
  let logs: ReturnType<typeof captureLogs>;

  const api = () => maubotApi(t);

  const instance = (overrides: Record<string, unknown> = {}) => ({
    id: 'echo',
    type: 'switchboard.echo',
    enabled: true,
    started: true,
    primary_user: bot.userId,
    config: '',
    base_config: null,
    database: false,
    database_interface: null,
    database_engine: null,
    ...overrides,
  });

  beforeAll(async () => {
    hs = await TestHomeserver.start();
    logs = captureLogs('info');
    t = await createTestApp(kind, { logger: logs.logger });
    bot = hs.registerUser('instbot');
    expect(
      (
        await api().put(`/client/${bot.userId}`, {
          homeserver: hs.url,
          access_token: bot.accessToken,
        })
      ).status,
    ).toBe(201);
    for (const name of ['echo', 'karma']) {
      expect((await api().upload((await buildExample(name)).archive)).status).toBe(201);
    }
    const python = buildPlugin({
      meta: { id: 'xyz.maubot.python', main_class: 'PyBot', modules: ['pybot'] },
      files: { 'echo.js': null, 'pybot.py': 'class PyBot:\n    pass\n' },
    });
    expect((await api().upload(python)).status).toBe(201);
  }, 30_000);
  afterAll(async () => {
    await t.close();
    await hs.close();
  });

  describe('PUT /instance/{id} (create)', () => {
    it('when created with a mixed-case id, then 201, the id is lower-cased and it runs', async () => {
      const res = await api().put('/instance/ECHO', {
        id: 'ignored',
        type: 'switchboard.echo',
        primary_user: bot.userId,
        started: false,
      });
      expectAnswer(res, 201, instance());
      expect((await api().get('/instance/Echo')).body).toEqual(instance());
      const row = await t.db.knex('instance').where({ id: 'echo' }).first();
      expect(row).toMatchObject({ type: 'switchboard.echo', enabled: true, config: '' });
    });

    it.each([
      [
        { primary_user: '@x:y' },
        400,
        'plugin_type_required',
        'Plugin type is required when creating plugin instances',
      ],
      [
        { type: '', primary_user: '@x:y' },
        400,
        'plugin_type_required',
        'Plugin type is required when creating plugin instances',
      ],
      [
        { type: 'switchboard.echo' },
        400,
        'primary_user_required',
        'Primary user is required when creating plugin instances',
      ],
      [
        { type: 'nope', primary_user: '@nobody:test.local' },
        404,
        'primary_user_not_found',
        'Client for given primary user not found',
      ],
    ])(
      'when the body is %j, then %i %s and nothing is stored',
      async (body, status, errcode, error) => {
        const res = await api().put('/instance/bad', body);
        expect(res.status).toBe(status);
        expect(res.body).toEqual({ errcode, error });
        expect(await t.db.knex('instance').where({ id: 'bad' }).first()).toBeUndefined();
      },
    );

    it('when the plugin is unknown, then 404 plugin_type_not_found', async () => {
      const res = await api().put('/instance/bad', {
        type: 'no.such.plugin',
        primary_user: bot.userId,
      });
      expectAnswer(res, 404, {
        errcode: 'plugin_type_not_found',
        error: 'Given plugin type not found',
      });
    });

    it('when the body is not JSON, then 400 body_not_json', async () => {
      const res = await request(t.app)
        .put(`${API}/instance/bad`)
        .set('Authorization', `Bearer ${t.token}`)
        .set('Content-Type', 'application/json')
        .send('{');
      expectAnswer(res, 400, { errcode: 'body_not_json', error: 'Request body is not JSON' });
    });

    it('when the plugin is a Python plugin, then 201 with the instance disabled, and the log says why', async () => {
      const res = await api().put('/instance/py', {
        type: 'xyz.maubot.python',
        primary_user: bot.userId,
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ id: 'py', enabled: false, started: false });
      expect((await t.db.knex('instance').where({ id: 'py' }).first()).enabled).toBe(false);
      expect(
        logs.lines.some(
          (l) =>
            l.logger === 'maubot.instance.py' &&
            String(l.msg).includes(
              'xyz.maubot.python is a Python plugin; Switchboard runs JavaScript plugins only',
            ),
        ),
      ).toBe(true);
    });

    it('when created disabled, then it does not start', async () => {
      const res = await api().put('/instance/off', {
        type: 'switchboard.echo',
        primary_user: bot.userId,
        enabled: false,
      });
      expectAnswer(res, 201, instance({ id: 'off', enabled: false, started: false }));
    });
  });

  describe('PUT /instance/{id} (update)', () => {
    it('when enabled and started come in one request, then enabled applies first and it starts', async () => {
      const res = await api().put('/instance/off', { enabled: true, started: true });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ enabled: true, started: true });
    });

    it('when enabled turns false, then it is only a flag: the instance keeps running', async () => {
      const res = await api().put('/instance/off', { enabled: false });
      expect(res.body).toMatchObject({ enabled: false, started: true });
      const stop = await api().put('/instance/off', { started: false });
      expect(stop.body).toMatchObject({ enabled: false, started: false });
      const start = await api().put('/instance/off', { started: true });
      expect(start.body).toMatchObject({ enabled: false, started: false });
    });

    it('when the primary user is unknown, then 404 primary_user_not_found and nothing changes', async () => {
      const res = await api().put('/instance/echo', {
        primary_user: '@nobody:test.local',
        config: 'x: 1',
      });
      expect(res.status).toBe(404);
      expect(res.body.errcode).toBe('primary_user_not_found');
      expect((await api().get('/instance/echo')).body).toEqual(instance());
    });

    it('when the type is unknown, then it is ignored (200)', async () => {
      const res = await api().put('/instance/echo', { type: 'no.such.plugin' });
      expectAnswer(res, 200, instance());
    });

    it('when the config changes, then it is stored as written', async () => {
      const res = await api().put('/instance/echo', { config: 'greeting: hi\n' });
      expect(res.body).toEqual(instance({ config: 'greeting: hi\n' }));
      expect((await t.db.knex('instance').where({ id: 'echo' }).first()).config).toBe(
        'greeting: hi\n',
      );
    });

    it('when renamed, then everything moves to the new id; a taken id is 409 instance_exists', async () => {
      const taken = await api().put('/instance/echo', { id: 'off' });
      expectAnswer(taken, 409, {
        errcode: 'instance_exists',
        error: 'There is already an instance with that ID',
      });
      const res = await api().put('/instance/echo', { id: 'Echo2' });
      expectAnswer(res, 200, instance({ id: 'echo2', config: 'greeting: hi\n' }));
      expect((await api().get('/instance/echo')).status).toBe(404);
      const back = await api().put('/instance/echo2', { id: 'echo' });
      expect(back.body.id).toBe('echo');
    });
  });

  describe('instance database', () => {
    it("keeps each instance in its own schema: no reading or writing another's or Switchboard's tables", async () => {
      for (const id of ['karma1', 'karma2']) {
        const res = await api().put(`/instance/${id}`, {
          type: 'switchboard.karma',
          primary_user: bot.userId,
        });
        expect(res.body).toMatchObject({
          started: true,
          database: true,
          database_engine: 'postgres',
        });
      }
      const q = (id: string, query: string) =>
        api().post(`/instance/${id}/database/query`, { query });
      expect((await q('karma1', "INSERT INTO karma VALUES ('cats', 3)")).body).toEqual({
        ok: true,
        query: "INSERT INTO karma VALUES ('cats', 3)",
        status_msg: 'INSERT 0 1',
      });
      expect((await q('karma1', 'SELECT * FROM karma')).body).toEqual({
        ok: true,
        query: 'SELECT * FROM karma',
        rows: [['cats', 3]],
        columns: ['thing', 'score'],
      });
      expect((await q('karma2', 'SELECT * FROM karma')).body).toEqual({
        ok: true,
        query: 'SELECT * FROM karma',
        rows: [],
      });
      const karma1 = await t.db.knex('instance_database').where({ instance_id: 'karma1' }).first();
      for (const attempt of [
        `SELECT * FROM "${karma1.schema_name}".karma`,
        'SELECT * FROM public.client',
        'DELETE FROM public.plugin',
        'SET ROLE postgres',
        "SELECT set_config('role', 'postgres', false)",
        'SELECT 1; RESET ROLE',
        `DROP SCHEMA "${karma1.schema_name}" CASCADE`,
      ]) {
        const res = await q('karma2', attempt);
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ ok: false, query: attempt, errcode: 'sql_error' });
      }
      // Nothing to reset: the session is the instance's own login.
      expect((await q('karma2', 'RESET ROLE')).body).toEqual({
        ok: true,
        query: 'RESET ROLE',
        status_msg: 'RESET',
      });
      const karma2 = await t.db.knex('instance_database').where({ instance_id: 'karma2' }).first();
      expect((await q('karma2', 'SELECT current_user')).body.rows).toEqual([[karma2.role_name]]);
      expect((await q('karma1', 'SELECT score FROM karma')).body.rows).toEqual([[3]]);
      expect(Number((await t.db.knex('plugin').count({ n: '*' }))[0]!.n)).toBeGreaterThan(0);
    });

    it('lists tables with their columns, and reads one table sorted', async () => {
      const res = await api().get('/instance/karma1/database');
      expectAnswer(res, 200, {
        karma: {
          columns: {
            thing: { type: 'text', nullable: 'NO', default: null, primary: true, unique: false },
            score: {
              type: 'integer',
              nullable: 'NO',
              default: null,
              primary: false,
              unique: false,
            },
          },
        },
      });
      await api().post('/instance/karma1/database/query', {
        query: "INSERT INTO karma VALUES ('dogs', 5)",
      });
      const table = await api().get(
        '/instance/karma1/database/karma?order=score:desc&order=nope:asc&limit=1',
      );
      expect(table.body).toEqual({
        ok: true,
        query: 'SELECT * FROM "karma" ORDER BY "score" DESC LIMIT 1',
        rows: [['dogs', 5]],
        columns: ['thing', 'score'],
      });
      const dict = await api().post('/instance/karma1/database/query', {
        query: 'SELECT thing FROM karma ORDER BY thing',
        rows_as_dict: true,
      });
      expect(dict.body.rows).toEqual([{ thing: 'cats' }, { thing: 'dogs' }]);
    });

    it("answers maubot's soft errors with 200 and its hard ones with exact bodies", async () => {
      const none = await api().get('/instance/echo/database');
      expectAnswer(none, 200, {
        errcode: 'plugin_has_no_database',
        error: 'Given plugin does not have a database',
      });
      const missing = await api().get('/instance/karma1/database/nosuch');
      expectAnswer(missing, 200, {
        errcode: 'table_not_found',
        error: 'Given table not found in plugin database',
      });
      const noQuery = await api().post('/instance/karma1/database/query', {});
      expectAnswer(noQuery, 400, { errcode: 'query_missing', error: 'Query missing' });
      const bad = await api().post('/instance/karma1/database/query', {
        query: 'SELECT nosuch FROM karma',
      });
      expectAnswer(bad, 400, {
        ok: false,
        query: 'SELECT nosuch FROM karma',
        errcode: 'sql_error',
        error: 'column "nosuch" does not exist',
      });
      const unknown = await api().get('/instance/nosuch/database');
      expectAnswer(unknown, 404, {
        errcode: 'instance_not_found',
        error: 'Plugin instance not found',
      });
    });

    it('when a database instance is renamed, then its data moves with it', async () => {
      const res = await api().put('/instance/karma2', { id: 'karma3' });
      expect(res.body).toMatchObject({ id: 'karma3', started: true, database_engine: 'postgres' });
      await api().post('/instance/karma3/database/query', {
        query: "INSERT INTO karma VALUES ('moved', 1)",
      });
      const back = await api().put('/instance/karma3', { id: 'karma2' });
      expect(back.body.id).toBe('karma2');
      const rows = await api().post('/instance/karma2/database/query', {
        query: 'SELECT thing FROM karma',
      });
      expect(rows.body.rows).toEqual([['moved']]);
      expect(
        await t.db.knex('instance_database').orderBy('instance_id').pluck('instance_id'),
      ).toEqual(['karma1', 'karma2']);
    });

    it('when an instance is deleted, then its schema and role are dropped', async () => {
      const karma2 = await t.db.knex('instance_database').where({ instance_id: 'karma2' }).first();
      const res = await api().delete('/instance/karma2');
      expect(res.status).toBe(204);
      const schemas = await t.db.knex.raw('select nspname from pg_namespace where nspname = ?', [
        karma2.schema_name,
      ]);
      expect(schemas.rows).toEqual([]);
      const roles = await t.db.knex.raw('select rolname from pg_roles where rolname = ?', [
        karma2.role_name,
      ]);
      expect(roles.rows).toEqual([]);
      expect(await t.db.knex('instance_database').pluck('instance_id')).toEqual(['karma1']);
    });
  });

  describe("GET, DELETE and the other APIs' views", () => {
    it('lists instances, and shows them on their plugin and client', async () => {
      const list = await api().get('/instances');
      expect(list.status).toBe(200);
      expect((list.body as { id: string }[]).map((i) => i.id)).toEqual([
        'echo',
        'py',
        'off',
        'karma1',
      ]);
      expect(
        (await api().get('/plugin/switchboard.echo')).body.instances.map(
          (i: { id: string }) => i.id,
        ),
      ).toEqual(['echo', 'off']);
      expect((await api().get(`/client/${bot.userId}`)).body.instances).toHaveLength(4);
    });

    it('reports running clients and instances as Prometheus gauges', async () => {
      const text = (await request(t.app).get('/metrics')).text;
      expect(text).toContain('switchboard_matrix_clients_started 1\n');
      expect(text).toContain('switchboard_matrix_clients_sync_failing 0\n');
      const running = t.instances.runtime.runningOf({}).length;
      expect(running).toBeGreaterThan(0);
      expect(text).toContain(`switchboard_plugin_instances_running ${running}\n`);
    });

    it('when the plugin or client is in use, then deleting it is 412', async () => {
      expect((await api().delete('/plugin/switchboard.echo')).status).toBe(412);
      expect((await api().delete(`/client/${bot.userId}`)).status).toBe(412);
    });

    it('when deleted, then 204, it stops and is gone; unknown is 404 instance_not_found', async () => {
      expect((await api().delete('/instance/off')).status).toBe(204);
      expect(await t.db.knex('instance').where({ id: 'off' }).first()).toBeUndefined();
      expect(t.instances.runtime.isStarted('off')).toBe(false);
      const again = await api().delete('/instance/off');
      expectAnswer(again, 404, {
        errcode: 'instance_not_found',
        error: 'Plugin instance not found',
      });
      expect((await api().get('/instance/off')).status).toBe(404);
    });

    it('when the client stops, then its instances stop; when it starts, the enabled ones start', async () => {
      await api().put(`/client/${bot.userId}`, { started: false });
      expect((await api().get('/instance/echo')).body.started).toBe(false);
      await api().put(`/client/${bot.userId}`, { started: true });
      await waitFor(async () => (await api().get('/instance/echo')).body.started === true, {
        what: 'the instance to start with its client',
      });
    });
  });
});
