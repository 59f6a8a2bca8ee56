import type { Knex } from 'knex';

/**
 * Every committed change to the listed tables is announced on the `switchboard_changes`
 * channel (payload: the table's name), so a server that keeps them in memory also sees what
 * another process wrote. A client's sync position is written on every sync and is not part of
 * what is announced.
 */
const CLIENT_COLUMNS = [
  'id',
  'homeserver',
  'access_token_ciphertext',
  'access_token_key_id',
  'device_id',
  'enabled',
  'sync',
  'autojoin',
  'online',
  'displayname',
  'avatar_url',
];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION switchboard_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('switchboard_changes', TG_TABLE_NAME);
      RETURN NULL;
    END $$`);
  await knex.raw('REVOKE ALL ON FUNCTION switchboard_announce_change() FROM PUBLIC');
  for (const [table, update] of [
    ['plugin', 'UPDATE'],
    ['instance', 'UPDATE'],
    ['client', `UPDATE OF ${CLIENT_COLUMNS.join(', ')}`],
  ] as const) {
    await knex.raw(
      `CREATE TRIGGER ${table}_announce_change AFTER INSERT OR ${update} OR DELETE OR TRUNCATE ` +
        `ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION switchboard_announce_change()`,
    );
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['plugin', 'instance', 'client']) {
    await knex.raw(`DROP TRIGGER ${table}_announce_change ON ${table}`);
  }
  await knex.raw('DROP FUNCTION switchboard_announce_change()');
}
