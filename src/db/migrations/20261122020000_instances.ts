import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('instance', (t) => {
    t.comment('Plugin instances: a plugin running as a client, with its own config and database');
    t.text('id').primary().comment('lower-cased');
    t.text('type')
      .notNullable()
      .references('id')
      .inTable('plugin')
      .onDelete('RESTRICT')
      .withKeyName('instance_type_fk');
    t.boolean('enabled').notNullable();
    t.text('primary_user')
      .notNullable()
      .references('id')
      .inTable('client')
      .onDelete('RESTRICT')
      .onUpdate('CASCADE')
      .withKeyName('instance_primary_user_fk');
    t.text('config').notNullable().defaultTo('').comment('YAML as the admin wrote it');
    t.text('database_engine').nullable().comment('"postgres" once its schema exists');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('instance');
}
