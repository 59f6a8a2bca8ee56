import type { Knex } from 'knex';
import type { SealedSecret } from '../secrets/secret-box';
import type { DbConnectionRow } from './tables';

/** A stored connection; its side secrets stay sealed. */
export interface ConnectionRecord {
  id: string;
  roomId: string;
  eventType: string;
  stateKey: string;
  type: string;
  service: string;
  config: Record<string, unknown>;
  secrets: SealedSecret | null;
  createdBy: string;
}

function toRecord(row: DbConnectionRow): ConnectionRecord {
  return {
    id: row.id,
    roomId: row.room_id,
    eventType: row.event_type,
    stateKey: row.state_key,
    type: row.type,
    service: row.service,
    config: row.config,
    secrets:
      row.secret_ciphertext !== null && row.secret_key_id !== null
        ? { ciphertext: row.secret_ciphertext, keyId: row.secret_key_id }
        : null,
    createdBy: row.created_by,
  };
}

/** Every connection, oldest first. */
export async function listConnections(db: Knex): Promise<ConnectionRecord[]> {
  const rows = await db('connection')
    .select<DbConnectionRow[]>('*')
    .orderBy([
      { column: 'created_at', order: 'asc' },
      { column: 'id', order: 'asc' },
    ]);
  return rows.map(toRecord);
}

/** Inserts the connection, or replaces the config and secrets of the one with its id. */
export async function saveConnection(db: Knex, record: ConnectionRecord): Promise<void> {
  const now = new Date();
  await db('connection')
    .insert({
      id: record.id,
      room_id: record.roomId,
      event_type: record.eventType,
      state_key: record.stateKey,
      type: record.type,
      service: record.service,
      // jsonb through knex needs the text form: arrays would otherwise become Postgres arrays.
      config: JSON.stringify(record.config),
      secret_ciphertext: record.secrets?.ciphertext ?? null,
      secret_key_id: record.secrets?.keyId ?? null,
      created_by: record.createdBy,
      created_at: now,
      updated_at: now,
    })
    .onConflict('id')
    .merge(['config', 'secret_ciphertext', 'secret_key_id', 'updated_at']);
}

export async function deleteConnection(db: Knex, id: string): Promise<boolean> {
  return (await db('connection').where({ id }).delete()) > 0;
}
