import type { Logger } from '../logging/logger';
import type { RoomEvent } from '../matrix/bot-client';
import { ConnectionError } from './connection-errors';
import type { ConnectionService } from './connection-service';

/** What following a room upgrade needs of the bot. */
export interface UpgradeBot {
  isJoined(roomId: string): boolean;
  join(roomIdOrAlias: string): Promise<string>;
  stateContent(
    roomId: string,
    type: string,
    stateKey?: string,
  ): Promise<Record<string, unknown> | null>;
}

/**
 * Follows room upgrades as hookshot does: a tombstone in a room with connections makes the bot
 * join the replacement room, and once it is in there (and may write state there) the
 * connections move over. A join that needs an invite, or power that is not there yet, is
 * waited for: the move is tried again when the bot joins the new room or its power levels
 * change. Pending upgrades live in memory only.
 */
export class RoomUpgrades {
  /** Replacement room → the room it replaces. */
  private readonly pending = new Map<string, string>();
  private readonly moving = new Set<string>();

  constructor(
    private readonly bot: UpgradeBot,
    private readonly connections: ConnectionService,
    private readonly logger: Logger,
  ) {}

  /** An m.room.tombstone arrived in a room the bot is in. */
  tombstone(event: RoomEvent): void {
    const newRoomId = event.content.replacement_room;
    if (typeof newRoomId !== 'string' || event.stateKey !== '') return;
    if (this.connections.inRoom(event.roomId).length === 0) return;
    this.pending.set(newRoomId, event.roomId);
    this.logger.info(
      { from: event.roomId, to: newRoomId },
      'room upgraded: the bot follows it with the connections',
    );
    this.bot
      .join(newRoomId)
      .catch((err: unknown) =>
        this.logger.warn(
          { err, roomId: newRoomId },
          'could not join the upgraded room yet (invite the bot there)',
        ),
      )
      .finally(() => void this.tryMove(newRoomId));
  }

  /** The bot joined a room, or a room's power levels changed: a pending move may go now. */
  retry(roomId: string): void {
    if (this.pending.has(roomId)) void this.tryMove(roomId);
  }

  private async tryMove(newRoomId: string): Promise<void> {
    const oldRoomId = this.pending.get(newRoomId);
    if (oldRoomId === undefined || this.moving.has(newRoomId)) return;
    if (!this.bot.isJoined(newRoomId)) return;
    this.moving.add(newRoomId);
    try {
      const create = await this.bot.stateContent(newRoomId, 'm.room.create');
      const predecessor = create?.predecessor as { room_id?: unknown } | undefined;
      if (predecessor?.room_id !== oldRoomId) {
        this.pending.delete(newRoomId);
        this.logger.error(
          { from: oldRoomId, to: newRoomId },
          'the replacement room does not name the old room as its predecessor: not moving the connections',
        );
        return;
      }
      await this.connections.moveRoom(oldRoomId, newRoomId);
      this.pending.delete(newRoomId);
    } catch (err) {
      const refused = err instanceof ConnectionError && err.errcode === 'HS_FORBIDDEN_BOT';
      this.logger.warn(
        { err, from: oldRoomId, to: newRoomId },
        refused
          ? 'the bot may not write state in the upgraded room yet: waiting for its power level'
          : 'could not move the connections to the upgraded room',
      );
    } finally {
      this.moving.delete(newRoomId);
    }
  }
}
