import type { Knex } from 'knex';
import { ClientPool, type ClientPoolOptions, type RunnableClient } from '../clients/client-pool';
import type { Config } from '../config/schema';
import {
  findBotSession,
  saveBotSession,
  saveBotSyncPosition,
} from '../db/provisioning-bot-repository';
import type { Logger } from '../logging/logger';
import {
  PROFILE_DISABLED,
  type BotClient,
  type MembershipChange,
  type RoomEvent,
} from '../matrix/bot-client';
import { homeserverApi } from '../matrix/homeserver-api';
import { HomeserverError, HomeserverUnreachableError } from '../matrix/matrix-errors';
import type { SecretBox } from '../secrets/secret-box';
import { BridgePermissions } from './bridge-permissions';
import { contentBudget, fitMessage, TOO_LARGE_TEXT } from './event-size';
import type { BotStatus } from './room-access';
import { notice, type MessageContent, type RoomMessenger } from './room-messenger';
import { RoomSendQueue, type SendDone } from './room-send-queue';
import { AdaptiveConcurrency } from './send-concurrency';

export interface SendRetryOptions {
  /** Attempts per message, the first included. */
  attempts: number;
  /** Delay before the first retry; doubles per attempt. */
  baseDelayMs: number;
}

const DEFAULT_SEND_RETRY: SendRetryOptions = { attempts: 7, baseDelayMs: 500 };
const MESSAGE = 'm.room.message';
const DEVICE_NAME = 'Switchboard provisioning bot';
const INVITE_REFUSAL = 'You do not have permission to invite this bot.';
/** How long a request waits for an invite to the bot to show up in its sync... */
const INVITE_WAIT_MS = 2_000;
/** ...and for a join under way to complete. */
const JOIN_WAIT_MS = 10_000;

export interface ProvisioningBotOptions {
  config: Config;
  db: Knex;
  secrets: SecretBox;
  logger: Logger;
  pool?: ClientPoolOptions;
  sendRetry?: SendRetryOptions;
}

/** Worth another try: rate limited, a server error, or no answer at all. */
function retryAfter(err: unknown, delayMs: number): number | null {
  if (err instanceof HomeserverUnreachableError) return delayMs;
  if (!(err instanceof HomeserverError)) return null;
  if (err.status === 429) {
    const hinted = err.body.retry_after_ms;
    return typeof hinted === 'number' && hinted > 0 ? Math.max(hinted, delayMs) : delayMs;
  }
  return err.status >= 500 ? delayMs : null;
}

/** The homeserver is overloaded or away: fewer sends should run at once. */
function congested(err: unknown): boolean {
  if (err instanceof HomeserverUnreachableError) return true;
  return err instanceof HomeserverError && (err.status === 429 || err.status >= 500);
}

const tooLarge = (err: unknown): boolean =>
  err instanceof HomeserverError && (err.errcode === 'M_TOO_LARGE' || err.status === 413);

/**
 * The bridge's Matrix account (botUserId): writes connection state and posts notices. It
 * knows the rooms it is joined to, joins rooms it is invited to by permitted users, and sends
 * each room's messages one after another, retrying rate limits and server errors.
 */
export class ProvisioningBot implements RoomMessenger {
  readonly userId: string;
  readonly permissions: BridgePermissions;
  private readonly pool: ClientPool;
  private readonly queue: RoomSendQueue;
  private readonly eventListeners: ((event: RoomEvent) => void)[] = [];
  /** Bytes a message's content may take in each room (its id is part of the event's size). */
  private readonly budgets = new Map<string, number>();
  private readonly membershipListeners: ((change: MembershipChange) => void)[] = [];
  private readonly startedListeners: (() => void)[] = [];
  private client: BotClient | undefined;
  /** The running bot has processed a first sync. */
  private synced = false;
  /** The last start attempt failed (a retry is scheduled, or the bot was disabled). */
  private startFailed = false;
  private readyWaiters: (() => void)[] = [];

  constructor(private readonly options: ProvisioningBotOptions) {
    const { config, logger } = options;
    this.userId = config.provisioning.botUserId;
    const retry = options.sendRetry ?? DEFAULT_SEND_RETRY;
    // The homeserver's capacity is learnt from its answers: a burst of webhooks queues (each
    // room in order) rather than opening a request per message, and as many sends run at once
    // as the homeserver takes without slowing down.
    this.queue = new RoomSendQueue({
      send: (roomId, type, body) => this.sendNow(roomId, type, body),
      concurrency: new AdaptiveConcurrency(),
      congested,
      retryDelay: (err, attempt) =>
        attempt < retry.attempts ? retryAfter(err, retry.baseDelayMs * 2 ** (attempt - 1)) : null,
      retrying: (roomId, err, attempt, retryInMs) =>
        logger.warn({ err, roomId, attempt, retryInMs }, 'could not send to a room; retrying'),
    });
    this.permissions = new BridgePermissions(
      config.provisioning.permissions,
      this.userId,
      async (roomId, userId) => (await this.membership(roomId, userId)) === 'join',
    );
    this.pool = new ClientPool(
      {
        load: () => this.runnable(),
        failed: () => {
          this.startFailed = true;
        },
        disable: async (_id, reason) => {
          logger.error({ reason }, 'the provisioning bot cannot run: %s', reason);
          await this.forgetLoginToken();
        },
        savePosition: (id, position) => saveBotSyncPosition(options.db, id, position),
        started: (_id, bot) => this.started(bot),
        stopped: () => {
          this.client = undefined;
          this.synced = false;
        },
      },
      logger,
      options.pool,
    );
  }

  get configured(): boolean {
    return this.options.config.provisioning.bot !== null;
  }

  get status(): BotStatus {
    if (!this.configured) return 'unconfigured';
    if (this.client) return 'running';
    return this.startFailed ? 'unavailable' : 'starting';
  }

  /** Whether the running bot's sync works (false while the homeserver cannot be reached). */
  get syncing(): boolean {
    return this.client?.syncOk ?? false;
  }

  /** Starts syncing in the background (retried while the homeserver is unreachable). */
  start(): void {
    if (!this.configured) {
      this.options.logger.warn(
        'provisioning.bot is not configured: connections cannot be created until it is',
      );
      return;
    }
    void this.pool.start(this.userId);
  }

  /** Resolves once the bot runs, knows its rooms and has processed a first sync. */
  ready(): Promise<void> {
    if (this.client && this.synced) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    await this.pool.stopAll();
  }

  /** Whether the bot is joined to the room (false while it is not running). */
  isJoined(roomId: string): boolean {
    return this.client?.isJoined(roomId) ?? false;
  }

  /** Room events as they arrive (after the first sync). */
  onRoomEvent(listener: (event: RoomEvent) => void): void {
    this.eventListeners.push(listener);
  }

  /** The bot runs (again), knowing the rooms it is in. */
  onStarted(listener: () => void): void {
    this.startedListeners.push(listener);
  }

  /** The bot joined, left, was kicked or banned, or was invited. */
  onMembership(listener: (change: MembershipChange) => void): void {
    this.membershipListeners.push(listener);
  }

  /**
   * Resolves true once the bot is in the room: at once when it is; after its join when an
   * invite is under way (or shows up in a moment); false when none comes or it is refused.
   */
  awaitJoin(roomId: string): Promise<boolean> {
    const bot = this.client;
    if (!bot) return Promise.resolve(false);
    if (bot.isJoined(roomId)) return Promise.resolve(true);
    const since = Date.now();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (joined: boolean) => {
        clearTimeout(timer);
        const i = this.membershipListeners.indexOf(listener);
        if (i >= 0) this.membershipListeners.splice(i, 1);
        resolve(joined);
      };
      const wait = (ms: number) => {
        clearTimeout(timer);
        timer = setTimeout(() => finish(this.isJoined(roomId)), since + ms - Date.now());
      };
      const listener = (change: MembershipChange) => {
        if (change.roomId !== roomId) return;
        if (change.membership === 'join') finish(true);
        else if (change.membership === 'invite') wait(JOIN_WAIT_MS);
        else finish(false);
      };
      this.membershipListeners.push(listener);
      wait(bot.membershipOf(roomId) === 'invite' ? JOIN_WAIT_MS : INVITE_WAIT_MS);
    });
  }

  /** A user's membership in a room the bot is in ("join", "invite", ...) or null. */
  async membership(roomId: string, userId: string): Promise<string | null> {
    return this.running().getMembership(roomId, userId);
  }

  async powerLevels(roomId: string): Promise<Record<string, unknown> | null> {
    return this.running().getPowerLevels(roomId);
  }

  /** A state event's content, or null when the room has none. */
  async stateContent(
    roomId: string,
    type: string,
    stateKey = '',
  ): Promise<Record<string, unknown> | null> {
    return this.running().getState(roomId, type, stateKey);
  }

  async join(roomIdOrAlias: string): Promise<string> {
    return this.running().joinRoom(roomIdOrAlias);
  }

  async setState(
    roomId: string,
    type: string,
    stateKey: string,
    content: Record<string, unknown>,
  ): Promise<string> {
    return this.running().setState(roomId, type, stateKey, content);
  }

  async download(mxcUrl: string): Promise<{ data: Buffer; contentType: string }> {
    return this.running().downloadMedia(mxcUrl);
  }

  send(roomId: string, content: MessageContent, type = MESSAGE): Promise<string> {
    return new Promise((resolve, reject) => {
      this.queue.enqueue(roomId, type, this.serialise(roomId, type, content), (err, eventId) => {
        if (err === null) resolve(eventId!);
        else reject(err);
      });
    });
  }

  post(roomId: string, content: MessageContent, done?: SendDone): void {
    this.queue.enqueue(roomId, MESSAGE, this.serialise(roomId, MESSAGE, content), done);
  }

  get backlog(): number {
    return this.queue.backlog;
  }

  /** A message as JSON text, made to fit the homeserver's event size limit (and said so). */
  private serialise(roomId: string, type: string, content: MessageContent): string {
    if (type !== MESSAGE) return JSON.stringify(content);
    let budget = this.budgets.get(roomId);
    if (budget === undefined) {
      budget = contentBudget(roomId, this.userId, type);
      this.budgets.set(roomId, budget);
    }
    const fitted = fitMessage(content, budget);
    if (fitted.steps.length > 0) {
      this.options.logger.warn(
        {
          roomId,
          bytes: Buffer.byteLength(JSON.stringify(content)),
          fittedBytes: Buffer.byteLength(fitted.json),
          dropped: fitted.steps,
        },
        'a message was too large for a Matrix event; posting it shortened',
      );
    }
    return fitted.json;
  }

  /**
   * One send to the homeserver. A message it still refuses as too large (its limit may be lower
   * than the spec's) is replaced by a short notice, so the room learns that something is missing.
   */
  private async sendNow(roomId: string, type: string, body: string): Promise<string> {
    const bot = this.running();
    try {
      return await bot.sendSerialisedEvent(roomId, type, body);
    } catch (err) {
      if (type !== MESSAGE || !tooLarge(err)) throw err;
      this.options.logger.error(
        { roomId, bytes: Buffer.byteLength(body), err },
        'the homeserver refused a message as too large; posting a notice instead',
      );
      return bot.sendEvent(roomId, type, notice(TOO_LARGE_TEXT));
    }
  }

  private running(): BotClient {
    if (!this.client) {
      throw new HomeserverUnreachableError('the provisioning bot is not running');
    }
    return this.client;
  }

  /** Runs with the rooms it is joined to known (read before its first sync). */
  private started(bot: BotClient): void {
    const { logger } = this.options;
    bot.onRoomEvent((event) => {
      for (const listener of this.eventListeners) listener(event);
    });
    // Members of these rooms are permission actors: the bot must see their memberships.
    for (const roomId of this.permissions.actorRooms) {
      if (bot.isJoined(roomId)) continue;
      bot
        .joinRoom(roomId)
        .catch((err: unknown) => logger.warn({ err, roomId }, 'could not join a permission room'));
    }
    this.client = bot;
    this.startFailed = false;
    logger.info(
      { userId: this.userId, rooms: bot.joinedRoomIds().length },
      'provisioning bot started',
    );
    for (const listener of this.startedListeners) listener();
    void bot.synced().then(() => {
      if (this.client !== bot) return;
      this.synced = true;
      for (const resolve of this.readyWaiters.splice(0)) resolve();
    });
  }

  private membershipChanged(change: MembershipChange): void {
    const { roomId, membership, sender, reason } = change;
    const by = sender !== undefined && sender !== this.userId ? sender : undefined;
    this.options.logger.info(
      { roomId, membership, ...(by ? { by } : {}), ...(reason ? { reason } : {}) },
      membership === 'join'
        ? 'the provisioning bot joined a room'
        : membership === 'invite'
          ? 'the provisioning bot was invited to a room'
          : by
            ? `the provisioning bot was ${membership === 'ban' ? 'banned from' : 'kicked from'} a room`
            : 'the provisioning bot left a room',
    );
    for (const listener of [...this.membershipListeners]) listener(change);
  }

  /** The bot as a runnable client: the configured token, or one from a (stored) login. */
  private async runnable(): Promise<RunnableClient | null> {
    const bot = this.options.config.provisioning.bot;
    if (!bot) return null;
    const { db, secrets } = this.options;
    let session = await findBotSession(db, this.userId);
    if (session && session.homeserver !== bot.homeserver) session = null;
    let accessToken = bot.accessToken;
    let deviceId = session?.deviceId ?? '';
    if (accessToken === null && session?.accessToken) {
      accessToken = secrets.open(session.accessToken);
    }
    if (accessToken === null || (bot.accessToken === null && !session?.accessToken)) {
      const login = await homeserverApi.passwordLogin(bot.homeserver, {
        username: this.userId,
        password: bot.password!,
        deviceId: deviceId || `SWITCHBOARD_${Date.now().toString(36).toUpperCase()}`,
        deviceName: DEVICE_NAME,
      });
      accessToken = login.access_token;
      deviceId = login.device_id;
      session = null;
    }
    if (!session || bot.accessToken === null) {
      session = {
        userId: this.userId,
        homeserver: bot.homeserver,
        accessToken: bot.accessToken === null ? secrets.seal(accessToken) : null,
        deviceId: bot.accessToken === null ? deviceId : '',
        nextBatch: session?.nextBatch ?? '',
        filterId: session?.filterId ?? '',
      };
      await saveBotSession(db, session);
    }
    return {
      id: this.userId,
      homeserver: bot.homeserver,
      accessToken,
      deviceId: session.deviceId,
      enabled: true,
      sync: true,
      autojoin: false,
      online: true,
      displayname: bot.displayname ?? PROFILE_DISABLED,
      avatarUrl: PROFILE_DISABLED,
      nextBatch: session.nextBatch,
      filterId: session.filterId,
      acceptInvite: async (_roomId, inviter) =>
        inviter !== null && (await this.permissions.allows(inviter, '*', 'login')),
      inviteRefusal: INVITE_REFUSAL,
      ignoreOwnEvents: true,
      // Outbound hooks get the room messages sent while Switchboard was stopped.
      catchUp: true,
      trackRooms: true,
      onMembership: (change) => this.membershipChanged(change),
    };
  }

  /** A rejected login token is dropped so that the next start logs in again. */
  private async forgetLoginToken(): Promise<void> {
    const session = await findBotSession(this.options.db, this.userId);
    if (session?.accessToken) {
      await saveBotSession(this.options.db, { ...session, accessToken: null, nextBatch: '' });
    }
  }
}
