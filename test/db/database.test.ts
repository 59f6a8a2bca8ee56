import type { Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, rollbackAll } from '../../src/db/database';
import { insertArchive, readArchive, SingleValueCopyReader } from '../../src/db/plugin-repository';
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
  'instance_database',
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
        '20261215000000_instance_database',
        '20261220000000_change_notifications',
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

describe('binary COPY reading', () => {
  const header = Buffer.concat([
    Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'),
    Buffer.alloc(4),
    Buffer.alloc(4),
  ]);
  const trailer = Buffer.from([0xff, 0xff]);
  const field = (value: Buffer | null) => {
    const row = Buffer.alloc(6);
    row.writeInt16BE(1, 0);
    row.writeInt32BE(value ? value.length : -1, 2);
    return Buffer.concat([row, value ?? Buffer.alloc(0)]);
  };
  const read = (stream: Buffer, chunkSize: number) => {
    const reader = new SingleValueCopyReader();
    for (let i = 0; i < stream.length; i += chunkSize) {
      reader.push(stream.subarray(i, i + chunkSize));
    }
    return reader.value();
  };

  it('when given one row in chunks of any size, no row, a NULL, or not COPY data, then the value, null, null, or an error', () => {
    const stream = Buffer.concat([header, field(Buffer.from('abc')), trailer]);
    for (const size of [1, 2, 7, 20, 64]) expect(read(stream, size)).toEqual(Buffer.from('abc'));
    expect(read(Buffer.concat([header, trailer]), 3)).toBeNull();
    expect(read(Buffer.concat([header, field(null), trailer]), 5)).toBeNull();
    expect(() => read(Buffer.from('definitely not a copy stream'), 4)).toThrow(
      'not PostgreSQL binary COPY data',
    );
    expect(() =>
      read(Buffer.concat([header, field(Buffer.from('abc'))]).subarray(0, 27), 4),
    ).toThrow('truncated binary COPY data');
  });
});
