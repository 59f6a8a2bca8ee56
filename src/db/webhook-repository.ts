import type { Knex } from 'knex';
import type { DbWebhookHookRow } from './tables';

/** The secret hook id of an inbound webhook connection. */
export interface WebhookHook {
  hookId: string;
  connectionId: string;
  expiryNoticeSent: boolean;
}

const toHook = (row: DbWebhookHookRow): WebhookHook => ({
  hookId: row.hook_id,
  connectionId: row.connection_id,
  expiryNoticeSent: row.expiry_notice_sent,
});

export async function insertWebhookHook(
  db: Knex | Knex.Transaction,
  values: { hookId: string; connectionId: string; expiryNoticeSent?: boolean },
): Promise<void> {
  await db('webhook_hook').insert({
    hook_id: values.hookId,
    connection_id: values.connectionId,
    expiry_notice_sent: values.expiryNoticeSent ?? false,
  } satisfies DbWebhookHookRow);
}

export async function findWebhookHook(
  db: Knex | Knex.Transaction,
  hookId: string,
): Promise<WebhookHook | null> {
  const row = await db('webhook_hook')
    .select<DbWebhookHookRow[]>('*')
    .where({ hook_id: hookId })
    .first();
  return row ? toHook(row) : null;
}

export async function findWebhookHookOfConnection(
  db: Knex | Knex.Transaction,
  connectionId: string,
): Promise<WebhookHook | null> {
  const row = await db('webhook_hook')
    .select<DbWebhookHookRow[]>('*')
    .where({ connection_id: connectionId })
    .first();
  return row ? toHook(row) : null;
}

export async function listWebhookHooks(db: Knex | Knex.Transaction): Promise<WebhookHook[]> {
  const rows = await db('webhook_hook').select<DbWebhookHookRow[]>('*').orderBy('hook_id');
  return rows.map(toHook);
}

/** Records that the expiry notice of that hook went out (true) or is due again (false). */
export async function setWebhookExpiryNoticeSent(
  db: Knex | Knex.Transaction,
  hookId: string,
  sent = true,
): Promise<void> {
  await db('webhook_hook').where({ hook_id: hookId }).update({ expiry_notice_sent: sent });
}

/** Points a connection's hook at its new connection id; the hook id, or null when none. */
export async function moveWebhookHook(
  db: Knex | Knex.Transaction,
  fromConnectionId: string,
  toConnectionId: string,
): Promise<string | null> {
  const rows = await db('webhook_hook')
    .where({ connection_id: fromConnectionId })
    .update({ connection_id: toConnectionId })
    .returning<Pick<DbWebhookHookRow, 'hook_id'>[]>('hook_id');
  return rows[0]?.hook_id ?? null;
}
