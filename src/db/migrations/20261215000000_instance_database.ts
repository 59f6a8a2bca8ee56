import type { Knex } from 'knex';
import { adoptLegacyInstanceDatabases, quoteIdent } from '../instance-database';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('instance_database', (t) => {
    t.comment('The database of each instance: a schema, and the role that owns it and logs in');
    t.bigIncrements('id').comment('names the role and schema: sbi_<database oid>_<id>');
    t.text('instance_id')
      .notNullable()
      .unique({ indexName: 'instance_database_instance' })
      .references('id')
      .inTable('instance')
      .onUpdate('CASCADE')
      .onDelete('RESTRICT')
      .withKeyName('instance_database_instance_fk');
    t.text('schema_name').notNullable().unique({ indexName: 'instance_database_schema' });
    t.text('role_name').notNullable().unique({ indexName: 'instance_database_role' });
    // The role's password, AES-256-GCM sealed; null until the role may log in.
    t.text('password_ciphertext').nullable();
    t.text('password_key_id').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.transaction((trx) => adoptLegacyInstanceDatabases(trx));
}

/** Back to `mbp_<id>` schemas owned by roles of that name, without login. */
export async function down(knex: Knex): Promise<void> {
  const rows = await knex('instance_database').select<
    { instance_id: string; schema_name: string; role_name: string }[]
  >('instance_id', 'schema_name', 'role_name');
  for (const row of rows) {
    const legacy = quoteIdent(`mbp_${row.instance_id.replace(/"/g, '_')}`);
    await knex.raw(`ALTER SCHEMA ${quoteIdent(row.schema_name)} RENAME TO ${legacy}`);
    await knex.raw(`ALTER ROLE ${quoteIdent(row.role_name)} RENAME TO ${legacy}`);
    await knex.raw(`ALTER ROLE ${legacy} NOLOGIN PASSWORD NULL`);
  }
  await knex.schema.dropTable('instance_database');
}
