import type { Knex } from 'knex';

const WEBHOOK_EVENT_TYPE = 'uk.half-shot.matrix-hookshot.generic.hook';

/**
 * Earlier updates of an inbound webhook copied its secret hook id into the connection's config,
 * which every member of the room may list. The id lives in webhook_hook only.
 */
export async function up(knex: Knex): Promise<void> {
  await knex('connection')
    .where({ event_type: WEBHOOK_EVENT_TYPE })
    .whereRaw("config \\? 'hookId'")
    .update({ config: knex.raw("config - 'hookId'"), updated_at: knex.fn.now() });
}

/** Nothing to undo: the hook ids are still in webhook_hook. */
export async function down(): Promise<void> {}
