// First: SDK modules bind its logger's methods when loaded, which must already lead to ours.
import { sdkLogger } from './sdk-logger';
import {
  ClientEvent,
  createClient,
  Filter,
  HttpApiEvent,
  Method,
  SyncState,
  type MatrixClient,
  type MatrixEvent,
} from 'matrix-js-sdk';
import type { Logger } from '../logging/logger';
import { CatchUp } from './catch-up';
import { PersistedPositionStore, type SyncPosition } from './sync-store';

import { HOMESERVER_TIMEOUT_MS } from './homeserver-api';
import { fetchMedia, sendJson } from './homeserver-http';
import { HomeserverError, IdentityMismatchError, toHomeserverError, viaSdk } from './matrix-errors';
import { RoomMemberships, type MembershipChange } from './room-memberships';

export type { SyncPosition };
export type { MembershipChange };

/** The literal profile value that means "leave this profile field alone". */
export const PROFILE_DISABLED = 'disable';

export interface BotClientOptions {
  userId: string;
  homeserver: string;
  accessToken: string;
  /** "" when unknown. */
  deviceId: string;
  sync: boolean;
  autojoin: boolean;
  online: boolean;
  displayname: string;
  avatarUrl: string;
  /** Where the last run stopped ("" = never synced). */
  nextBatch: string;
  filterId: string;
  logger: Logger;
  /** A new sync token or filter id to keep for the next start. */
  onSyncPosition(position: SyncPosition): void;
  /** The homeserver rejected the token while running (logged out, deactivated). */
  onTokenRejected(error: HomeserverError): void;
  /**
   * Decides on each invite instead of `autojoin`: true joins, false leaves with the reason
   * returned by `inviteRefusal`.
   */
  acceptInvite?(roomId: string, inviter: string | null): Promise<boolean>;
  /** Leave reason for a refused invite. */
  inviteRefusal?: string;
  /**
   * Leave the account's own events out of sync (a bridge that posts a lot would otherwise
   * receive every message it sends). Its own joins and leaves then show nowhere in sync: the
   * client tracks its rooms from the rooms sync lists and from its own joins and leaves.
   */
  ignoreOwnEvents?: boolean;
  /**
   * Deliver the events of the first sync after a start that resumes from a stored position
   * (what happened while the client was stopped), and fetch the events a limited sync left out
   * (maubot's clients skip both, as maubot does).
   */
  catchUp?: boolean;
  /** Read the joined rooms (/joined_rooms) before the first sync, so isJoined() is right at once. */
  trackRooms?: boolean;
  /** The account's membership of a room changed (registered before the first sync). */
  onMembership?(change: MembershipChange): void;
  /** `syncOk` changed (its readers may keep what they made from it until then). */
  onSyncOkChange?(): void;
}

/** A room event as delivered by sync, without SDK types. */
export interface RoomEvent {
  roomId: string;
  /** Absent for the stripped state shown with an invite. */
  eventId?: string;
  type: string;
  sender: string;
  stateKey?: string;
  content: Record<string, unknown>;
  originServerTs: number;
}

// maubot's sync filter: recent timeline, lazy-loaded members, no presence.
const SYNC_FILTER = {
  room: { timeline: { limit: 50 }, state: { lazy_load_members: true } },
  presence: { not_types: ['*'] },
};

/** Pages of /messages fetched to fill one gap: beyond that many events the rest is skipped. */
const MAX_GAP_PAGES = 50;
const GAP_PAGE_SIZE = 100;
/** How many recent event ids are remembered to hand each event to listeners once. */
const RECENT_EVENT_IDS = 1024;

/** An event as /messages answers it. */
interface PaginatedEvent {
  event_id: string;
  type: string;
  sender: string;
  state_key?: string;
  content?: Record<string, unknown>;
  origin_server_ts: number;
}

function toRoomEvent(event: MatrixEvent): RoomEvent | null {
  const roomId = event.getRoomId();
  if (!roomId) return null;
  return {
    roomId,
    eventId: event.getId(),
    type: event.getType(),
    sender: event.getSender() ?? '',
    stateKey: event.getStateKey(),
    content: event.getContent(),
    originServerTs: event.getTs(),
  };
}

/** One Matrix account, driven by matrix-js-sdk: sync loop, profile, autojoin, room operations. */
export class BotClient {
  readonly userId: string;
  private readonly sdk: MatrixClient;
  private readonly store: PersistedPositionStore;
  private readonly logger: Logger;
  private options: BotClientOptions;
  private syncing = false;
  private ok = true;
  private rejected = false;
  private readonly joining = new Set<string>();
  /** The sync running now resumed from a stored position (see `catchUp`). */
  private resumed = false;
  /** The homeserver has no authenticated media: downloads use the older endpoint. */
  private legacyMedia = false;
  private readonly catchUp: CatchUp | undefined;
  private readonly memberships: RoomMemberships;
  /** The /joined_rooms read under way, if any. */
  private refreshing: Promise<void> | undefined;
  private markSynced!: () => void;
  private readonly firstSync = new Promise<void>((resolve) => (this.markSynced = resolve));
  /** Ids of the latest events handed to listeners, oldest first. */
  private readonly recentEventIds = new Set<string>();
  private eventListeners: ((event: RoomEvent) => void)[] = [];
  remoteDisplayname: string | null = null;
  remoteAvatarUrl: string | null = null;

  constructor(options: BotClientOptions) {
    this.options = options;
    this.userId = options.userId;
    this.memberships = new RoomMemberships(options.userId, (change) =>
      this.options.onMembership?.(change),
    );
    this.logger = options.logger;
    if (options.catchUp) {
      this.catchUp = new CatchUp({
        emit: (event) => this.emit(event),
        fetchGap: (roomId, from, to) => this.fetchGap(roomId, from, to),
        logger: options.logger,
      });
    }
    this.store = new PersistedPositionStore(
      options.nextBatch || null,
      options.filterId || null,
      (position) => options.onSyncPosition(position),
      (data, since) => {
        // The events held back for catching up first, as the SDK hands over the events of
        // clients that do not catch up: a room's last events before a kick reach the listeners.
        this.catchUp?.synced(data, since);
        for (const { roomId, inviter } of this.memberships.fromSync(data)) {
          this.onInvite(roomId, inviter);
        }
      },
    );
    this.sdk = createClient({
      baseUrl: options.homeserver.replace(/\/+$/, ''),
      accessToken: options.accessToken,
      userId: options.userId,
      deviceId: options.deviceId || undefined,
      store: this.store,
      logger: sdkLogger(options.logger),
      // No request may hang a start; /sync sets its own, longer limit.
      localTimeoutMs: HOMESERVER_TIMEOUT_MS,
      useAuthorizationHeader: true,
    });
    this.sdk.on(ClientEvent.Sync, (state, _prev, data) => {
      if (state === SyncState.Prepared || state === SyncState.Syncing) {
        this.setOk(true);
        this.markSynced();
      } else if (state === SyncState.Error || state === SyncState.Reconnecting) {
        this.setOk(false, data?.error);
        // The SDK stops syncing for good on a rejected token; so does the owner.
        const error = toHomeserverError(data?.error);
        if (error instanceof HomeserverError && error.tokenRejected) this.tokenRejected(error);
      }
    });
    this.sdk.on(HttpApiEvent.SessionLoggedOut, (err) => {
      const error = toHomeserverError(err);
      if (error instanceof HomeserverError) this.tokenRejected(error);
    });
    this.sdk.on(ClientEvent.Event, (event) => this.onEvent(event));
  }

  /** Resolves once a first sync has been processed (events after it reach the listeners). */
  synced(): Promise<void> {
    return this.firstSync;
  }

  /** False after a failed sync until the next successful one. */
  get syncOk(): boolean {
    return this.ok;
  }

  get isSyncing(): boolean {
    return this.syncing;
  }

  /** Events as they arrive from sync (not the initial sync's backlog). */
  onRoomEvent(listener: (event: RoomEvent) => void): void {
    this.eventListeners.push(listener);
  }

  /** Whether the account is joined to the room, as far as the homeserver has told. */
  isJoined(roomId: string): boolean {
    return this.memberships.isJoined(roomId);
  }

  /** The account's membership of a room it is joined or invited to. */
  membershipOf(roomId: string): 'join' | 'invite' | undefined {
    return this.memberships.of(roomId);
  }

  /** The rooms the account is joined to, as far as the homeserver has told. */
  joinedRoomIds(): string[] {
    return this.memberships.joined();
  }

  /**
   * maubot's start: the homeserver answers, the token is this account's (and device's), the
   * managed profile fields are pushed, sync starts, the remote profile is read back.
   */
  async start(): Promise<void> {
    await viaSdk(() => this.sdk.getVersions());
    const whoami = await viaSdk(() => this.sdk.whoami());
    if (whoami.user_id !== this.userId) throw new IdentityMismatchError('user', whoami.user_id);
    if (this.options.deviceId && whoami.device_id && whoami.device_id !== this.options.deviceId) {
      throw new IdentityMismatchError('device', whoami.device_id);
    }
    await this.pushProfile();
    this.setOk(true, undefined, false);
    // Where the account is when it starts: known, not news (no membership notifications).
    if (this.options.trackRooms) {
      for (const roomId of await this.joinedRooms()) this.memberships.known(roomId);
    }
    if (this.options.sync) await this.startSync();
    await this.refreshRemoteProfile();
  }

  stop(): void {
    this.stopSync();
  }

  async setSync(sync: boolean): Promise<void> {
    this.options = { ...this.options, sync };
    if (sync) await this.startSync();
    else this.stopSync();
  }

  setAutojoin(autojoin: boolean): void {
    this.options = { ...this.options, autojoin };
  }

  /** Presence goes with each /sync request; a change restarts the loop to apply it. */
  async setOnline(online: boolean): Promise<void> {
    this.options = { ...this.options, online };
    if (this.syncing) {
      this.stopSync();
      await this.startSync();
    }
  }

  /**
   * Pushes a managed display name. As in maubot, the remote profile is read back only when the
   * field stops being managed ("disable"); otherwise it is next read when the client starts.
   */
  async setDisplayname(displayname: string): Promise<void> {
    this.options = { ...this.options, displayname };
    if (displayname !== PROFILE_DISABLED) await viaSdk(() => this.sdk.setDisplayName(displayname));
    else await this.refreshRemoteProfile();
  }

  /** Pushes a managed avatar; the remote profile is read as for the display name. */
  async setAvatarUrl(avatarUrl: string): Promise<void> {
    this.options = { ...this.options, avatarUrl };
    if (avatarUrl !== PROFILE_DISABLED) await viaSdk(() => this.sdk.setAvatarUrl(avatarUrl));
    else await this.refreshRemoteProfile();
  }

  /** Forgets the sync token and filter and syncs again from scratch. */
  async clearCache(): Promise<void> {
    this.stopSync();
    this.store.forget();
    if (this.options.sync) await this.startSync();
  }

  async refreshRemoteProfile(): Promise<void> {
    try {
      const profile = await viaSdk(() => this.sdk.getProfileInfo(this.userId));
      this.remoteDisplayname = profile.displayname ?? null;
      this.remoteAvatarUrl = profile.avatar_url ?? null;
    } catch (err) {
      // A profile that is not set yet is a 404 on some servers.
      if (err instanceof HomeserverError && err.status === 404) {
        this.remoteDisplayname = null;
        this.remoteAvatarUrl = null;
        return;
      }
      throw err;
    }
  }

  // ---- room operations ----

  async joinedRooms(): Promise<string[]> {
    const body = await this.request<{ joined_rooms: string[] }>(Method.Get, '/joined_rooms');
    return body.joined_rooms;
  }

  /** Joins; the room counts as joined as soon as the homeserver says so. */
  async joinRoom(roomIdOrAlias: string): Promise<string> {
    const body = await this.request<{ room_id: string }>(
      Method.Post,
      `/join/${encodeURIComponent(roomIdOrAlias)}`,
      {},
    );
    this.memberships.set({ roomId: body.room_id, membership: 'join', sender: this.userId });
    return body.room_id;
  }

  async leaveRoom(roomId: string, reason?: string): Promise<void> {
    await this.request(
      Method.Post,
      `/rooms/${encodeURIComponent(roomId)}/leave`,
      reason !== undefined ? { reason } : {},
    );
    this.memberships.set({
      roomId,
      membership: 'leave',
      sender: this.userId,
      ...(reason !== undefined ? { reason } : {}),
    });
  }

  async inviteUser(roomId: string, userId: string): Promise<void> {
    await this.request(Method.Post, `/rooms/${encodeURIComponent(roomId)}/invite`, {
      user_id: userId,
    });
  }

  /**
   * Sends a room event; returns its event id. Plain node:http on a keep-alive agent rather than
   * the SDK's fetch: a bridge sends thousands of these, and this path costs a fraction.
   */
  async sendEvent(roomId: string, type: string, content: Record<string, unknown>): Promise<string> {
    return this.sendSerialisedEvent(roomId, type, JSON.stringify(content));
  }

  /** sendEvent with the content already as JSON text (queued messages are kept that way). */
  async sendSerialisedEvent(roomId: string, type: string, json: string): Promise<string> {
    const txnId = this.sdk.makeTxnId();
    const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/${encodeURIComponent(type)}/${encodeURIComponent(txnId)}`;
    const body = await this.fastRequest('PUT', path, json);
    const eventId = body.event_id;
    if (typeof eventId !== 'string') {
      throw new HomeserverError(500, 'M_UNKNOWN', 'the homeserver sent no event_id', body);
    }
    return eventId;
  }

  /** Sends as the account over a kept-alive connection, noticing a rejected token or room. */
  private async fastRequest(
    method: string,
    path: string,
    json: string,
  ): Promise<Record<string, unknown>> {
    try {
      return await sendJson(this.options.homeserver, this.options.accessToken, method, path, json);
    } catch (err) {
      if (err instanceof HomeserverError) {
        if (err.tokenRejected) this.tokenRejected(err);
        this.noticeRefusal(err);
      }
      throw err;
    }
  }

  async sendText(roomId: string, text: string, html?: string): Promise<string> {
    return this.sendEvent(roomId, 'm.room.message', {
      msgtype: 'm.text',
      body: text,
      ...(html !== undefined ? { format: 'org.matrix.custom.html', formatted_body: html } : {}),
    });
  }

  /** A state event's content, or null when the room has none of that type and key. */
  async getState(
    roomId: string,
    type: string,
    stateKey = '',
  ): Promise<Record<string, unknown> | null> {
    try {
      return await this.request<Record<string, unknown>>(
        Method.Get,
        `/rooms/${encodeURIComponent(roomId)}/state/${encodeURIComponent(type)}/${encodeURIComponent(stateKey)}`,
      );
    } catch (err) {
      if (err instanceof HomeserverError && err.errcode === 'M_NOT_FOUND') return null;
      throw err;
    }
  }

  async setState(
    roomId: string,
    type: string,
    stateKey: string,
    content: Record<string, unknown>,
  ): Promise<string> {
    const body = await this.request<{ event_id: string }>(
      Method.Put,
      `/rooms/${encodeURIComponent(roomId)}/state/${encodeURIComponent(type)}/${encodeURIComponent(stateKey)}`,
      content,
    );
    return body.event_id;
  }

  async getPowerLevels(roomId: string): Promise<Record<string, unknown> | null> {
    return this.getState(roomId, 'm.room.power_levels');
  }

  /** A member's membership in a room ("join", "invite", ...), or null if none. */
  async getMembership(roomId: string, userId: string): Promise<string | null> {
    const member = await this.getState(roomId, 'm.room.member', userId);
    const membership = member?.membership;
    return typeof membership === 'string' ? membership : null;
  }

  /** Uploads media; returns its mxc:// URI. */
  async uploadMedia(data: Buffer, contentType: string, filename?: string): Promise<string> {
    const body = await viaSdk(() =>
      this.sdk.uploadContent(data, { type: contentType, name: filename, includeFilename: true }),
    );
    return body.content_uri;
  }

  /**
   * Downloads media by its mxc:// URI: authenticated media (`/_matrix/client/v1/media`), or the
   * older `/_matrix/media/v3` endpoint on a homeserver without it (Synapse before 1.111
   * answers 400 M_UNRECOGNIZED; a proxy that does not route the path, a bare 404).
   */
  async downloadMedia(mxcUrl: string): Promise<{ data: Buffer; contentType: string }> {
    const match = /^mxc:\/\/([^/]+)\/([^/?#]+)$/.exec(mxcUrl);
    if (!match) throw new Error(`not an mxc URI: ${mxcUrl}`);
    const media = `/download/${encodeURIComponent(match[1]!)}/${encodeURIComponent(match[2]!)}`;
    if (!this.legacyMedia) {
      try {
        return await this.fetchMedia(`/_matrix/client/v1/media${media}`);
      } catch (err) {
        const unknownEndpoint =
          err instanceof HomeserverError &&
          (err.errcode === 'M_UNRECOGNIZED' ||
            (err.errcode === 'M_UNKNOWN' && (err.status === 404 || err.status === 405)));
        if (!unknownEndpoint) throw err;
        this.legacyMedia = true;
        this.logger.info(
          { status: err.status, errcode: err.errcode },
          'the homeserver has no authenticated media; downloading from /_matrix/media/v3',
        );
      }
    }
    return this.fetchMedia(`/_matrix/media/v3${media}`);
  }

  private fetchMedia(path: string): Promise<{ data: Buffer; contentType: string }> {
    return fetchMedia(this.options.homeserver, this.options.accessToken, path);
  }

  // ---- internals ----

  private async request<T>(
    method: Method,
    path: string,
    body?: unknown,
    query?: Record<string, string>,
  ): Promise<T> {
    try {
      return await viaSdk(() =>
        this.sdk.http.authedRequest<T>(method, path, query, body as Record<string, unknown>, {
          localTimeoutMs: HOMESERVER_TIMEOUT_MS,
          priority: 'auto',
        }),
      );
    } catch (err) {
      this.noticeRefusal(err);
      throw err;
    }
  }

  /**
   * "Not in room" from the homeserver for a room the account counts as joined: it left in a way
   * sync did not show (its own leave from another session is filtered out). Read the rooms
   * again.
   */
  private noticeRefusal(err: unknown): void {
    if (!this.options.trackRooms || !(err instanceof HomeserverError) || err.status !== 403) return;
    if (!/not in room/i.test(err.message)) return;
    void this.refreshJoinedRooms().catch((e: unknown) =>
      this.logger.warn({ err: e }, 'could not read the joined rooms again'),
    );
  }

  /** Reads /joined_rooms again and corrects the rooms the account counts as joined. */
  refreshJoinedRooms(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        this.memberships.joinedAre(new Set(await this.joinedRooms()));
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private async pushProfile(): Promise<void> {
    const { displayname, avatarUrl } = this.options;
    if (displayname !== PROFILE_DISABLED) await viaSdk(() => this.sdk.setDisplayName(displayname));
    if (avatarUrl !== PROFILE_DISABLED) await viaSdk(() => this.sdk.setAvatarUrl(avatarUrl));
  }

  private async startSync(): Promise<void> {
    if (this.syncing) return;
    this.syncing = true;
    this.setOk(true, undefined, false);
    this.resumed = this.options.catchUp === true && !!this.store.getSyncToken();
    const filter = new Filter(this.userId);
    const definition = structuredClone(SYNC_FILTER);
    if (this.options.ignoreOwnEvents) {
      Object.assign(definition.room.timeline, { not_senders: [this.userId] });
    }
    filter.setDefinition(definition);
    await this.sdk.startClient({
      filter,
      lazyLoadMembers: true,
      initialSyncLimit: 1,
      disablePresence: !this.options.online,
      threadSupport: false,
    });
  }

  private stopSync(): void {
    if (!this.syncing) return;
    this.syncing = false;
    this.sdk.stopClient();
  }

  private tokenRejected(error: HomeserverError): void {
    if (this.rejected) return;
    this.rejected = true;
    this.options.onTokenRejected(error);
  }

  /** `log` false: a (re)start resets the state, which is no news. */
  private setOk(ok: boolean, error?: unknown, log = true): void {
    if (ok === this.ok) return;
    this.ok = ok;
    this.options.onSyncOkChange?.();
    if (!log) return;
    if (ok) this.logger.info('sync is working again');
    else this.logger.warn({ err: error }, 'sync failed; retrying');
  }

  private onEvent(event: MatrixEvent): void {
    const roomEvent = toRoomEvent(event);
    if (!roomEvent) return;
    if (!this.sdk.isInitialSyncComplete()) {
      if (!this.resumed) return;
      this.logger.info(
        { roomId: roomEvent.roomId, eventId: roomEvent.eventId, type: roomEvent.type },
        'catching up on an event from while the client was stopped',
      );
    }
    if (this.catchUp) this.catchUp.add(roomEvent);
    else this.emit(roomEvent);
  }

  private emit(event: RoomEvent): void {
    // One sync may carry an event twice: a newly joined room lists the events since the last
    // sync again, and lazy-loaded member events come in `state` as well as the timeline.
    const id = event.eventId;
    if (id !== undefined) {
      if (this.recentEventIds.has(id)) return;
      this.recentEventIds.add(id);
      if (this.recentEventIds.size > RECENT_EVENT_IDS) {
        this.recentEventIds.delete(this.recentEventIds.values().next().value!);
      }
    }
    for (const listener of this.eventListeners) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ err, roomId: event.roomId }, 'a room event listener failed');
      }
    }
  }

  /** The room's events after `from` up to `to`, oldest first, except the client's own if ignored. */
  private async fetchGap(roomId: string, from: string, to: string): Promise<RoomEvent[]> {
    const events: RoomEvent[] = [];
    const filter = JSON.stringify(
      this.options.ignoreOwnEvents ? { not_senders: [this.userId] } : {},
    );
    let token = from;
    for (let page = 0; page < MAX_GAP_PAGES; page++) {
      const body = await this.request<{ chunk?: PaginatedEvent[]; end?: string }>(
        Method.Get,
        `/rooms/${encodeURIComponent(roomId)}/messages`,
        undefined,
        { from: token, to, dir: 'f', limit: String(GAP_PAGE_SIZE), filter },
      );
      for (const raw of body.chunk ?? []) {
        events.push({
          roomId,
          eventId: raw.event_id,
          type: raw.type,
          sender: raw.sender,
          ...(raw.state_key !== undefined ? { stateKey: raw.state_key } : {}),
          content: raw.content ?? {},
          originServerTs: raw.origin_server_ts,
        });
      }
      if (!body.end || !body.chunk?.length) return events;
      token = body.end;
    }
    this.logger.warn(
      { roomId, events: events.length },
      'a room had more events missed than are fetched at once; the newer ones are skipped',
    );
    return events;
  }

  private onInvite(roomId: string, inviter: string | null): void {
    const options = this.options;
    if ((!options.acceptInvite && !options.autojoin) || this.joining.has(roomId)) return;
    this.joining.add(roomId);
    const decide = options.acceptInvite
      ? options.acceptInvite(roomId, inviter)
      : Promise.resolve(true);
    decide
      .then(async (accept) => {
        if (accept) {
          this.logger.info({ roomId, inviter }, 'joining on invite');
          await this.joinRoom(roomId);
        } else {
          this.logger.info({ roomId, inviter }, 'refusing an invite');
          await this.leaveRoom(roomId, this.options.inviteRefusal);
        }
      })
      .catch((err: unknown) => this.logger.warn({ err, roomId }, 'could not answer an invite'))
      .finally(() => this.joining.delete(roomId));
  }
}
