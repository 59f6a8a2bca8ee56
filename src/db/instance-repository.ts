import type { Knex } from 'knex';
import type { DbInstanceRow } from './tables';

export interface StoredInstance {
  id: string;
  type: string;
  enabled: boolean;
  primaryUser: string;
  config: string;
  databaseEngine: string | null;
}

function toInstance(row: DbInstanceRow): StoredInstance {
  return {
    id: row.id,
    type: row.type,
    enabled: row.enabled,
    primaryUser: row.primary_user,
    config: row.config,
    databaseEngine: row.database_engine,
  };
}

function toRow(instance: StoredInstance): Omit<DbInstanceRow, 'created_at'> {
  return {
    id: instance.id,
    type: instance.type,
    enabled: instance.enabled,
    primary_user: instance.primaryUser,
    config: instance.config,
    database_engine: instance.databaseEngine,
  };
}

const ORDER = [
  { column: 'created_at', order: 'asc' as const },
  { column: 'id', order: 'asc' as const },
];

export async function listInstances(
  db: Knex,
  where: Partial<Pick<DbInstanceRow, 'type' | 'primary_user'>> = {},
): Promise<StoredInstance[]> {
  const rows = await db('instance').select<DbInstanceRow[]>('*').where(where).orderBy(ORDER);
  return rows.map(toInstance);
}

/** Instances of any of these plugins or clients (one query for a whole list). */
export async function instancesOf(
  db: Knex,
  column: 'type' | 'primary_user',
  values: readonly string[],
): Promise<StoredInstance[]> {
  if (values.length === 0) return [];
  const rows = await db('instance')
    .select<DbInstanceRow[]>('*')
    .whereIn(column, values)
    .orderBy(ORDER);
  return rows.map(toInstance);
}

export async function findInstance(db: Knex, id: string): Promise<StoredInstance | null> {
  const row = await db('instance').select<DbInstanceRow[]>('*').where({ id }).first();
  return row ? toInstance(row) : null;
}

/** False when an instance with that id exists already. */
export async function insertInstance(db: Knex, instance: StoredInstance): Promise<boolean> {
  const inserted = await db('instance')
    .insert(toRow(instance))
    .onConflict('id')
    .ignore()
    .returning('id');
  return inserted.length === 1;
}

/** Writes every field; `previousId` renames. */
export async function updateInstance(
  db: Knex,
  instance: StoredInstance,
  previousId = instance.id,
): Promise<void> {
  await db('instance').where({ id: previousId }).update(toRow(instance));
}

export async function deleteInstance(db: Knex, id: string): Promise<void> {
  await db('instance').where({ id }).delete();
}

export async function setInstanceEnabled(db: Knex, id: string, enabled: boolean): Promise<void> {
  await db('instance').where({ id }).update({ enabled });
}
