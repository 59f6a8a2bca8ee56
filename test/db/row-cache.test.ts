import type { Database } from '../../src/db/database';
import { RowCache } from '../../src/db/row-cache';
import { addInstanceRows } from '../helpers/instance-rows';
import { openTestDatabase, testDatabaseKinds } from '../helpers/databases';

describe.each(testDatabaseKinds())('rows kept in memory (%s)', (kind) => {
  let db: Database;
  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(() => db.close());

  it('when nothing listens for announcements, then every read goes to the database', async () => {
    const rows = new RowCache(db.knex);
    expect((await rows.rows()).instances).toEqual([]);
    await addInstanceRows(db.knex, ['unannounced']);
    const now = await rows.rows();
    expect(now.instances.map((i) => i.id)).toEqual(['unannounced']);
    expect(now.byPlugin.get('test.db')?.map((i) => i.id)).toEqual(['unannounced']);
    expect(now.client.get('@db:test.local')?.enabled).toBe(false);
    await db.knex('instance').delete();
  });

  it('when tables keep changing while readers wait, then each reader gets rows read after it asked, and reads are shared', async () => {
    await addInstanceRows(db.knex, []);
    const rows = new RowCache(db.knex, db.changes);
    await db.changes.caughtUp();
    await rows.rows();
    const queries: string[] = [];
    const onQuery = (q: { sql: string }) => {
      if (q.sql.startsWith('select') && q.sql.includes('"instance"')) queries.push(q.sql);
    };
    db.knex.on('query', onQuery);
    try {
      // 20 readers, each after a change of its own: none waits for the ones after it.
      const readers: Promise<unknown>[] = [];
      for (let i = 0; i < 20; i++) {
        await db.knex('instance').insert({
          id: `busy${i}`,
          type: 'test.db',
          enabled: false,
          primary_user: '@db:test.local',
          config: '',
        });
        rows.changed('instance');
        readers.push(rows.rows().then((r) => expect(r.instance.has(`busy${i}`)).toBe(true)));
      }
      await Promise.all(readers);
      expect(queries.length).toBeGreaterThan(0);
      expect(queries.length).toBeLessThanOrEqual(20);
    } finally {
      db.knex.off('query', onQuery);
    }
  });
});
