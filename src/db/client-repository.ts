import type { Knex } from 'knex';
import type { SealedSecret } from '../secrets/secret-box';
import type { DbClientRow } from './tables';

/** A stored client as the rest of Switchboard sees it; the token stays sealed. */
export interface StoredClient {
  id: string;
  homeserver: string;
  accessToken: SealedSecret;
  deviceId: string;
  enabled: boolean;
  sync: boolean;
  autojoin: boolean;
  online: boolean;
  displayname: string;
  avatarUrl: string;
  nextBatch: string;
  filterId: string;
}

export type ClientValues = Omit<StoredClient, 'nextBatch' | 'filterId'>;

function toClient(row: DbClientRow): StoredClient {
  return {
    id: row.id,
    homeserver: row.homeserver,
    accessToken: { keyId: row.access_token_key_id, ciphertext: row.access_token_ciphertext },
    deviceId: row.device_id,
    enabled: row.enabled,
    sync: row.sync,
    autojoin: row.autojoin,
    online: row.online,
    displayname: row.displayname,
    avatarUrl: row.avatar_url,
    nextBatch: row.next_batch,
    filterId: row.filter_id,
  };
}

function toRow(values: ClientValues): Omit<DbClientRow, 'next_batch' | 'filter_id' | 'created_at'> {
  return {
    id: values.id,
    homeserver: values.homeserver,
    access_token_ciphertext: values.accessToken.ciphertext,
    access_token_key_id: values.accessToken.keyId,
    device_id: values.deviceId,
    enabled: values.enabled,
    sync: values.sync,
    autojoin: values.autojoin,
    online: values.online,
    displayname: values.displayname,
    avatar_url: values.avatarUrl,
    updated_at: new Date(),
  };
}

/** Clients in creation order. */
export async function listClients(db: Knex): Promise<StoredClient[]> {
  const rows = await db('client')
    .select<DbClientRow[]>('*')
    .orderBy([
      { column: 'created_at', order: 'asc' },
      { column: 'id', order: 'asc' },
    ]);
  return rows.map(toClient);
}

export async function findClient(db: Knex, id: string): Promise<StoredClient | null> {
  const row = await db('client').select<DbClientRow[]>('*').where({ id }).first();
  return row ? toClient(row) : null;
}

/** Inserts a client; false when one with that id already exists. */
export async function insertClient(db: Knex, values: ClientValues): Promise<boolean> {
  const inserted = await db('client')
    .insert({ ...toRow(values), next_batch: '', filter_id: '' })
    .onConflict('id')
    .ignore()
    .returning('id');
  return inserted.length === 1;
}

/** Writes the client's settings; the sync position is left as it is. */
export async function updateClient(db: Knex, values: ClientValues): Promise<void> {
  await db('client').where({ id: values.id }).update(toRow(values));
}

export async function deleteClient(db: Knex, id: string): Promise<boolean> {
  return (await db('client').where({ id }).delete()) > 0;
}

export async function setClientEnabled(db: Knex, id: string, enabled: boolean): Promise<void> {
  await db('client').where({ id }).update({ enabled, updated_at: new Date() });
}

/** The sync position: where /sync resumes and which filter it uses ("" = none). */
export async function saveSyncPosition(
  db: Knex,
  id: string,
  position: { nextBatch?: string; filterId?: string },
): Promise<void> {
  const patch: Partial<DbClientRow> = {};
  if (position.nextBatch !== undefined) patch.next_batch = position.nextBatch;
  if (position.filterId !== undefined) patch.filter_id = position.filterId;
  if (Object.keys(patch).length > 0) await db('client').where({ id }).update(patch);
}

/** Clients whose token was sealed with another key than `keyId`. */
export async function clientsSealedWithOtherKeys(db: Knex, keyId: string): Promise<StoredClient[]> {
  const rows = await db('client').select<DbClientRow[]>('*').whereNot('access_token_key_id', keyId);
  return rows.map(toClient);
}

export async function replaceClientToken(db: Knex, id: string, token: SealedSecret): Promise<void> {
  await db('client')
    .where({ id })
    .update({ access_token_ciphertext: token.ciphertext, access_token_key_id: token.keyId });
}
