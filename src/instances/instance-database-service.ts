import type { Knex } from 'knex';
import type { components } from '../../generated/maubot';
import { InstanceQueryError } from '../db/instance-connections';
import { InstanceDatabaseUnsafeError, tableSelect, type ColumnInfo } from '../db/instance-database';
import { findInstance } from '../db/instance-repository';
import { findPlugin } from '../db/plugin-repository';
import { InstanceNotFoundError } from './instance-errors';
import type { InstanceDatabases } from './instance-databases';

type QueryResult = components['schemas']['QueryResult'];

/** maubot answers these with HTTP 200 and an error body; the UI relies on it. */
export class SoftDatabaseError extends Error {
  override name = 'SoftDatabaseError';
  constructor(readonly errcode: 'plugin_has_no_database' | 'table_not_found') {
    super(errcode);
  }
}

export class QueryMissingError extends Error {
  override name = 'QueryMissingError';
}

/** A statement the database (or the instance's confinement) refused. */
export class SqlError extends Error {
  override name = 'SqlError';
  constructor(
    message: string,
    readonly query: string,
  ) {
    super(message);
  }
}

/**
 * The admin's view into an instance's own database (maubot's database explorer). Statements
 * run as the instance's role under the same limits as the plugin's own (InstanceDatabases).
 */
export class InstanceDatabaseService {
  constructor(
    private readonly db: Knex,
    private readonly databases: InstanceDatabases,
  ) {}

  async tables(rawId: string): Promise<Record<string, { columns: Record<string, ColumnInfo> }>> {
    return this.databases.tables(await this.databaseOf(rawId));
  }

  /** Rows of one table, sorted by `column:asc|desc` keys (unknown columns dropped). */
  async table(rawId: string, table: string, order: string[], limit: number): Promise<QueryResult> {
    const id = await this.databaseOf(rawId);
    const columns = (await this.databases.tables(id))[table]?.columns;
    if (!columns) throw new SoftDatabaseError('table_not_found');
    const sql = tableSelect(
      table,
      order.flatMap((key) => {
        const [column = '', direction = 'asc'] = key.split(':');
        if (!(column in columns)) return [];
        return [{ column, descending: direction.toLowerCase() === 'desc' }];
      }),
      limit,
    );
    return this.run(id, sql, false);
  }

  async query(rawId: string, query: string | undefined, rowsAsDict: boolean): Promise<QueryResult> {
    const id = await this.databaseOf(rawId);
    if (query === undefined || query === '') throw new QueryMissingError();
    return this.run(id, query, rowsAsDict);
  }

  private async run(id: string, query: string, rowsAsDict: boolean): Promise<QueryResult> {
    let result;
    try {
      result = await this.databases.query(id, query);
    } catch (err) {
      // A database that does not confine its instances is refused like a statement: the admin
      // sees why in the explorer.
      if (!(err instanceof InstanceQueryError || err instanceof InstanceDatabaseUnsafeError)) {
        throw err;
      }
      throw new SqlError(err.message, query);
    }
    // maubot decides by the statement's first word, as here.
    if (!query.toUpperCase().startsWith('SELECT')) {
      return { ok: true, query, status_msg: result.statusMessage };
    }
    const rows = rowsAsDict
      ? result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, row[i]])))
      : result.rows;
    return {
      ok: true,
      query,
      rows,
      ...(result.rows.length > 0 ? { columns: result.columns } : {}),
    };
  }

  /** The instance's id when it has a database that exists; maubot's soft error otherwise. */
  private async databaseOf(rawId: string): Promise<string> {
    const instance = await findInstance(this.db, rawId.toLowerCase());
    if (!instance) throw new InstanceNotFoundError(rawId);
    const plugin = await findPlugin(this.db, instance.type);
    if (!plugin?.meta.database || instance.databaseEngine === null) {
      throw new SoftDatabaseError('plugin_has_no_database');
    }
    return instance.id;
  }
}
