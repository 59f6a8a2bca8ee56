import type { Knex } from 'knex';
import type { SealedSecret } from '../secrets/secret-box';
import type { DbOauthStateRow, DbUserTokenRow } from './tables';

export async function insertOauthState(
  db: Knex,
  values: { state: string; service: string; userId: string; expiresAt: Date },
): Promise<void> {
  await db('oauth_state').insert({
    state: values.state,
    service: values.service,
    user_id: values.userId,
    expires_at: values.expiresAt,
  } satisfies DbOauthStateRow);
}

/** The user of an unexpired state of that service, or null. */
export async function findOauthState(
  db: Knex,
  service: string,
  state: string,
  now: Date,
): Promise<string | null> {
  const row = await db('oauth_state')
    .select<DbOauthStateRow[]>('*')
    .where({ service, state })
    .andWhere('expires_at', '>', now)
    .first();
  return row?.user_id ?? null;
}

export async function deleteOauthState(db: Knex, state: string): Promise<void> {
  await db('oauth_state').where({ state }).delete();
}

export async function deleteExpiredOauthStates(db: Knex, now: Date): Promise<number> {
  return db('oauth_state').where('expires_at', '<=', now).delete();
}

export async function saveUserToken(
  db: Knex,
  service: string,
  userId: string,
  token: SealedSecret,
): Promise<void> {
  const row: DbUserTokenRow = {
    service,
    user_id: userId,
    ciphertext: token.ciphertext,
    key_id: token.keyId,
    updated_at: new Date(),
  };
  await db('user_token').insert(row).onConflict(['service', 'user_id']).merge();
}

export async function findUserToken(
  db: Knex,
  service: string,
  userId: string,
): Promise<SealedSecret | null> {
  const row = await db('user_token')
    .select<DbUserTokenRow[]>('*')
    .where({ service, user_id: userId })
    .first();
  return row ? { keyId: row.key_id, ciphertext: row.ciphertext } : null;
}

export async function deleteUserToken(db: Knex, service: string, userId: string): Promise<void> {
  await db('user_token').where({ service, user_id: userId }).delete();
}
