import type { Knex } from 'knex';

/**
 * The rows an instance needs (a plugin with an archive, a client), written directly, for tests
 * of the database layer that run no plugin.
 */
export async function addInstanceRows(
  knex: Knex,
  ids: readonly string[],
  engine: string | null = 'postgres',
): Promise<void> {
  if (!(await knex('plugin').where({ id: 'test.db' }).first())) {
    const [archive] = await knex('plugin_archive')
      .insert({ plugin_id: 'test.db', sha256: '0'.repeat(64), size: 1, data: Buffer.from([0]) })
      .returning('id');
    await knex('plugin').insert({
      id: 'test.db',
      version: '1.0.0',
      loader: 'javascript',
      meta: { id: 'test.db', database: true },
      archive_id: (archive as { id: number }).id,
    });
    await knex('client').insert({
      id: '@db:test.local',
      homeserver: 'http://127.0.0.1:1',
      access_token_ciphertext: 'x',
      access_token_key_id: 'x',
      enabled: false,
      sync: false,
      autojoin: false,
      online: false,
      displayname: 'disable',
      avatar_url: 'disable',
    });
  }
  for (const id of ids) {
    await knex('instance').insert({
      id,
      type: 'test.db',
      enabled: true,
      primary_user: '@db:test.local',
      config: '',
      database_engine: engine,
    });
  }
}
