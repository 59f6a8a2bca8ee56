import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Config } from '../config/schema';
import {
  deleteConnection,
  listConnections,
  saveConnection,
  type ConnectionRecord,
} from '../db/connection-repository';
import type { Logger } from '../logging/logger';
import { HomeserverError } from '../matrix/matrix-errors';
import type { SecretBox } from '../secrets/secret-box';
import { KeyedLock } from '../util/keyed-lock';
import type { BridgePermissions } from './bridge-permissions';
import { badValue, ConnectionError } from './connection-errors';
import {
  connectionTypeOf,
  type ConnectionKind,
  type ConnectionWarning,
  type StoredConnection,
} from './connection-types';
import { checkRoomAccess, type RoomAccessBot } from './room-access';

/** The bot as the connection service uses it. */
export interface ConnectionBot extends RoomAccessBot {
  readonly permissions: BridgePermissions;
  setState(
    roomId: string,
    type: string,
    stateKey: string,
    content: Record<string, unknown>,
  ): Promise<string>;
}

/** A connection as the provisioning API shows it. */
export interface ConnectionItem {
  type: string;
  eventType: string;
  service: string;
  botUserId: string;
  id: string;
  config: Record<string, unknown>;
  secrets?: Record<string, unknown>;
  warning?: ConnectionWarning;
}

/** hookshot's connection id: hex MD5 of roomId/eventType/stateKey (canonical type). */
export function connectionId(roomId: string, eventType: string, stateKey: string): string {
  return createHash('md5').update(`${roomId}/${eventType}/${stateKey}`).digest('hex');
}

const priorityOf = (c: StoredConnection): number =>
  typeof c.config.priority === 'number' && c.config.priority !== 0 ? c.config.priority : -1;

function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new ConnectionError('HS_BAD_VALUE', 'A JSON object body must be provided');
  }
  return body as Record<string, unknown>;
}

/**
 * Room connections: the rows in the database are the record, every one is also written as room
 * state by the bot, and all of them are held in memory for the runtimes (webhooks, feeds,
 * outbound hooks, GitHub and JIRA events) to look up without a query. One process owns them.
 */
export class ConnectionService {
  private readonly byId = new Map<string, StoredConnection>();
  private readonly kinds = new Map<string, ConnectionKind>();
  private readonly locks = new KeyedLock();

  constructor(
    private readonly db: Knex,
    private readonly config: Config,
    private readonly secrets: SecretBox,
    private readonly bot: ConnectionBot,
    private readonly logger: Logger,
  ) {}

  /** Makes a connection type creatable; types without a kind answer "disabled". */
  register(kind: ConnectionKind): void {
    this.kinds.set(kind.declaration.eventType, kind);
  }

  /** Reads every stored connection (at startup), resealing secrets of rotated keys. */
  async load(): Promise<void> {
    this.byId.clear();
    for (const record of await listConnections(this.db)) {
      const connection = this.open(record);
      this.byId.set(connection.id, connection);
      if (record.secrets && this.secrets.needsResealing(record.secrets)) {
        await saveConnection(this.db, this.toRecord(connection));
      }
    }
    for (const connection of this.byId.values()) {
      this.kinds.get(connection.eventType)?.committed?.(connection);
    }
    this.logger.info({ connections: this.byId.size }, 'connections loaded');
  }

  get count(): number {
    return this.byId.size;
  }

  get(id: string): StoredConnection | undefined {
    return this.byId.get(id);
  }

  /** Every connection of one (canonical) event type. */
  ofType(eventType: string): StoredConnection[] {
    return [...this.byId.values()].filter((c) => c.eventType === eventType);
  }

  inRoom(roomId: string): StoredConnection[] {
    return [...this.byId.values()].filter((c) => c.roomId === roomId);
  }

  // ---- the provisioning API's operations ----

  async list(roomId: string, userId: string): Promise<ConnectionItem[]> {
    await checkRoomAccess(this.bot, roomId, userId);
    const connections = this.inRoom(roomId).sort((a, b) => priorityOf(b) - priorityOf(a));
    return Promise.all(connections.map((c) => this.item(c, false)));
  }

  async describe(roomId: string, id: string, userId: string): Promise<ConnectionItem> {
    await checkRoomAccess(this.bot, roomId, userId);
    return this.item(this.find(roomId, id), false);
  }

  async create(
    roomId: string,
    eventType: string,
    userId: string,
    rawBody: unknown,
  ): Promise<ConnectionItem> {
    const declaration = connectionTypeOf(eventType);
    await checkRoomAccess(this.bot, roomId, userId, declaration?.eventType ?? eventType);
    if (!declaration) throw new ConnectionError('HS_NOTFOUND', 'Unknown event type');
    const kind = this.kinds.get(declaration.eventType);
    if (!kind || !declaration.enabled(this.config)) {
      throw new ConnectionError('HS_DISABLED_FEATURE', declaration.disabledMessage);
    }
    const body = objectBody(rawBody);
    await this.checkManage(userId, declaration.service);
    const existing = this.inRoom(roomId).filter((c) => c.eventType === declaration.eventType);
    const prepared = await kind.create({ roomId, userId, body, existing });
    const id = connectionId(roomId, declaration.eventType, prepared.stateKey);
    this.checkPrefix(roomId, id, body.commandPrefix);
    return this.locks.run(id, async () => {
      const previous = this.byId.get(id);
      const connection: StoredConnection = {
        id,
        roomId,
        eventType: declaration.eventType,
        stateKey: prepared.stateKey,
        type: declaration.type,
        service: declaration.service,
        config: prepared.config,
        secrets: prepared.secrets !== undefined ? prepared.secrets : (previous?.secrets ?? null),
        createdBy: previous?.createdBy ?? userId,
      };
      await this.write(kind, connection, previous === undefined);
      this.logger.info(
        {
          roomId,
          connectionId: id,
          eventType: declaration.eventType,
          userId,
          replaced: !!previous,
        },
        previous ? 'connection re-created' : 'connection created',
      );
      return {
        ...(await this.item(connection, true)),
        ...(prepared.warning ? { warning: prepared.warning } : {}),
      };
    });
  }

  async update(
    roomId: string,
    id: string,
    userId: string,
    rawBody: unknown,
  ): Promise<ConnectionItem> {
    await this.checkWrite(roomId, id, userId);
    const current = this.find(roomId, id);
    const body = objectBody(rawBody);
    const kind = this.kinds.get(current.eventType);
    if (!kind) {
      throw new ConnectionError(
        'HS_UNSUPPORTED_OPERATION',
        'Connection type does not support updates.',
      );
    }
    await this.checkManage(userId, current.service);
    this.checkPrefix(roomId, id, body.commandPrefix);
    return this.locks.run(id, async () => {
      const latest = this.find(roomId, id);
      const prepared = await kind.update({ userId, current: latest, body });
      const connection: StoredConnection = {
        ...latest,
        config: prepared.config,
        secrets: prepared.secrets !== undefined ? prepared.secrets : latest.secrets,
      };
      await this.write(kind, connection, false);
      this.logger.info({ roomId, connectionId: id, userId }, 'connection updated');
      return this.item(connection, true);
    });
  }

  async remove(roomId: string, id: string, userId: string): Promise<void> {
    await this.checkWrite(roomId, id, userId);
    const current = this.find(roomId, id);
    await this.checkManage(userId, current.service);
    await this.locks.run(id, async () => {
      const latest = this.find(roomId, id);
      const kind = this.kinds.get(latest.eventType);
      await kind?.remove?.(latest);
      await this.db.transaction(async (trx) => {
        await deleteConnection(trx, id);
        await this.writeState(latest, kind?.tombstone ?? { disabled: true });
      });
      this.byId.delete(id);
      kind?.removed?.(latest);
      this.logger.info({ roomId, connectionId: id, userId }, 'connection removed');
    });
  }

  // ---- internals ----

  private find(roomId: string, id: string): StoredConnection {
    const connection = this.byId.get(id);
    if (!connection || connection.roomId !== roomId) {
      throw new ConnectionError('HS_NOTFOUND', 'Connection does not exist.');
    }
    return connection;
  }

  /** Access comes before existence (as upstream): outsiders learn nothing about ids. */
  private async checkWrite(roomId: string, id: string, userId: string): Promise<void> {
    const connection = this.byId.get(id);
    const eventType = connection?.roomId === roomId ? connection.eventType : '';
    await checkRoomAccess(this.bot, roomId, userId, eventType);
  }

  private async checkManage(userId: string, service: string): Promise<void> {
    if (!(await this.bot.permissions.allows(userId, service, 'manageConnections'))) {
      throw new ConnectionError(
        'HS_FORBIDDEN_USER',
        'User is not permitted to provision connections for this type of service.',
      );
    }
  }

  /** Another connection in the room that answers to the same command prefix. */
  private checkPrefix(roomId: string, id: string, prefix: unknown): void {
    if (typeof prefix !== 'string') return;
    for (const other of this.inRoom(roomId)) {
      if (other.id === id) continue;
      const otherPrefix =
        typeof other.config.commandPrefix === 'string'
          ? other.config.commandPrefix
          : this.kinds.get(other.eventType)?.defaultCommandPrefix;
      if (otherPrefix === prefix) {
        throw new ConnectionError(
          'HS_CONFLICTING_CONNECTION',
          `Command prefix "${prefix}" is already used in this room. Please choose another prefix.`,
          { existingConnection: this.baseItem(other) },
        );
      }
    }
  }

  /** Row (and the kind's rows) and room state together: a failed state write stores nothing. */
  private async write(kind: ConnectionKind, connection: StoredConnection, created: boolean) {
    await this.db.transaction(async (trx) => {
      await saveConnection(trx, this.toRecord(connection));
      await kind.persist?.(trx, connection, created);
      await this.writeState(connection, connection.config);
    });
    this.byId.set(connection.id, connection);
    kind.committed?.(connection);
  }

  private async writeState(connection: StoredConnection, content: Record<string, unknown>) {
    try {
      await this.bot.setState(
        connection.roomId,
        connection.eventType,
        connection.stateKey,
        content,
      );
    } catch (err) {
      if (err instanceof HomeserverError && err.errcode === 'M_FORBIDDEN') {
        throw new ConnectionError(
          'HS_FORBIDDEN_BOT',
          `The bot could not write the connection state: ${err.message}`,
        );
      }
      // A configuration (e.g. a long transformation function) over the event size limit.
      if (err instanceof HomeserverError && err.errcode === 'M_TOO_LARGE') {
        throw badValue('The connection configuration is too large for a Matrix room state event');
      }
      this.logger.error({ err, roomId: connection.roomId }, 'could not write connection state');
      throw new ConnectionError('HS_UNKNOWN', 'Could not write the connection state to the room.');
    }
  }

  private baseItem(connection: StoredConnection): ConnectionItem {
    return {
      type: connection.type,
      eventType: connection.eventType,
      service: connection.service,
      botUserId: this.bot.userId,
      id: connection.id,
      config: connection.config,
    };
  }

  private async item(connection: StoredConnection, withSecrets: boolean): Promise<ConnectionItem> {
    const item = this.baseItem(connection);
    const secrets = await this.kinds.get(connection.eventType)?.secrets?.(connection);
    const shown = {
      ...(withSecrets ? secrets?.shown : undefined),
      ...secrets?.always,
    };
    return Object.keys(shown).length > 0 || (withSecrets && secrets?.shown)
      ? { ...item, secrets: shown }
      : item;
  }

  private open(record: ConnectionRecord): StoredConnection {
    const { secrets, ...rest } = record;
    return {
      ...rest,
      secrets: secrets ? (JSON.parse(this.secrets.open(secrets)) as Record<string, unknown>) : null,
    };
  }

  private toRecord(connection: StoredConnection): ConnectionRecord {
    const { secrets, ...rest } = connection;
    return { ...rest, secrets: secrets ? this.secrets.seal(JSON.stringify(secrets)) : null };
  }
}
