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
import type { RoomEvent } from '../matrix/bot-client';
import { HomeserverError } from '../matrix/matrix-errors';
import type { SecretBox } from '../secrets/secret-box';
import { KeyedLock } from '../util/keyed-lock';
import type { BridgePermissions } from './bridge-permissions';
import { badValue, ConnectionError } from './connection-errors';
import {
  connectionTypeOf,
  type ConnectionKind,
  type ConnectionWarning,
  type PreparedConnection,
  type StoredConnection,
} from './connection-types';
import {
  checkRoomAccess,
  powerLevelOf,
  requiredStateLevel,
  type RoomAccessBot,
} from './room-access';
import { notice, type RoomMessenger } from './room-messenger';

/** The bot as the connection service uses it. */
export interface ConnectionBot extends RoomAccessBot, Pick<RoomMessenger, 'post'> {
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

  all(): StoredConnection[] {
    return [...this.byId.values()];
  }

  inRoom(roomId: string): StoredConnection[] {
    return [...this.byId.values()].filter((c) => c.roomId === roomId);
  }

  // ---- the provisioning API's operations ----

  async list(roomId: string, userId: string): Promise<ConnectionItem[]> {
    await checkRoomAccess(this.bot, roomId, userId);
    const connections = this.inRoom(roomId).sort((a, b) => priorityOf(b) - priorityOf(a));
    const manages = await this.managedBy(roomId, userId, connections);
    return Promise.all(connections.map((c) => this.item(c, false, manages(c))));
  }

  async describe(roomId: string, id: string, userId: string): Promise<ConnectionItem> {
    await checkRoomAccess(this.bot, roomId, userId);
    const connection = this.find(roomId, id);
    const manages = await this.managedBy(roomId, userId, [connection]);
    return this.item(connection, false, manages(connection));
  }

  async create(
    roomId: string,
    eventType: string,
    userId: string,
    rawBody: unknown,
  ): Promise<ConnectionItem> {
    const declaration = connectionTypeOf(eventType);
    await checkRoomAccess(this.bot, roomId, userId, declaration?.eventType ?? eventType, {
      waitForJoin: true,
    });
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
      await this.write(kind, connection, previous);
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
        ...(await this.item(connection, true, true)),
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
      await this.write(kind, connection, latest);
      this.logger.info({ roomId, connectionId: id, userId }, 'connection updated');
      return this.item(connection, true, true);
    });
  }

  async remove(roomId: string, id: string, userId: string): Promise<void> {
    await this.checkWrite(roomId, id, userId);
    const current = this.find(roomId, id);
    await this.checkManage(userId, current.service);
    await this.locks.run(id, async () => {
      const latest = this.find(roomId, id);
      const kind = this.kinds.get(latest.eventType);
      // The room first: a refused state write leaves the connection as it was.
      await this.writeState(latest, kind?.tombstone ?? { disabled: true });
      try {
        await this.forget(latest);
      } catch (err) {
        await this.restoreState(latest, latest.config);
        throw err;
      }
      this.logger.info({ roomId, connectionId: id, userId }, 'connection removed');
    });
  }

  /**
   * The bot is no longer in the room (kicked, banned, left): its connections cannot work, so
   * they are gone (a webhook's URL answers 404). The room state is left as it is.
   */
  async dropRoom(roomId: string, why: string): Promise<void> {
    for (const connection of this.inRoom(roomId)) {
      await this.locks.run(connection.id, async () => {
        const latest = this.byId.get(connection.id);
        if (!latest) return;
        try {
          await this.forget(latest);
        } catch (err) {
          this.logger.error(
            { err, roomId, connectionId: latest.id },
            'could not drop a connection',
          );
          return;
        }
        this.logger.warn(
          {
            roomId,
            connectionId: latest.id,
            eventType: latest.eventType,
            stateKey: latest.stateKey,
          },
          `connection dropped: ${why}`,
        );
      });
    }
  }

  /**
   * A room was upgraded: its connections move to the new room (state written there, rows and
   * hook ids carried over, the old room's state marked removed). Throws the state write's
   * refusal when the bot may not write there yet; what moved stays moved.
   */
  async moveRoom(oldRoomId: string, newRoomId: string): Promise<number> {
    let moved = 0;
    for (const connection of this.inRoom(oldRoomId)) {
      await this.locks.run(connection.id, async () => {
        const from = this.byId.get(connection.id);
        if (!from) return;
        const kind = this.kinds.get(from.eventType);
        const to: StoredConnection = {
          ...from,
          id: connectionId(newRoomId, from.eventType, from.stateKey),
          roomId: newRoomId,
        };
        if (this.byId.has(to.id)) {
          this.logger.warn({ roomId: newRoomId, connectionId: to.id }, 'connection already moved');
          return;
        }
        await this.writeState(to, to.config);
        await this.db.transaction(async (trx) => {
          await saveConnection(trx, this.toRecord(to));
          await kind?.moved?.(trx, from, to);
          await deleteConnection(trx, from.id);
        });
        this.byId.delete(from.id);
        kind?.removed?.(from);
        this.byId.set(to.id, to);
        kind?.committed?.(to);
        moved++;
        this.logger.info(
          { from: oldRoomId, to: newRoomId, connectionId: to.id, eventType: to.eventType },
          'connection moved to the upgraded room',
        );
        await this.writeState(from, kind?.tombstone ?? { disabled: true }).catch((err: unknown) =>
          this.logger.warn({ err, roomId: oldRoomId }, 'could not mark a moved connection removed'),
        );
      });
    }
    return moved;
  }

  /**
   * Someone changed a connection's state event in the room by hand (as hookshot, this is
   * configuration): `{"disabled": true}` or empty content removes the connection,
   * other content replaces its config. Senders without the bridge permission to manage the
   * service, and content that does not validate, get the stored state written back (and, for
   * invalid content, a notice saying why). New state events create nothing.
   */
  async applyStateEdit(event: RoomEvent): Promise<void> {
    if (event.stateKey === undefined || event.sender === this.bot.userId) return;
    const declaration = connectionTypeOf(event.type);
    if (!declaration) return;
    const id = connectionId(event.roomId, declaration.eventType, event.stateKey);
    const log = { roomId: event.roomId, connectionId: id, sender: event.sender };
    if (!this.byId.has(id)) {
      this.logger.info(
        { ...log, eventType: event.type, stateKey: event.stateKey },
        'connection state written by hand for no connection: ignored (connections are created through the provisioning API)',
      );
      return;
    }
    await this.locks.run(id, async () => {
      const current = this.byId.get(id);
      if (!current) return;
      const kind = this.kinds.get(current.eventType);
      if (
        !(await this.bot.permissions.allows(event.sender, current.service, 'manageConnections'))
      ) {
        this.logger.warn(log, 'connection state changed by a user without permission: put back');
        await this.restoreState(current, current.config);
        return;
      }
      const content = event.content;
      if (content.disabled === true || Object.keys(content).length === 0) {
        await this.forget(current);
        this.logger.info(log, 'connection removed in the room state');
        return;
      }
      if (!kind) return;
      let prepared: PreparedConnection;
      try {
        // The state replaces the config: merged over nothing, not over the stored config.
        prepared = await kind.update({
          userId: event.sender,
          current: { ...current, config: {} },
          body: content,
        });
      } catch (err) {
        if (!(err instanceof ConnectionError)) throw err;
        this.logger.warn({ ...log, error: err.message }, 'invalid connection state: put back');
        await this.restoreState(current, current.config);
        this.bot.post(
          event.roomId,
          notice(
            `The change to the connection "${current.stateKey}" was not applied: ${err.message}`,
          ),
        );
        return;
      }
      const connection: StoredConnection = {
        ...current,
        config: prepared.config,
        secrets: prepared.secrets !== undefined ? prepared.secrets : current.secrets,
      };
      await this.store(kind, connection, false);
      this.logger.info(log, 'connection changed in the room state');
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

  /**
   * Room state first, then the rows (no transaction stays open while the homeserver answers):
   * a refused or failed state write stores nothing; rows that cannot be stored put the
   * previous state back.
   */
  private async write(
    kind: ConnectionKind,
    connection: StoredConnection,
    previous: StoredConnection | undefined,
  ) {
    await this.writeState(connection, connection.config);
    try {
      await this.store(kind, connection, previous === undefined);
    } catch (err) {
      await this.restoreState(connection, previous?.config ?? kind.tombstone);
      throw err;
    }
  }

  /** The connection's row and the kind's rows in one transaction, then memory. */
  private async store(kind: ConnectionKind, connection: StoredConnection, created: boolean) {
    await this.db.transaction(async (trx) => {
      await saveConnection(trx, this.toRecord(connection));
      await kind.persist?.(trx, connection, created);
    });
    this.byId.set(connection.id, connection);
    kind.committed?.(connection);
  }

  /** Deletes the connection's rows (the kind's with them) and forgets it. */
  private async forget(connection: StoredConnection): Promise<void> {
    const kind = this.kinds.get(connection.eventType);
    await kind?.remove?.(connection);
    await deleteConnection(this.db, connection.id);
    this.byId.delete(connection.id);
    kind?.removed?.(connection);
  }

  /** Best effort: the room state back to what is stored (logged when even that fails). */
  private async restoreState(connection: StoredConnection, content: Record<string, unknown>) {
    try {
      await this.writeState(connection, content);
    } catch (err) {
      this.logger.error(
        { err, roomId: connection.roomId, connectionId: connection.id },
        'could not put the room state of a connection back',
      );
    }
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

  /**
   * A connection as answered: secrets only in PUT and PATCH answers; the kind's `config`
   * additions (a webhook's URL, which Dimension reads there) for users who may manage it.
   */
  private async item(
    connection: StoredConnection,
    withSecrets: boolean,
    managed: boolean,
  ): Promise<ConnectionItem> {
    const item = this.baseItem(connection);
    const secrets = await this.kinds.get(connection.eventType)?.secrets?.(connection);
    if (managed && secrets?.config) item.config = { ...item.config, ...secrets.config };
    const shown = {
      ...(withSecrets ? secrets?.shown : undefined),
      ...secrets?.always,
    };
    return Object.keys(shown).length > 0 || (withSecrets && secrets?.shown)
      ? { ...item, secrets: shown }
      : item;
  }

  /**
   * Which of these connections the user may manage: the power level to send its state event,
   * and the bridge permission to manage its service.
   */
  private async managedBy(
    roomId: string,
    userId: string,
    connections: readonly StoredConnection[],
  ): Promise<(connection: StoredConnection) => boolean> {
    if (connections.length === 0) return () => false;
    let levels: Record<string, unknown> | null = null;
    try {
      levels = await this.bot.powerLevels(roomId);
    } catch (err) {
      this.logger.warn({ err, roomId }, 'could not read power levels');
    }
    if (!levels) return () => false;
    const managed = new Set<string>();
    for (const { eventType, service } of connections) {
      const key = `${eventType} ${service}`;
      if (managed.has(key)) continue;
      const level = powerLevelOf(levels, userId) >= requiredStateLevel(levels, eventType);
      if (level && (await this.bot.permissions.allows(userId, service, 'manageConnections'))) {
        managed.add(key);
      }
    }
    return (c) => managed.has(`${c.eventType} ${c.service}`);
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
