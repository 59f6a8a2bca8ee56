import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('connection', (t) => {
    t.comment('Bridge connections in rooms (the store of record; the room state mirrors them)');
    t.text('id').primary().comment('hex MD5 of roomId/eventType/stateKey');
    t.text('room_id').notNullable();
    t.text('event_type').notNullable().comment('canonical state event type');
    t.text('state_key').notNullable();
    t.text('type').notNullable().comment('connection type name, e.g. Webhook');
    t.text('service').notNullable().comment('permission service category');
    t.jsonb('config').notNullable().comment('the state event content');
    // Per-type secrets (an outbound hook token): AES-256-GCM sealed JSON, null when none.
    t.text('secret_ciphertext').nullable();
    t.text('secret_key_id').nullable();
    t.text('created_by').notNullable().comment('user the connection was provisioned for');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['room_id', 'event_type', 'state_key'], { indexName: 'connection_room_type_key' });
    t.index(['room_id'], 'connection_room');
  });

  await knex.schema.createTable('webhook_hook', (t) => {
    t.comment('Secret ids of inbound webhook URLs; kept out of room state');
    t.text('hook_id').primary();
    t.text('connection_id')
      .notNullable()
      .unique({ indexName: 'webhook_hook_connection' })
      .references('id')
      .inTable('connection')
      .onDelete('CASCADE');
    t.boolean('expiry_notice_sent').notNullable().defaultTo(false);
  });

  await knex.schema.createTable('feed_state', (t) => {
    t.comment('One row per polled feed URL, however many rooms use it');
    t.text('url').primary();
    t.text('etag').nullable();
    t.text('last_modified').nullable();
    t.boolean('initialised').notNullable().defaultTo(false).comment('first fetch done');
    t.integer('failures').notNullable().defaultTo(0).comment('consecutive failed fetches');
    t.jsonb('last_results').notNullable().defaultTo('[]').comment('recent {timestamp, ok, error}');
    t.timestamp('next_poll_at', { useTz: true }).nullable();
  });

  await knex.schema.createTable('feed_item_seen', (t) => {
    t.comment('Feed items already posted (or present at the first fetch)');
    t.text('url').notNullable();
    t.text('item_id').notNullable().comment('hex MD5 of the item guid/id/link');
    t.timestamp('seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['url', 'item_id']);
  });

  await knex.schema.createTable('oauth_state', (t) => {
    t.comment('Pending OAuth logins (state parameter -> user), valid 30 minutes');
    t.text('state').primary();
    t.text('service').notNullable().comment('github or jira');
    t.text('user_id').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
  });

  await knex.schema.createTable('user_token', (t) => {
    t.comment('GitHub and JIRA OAuth tokens of users, sealed with AES-256-GCM');
    t.text('service').notNullable();
    t.text('user_id').notNullable();
    t.text('ciphertext').notNullable().comment('sealed JSON of the token set');
    t.text('key_id').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['service', 'user_id']);
  });

  await knex.schema.createTable('webhook_delivery', (t) => {
    t.comment('Delivery ids of GitHub/JIRA webhooks already handled (de-duplication)');
    t.text('service').notNullable();
    t.text('delivery_id').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['service', 'delivery_id']);
  });

  await knex.schema.createTable('provisioning_bot', (t) => {
    t.comment('Session of the provisioning bot: token from a password login, sync position');
    t.text('user_id').primary();
    t.text('homeserver').notNullable();
    t.text('access_token_ciphertext').nullable().comment('null when the config gives the token');
    t.text('access_token_key_id').nullable();
    t.text('device_id').notNullable().defaultTo('');
    t.text('next_batch').notNullable().defaultTo('');
    t.text('filter_id').notNullable().defaultTo('');
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'provisioning_bot',
    'webhook_delivery',
    'user_token',
    'oauth_state',
    'feed_item_seen',
    'feed_state',
    'webhook_hook',
    'connection',
  ]) {
    await knex.schema.dropTable(table);
  }
}
