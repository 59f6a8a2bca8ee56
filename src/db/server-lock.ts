import { hostname } from 'node:os';
import pg from 'pg';
import type { Logger } from '../logging/logger';
import type { ConnectionParams } from './connection-params';
import { DatabaseInUseError } from './database-errors';

/**
 * One Switchboard per database (until several replicas are supported): every running server
 * holds a session-level advisory lock on its database, on a connection of its own, for its
 * whole life. The lock goes when that session ends, so a crashed server never leaves it behind.
 */
const LOCK_KEY = `hashtextextended('switchboard:server', 0)`;

/** What a server calls itself on its lock session, so a refused one can name it. */
const APPLICATION_NAME = `switchboard pid ${process.pid} on ${hostname()}`.slice(0, 63);

function isMissingDatabase(err: unknown): boolean {
  return (err as { code?: string }).code === '3D000';
}

/** The holder's name (its lock session's application_name), or null when it cannot be seen. */
async function lockHolder(client: pg.Client): Promise<string | null> {
  const { rows } = await client.query<{ name: string }>(
    `select a.application_name as name
       from pg_locks l join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted and l.objsubid = 1
        and l.database = (select oid from pg_database where datname = current_database())
        and l.classid::bigint = (${LOCK_KEY} >> 32) & 4294967295
        and l.objid::bigint = ${LOCK_KEY} & 4294967295`,
  );
  return rows[0]?.name || null;
}

/**
 * Whether a server holds the lock on that database now (null: free), without taking it; a
 * database that does not exist has no holder.
 */
export async function currentLockHolder(
  params: ConnectionParams,
): Promise<{ holder: string | null } | null> {
  const client = new pg.Client({ ...params, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    if (isMissingDatabase(err)) return null;
    throw err;
  }
  try {
    const { rows } = await client.query<{ locked: boolean }>(
      `select pg_try_advisory_lock(${LOCK_KEY}) as locked`,
    );
    if (rows[0]!.locked) return null;
    return { holder: await lockHolder(client) };
  } finally {
    await client.end().catch(() => {});
  }
}

export interface ServerLockOptions {
  /** The refusal, given the other server's name when it can be seen. */
  inUseMessage(holder: string | null): string;
  logger: Logger;
  /**
   * The lock was lost for good: the session ended (the database restarted, the network
   * dropped) and another server took the lock before this one got it back.
   */
  onLost(err: DatabaseInUseError): void;
}

/** Switchboard's exclusive lock on its database, held until release(). */
export class ServerLock {
  private client: pg.Client | undefined;
  private released = false;
  private retry: NodeJS.Timeout | undefined;

  private constructor(
    private readonly params: ConnectionParams,
    private readonly options: ServerLockOptions,
  ) {}

  /** Takes the lock, or throws DatabaseInUseError naming the server that holds it. */
  static async acquire(params: ConnectionParams, options: ServerLockOptions): Promise<ServerLock> {
    const lock = new ServerLock(params, options);
    const holder = await lock.take();
    if (holder !== undefined) throw new DatabaseInUseError(options.inUseMessage(holder));
    return lock;
  }

  /** undefined once the lock is held; else the holder (null when it cannot be named). */
  private async take(): Promise<string | null | undefined> {
    const client = new pg.Client({
      ...this.params,
      application_name: APPLICATION_NAME,
      keepAlive: true,
    });
    // Errors end the session; 'end' below handles that.
    client.on('error', () => {});
    await client.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>(
        `select pg_try_advisory_lock(${LOCK_KEY}) as locked`,
      );
      if (!rows[0]!.locked) {
        const holder = await lockHolder(client);
        await client.end();
        return holder;
      }
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    this.client = client;
    client.once('end', () => this.sessionEnded());
    return undefined;
  }

  private sessionEnded(): void {
    this.client = undefined;
    if (this.released) return;
    this.options.logger.warn('the session holding the database lock ended; taking the lock again');
    this.retake(1000);
  }

  private retake(delayMs: number): void {
    this.retry = setTimeout(() => {
      this.take().then(
        (holder) => {
          if (holder === undefined) {
            if (this.released) void this.release();
            else this.options.logger.info('the database lock is held again');
          } else if (!this.released) {
            this.options.onLost(new DatabaseInUseError(this.options.inUseMessage(holder)));
          }
        },
        () => {
          if (!this.released) this.retake(Math.min(delayMs * 2, 10_000));
        },
      );
    }, delayMs);
  }

  async release(): Promise<void> {
    this.released = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    // Ending the session releases the lock.
    await client?.end().catch(() => {});
  }
}
