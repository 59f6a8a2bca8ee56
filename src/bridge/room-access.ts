import { HomeserverError, HomeserverUnreachableError } from '../matrix/matrix-errors';
import { BridgeUnavailableError, ConnectionError } from './connection-errors';

/**
 * The provisioning bot's state: `running`; `starting` (its first start is under way);
 * `unavailable` (its start failed and is retried: the homeserver cannot be reached, or it
 * refused the bot's login); `unconfigured` (no `provisioning.bot`).
 */
export type BotStatus = 'running' | 'starting' | 'unavailable' | 'unconfigured';

/** What the access check needs of the bot. */
export interface RoomAccessBot {
  readonly userId: string;
  readonly status: BotStatus;
  isJoined(roomId: string): boolean;
  /** Waits briefly for the bot to join (an invite just sent); true once it is in the room. */
  awaitJoin(roomId: string): Promise<boolean>;
  membership(roomId: string, userId: string): Promise<string | null>;
  powerLevels(roomId: string): Promise<Record<string, unknown> | null>;
}

export const BRIDGE_UNAVAILABLE =
  'The bridge is unavailable: its Matrix bot is not running (starting, or the homeserver cannot be reached). Try again later.';
export const NO_BOT_CONFIGURED =
  'No provisioning bot is configured (provisioning.bot), so the bridge cannot serve rooms.';

/** Refuses room operations while the bot cannot act: hookshot's HS_UNKNOWN, as 503. */
function checkBotAvailable(bot: Pick<RoomAccessBot, 'status'>): void {
  if (bot.status === 'unconfigured') {
    throw new ConnectionError('HS_DISABLED_FEATURE', NO_BOT_CONFIGURED);
  }
  if (bot.status !== 'running') throw unavailable();
}

const unavailable = () => new BridgeUnavailableError(BRIDGE_UNAVAILABLE);

/** The homeserver could not be asked (down, or failing): the bridge is unavailable. */
async function askHomeserver<T>(question: () => Promise<T>): Promise<T> {
  try {
    return await question();
  } catch (err) {
    if (
      err instanceof HomeserverUnreachableError ||
      (err instanceof HomeserverError && err.status >= 500)
    ) {
      throw unavailable();
    }
    throw err;
  }
}

const numberOr = (value: unknown, fallback: number): number =>
  typeof value === 'number' && Number.isFinite(value) ? value : fallback;

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/** A member's power level: their own entry, else users_default, else 0 (explicit 0 counts). */
export function powerLevelOf(levels: Record<string, unknown>, userId: string): number {
  return numberOr(record(levels.users)[userId], numberOr(levels.users_default, 0));
}

/** The level needed to send a state event of this type: events[type], else state_default, else 50. */
export function requiredStateLevel(levels: Record<string, unknown>, eventType: string): number {
  return numberOr(record(levels.events)[eventType], numberOr(levels.state_default, 50));
}

/** The homeserver refused (not: failed, or asked to slow down). */
const isRefusal = (err: unknown): boolean =>
  err instanceof HomeserverError && err.status < 500 && err.status !== 429;

/**
 * The bot must be running and in the room and the user joined to it (read); to change
 * connections both need the power level to send the connection's state event (write). The bot
 * is checked first. With `waitForJoin`, a bot that is not in the room yet gets a moment to
 * join (an integration manager invites it and sends the request at once).
 */
export async function checkRoomAccess(
  bot: RoomAccessBot,
  roomId: string,
  userId: string,
  writeEventType?: string,
  { waitForJoin = false } = {},
): Promise<void> {
  checkBotAvailable(bot);
  if (!bot.isJoined(roomId) && !(waitForJoin && (await bot.awaitJoin(roomId)))) {
    checkBotAvailable(bot);
    throw new ConnectionError('HS_NOT_IN_ROOM', 'Bot is not joined to the room.');
  }
  let membership: string | null;
  try {
    membership = await askHomeserver(() => bot.membership(roomId, userId));
  } catch (err) {
    if (err instanceof HomeserverError && err.status < 500) {
      throw new ConnectionError(
        'HS_NOT_IN_ROOM',
        'Could not determine if the user is in the room.',
      );
    }
    throw err;
  }
  if (membership !== 'join') {
    throw new ConnectionError('HS_NOT_IN_ROOM', 'User is not joined to the room.');
  }
  if (writeEventType === undefined) return;

  let levels: Record<string, unknown> | null;
  try {
    levels = await askHomeserver(() => bot.powerLevels(roomId));
  } catch (err) {
    if (!isRefusal(err)) throw err;
    levels = null;
  }
  if (!levels) {
    throw new ConnectionError(
      'HS_NOT_IN_ROOM',
      `Could not get power levels for ${roomId}. Is the bot invited?`,
    );
  }
  const required = requiredStateLevel(levels, writeEventType);
  const botLevel = powerLevelOf(levels, bot.userId);
  if (botLevel < required) {
    throw new ConnectionError(
      'HS_FORBIDDEN_BOT',
      `Bot has a PL of ${botLevel} but needs at least ${required}.`,
    );
  }
  const userLevel = powerLevelOf(levels, userId);
  if (userLevel < required) {
    throw new ConnectionError(
      'HS_FORBIDDEN_USER',
      `User has a PL of ${userLevel} but needs at least ${required}.`,
    );
  }
}
