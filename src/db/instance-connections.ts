import { createConnection, type Socket } from 'node:net';
import type { Knex } from 'knex';
import pg from 'pg';
import type { ConnectionParams } from './connection-params';
import { endInstanceSessions, quoteIdent } from './instance-database';
import { InstanceSessions, NoSessionError, type InstanceSession } from './instance-sessions';

export interface InstanceQueryLimits {
  /** Longest a statement runs; Switchboard sets it for every call, the role cannot lift it. */
  statementTimeoutMs: number;
  /** Most rows a result may have; a statement with more is rolled back and fails. */
  maxRows: number;
  /** Most bytes a result may take on the wire; beyond, the connection is closed. */
  maxResultBytes: number;
  /** Sessions one instance may have open at a time. */
  connectionsPerInstance: number;
  /** Sessions all instances together may have open at a time. */
  maxConnections: number;
  /** An instance's session unused this long is closed. */
  idleMs: number;
  /**
   * When Switchboard cancels a statement still running itself, should the server not have;
   * default: a second after the statement timeout.
   */
  cancelAfterMs?: number;
}

/** Whose statement runs where: the instance's role, in its schema. */
export interface InstanceLogin {
  role: string;
  schema: string;
}

export interface InstanceQueryResult {
  columns: string[];
  rows: unknown[][];
  /** Rows the statement returned or changed; null when its command counts none. */
  rowCount: number | null;
  /** PostgreSQL's command tag, e.g. "INSERT 0 1" ("" for an empty statement). */
  statusMessage: string;
}

export type InstanceQueryFailure =
  /** PostgreSQL refused or failed the statement. */
  | 'statement'
  | 'timeout'
  | 'rows'
  | 'size'
  /** Every connection is in use until the call's time was up. */
  | 'busy'
  /** The role's login was refused (its password changed, or its sessions are used up). */
  | 'login';

export class InstanceQueryError extends Error {
  override name = 'InstanceQueryError';
  constructor(
    message: string,
    readonly reason: InstanceQueryFailure,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** After the statement timeout, how long before Switchboard cancels the statement itself. */
const CANCEL_GRACE_MS = 1_000;
/** After that cancel, how long before the session is closed and ended. */
const END_GRACE_MS = 2_000;
/** How often a server (14 and later) checks, while a statement runs, that its client is there. */
const CLIENT_CHECK_MS = 1_000;

interface ProtocolHandlers {
  handleCommandComplete(msg: { text: string }, connection: unknown): void;
  handleEmptyQuery(connection: unknown): void;
  handleError(err: Error, connection: unknown): void;
}

interface Connection {
  sync(): void;
  stream: Socket;
}

/**
 * The caller's statement as pg's extended query protocol runs it: Parse, Bind, Execute for at
 * most maxRows + 1 rows, Sync. The protocol parses one statement only (several are refused by
 * the server), with or without parameters. pg itself would fetch row after row until the end;
 * here a suspended portal (more rows than asked for) only marks the result as over the limit.
 */
class LimitedQuery extends pg.Query {
  overLimit = false;
  tag = '';
  error: (Error & { code?: string }) | undefined;
  result: pg.QueryResult<unknown[]> | undefined;
  private synced = false;

  constructor(
    text: string,
    values: readonly unknown[],
    maxRows: number,
    callback: (err: Error | undefined, result: pg.QueryResult<unknown[]>) => void,
  ) {
    const config = {
      text,
      values: [...values],
      rows: maxRows + 1,
      rowMode: 'array',
      queryMode: 'extended',
    };
    super(config as pg.QueryConfig, callback as never);
  }

  private get base(): ProtocolHandlers {
    return pg.Query.prototype as unknown as ProtocolHandlers;
  }

  handlePortalSuspended(connection: Connection): void {
    this.overLimit = true;
    this.synced = true;
    connection.sync();
  }

  handleCommandComplete(msg: { text: string }, connection: Connection): void {
    this.tag = msg.text;
    this.synced = true; // pg sends the Sync itself when rows are limited
    this.base.handleCommandComplete.call(this, msg, connection);
  }

  handleEmptyQuery(connection: Connection): void {
    this.synced = true;
    this.base.handleEmptyQuery.call(this, connection);
  }

  handleError(err: Error, connection: Connection): void {
    // The server skips everything up to the next Sync after an error, which pg only sends
    // itself when rows are not limited.
    if (!this.synced && err instanceof pg.DatabaseError) {
      this.synced = true;
      connection.sync();
    }
    this.base.handleError.call(this, err, connection);
  }
}

/** Asks the server to cancel what a session runs (the protocol's CancelRequest: no login). */
function sendCancel(params: ConnectionParams, processId: number, secretKey: number): void {
  const socket = params.host.startsWith('/')
    ? createConnection(`${params.host}/.s.PGSQL.${params.port}`)
    : createConnection(params.port, params.host);
  socket.on('error', () => undefined);
  socket.on('connect', () => {
    const packet = Buffer.alloc(16);
    packet.writeInt32BE(16, 0);
    packet.writeInt32BE(80877102, 4);
    packet.writeInt32BE(processId, 8);
    packet.writeInt32BE(secretKey, 12);
    socket.end(packet);
  });
}

/**
 * The sessions instance statements run on: per role a small pool (opened when needed, closed
 * when idle), all of them together bounded. Every call is one transaction that sets its own
 * limits first, so nothing the role did to its session or its defaults (SET, ALTER ROLE … SET)
 * lifts them, and ends with DISCARD ALL, so nothing of one call (temporary tables, LISTEN,
 * advisory locks, settings) outlives it. A statement still running past its timeout is
 * cancelled by Switchboard, and its session closed and ended when even that does not stop it.
 */
export class InstanceConnections {
  private readonly sessions: InstanceSessions;
  private serverVersion: Promise<number> | undefined;

  constructor(
    private readonly params: ConnectionParams,
    private readonly limits: InstanceQueryLimits,
    /** Switchboard's own connections (to end sessions of a role). */
    private readonly admin: Knex,
    /** The role's current password, read when a session opens. */
    password: (role: string) => Promise<string>,
  ) {
    this.sessions = new InstanceSessions(
      params,
      {
        perRole: limits.connectionsPerInstance,
        total: limits.maxConnections,
        idleMs: limits.idleMs,
      },
      password,
      async () =>
        (await this.version()) >= 140000
          ? `-c client_connection_check_interval=${CLIENT_CHECK_MS}`
          : '',
    );
  }

  /** One statement as the role, in its schema, in a transaction of its own, within the limits. */
  async run(
    login: InstanceLogin,
    sql: string,
    values: readonly unknown[],
  ): Promise<InstanceQueryResult> {
    let session: InstanceSession;
    try {
      session = await this.sessions.acquire(login.role, Date.now() + this.cancelAfterMs());
    } catch (err) {
      if (!(err instanceof NoSessionError)) throw err;
      if (err.busy) throw new InstanceQueryError(err.message, 'busy');
      const code = (err.cause as { code?: string }).code;
      if (code === '28P01' || code === '28000' || code === '53300') {
        throw new InstanceQueryError(err.message, 'login', { cause: err.cause });
      }
      throw err.cause;
    }
    return this.runOn(session, login, sql, values);
  }

  /** Server process ids of the role's sessions that Switchboard opened and still has. */
  sessionsOf(role: string): number[] {
    return this.sessions.pidsOf(role);
  }

  /** Closes the role's sessions and ends any other session it has (before it is dropped). */
  async close(role: string): Promise<void> {
    await Promise.all([this.sessions.closeRole(role), endInstanceSessions(this.admin, role)]);
  }

  /** Closes every unused session now, and those in use once their call is over. */
  closeAll(): Promise<void> {
    return this.sessions.closeAll();
  }

  private cancelAfterMs(): number {
    return this.limits.cancelAfterMs ?? this.limits.statementTimeoutMs + CANCEL_GRACE_MS;
  }

  private version(): Promise<number> {
    this.serverVersion ??= this.admin
      .raw('show server_version_num')
      .then((r: { rows: { server_version_num: string }[] }) =>
        Number(r.rows[0]!.server_version_num),
      );
    this.serverVersion.catch(() => (this.serverVersion = undefined));
    return this.serverVersion;
  }

  private async runOn(
    session: InstanceSession,
    login: InstanceLogin,
    sql: string,
    values: readonly unknown[],
  ): Promise<InstanceQueryResult> {
    const { client, socket: stream } = session;
    const { statementTimeoutMs, maxRows, maxResultBytes } = this.limits;
    // Past the statement timeout and a grace period: cancelled from outside; past another,
    // the session is closed and ended. Either way it is not used again.
    let cancelled = false;
    let endTimer: NodeJS.Timeout | undefined;
    const cancelTimer = setTimeout(() => {
      cancelled = true;
      sendCancel(this.params, session.pid, session.secretKey);
      endTimer = setTimeout(() => {
        stream.destroy();
        endInstanceSessions(this.admin, login.role).catch(() => undefined);
      }, END_GRACE_MS);
    }, this.cancelAfterMs());
    // Bytes of the result as they arrive: beyond the limit the session is closed, before a
    // single huge row is held in memory whole.
    let received = 0;
    let tooLarge = false;
    const count = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxResultBytes && !tooLarge) {
        tooLarge = true;
        stream.destroy();
      }
    };
    let reusable = false;
    try {
      await client.query(
        `BEGIN; SET LOCAL statement_timeout = ${statementTimeoutMs}; ` +
          `SET LOCAL lock_timeout = ${statementTimeoutMs}; ` +
          `SET LOCAL search_path = ${quoteIdent(login.schema)}`,
      );
      const query = await new Promise<LimitedQuery>((resolve) => {
        const q: LimitedQuery = new LimitedQuery(sql, values, maxRows, (err, res) => {
          q.error = err;
          q.result = res;
          resolve(q);
        });
        stream.on('data', count);
        client.query(q);
      }).finally(() => stream.off('data', count));
      if (tooLarge) {
        throw new InstanceQueryError(
          `the result is larger than ${maxResultBytes / 1024 / 1024} MB, the limit ` +
            `(instances.database.maxResultMb)`,
          'size',
        );
      }
      if (cancelled) throw timeoutError(statementTimeoutMs, query.error);
      if (query.error && !(query.error instanceof pg.DatabaseError)) throw query.error;
      if (query.error || query.overLimit) {
        await client.query('ROLLBACK');
        reusable = true;
        if (query.error?.code === '57014') throw timeoutError(statementTimeoutMs, query.error);
        if (query.error) {
          throw new InstanceQueryError(query.error.message, 'statement', { cause: query.error });
        }
        throw new InstanceQueryError(
          `the result has more than ${maxRows} rows, the limit (instances.database.maxRows); ` +
            `nothing was changed`,
          'rows',
        );
      }
      try {
        await client.query('COMMIT');
      } catch (err) {
        // A deferred constraint failed, say: the transaction is over either way.
        if (!(err instanceof pg.DatabaseError) || cancelled) throw err;
        reusable = true;
        throw new InstanceQueryError(err.message, 'statement', { cause: err });
      }
      reusable = true;
      const result = query.result!;
      return {
        columns: result.fields.map((f) => f.name),
        rows: result.rows,
        rowCount: result.rowCount,
        statusMessage: query.tag,
      };
    } catch (err) {
      if (cancelled && !(err instanceof InstanceQueryError)) {
        throw timeoutError(statementTimeoutMs, err);
      }
      throw err;
    } finally {
      clearTimeout(cancelTimer);
      clearTimeout(endTimer);
      if (reusable && !cancelled) {
        reusable = await client.query('DISCARD ALL').then(
          () => true,
          () => false,
        );
      }
      this.sessions.release(session, reusable && !cancelled);
    }
  }
}

function timeoutError(timeoutMs: number, cause: unknown): InstanceQueryError {
  return new InstanceQueryError(
    `the statement ran longer than ${timeoutMs / 1000} s, the limit ` +
      `(instances.database.statementTimeoutSeconds)`,
    'timeout',
    { cause },
  );
}
