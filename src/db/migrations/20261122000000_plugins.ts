import type { Knex } from 'knex';

// Plugin archives live in the database so that any replica can load them.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('plugin_archive', (t) => {
    t.comment('Uploaded .mbp archives; a plugin row points at its current one');
    t.bigIncrements('id').primary();
    t.text('plugin_id').notNullable().comment('id from maubot.yaml at upload time');
    t.text('sha256').notNullable();
    t.bigInteger('size').notNullable();
    t.binary('data').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // Archives are zip files, already compressed: storing them out of line without another
  // compression pass saves the time of a pointless attempt.
  await knex.raw('ALTER TABLE plugin_archive ALTER COLUMN data SET STORAGE EXTERNAL');
  await knex.schema.createTable('plugin', (t) => {
    t.comment('Plugins known to the management API (one per maubot.yaml id)');
    t.text('id').primary();
    t.text('version').notNullable().comment('PEP 440 normalised');
    t.text('loader').notNullable().comment('javascript or python');
    t.jsonb('meta').notNullable().comment('maubot.yaml with defaults applied, unknown keys kept');
    t.bigInteger('archive_id')
      .notNullable()
      .references('id')
      .inTable('plugin_archive')
      .onDelete('RESTRICT')
      .withKeyName('plugin_archive_id_fk');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('plugin');
  await knex.schema.dropTable('plugin_archive');
}
