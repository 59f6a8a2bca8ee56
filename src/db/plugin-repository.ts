import { openAsBlob } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Knex } from 'knex';
import type { PluginLoader, PluginMeta } from '../plugins/plugin-archive';
import { embeddedEngine } from './database';
import type { DbPluginRow } from './tables';

/** A stored plugin as the rest of Switchboard sees it (the archive bytes stay in the database). */
export interface StoredPlugin {
  id: string;
  version: string;
  loader: PluginLoader;
  meta: PluginMeta;
  archiveId: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewArchive {
  pluginId: string;
  sha256: string;
  /** The archive file (spooled upload). */
  file: { path: string; size: number };
}

export interface PluginValues {
  id: string;
  version: string;
  loader: PluginLoader;
  meta: PluginMeta;
  archiveId: number;
}

function toPlugin(row: DbPluginRow): StoredPlugin {
  return {
    id: row.id,
    version: row.version,
    loader: row.loader as PluginLoader,
    meta: row.meta as PluginMeta,
    archiveId: Number(row.archive_id),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const PLUGIN_COLUMNS = [
  'id',
  'version',
  'loader',
  'meta',
  'archive_id',
  'created_at',
  'updated_at',
];

/** Plugins in upload order, as maubot lists them. */
export async function listPlugins(db: Knex): Promise<StoredPlugin[]> {
  const rows = await db('plugin')
    .select<DbPluginRow[]>(PLUGIN_COLUMNS)
    .orderBy([
      { column: 'created_at', order: 'asc' },
      { column: 'id', order: 'asc' },
    ]);
  return rows.map(toPlugin);
}

export async function findPlugin(db: Knex, id: string): Promise<StoredPlugin | null> {
  const row = await db('plugin')
    .select<DbPluginRow[]>(PLUGIN_COLUMNS)
    .where({ id })
    .first<DbPluginRow | undefined>();
  return row ? toPlugin(row) : null;
}

/**
 * Serialises writers of one plugin id until the transaction ends, so concurrent uploads of the
 * same id take turns instead of racing to insert.
 */
export async function lockPluginId(trx: Knex.Transaction, id: string): Promise<void> {
  await trx.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`plugin:${id}`]);
}

export async function insertArchive(db: Knex, archive: NewArchive): Promise<number> {
  const engine = await embeddedEngine(db);
  if (engine) {
    // A bytea parameter reaches the embedded engine as text and costs it seconds per 10 MB;
    // its /dev/blob device takes a file-backed blob as it is.
    const { rows } = await engine.query<{ id: string | number }>(
      `insert into plugin_archive (plugin_id, sha256, size, data)
       values ($1, $2, $3, pg_read_binary_file('/dev/blob')) returning id`,
      [archive.pluginId, archive.sha256, archive.file.size],
      { blob: await openAsBlob(archive.file.path) },
    );
    return Number(rows[0]!.id);
  }
  const [row] = await db('plugin_archive')
    .insert({
      plugin_id: archive.pluginId,
      sha256: archive.sha256,
      size: archive.file.size,
      data: await readFile(archive.file.path),
    })
    .returning<{ id: string | number }[]>('id');
  return Number(row!.id);
}

export async function readArchive(db: Knex, archiveId: number): Promise<Buffer | null> {
  const engine = await embeddedEngine(db);
  if (engine) {
    // Selecting a large bytea from the embedded engine goes through text (about a second per
    // 10 MB); a binary COPY to its blob device does not. COPY takes no parameters, so the id is
    // written in, as the integer it is.
    if (!Number.isSafeInteger(archiveId)) throw new Error(`bad archive id ${archiveId}`);
    const { blob } = await engine.query(
      `copy (select data from plugin_archive where id = ${archiveId}) to '/dev/blob' with (format binary)`,
    );
    return blob ? singleBinaryCopyValue(Buffer.from(await blob.arrayBuffer())) : null;
  }
  const row = await db('plugin_archive')
    .select<{ data: Uint8Array }>('data')
    .where({ id: archiveId })
    .first();
  return row ? Buffer.from(row.data) : null;
}

const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * The value of the first column of the first row of PostgreSQL's binary COPY format, or null
 * when there is no row: signature, flags, header extension, then per row a field count and
 * length-prefixed fields.
 */
export function singleBinaryCopyValue(copy: Buffer): Buffer | null {
  if (copy.length < 21 || !copy.subarray(0, 11).equals(COPY_SIGNATURE)) {
    throw new Error('not PostgreSQL binary COPY data');
  }
  const rowStart = 19 + copy.readInt32BE(15);
  const fieldCount = copy.readInt16BE(rowStart);
  if (fieldCount === -1) return null;
  const length = copy.readInt32BE(rowStart + 2);
  if (length < 0) return null;
  return copy.subarray(rowStart + 6, rowStart + 6 + length);
}

/** Removes archives no plugin points at (left by a process killed mid-upload); their count. */
export async function deleteUnusedArchives(db: Knex): Promise<number> {
  return db('plugin_archive').whereNotIn('id', db('plugin').select('archive_id')).delete();
}

export async function deleteArchive(db: Knex, archiveId: number): Promise<void> {
  await db('plugin_archive').where({ id: archiveId }).delete();
}

function rowValues(values: PluginValues) {
  return {
    version: values.version,
    loader: values.loader,
    meta: JSON.stringify(values.meta),
    archive_id: values.archiveId,
  };
}

export async function insertPlugin(db: Knex, values: PluginValues): Promise<void> {
  await db('plugin').insert({ id: values.id, ...rowValues(values) });
}

export async function updatePlugin(db: Knex, values: PluginValues): Promise<void> {
  await db('plugin')
    .where({ id: values.id })
    .update({ ...rowValues(values), updated_at: db.fn.now() });
}

/** Deletes the plugin row and its archive; false when there was none. */
export async function deletePlugin(db: Knex, id: string): Promise<boolean> {
  const [row] = await db('plugin')
    .where({ id })
    .delete()
    .returning<{ archive_id: string | number }[]>('archive_id');
  if (!row) return false;
  await deleteArchive(db, Number(row.archive_id));
  return true;
}
