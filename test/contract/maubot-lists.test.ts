import pg from 'pg';
import { buildPlugin as buildExample } from '../../scripts/build-plugins';
import { createTestApp, type TestApp } from '../helpers/app';
import { maubotApi } from '../helpers/maubot-api';
import { testDatabaseKinds } from '../helpers/databases';
import { waitFor } from '../helpers/wait';
import { TestHomeserver, type RegisteredUser } from '../../testing/homeserver/test-homeserver';

/**
 * The plugin, client and instance lists (and their single-item forms) are answered from
 * memory; the database stays the record: what the API writes is in the next answer, and what
 * another process writes is seen once the database announces it.
 */
describe.each(testDatabaseKinds())('maubot lists from memory (%s)', (kind) => {
  let hs: TestHomeserver;
  let t: TestApp;
  let bot: RegisteredUser;
  /** Another process's session: writes straight to the tables, outside the app. */
  let other: pg.Client;

  const api = () => maubotApi(t);
  const ids = (items: { id: string }[]) => items.map((i) => i.id);
  const instanceIdsOf = (item: { instances: { id: string }[] }) => ids(item.instances);

  /** Every list and item answer that shows the instance, as the API answers now. */
  async function everyAnswer(instanceId: string) {
    const [instances, instance, plugins, plugin, clients, client] = await Promise.all([
      api().get('/instances'),
      api().get(`/instance/${instanceId}`),
      api().get('/plugins'),
      api().get('/plugin/switchboard.echo'),
      api().get('/clients'),
      api().get(`/client/${bot.userId}`),
    ]);
    return { instances, instance, plugins, plugin, clients, client };
  }

  beforeAll(async () => {
    hs = await TestHomeserver.start();
    t = await createTestApp(kind);
    bot = hs.registerUser('listbot');
    expect(
      (
        await api().put(`/client/${bot.userId}`, {
          homeserver: hs.url,
          access_token: bot.accessToken,
        })
      ).status,
    ).toBe(201);
    expect((await api().upload((await buildExample('echo')).archive)).status).toBe(201);
    other = new pg.Client(t.db.connectionParams());
    await other.connect();
  }, 30_000);
  afterAll(async () => {
    await other.end();
    await t.close();
    await hs.close();
  });

  it('when nothing changed, then the lists and items are answered without a database query', async () => {
    expect(
      (await api().put('/instance/quiet', { type: 'switchboard.echo', primary_user: bot.userId }))
        .status,
    ).toBe(201);
    await everyAnswer('quiet');
    const queries: string[] = [];
    const onQuery = (q: { sql: string }) => queries.push(q.sql);
    t.db.knex.on('query', onQuery);
    try {
      const answers = await everyAnswer('quiet');
      for (const res of Object.values(answers)) expect(res.status).toBe(200);
      expect(ids(answers.instances.body)).toContain('quiet');
    } finally {
      t.db.knex.off('query', onQuery);
    }
    expect(queries).toEqual([]);
    expect((await api().delete('/instance/quiet')).status).toBe(204);
  });

  it('when the API writes, then the very next answers show it, in every list and item', async () => {
    const created = await api().put('/instance/Writes', {
      type: 'switchboard.echo',
      primary_user: bot.userId,
      config: 'a: 1',
    });
    expect(created.status).toBe(201);
    let now = await everyAnswer('writes');
    expect(now.instance.body).toEqual(created.body);
    expect(now.instances.body).toContainEqual(created.body);
    expect(
      now.plugins.body.find((p: { id: string }) => p.id === 'switchboard.echo').instances,
    ).toContainEqual(created.body);
    expect(now.plugin.body.instances).toContainEqual(created.body);
    expect(now.clients.body[0].instances).toContainEqual(created.body);
    expect(now.client.body.instances).toContainEqual(created.body);

    // Each change is in the next answer; none waits for the database's announcement.
    expect((await api().put('/instance/writes', { config: 'a: 2' })).status).toBe(200);
    expect((await api().get('/instance/writes')).body.config).toBe('a: 2');
    expect((await api().put('/instance/writes', { enabled: false, started: false })).status).toBe(
      200,
    );
    now = await everyAnswer('writes');
    expect(now.instance.body).toMatchObject({ enabled: false, started: false, config: 'a: 2' });
    expect(now.client.body.instances[0]).toMatchObject({ id: 'writes', enabled: false });

    expect((await api().put('/instance/writes', { id: 'renamed' })).status).toBe(200);
    expect(ids((await api().get('/instances')).body)).toEqual(['renamed']);
    expect((await api().get('/instance/writes')).status).toBe(404);
    expect(instanceIdsOf((await api().get('/plugin/switchboard.echo')).body)).toEqual(['renamed']);

    expect((await api().put(`/client/${bot.userId}`, { autojoin: false })).status).toBe(200);
    expect((await api().get(`/client/${bot.userId}`)).body.autojoin).toBe(false);
    expect((await api().get('/clients')).body[0].autojoin).toBe(false);

    const dice = await buildExample('dice');
    expect((await api().upload(dice.archive)).status).toBe(201);
    expect(ids((await api().get('/plugins')).body)).toEqual(['switchboard.echo', dice.id]);
    expect((await api().delete(`/plugin/${dice.id}`)).status).toBe(204);
    expect(ids((await api().get('/plugins')).body)).toEqual(['switchboard.echo']);
    expect((await api().get(`/plugin/${dice.id}`)).status).toBe(404);

    expect((await api().delete('/instance/renamed')).status).toBe(204);
    now = await everyAnswer('renamed');
    expect(now.instance.status).toBe(404);
    expect(now.instances.body).toEqual([]);
    expect(now.plugin.body.instances).toEqual([]);
    expect(now.client.body.instances).toEqual([]);
    expect((await api().put(`/client/${bot.userId}`, { autojoin: true })).status).toBe(200);
  });

  it('when another process writes the tables, then the lists show it once the database announced it', async () => {
    expect(
      (
        await api().put('/instance/direct', {
          type: 'switchboard.echo',
          primary_user: bot.userId,
          enabled: false,
        })
      ).status,
    ).toBe(201);
    expect((await api().get('/instance/direct')).body.config).toBe('');

    await other.query(`update instance set config = 'from: elsewhere' where id = 'direct'`);
    await other.query(
      `insert into instance (id, type, enabled, primary_user, config)
       values ('inserted', 'switchboard.echo', false, $1, 'x: 1')`,
      [bot.userId],
    );
    await other.query(`update client set displayname = 'Elsewhere' where id = $1`, [bot.userId]);
    await other.query(`update plugin set version = '9.9.9' where id = 'switchboard.echo'`);
    // Every announcement of a commit made before this has reached the app.
    await t.db.changes.caughtUp();

    let now = await everyAnswer('direct');
    expect(now.instance.body.config).toBe('from: elsewhere');
    expect(ids(now.instances.body)).toEqual(['direct', 'inserted']);
    expect(instanceIdsOf(now.plugin.body)).toEqual(['direct', 'inserted']);
    expect(now.plugin.body.version).toBe('9.9.9');
    expect(now.plugins.body[0].version).toBe('9.9.9');
    expect(now.client.body.displayname).toBe('Elsewhere');
    expect(instanceIdsOf(now.clients.body[0])).toEqual(['direct', 'inserted']);

    // A transaction's changes are seen together, once it commits.
    await other.query('begin');
    await other.query(`delete from instance where id = 'inserted'`);
    await other.query(`update instance set config = 'y: 2' where id = 'direct'`);
    await t.db.changes.caughtUp();
    expect(ids((await api().get('/instances')).body)).toEqual(['direct', 'inserted']);
    await other.query('commit');
    await t.db.changes.caughtUp();
    now = await everyAnswer('direct');
    expect(ids(now.instances.body)).toEqual(['direct']);
    expect(now.instance.body.config).toBe('y: 2');
    expect((await api().get('/instance/inserted')).status).toBe(404);
    expect(instanceIdsOf(now.client.body)).toEqual(['direct']);

    await other.query(`update client set displayname = 'disable' where id = $1`, [bot.userId]);
    await other.query(`update plugin set version = '1.0.0' where id = 'switchboard.echo'`);
    expect((await api().delete('/instance/direct')).status).toBe(204);
  });

  it('when a plain NOTIFY names a table, then that table is read again', async () => {
    expect(
      (
        await api().put('/instance/notified', {
          type: 'switchboard.echo',
          primary_user: bot.userId,
          enabled: false,
        })
      ).status,
    ).toBe(201);
    // The announcements of those writes have arrived and the answer is read again once.
    await t.db.changes.caughtUp();
    expect((await api().get('/instance/notified')).body.config).toBe('');
    // Written with the announcing trigger off (as a restore might): nothing is announced ...
    await other.query('begin');
    await other.query('alter table instance disable trigger instance_announce_change');
    await other.query(`update instance set config = 'quiet: 1' where id = 'notified'`);
    await other.query('alter table instance enable trigger instance_announce_change');
    await other.query('commit');
    await t.db.changes.caughtUp();
    expect((await api().get('/instance/notified')).body.config).toBe('');
    // ... until someone announces it.
    await other.query(`notify switchboard_changes, 'instance'`);
    await t.db.changes.caughtUp();
    expect((await api().get('/instance/notified')).body.config).toBe('quiet: 1');
    expect((await api().delete('/instance/notified')).status).toBe(204);
  });

  it("when a client's sync position is saved, then nothing is announced", async () => {
    const received: string[] = [];
    const listener = new pg.Client(t.db.connectionParams());
    await listener.connect();
    try {
      listener.on('notification', (n) => received.push(n.payload ?? ''));
      await listener.query('listen switchboard_changes');
      await other.query(`update client set next_batch = 's1', filter_id = 'f1' where id = $1`, [
        bot.userId,
      ]);
      await other.query(`update client set enabled = enabled where id = $1`, [bot.userId]);
      await waitFor(() => received.length > 0, { what: 'an announcement' });
      await other.query(`notify switchboard_changes, 'end'`);
      await waitFor(() => received.includes('end'), { what: 'the end mark' });
      expect(received).toEqual(['client', 'end']);
    } finally {
      await listener.end();
    }
  });

  it('when the listening session is lost, then it listens again and reads every table again', async () => {
    expect(
      (
        await api().put('/instance/lost', {
          type: 'switchboard.echo',
          primary_user: bot.userId,
          enabled: false,
        })
      ).status,
    ).toBe(201);
    await t.db.changes.caughtUp();
    expect((await api().get('/instance/lost')).body.config).toBe('');
    // Written unannounced: only a fresh read of the table finds it.
    await other.query('begin');
    await other.query('alter table instance disable trigger instance_announce_change');
    await other.query(`update instance set config = 'unannounced: 1' where id = 'lost'`);
    await other.query('alter table instance enable trigger instance_announce_change');
    await other.query('commit');
    await t.db.changes.caughtUp();
    expect((await api().get('/instance/lost')).body.config).toBe('');

    const listening = async () =>
      (
        await other.query<{ pid: number }>(
          `select pid from pg_stat_activity
            where datname = current_database() and application_name = 'switchboard change feed'`,
        )
      ).rows.map((r) => r.pid);
    const [pid] = await listening();
    expect(pid).toBeDefined();
    await other.query('select pg_terminate_backend($1)', [pid]);
    const [again] = await waitFor(
      async () => {
        const pids = await listening();
        return pids.length === 1 && pids[0] !== pid && t.db.changes.listening ? pids : null;
      },
      { what: 'a new listening session' },
    );
    expect(again).not.toBe(pid);
    expect((await api().get('/instance/lost')).body.config).toBe('unannounced: 1');

    // And announcements reach it again.
    await other.query(`update instance set config = 'after: reconnect' where id = 'lost'`);
    await t.db.changes.caughtUp();
    expect((await api().get('/instance/lost')).body.config).toBe('after: reconnect');
    expect((await api().delete('/instance/lost')).status).toBe(204);
  });

  it('when a kept answer would break the contract, then the response validator still refuses it', async () => {
    expect(
      (
        await api().put('/instance/checked', {
          type: 'switchboard.echo',
          primary_user: bot.userId,
          enabled: false,
        })
      ).status,
    ).toBe(201);
    expect((await api().get('/instances')).status).toBe(200);
    // database_interface must be a string or null; the plugin's stored metadata makes it 42.
    await other.query(
      `update plugin set meta = meta || '{"database": true, "database_type": 42}'
        where id = 'switchboard.echo'`,
    );
    await t.db.changes.caughtUp();
    for (const path of ['/instances', '/instance/checked', '/plugins', '/clients']) {
      const res = await api().get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 500 });
    }
    await other.query(
      `update plugin set meta = meta - 'database' - 'database_type' where id = 'switchboard.echo'`,
    );
    await t.db.changes.caughtUp();
    const res = await api().get('/instance/checked');
    expect(res.status).toBe(200);
    expect(res.body.database_interface).toBeNull();
    expect((await api().delete('/instance/checked')).status).toBe(204);
  });
});
