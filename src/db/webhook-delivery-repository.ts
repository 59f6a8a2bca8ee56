import type { Knex } from 'knex';

/** Records a webhook delivery id; false when it was recorded before (a redelivery). */
export async function recordDelivery(
  db: Knex,
  service: string,
  deliveryId: string,
  receivedAt: Date,
): Promise<boolean> {
  const inserted = await db('webhook_delivery')
    .insert({ service, delivery_id: deliveryId, received_at: receivedAt })
    .onConflict(['service', 'delivery_id'])
    .ignore()
    .returning('delivery_id');
  return inserted.length === 1;
}

/** Forgets delivery ids older than `before`. */
export async function deleteDeliveriesBefore(db: Knex, before: Date): Promise<number> {
  return db('webhook_delivery').where('received_at', '<', before).delete();
}
