import pg from 'pg';
import type { Logger } from '../logging/logger';
import type { ConnectionParams } from './connection-params';

/** The channel the tables' triggers announce committed changes on (payload: the table). */
export const CHANGES_CHANNEL = 'switchboard_changes';
/** Payloads starting with this are catch-up marks (see caughtUp), not tables. */
const MARK = 'mark:';
/** How the listening session shows in pg_stat_activity. */
export const APPLICATION_NAME = 'switchboard change feed';

export interface ChangeSubscriber {
  /** A change to this table was committed (by any process). */
  changed(table: string): void;
  /** Announcements may have been missed (the session was lost or is new): anything may differ. */
  resync(): void;
}

/**
 * Committed changes to Switchboard's tables, announced by their triggers (LISTEN/NOTIFY) on one
 * session of its own, opened on the first subscription and opened again whenever it is lost.
 * While it is not listening, `listening` is false: a subscriber then must not trust what it
 * keeps in memory.
 */
export class ChangeFeed {
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private readonly subscribers = new Set<ChangeSubscriber>();
  private readonly marks = new Map<string, () => void>();
  private nextMark = 0;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly params: ConnectionParams,
    private readonly logger: Logger,
  ) {}

  get listening(): boolean {
    return this.client !== undefined;
  }

  subscribe(subscriber: ChangeSubscriber): () => void {
    this.subscribers.add(subscriber);
    if (!this.client && !this.connecting && !this.retry) this.connect(1000);
    return () => this.subscribers.delete(subscriber);
  }

  /**
   * Resolves once every change committed before this call has reached the subscribers:
   * PostgreSQL delivers announcements in commit order, so the mark sent now arrives after them.
   */
  async caughtUp(): Promise<void> {
    if (this.connecting) await this.connecting;
    const client = this.client;
    if (!client) return;
    const mark = `${MARK}${this.nextMark++}`;
    const arrived = new Promise<void>((resolve) => this.marks.set(mark, resolve));
    await client.query('select pg_notify($1, $2)', [CHANGES_CHANNEL, mark]);
    await arrived;
  }

  private connect(retryMs: number): void {
    this.retry = undefined;
    const client = new pg.Client({
      ...this.params,
      application_name: APPLICATION_NAME,
      keepAlive: true,
    });
    // Errors end the session; 'end' below handles that.
    client.on('error', () => {});
    client.on('notification', (message) => {
      if (message.channel !== CHANGES_CHANNEL || message.payload === undefined) return;
      const payload = message.payload;
      if (payload.startsWith(MARK)) {
        this.marks.get(payload)?.();
        this.marks.delete(payload);
        return;
      }
      for (const subscriber of this.subscribers) subscriber.changed(payload);
    });
    this.connecting = (async () => {
      try {
        await client.connect();
        await client.query(`LISTEN ${CHANGES_CHANNEL}`);
      } catch (err) {
        await client.end().catch(() => {});
        if (this.closed) return;
        this.logger.warn({ err }, 'could not listen for database changes; trying again');
        this.retry = setTimeout(() => this.connect(Math.min(retryMs * 2, 10_000)), retryMs);
        // Trying again must not keep a process alive that has nothing else to do.
        this.retry.unref();
        return;
      } finally {
        this.connecting = undefined;
      }
      if (this.closed) {
        await client.end().catch(() => {});
        return;
      }
      this.client = client;
      client.once('end', () => this.ended(client));
      // What changed before LISTEN took effect was not announced to this session.
      for (const subscriber of this.subscribers) subscriber.resync();
    })();
  }

  private ended(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    for (const resolve of this.marks.values()) resolve();
    this.marks.clear();
    for (const subscriber of this.subscribers) subscriber.resync();
    if (this.closed) return;
    this.logger.warn('the session listening for database changes ended; listening again');
    this.connect(1000);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    for (const resolve of this.marks.values()) resolve();
    this.marks.clear();
    await client?.end().catch(() => {});
  }
}
