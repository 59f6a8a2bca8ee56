import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Knex } from 'knex';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { DbPluginRow } from './tables';

/** How a plugin's modules are run. */
export type PluginLoader = 'javascript' | 'python';

/** maubot.yaml with maubot's defaults applied; unknown keys kept. */
export interface PluginMeta {
  id: string;
  /** PEP 440, normalised. */
  version: string;
  modules: string[];
  main_class: string;
  /** Minimum maubot version, PEP 440 normalised. */
  maubot: string;
  database: boolean;
  database_type: string;
  config: boolean;
  webapp: boolean;
  license: string;
  extra_files: string[];
  dependencies: string[];
  soft_dependencies: string[];
  [key: string]: unknown;
}

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

/**
 * The pg connection behind a knex handle: a transaction's own (statements then run inside it),
 * or one from the pool for the duration of `work`.
 */
async function withConnection<T>(
  db: Knex,
  work: (connection: pg.Client) => Promise<T>,
): Promise<T> {
  const client = db.client as {
    acquireConnection(): Promise<pg.Client>;
    releaseConnection(connection: pg.Client): Promise<void>;
  };
  const connection = await client.acquireConnection();
  try {
    return await work(connection);
  } finally {
    await client.releaseConnection(connection);
  }
}

/** PostgreSQL's binary COPY format: the signature, no flags, no header extension. */
const COPY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
const COPY_TRAILER = Buffer.from([0xff, 0xff]);

function copyField(value: Buffer): Buffer[] {
  const length = Buffer.alloc(4);
  length.writeInt32BE(value.length);
  return [length, value];
}

function int8(value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64BE(BigInt(value));
  return bytes;
}

/**
 * Streams the archive file into the table with a binary COPY: megabytes of archive never sit in
 * memory whole (a bytea parameter would be copied twice more on its way to the server).
 */
export async function insertArchive(db: Knex, archive: NewArchive): Promise<number> {
  const [{ id }] = (
    await db.raw<{ rows: { id: string }[] }>(
      `select nextval(pg_get_serial_sequence('plugin_archive', 'id')) as id`,
    )
  ).rows as [{ id: string }];
  const row = Buffer.concat([
    COPY_HEADER,
    Buffer.from([0, 5]),
    ...copyField(int8(Number(id))),
    ...copyField(Buffer.from(archive.pluginId, 'utf8')),
    ...copyField(Buffer.from(archive.sha256, 'utf8')),
    ...copyField(int8(archive.file.size)),
  ]);
  const dataLength = Buffer.alloc(4);
  dataLength.writeInt32BE(archive.file.size);
  async function* content() {
    yield Buffer.concat([row, dataLength]);
    let sent = 0;
    for await (const chunk of createReadStream(archive.file.path)) {
      sent += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
    if (sent !== archive.file.size) {
      throw new Error(`archive file is ${sent} bytes, not ${archive.file.size}`);
    }
    yield COPY_TRAILER;
  }
  await withConnection(db, (connection) =>
    pipeline(
      Readable.from(content()),
      connection.query(
        copyFrom(
          'COPY plugin_archive (id, plugin_id, sha256, size, data) FROM STDIN (FORMAT binary)',
        ),
      ),
    ),
  );
  return Number(id);
}

/**
 * The archive's bytes, through a binary COPY too: the bytes come as they are (a bytea column
 * would come as hex text twice their size), into one buffer of their size.
 */
export async function readArchive(db: Knex, archiveId: number): Promise<Buffer | null> {
  // COPY takes no parameters: the id is written in, as the integer it is.
  if (!Number.isSafeInteger(archiveId)) throw new Error(`bad archive id ${archiveId}`);
  return withConnection(db, async (connection) => {
    const stream = connection.query(
      copyTo(
        `COPY (SELECT data FROM plugin_archive WHERE id = ${archiveId}) TO STDOUT (FORMAT binary)`,
      ),
    );
    const reader = new SingleValueCopyReader();
    for await (const chunk of stream) reader.push(chunk as Buffer);
    return reader.value();
  });
}

/**
 * The value of the first column of the first row of a binary COPY stream (null when there is
 * no row or it is NULL), fed chunk by chunk: signature, flags, header extension, then per row a
 * field count and length-prefixed fields.
 */
export class SingleValueCopyReader {
  private head = Buffer.alloc(0);
  private data: Buffer | null | undefined;
  private filled = 0;

  push(chunk: Buffer): void {
    if (this.data === undefined) {
      this.head = Buffer.concat([this.head, chunk]);
      this.readHead();
    } else if (this.data && this.filled < this.data.length) {
      this.filled += chunk.copy(this.data, this.filled);
    }
  }

  private readHead(): void {
    const head = this.head;
    if (head.length < 19) return;
    if (!head.subarray(0, 11).equals(COPY_HEADER.subarray(0, 11))) {
      throw new Error('not PostgreSQL binary COPY data');
    }
    const rowStart = 19 + head.readInt32BE(15);
    if (head.length < rowStart + 2) return;
    if (head.readInt16BE(rowStart) === -1) {
      this.data = null;
      return;
    }
    if (head.length < rowStart + 6) return;
    const length = head.readInt32BE(rowStart + 2);
    if (length < 0) {
      this.data = null;
      return;
    }
    this.data = Buffer.allocUnsafe(length);
    this.filled = head.copy(this.data, 0, rowStart + 6, rowStart + 6 + length);
    this.head = Buffer.alloc(0);
  }

  value(): Buffer | null {
    if (this.data === undefined) throw new Error('incomplete binary COPY data');
    if (this.data && this.filled < this.data.length) throw new Error('truncated binary COPY data');
    return this.data;
  }
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
