import type { Knex } from 'knex';
import { WEBHOOK, type StoredConnection } from '../../src/bridge/connection-types';
import { saveConnection } from '../../src/db/connection-repository';

export const SEED_ROOM = '!room:switchboard.test';
export const SEED_USER = '@alice:switchboard.test';

/**
 * Stores a connection row the way the connection service does (through its repository) and
 * answers it as services see it. A webhook in SEED_ROOM by SEED_USER unless told otherwise.
 */
export async function seedConnection(
  db: Knex,
  fields: Pick<StoredConnection, 'id' | 'stateKey'> & Partial<StoredConnection>,
): Promise<StoredConnection> {
  const connection: StoredConnection = {
    roomId: SEED_ROOM,
    eventType: WEBHOOK.eventType,
    type: WEBHOOK.type,
    service: WEBHOOK.service,
    config: {},
    secrets: null,
    createdBy: SEED_USER,
    ...fields,
  };
  await saveConnection(db, { ...connection, secrets: null });
  return connection;
}
