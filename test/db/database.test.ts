import type { Knex } from 'knex';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, openDatabase, rollbackAll } from '../../src/db/database';
import { openTestDatabase, testDatabaseKinds } from '../helpers/databases';

async function tables(knex: Knex): Promise<string[]> {
  const rows = await knex('information_schema.tables')
    .where({ table_schema: 'public' })
    .whereNot('table_name', 'like', 'knex_%')
    .pluck<string[]>('table_name');
  return rows.sort();
}

describe.each(testDatabaseKinds())('database (%s)', (kind) => {
  it('when migrated, rolled back and migrated again, then the schema comes and goes cleanly', async () => {
    const db = await openTestDatabase(kind);
    try {
      expect(await tables(db.knex)).toEqual(['plugin', 'plugin_archive']);
      expect(await migrate(db.knex)).toEqual([]);
      await rollbackAll(db.knex);
      expect(await tables(db.knex)).toEqual([]);
      expect(await migrate(db.knex)).toEqual(['20261122000000_plugins']);
      expect(await tables(db.knex)).toEqual(['plugin', 'plugin_archive']);
    } finally {
      await db.close();
    }
  });
});

describe('embedded database', () => {
  it('when closed and opened again from its directory, then the data is still there', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'switchboard-db-')), 'db');
    const first = await openDatabase({ embeddedDir: dir });
    await first.knex('plugin_archive').insert({
      plugin_id: 'xyz.example',
      sha256: 'abc',
      size: 3,
      data: Buffer.from('zip'),
    });
    await first.close();
    const second = await openDatabase({ embeddedDir: dir });
    const rows = await second.knex('plugin_archive').select('plugin_id', 'size');
    expect(rows).toEqual([{ plugin_id: 'xyz.example', size: expect.anything() }]);
    expect(Number(rows[0].size)).toBe(3);
    await second.close();
  });
});
