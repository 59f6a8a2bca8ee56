import type { Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, openDatabase, rollbackAll } from '../../src/db/database';
import { insertArchive, readArchive, singleBinaryCopyValue } from '../../src/db/plugin-repository';
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
        '20261210000000_webhook_config_without_hook_id',
      ]);
      expect(await tables(db.knex)).toEqual(ALL_TABLES);
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

describe('binary COPY parsing', () => {
  it('when given one row, no row, or not COPY data, then the value, null, or an error', () => {
    const header = Buffer.concat([
      Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'),
      Buffer.alloc(4),
      Buffer.alloc(4),
    ]);
    const row = Buffer.alloc(6);
    row.writeInt16BE(1, 0);
    row.writeInt32BE(3, 2);
    const trailer = Buffer.from([0xff, 0xff]);
    expect(
      singleBinaryCopyValue(Buffer.concat([header, row, Buffer.from('abc'), trailer])),
    ).toEqual(Buffer.from('abc'));
    expect(singleBinaryCopyValue(Buffer.concat([header, trailer]))).toBeNull();
    expect(() => singleBinaryCopyValue(Buffer.from('definitely not a copy stream'))).toThrow(
      'not PostgreSQL binary COPY data',
    );
  });
});
