import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Config } from '../config/schema';
import type { Database } from '../db/database';
import {
  InstanceConnections,
  InstanceQueryError,
  type InstanceQueryLimits,
  type InstanceQueryResult,
} from '../db/instance-connections';
import {
  createInstanceDatabase,
  dropInstanceDatabase,
  enableInstanceLogin,
  endInstanceSessions,
  findInstanceDatabase,
  instanceTables,
  restoreInstanceDatabase,
  saveInstanceDatabasePassword,
  type ColumnInfo,
  type InstanceDatabaseLogin,
} from '../db/instance-database';
import type { Logger } from '../logging/logger';
import { scramVerifier } from '../secrets/scram';
import type { SecretBox } from '../secrets/secret-box';
import { KeyedLock } from '../util/keyed-lock';

export type InstanceDatabaseSettings = InstanceQueryLimits;

export function instanceDatabaseSettings(
  database: Config['instances']['database'],
): InstanceDatabaseSettings {
  return {
    statementTimeoutMs: Math.round(database.statementTimeoutSeconds * 1000),
    maxRows: database.maxRows,
    maxResultBytes: Math.round(database.maxResultMb * 1024 * 1024),
    connectionsPerInstance: database.connectionsPerInstance,
    maxConnections: database.maxConnections,
    idleMs: Math.round(database.idleSeconds * 1000),
  };
}

/** Sessions a role may have beyond its pool's: those ended from outside take a moment to go. */
const SPARE_SESSIONS = 2;

/**
 * The instances' own databases: made on first use, queried as their own roles under the
 * configured limits (by plugins through the plugin host, by admins through the explorer),
 * dropped with their instance. A rename changes nothing here: the names do not come from the id.
 */
export class InstanceDatabases {
  private readonly lock = new KeyedLock();
  private readonly connections: InstanceConnections;

  constructor(
    private readonly db: Database,
    private readonly secrets: SecretBox,
    private readonly settings: InstanceDatabaseSettings,
    private readonly logger: Logger,
  ) {
    this.connections = new InstanceConnections(db.connectionParams(), settings, db.knex, (role) =>
      this.passwordOf(role),
    );
  }

  private get knex(): Knex {
    return this.db.knex;
  }

  /** The instance's database, made when it has none; its role may log in. */
  prepare(instanceId: string): Promise<InstanceDatabaseLogin> {
    return this.lock.run(instanceId, async () => {
      const login =
        (await findInstanceDatabase(this.knex, { instanceId })) ??
        (await this.knex.transaction((trx) => createInstanceDatabase(trx, instanceId)));
      await restoreInstanceDatabase(this.knex, login);
      return login.password ? login : this.newPassword(login);
    });
  }

  /** One statement in the instance's database, as its role; see InstanceConnections. */
  async query(
    instanceId: string,
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<InstanceQueryResult> {
    const login = await this.loginOf(instanceId);
    try {
      return await this.connections.run(login, sql, params);
    } catch (err) {
      if (!(err instanceof InstanceQueryError) || err.reason !== 'login') throw err;
      // Only the role itself changes its password (ALTER ROLE … PASSWORD), and only its own
      // sessions use up its connection limit: whoever did either loses them.
      this.logger.warn(
        { logger: `maubot.instance.${instanceId}`, role: login.role, reason: err.message },
        "the instance database refused Switchboard's login; its password is replaced and its other sessions ended",
      );
      await this.lock.run(instanceId, async () => {
        // Calls that failed together replace the password once.
        const current = await findInstanceDatabase(this.knex, { instanceId });
        if (current?.password?.ciphertext === login.password?.ciphertext) {
          await this.newPassword(login);
        }
      });
      await endInstanceSessions(this.knex, login.role, this.connections.sessionsOf(login.role));
      return this.connections.run(login, sql, params);
    }
  }

  /** The tables of the instance's schema, with their columns. */
  async tables(
    instanceId: string,
  ): Promise<Record<string, { columns: Record<string, ColumnInfo> }>> {
    return instanceTables(this.knex, (await this.loginOf(instanceId)).schema);
  }

  /**
   * Drops the instance's schema and role (nothing else) in the caller's transaction, after
   * ending the role's sessions; nothing when it has none.
   */
  async drop(trx: Knex.Transaction, instanceId: string): Promise<void> {
    const login = await findInstanceDatabase(trx, { instanceId });
    if (!login) return;
    await this.connections.close(login.role);
    if (!(await dropInstanceDatabase(trx, login))) {
      this.logger.warn(
        { instance: instanceId, role: login.role },
        'the role of a deleted instance still owns objects in another database of the server; it was kept, unable to log in',
      );
    }
  }

  /** Closes every instance session (they open again when needed). */
  close(): Promise<void> {
    return this.connections.closeAll();
  }

  private async loginOf(instanceId: string): Promise<InstanceDatabaseLogin> {
    const login = await findInstanceDatabase(this.knex, { instanceId });
    if (!login?.password) return this.prepare(instanceId);
    // A password sealed with a key that is being retired is replaced by one sealed anew.
    if (this.secrets.needsResealing(login.password)) {
      return this.lock.run(instanceId, () => this.newPassword(login));
    }
    return login;
  }

  private async newPassword(login: InstanceDatabaseLogin): Promise<InstanceDatabaseLogin> {
    const password = randomBytes(24).toString('base64url');
    const sealed = this.secrets.seal(password);
    const limit = this.settings.connectionsPerInstance + SPARE_SESSIONS;
    await enableInstanceLogin(this.knex, login, await scramVerifier(password), limit);
    await saveInstanceDatabasePassword(this.knex, login.instanceId, sealed);
    return { ...login, password: sealed };
  }

  private async passwordOf(role: string): Promise<string> {
    const login = await findInstanceDatabase(this.knex, { role });
    if (!login?.password) throw new Error(`no password is stored for ${role}`);
    return this.secrets.open(login.password);
  }
}
