import type { Socket } from 'node:net';
import pg from 'pg';
import type { ConnectionParams } from './connection-params';

/** A session of an instance role: pg's client, and what the server told it about itself. */
export interface InstanceSession {
  role: string;
  client: pg.Client;
  /** The server process running the session, and the key that cancels what it runs. */
  pid: number;
  secretKey: number;
  socket: Socket;
}

interface Entry {
  session: InstanceSession;
  idleTimer?: NodeJS.Timeout | undefined;
  /** Closed when given back (its role was closed meanwhile). */
  discard: boolean;
}

interface Waiter {
  role: string;
  grant(entry: Entry | 'open'): void;
}

export interface InstanceSessionLimits {
  perRole: number;
  total: number;
  idleMs: number;
}

/** Why no session could be had: every one in use until the deadline, or the login refused. */
export class NoSessionError extends Error {
  override name = 'NoSessionError';
  constructor(
    message: string,
    readonly busy: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Sessions of instance roles, opened when a call needs one and closed when unused for a while:
 * at most `perRole` for one role and `total` for all (each costs the server about 1.5 MB). A
 * role that needs a session when all are open takes the place of another role's unused one;
 * calls that find none wait, first come first served, until their deadline.
 */
export class InstanceSessions {
  private readonly idle = new Map<string, Entry[]>();
  private readonly open = new Map<string, Set<Entry>>();
  /** Places taken for sessions still connecting, per role. */
  private readonly reserved = new Map<string, number>();
  /** Sessions open or connecting, all roles. */
  private opened = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    private readonly params: ConnectionParams,
    private readonly limits: InstanceSessionLimits,
    private readonly password: (role: string) => Promise<string>,
    /** Server settings of every session, as `-c name=value` options. */
    private readonly options: () => Promise<string>,
  ) {}

  async acquire(role: string, deadline: number): Promise<InstanceSession> {
    const taken =
      this.take(role) ??
      (await new Promise<Entry | 'open'>((resolve, reject) => {
        const waiter: Waiter = {
          role,
          grant: (entry) => {
            clearTimeout(timer);
            resolve(entry);
          },
        };
        const timer = setTimeout(
          () => {
            this.waiting.splice(this.waiting.indexOf(waiter), 1);
            reject(
              new NoSessionError(
                'every instance database connection is in use; try again later',
                true,
              ),
            );
          },
          Math.max(0, deadline - Date.now()),
        );
        this.waiting.push(waiter);
      }));
    if (taken !== 'open') return taken.session;
    try {
      return await this.connect(role, deadline);
    } catch (err) {
      this.forget(role);
      throw err;
    }
  }

  /** Gives a session back: kept for the next call, or closed when it may not be used again. */
  release(session: InstanceSession, reusable: boolean): void {
    const entry = [...(this.open.get(session.role) ?? [])].find((e) => e.session === session);
    if (!entry) return;
    if (!reusable || entry.discard) {
      void this.close(entry, !reusable);
    } else {
      entry.idleTimer = setTimeout(() => void this.close(entry, false), this.limits.idleMs);
      entry.idleTimer.unref();
      const idle = this.idle.get(session.role) ?? [];
      idle.push(entry);
      this.idle.set(session.role, idle);
    }
    this.pump();
  }

  /** Server process ids of the role's open sessions. */
  pidsOf(role: string): number[] {
    return [...(this.open.get(role) ?? [])].map((e) => e.session.pid);
  }

  /** Closes the role's unused sessions now (resolved when they ended) and those in use when given back. */
  async closeRole(role: string): Promise<void> {
    for (const entry of this.open.get(role) ?? []) entry.discard = true;
    const closing = [...(this.idle.get(role) ?? [])].map((entry) => this.close(entry, false));
    this.pump();
    await Promise.all(closing);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open.keys()].map((role) => this.closeRole(role)));
  }

  /** An unused session of the role, or a place for a new one (made by closing another role's). */
  private take(role: string): Entry | 'open' | null {
    const idle = this.idle.get(role)?.pop();
    if (idle) {
      clearTimeout(idle.idleTimer);
      return idle;
    }
    if ((this.open.get(role)?.size ?? 0) + this.pending(role) >= this.limits.perRole) return null;
    if (this.opened >= this.limits.total) {
      const other = [...this.idle.values()].flat()[0];
      if (!other) return null;
      void this.close(other, false);
    }
    this.opened++;
    this.reserved.set(role, this.pending(role) + 1);
    return 'open';
  }

  private pending(role: string): number {
    return this.reserved.get(role) ?? 0;
  }

  private unreserve(role: string): void {
    const left = this.pending(role) - 1;
    if (left > 0) this.reserved.set(role, left);
    else this.reserved.delete(role);
  }

  private forget(role: string): void {
    this.unreserve(role);
    this.opened--;
    this.pump();
  }

  private pump(): void {
    for (let i = 0; i < this.waiting.length;) {
      const waiter = this.waiting[i]!;
      const taken = this.take(waiter.role);
      if (!taken) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      waiter.grant(taken);
    }
  }

  private close(entry: Entry, broken: boolean): Promise<void> {
    clearTimeout(entry.idleTimer);
    const { role } = entry.session;
    const idle = this.idle.get(role);
    if (idle?.includes(entry)) idle.splice(idle.indexOf(entry), 1);
    if (idle?.length === 0) this.idle.delete(role);
    const open = this.open.get(role);
    if (open?.delete(entry)) this.opened--;
    if (open?.size === 0) this.open.delete(role);
    if (broken) {
      entry.session.socket.destroy();
      return Promise.resolve();
    }
    return entry.session.client.end().catch(() => {
      entry.session.socket.destroy();
    });
  }

  private async connect(role: string, deadline: number): Promise<InstanceSession> {
    const client = new pg.Client({
      ...this.params,
      user: role,
      password: () => this.password(role),
      application_name: 'switchboard instance',
      options: await this.options(),
      connectionTimeoutMillis: Math.max(1, deadline - Date.now()),
    });
    // A session that fails while unused (ended from outside) is found out when next used.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (err) {
      throw new NoSessionError((err as Error).message, false, { cause: err });
    }
    const known = client as unknown as {
      processID: number;
      secretKey: number;
      connection: { stream: Socket };
    };
    const session: InstanceSession = {
      role,
      client,
      pid: known.processID,
      secretKey: known.secretKey,
      socket: known.connection.stream,
    };
    const entry: Entry = { session, discard: false };
    this.unreserve(role);
    const open = this.open.get(role) ?? new Set();
    open.add(entry);
    this.open.set(role, open);
    // A session that ends from the server's side (ended, or the server restarted) goes.
    client.once('end', () => {
      if (this.open.get(role)?.has(entry)) {
        void this.close(entry, true);
        this.pump();
      }
    });
    return session;
  }
}
