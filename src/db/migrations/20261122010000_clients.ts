import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('client', (t) => {
    t.comment('Matrix accounts the bots run as (maubot clients)');
    t.text('id').primary().comment('Matrix user ID');
    t.text('homeserver').notNullable();
    // Never stored in clear: AES-256-GCM, with the id of the key that sealed it.
    t.text('access_token_ciphertext').notNullable();
    t.text('access_token_key_id').notNullable();
    t.text('device_id').notNullable().defaultTo('').comment('"" when unknown');
    t.boolean('enabled').notNullable();
    t.boolean('sync').notNullable();
    t.boolean('autojoin').notNullable();
    t.boolean('online').notNullable();
    t.text('displayname').notNullable().comment('"disable": the profile is left alone');
    t.text('avatar_url').notNullable().comment('"disable": the profile is left alone');
    t.text('next_batch').notNullable().defaultTo('').comment('sync token to resume from');
    t.text('filter_id').notNullable().defaultTo('').comment('sync filter on the homeserver');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('client');
}
