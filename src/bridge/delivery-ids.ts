import type { Knex } from 'knex';
import { deleteDeliveriesBefore, recordDelivery } from '../db/webhook-delivery-repository';

/** How long a delivery id is remembered: GitHub offers redeliveries for 3 days. */
export const DELIVERY_RETENTION_MS = 7 * 24 * 3_600_000;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * The delivery ids one service's webhooks have already handled, so a redelivery is ignored.
 * Ids older than the retention are forgotten, at most once an hour, so the table stays small.
 */
export class DeliveryIds {
  private prunedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly db: Knex,
    private readonly service: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records the id; false when it was recorded before. */
  async firstTime(deliveryId: string): Promise<boolean> {
    const now = this.now();
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = now;
      await deleteDeliveriesBefore(this.db, new Date(now - DELIVERY_RETENTION_MS));
    }
    return recordDelivery(this.db, this.service, deliveryId, new Date(now));
  }
}
