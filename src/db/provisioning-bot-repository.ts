import type { Knex } from 'knex';
import type { SealedSecret } from '../secrets/secret-box';
import type { DbProvisioningBotRow } from './tables';

export interface ProvisioningBotSession {
  userId: string;
  homeserver: string;
  /** A token from a password login; null when the config gives one. */
  accessToken: SealedSecret | null;
  deviceId: string;
  nextBatch: string;
  filterId: string;
}

export async function findBotSession(
  db: Knex,
  userId: string,
): Promise<ProvisioningBotSession | null> {
  const row = await db('provisioning_bot')
    .select<DbProvisioningBotRow[]>('*')
    .where({ user_id: userId })
    .first();
  if (!row) return null;
  return {
    userId: row.user_id,
    homeserver: row.homeserver,
    accessToken:
      row.access_token_ciphertext !== null && row.access_token_key_id !== null
        ? { ciphertext: row.access_token_ciphertext, keyId: row.access_token_key_id }
        : null,
    deviceId: row.device_id,
    nextBatch: row.next_batch,
    filterId: row.filter_id,
  };
}

/** Stores the session; a new homeserver or token starts the sync position anew. */
export async function saveBotSession(db: Knex, session: ProvisioningBotSession): Promise<void> {
  const row: DbProvisioningBotRow = {
    user_id: session.userId,
    homeserver: session.homeserver,
    access_token_ciphertext: session.accessToken?.ciphertext ?? null,
    access_token_key_id: session.accessToken?.keyId ?? null,
    device_id: session.deviceId,
    next_batch: session.nextBatch,
    filter_id: session.filterId,
  };
  await db('provisioning_bot').insert(row).onConflict('user_id').merge();
}

export async function saveBotSyncPosition(
  db: Knex,
  userId: string,
  position: { nextBatch?: string; filterId?: string },
): Promise<void> {
  const patch: Partial<DbProvisioningBotRow> = {};
  if (position.nextBatch !== undefined) patch.next_batch = position.nextBatch;
  if (position.filterId !== undefined) patch.filter_id = position.filterId;
  if (Object.keys(patch).length > 0) {
    await db('provisioning_bot').where({ user_id: userId }).update(patch);
  }
}
