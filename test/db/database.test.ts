import type { Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, rollbackAll } from '../../src/db/database';
import { insertArchive, readArchive } from '../../src/db/plugin-repository';
import { openTestDatabase, testDatabaseKinds } from '../helpers/databases';

async function tables(knex: Knex): Promise<string[]> {
  const rows = await knex('information_schema.tables')
    .where({ table_schema: 'public' })
    .whereNot('table_name', 'like', 'knex_%')
    .pluck<string[]>('table_name');
  return rows.sort();
}

const ALL_TABLES = [
  'client',
  'connection',
  'feed_item_seen',
  'feed_state',
  'instance',
  'oauth_state',
  'plugin',
  'plugin_archive',
  'provisioning_bot',
  'user_token',
  'webhook_delivery',
  'webhook_hook',
];

describe.each(testDatabaseKinds())('database (%s)', (kind) => {
  it('when migrated, rolled back and migrated again, then the schema comes and goes cleanly', async () => {
    const db = await openTestDatabase(kind);
    try {
      expect(await tables(db.knex)).toEqual(ALL_TABLES);
      expect(await migrate(db.knex)).toEqual([]);
      await rollbackAll(db.knex);
      expect(await tables(db.knex)).toEqual([]);
      expect(await migrate(db.knex)).toEqual([
        '20261122000000_plugins',
        '20261122010000_clients',
        '20261122020000_instances',
        '20261201000000_connections',
      ]);
      expect(await tables(db.knex)).toEqual(ALL_TABLES);
    } finally {
      await db.close();
    }
  });
});

describe.each(testDatabaseKinds())('plugin archives (%s)', (kind) => {
  it('when a 10 MB archive is stored and read back, then the bytes are identical', async () => {
    const db = await openTestDatabase(kind);
    const dir = await mkdtemp(join(tmpdir(), 'switchboard-archive-'));
    try {
      const data = randomBytes(10 * 1024 * 1024);
      const path = join(dir, 'archive.mbp');
      await writeFile(path, data);
      const id = await db.knex.transaction((trx) =>
        insertArchive(trx, { pluginId: 'x.y', sha256: 'h', file: { path, size: data.length } }),
      );
      const back = await readArchive(db.knex, id);
      expect(back?.length).toBe(data.length);
      expect(back!.equals(data)).toBe(true);
      expect(await readArchive(db.knex, id + 1000)).toBeNull();
    } finally {
      await db.close();
    }
  });
});
