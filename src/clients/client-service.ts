import type { Knex } from 'knex';
import type { components } from '../../generated/maubot';
import {
  clientsSealedWithOtherKeys,
  deleteClient,
  findClient,
  insertClient,
  listClients,
  replaceClientToken,
  saveSyncPosition,
  setClientEnabled,
  updateClient,
  type ClientValues,
  type StoredClient,
} from '../db/client-repository';
import { RowCache, type CachedRows } from '../db/row-cache';
import type { Logger } from '../logging/logger';
import { homeserverApi, type Whoami } from '../matrix/homeserver-api';
import { HomeserverError, HomeserverUnreachableError } from '../matrix/matrix-errors';
import type { SecretBox } from '../secrets/secret-box';
import { answersByKey, JsonMemo, type JsonAnswer } from '../util/json-memo';
import { KeyedLock } from '../util/keyed-lock';
import {
  ClientAccessError,
  ClientExistsError,
  ClientIdentityMismatchError,
  ClientInUseError,
  ClientNotFoundError,
} from './client-errors';
import { ClientPool, DEFAULT_POOL_OPTIONS, type ClientPoolOptions } from './client-pool';
import { PROFILE_DISABLED, type BotClient } from '../matrix/bot-client';
import { parseHttpUrl } from '../util/http-url';

export type ClientView = components['schemas']['Client'];
export type ClientInput = components['schemas']['ClientInput'];
type InstanceView = components['schemas']['Instance'];

/** How clients learn which instances run as them (instances live elsewhere). */
export interface ClientInstances {
  byClient(db: Knex, clientIds: readonly string[]): Promise<Map<string, InstanceView[]>>;
  /** The same from rows in memory (without it, the lists ask byClient). */
  answersByClient?(rows: CachedRows): ReadonlyMap<string, readonly JsonAnswer<InstanceView>[]>;
  /** A client started: its enabled instances start, and its events reach them. */
  clientStarted?(id: string, bot: BotClient): void;
  clientStopped?(id: string): void;
}

export const NO_CLIENT_INSTANCES: ClientInstances = {
  byClient: () => Promise.resolve(new Map()),
};

/** Homeserver URLs are stored without trailing slashes (a common cause of broken whoami). */
export function normaliseHomeserver(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

const NONE: readonly JsonAnswer<InstanceView>[] = [];

/** The client answers of one snapshot: rows, instance answers and running state. */
interface ClientAnswers {
  rows: CachedRows;
  instances: ReadonlyMap<string, readonly JsonAnswer<InstanceView>[]>;
  state: number;
  byId: ReadonlyMap<string, JsonAnswer<ClientView>>;
  list: JsonAnswer<ClientView[]>;
}

const isHttpUrl = (url: string): boolean => parseHttpUrl(url) instanceof URL;

/** Matrix clients (bot accounts): stored settings, access checks and their running state. */
export class ClientService {
  readonly pool: ClientPool;
  /** Changes to one client happen one at a time. */
  private readonly lock = new KeyedLock();
  private readonly answers = new JsonMemo();
  private answerSet: ClientAnswers | undefined;

  constructor(
    private readonly db: Knex,
    private readonly secrets: SecretBox,
    private readonly logger: Logger,
    private readonly instances: ClientInstances = NO_CLIENT_INSTANCES,
    poolOptions: ClientPoolOptions = DEFAULT_POOL_OPTIONS,
    private readonly rows: RowCache = new RowCache(db),
  ) {
    this.pool = new ClientPool(
      {
        load: async (id) => {
          const stored = await findClient(this.db, id);
          return stored && { ...stored, accessToken: this.secrets.open(stored.accessToken) };
        },
        disable: (id) => this.rows.written('client', setClientEnabled(this.db, id, false)),
        savePosition: (id, position) => saveSyncPosition(this.db, id, position),
        started: (id, bot) => this.instances.clientStarted?.(id, bot),
        stopped: (id) => this.instances.clientStopped?.(id),
      },
      logger,
      poolOptions,
    );
  }

  /** GET /clients, from memory (see RowCache); the answer is kept while nothing changes. */
  async listAnswer(): Promise<JsonAnswer<ClientView[]>> {
    return (await this.answersOf(await this.rows.rows())).list;
  }

  async getAnswer(id: string): Promise<JsonAnswer<ClientView>> {
    const answer = (await this.answersOf(await this.rows.rows())).byId.get(id);
    if (!answer) throw new ClientNotFoundError(id);
    return answer;
  }

  async list(): Promise<ClientView[]> {
    return JSON.parse((await this.listAnswer()).json) as ClientView[];
  }

  async get(id: string): Promise<ClientView> {
    return JSON.parse((await this.getAnswer(id)).json) as ClientView;
  }

  private async instanceAnswers(
    rows: CachedRows,
  ): Promise<ReadonlyMap<string, readonly JsonAnswer<InstanceView>[]>> {
    if (this.instances.answersByClient) return this.instances.answersByClient(rows);
    const views = await this.instances.byClient(
      this.db,
      rows.clients.map((c) => c.id),
    );
    return answersByKey(views);
  }

  /**
   * Every client's answer, looked at again only when the rows, the instances' answers or the
   * clients' running state changed (and then each one remade only if its own inputs did).
   */
  private async answersOf(rows: CachedRows): Promise<ClientAnswers> {
    const instances = await this.instanceAnswers(rows);
    const state = this.pool.version;
    const kept = this.answerSet;
    if (kept?.rows === rows && kept.instances === instances && kept.state === state) return kept;
    const byId = new Map<string, JsonAnswer<ClientView>>();
    const items = rows.clients.map((c) => {
      const answer = this.answer(rows, c, instances.get(c.id));
      byId.set(c.id, answer);
      return answer;
    });
    const list = this.memo(rows).get('', items, () => items.map((item) => item.view));
    this.answerSet = { rows, instances, state, byId, list };
    return this.answerSet;
  }

  /** A client's answer is remade when its row, its running state or its instances change. */
  private answer(
    rows: CachedRows,
    client: StoredClient,
    instances: readonly JsonAnswer<InstanceView>[] = NONE,
  ): JsonAnswer<ClientView> {
    const status = this.pool.status(client.id);
    return this.memo(rows).get(
      client.id,
      [
        client,
        status.started,
        status.syncOk,
        status.remoteDisplayname,
        status.remoteAvatarUrl,
        instances,
      ],
      () =>
        this.view(
          client,
          instances.map((i) => i.view),
        ),
    );
  }

  /** Kept answers of one snapshot of the rows (ids of gone rows are forgotten with it). */
  private memo(rows: CachedRows): JsonMemo {
    return this.answers.at(rows.version);
  }

  async exists(id: string): Promise<boolean> {
    return (await findClient(this.db, id)) !== null;
  }

  /** The homeserver and token to act as this client (the Matrix API proxy). */
  async access(id: string): Promise<{ homeserver: string; accessToken: string }> {
    const client = await findClient(this.db, id);
    if (!client) throw new ClientNotFoundError(id);
    return { homeserver: client.homeserver, accessToken: this.secrets.open(client.accessToken) };
  }

  /**
   * maubot's create: the token is checked with whoami, which decides the user id (it must be
   * `expectedId` when given); defaults apply to absent fields; an enabled client starts.
   */
  async create(input: ClientInput, expectedId?: string): Promise<ClientView> {
    if (input.access_token === undefined || input.access_token === '') {
      throw new ClientAccessError('token', 'no access token given');
    }
    if (input.homeserver === undefined || !isHttpUrl(normaliseHomeserver(input.homeserver))) {
      throw new ClientAccessError('details', 'no valid homeserver URL given');
    }
    const homeserver = normaliseHomeserver(input.homeserver);
    const whoami = await this.checkAccess(homeserver, input.access_token);
    if (expectedId !== undefined && whoami.userId !== expectedId) {
      throw new ClientIdentityMismatchError('user', whoami.userId);
    }
    const deviceId = input.device_id ?? '';
    this.checkDevice(deviceId, whoami);
    const values: ClientValues = {
      id: whoami.userId,
      homeserver,
      accessToken: this.secrets.seal(input.access_token),
      deviceId,
      enabled: input.enabled ?? true,
      sync: input.sync ?? true,
      autojoin: input.autojoin ?? true,
      online: input.online ?? true,
      displayname: input.displayname ?? PROFILE_DISABLED,
      avatarUrl: input.avatar_url ?? PROFILE_DISABLED,
    };
    return this.lock.run(values.id, async () => {
      if (!(await this.rows.written('client', insertClient(this.db, values)))) {
        throw new ClientExistsError(values.id);
      }
      this.logger.info({ client: values.id, homeserver }, `client ${values.id} created`);
      if (values.enabled) await this.pool.start(values.id);
      return this.get(values.id);
    });
  }

  /** PUT /client/{id}: creates an unknown client, else updates the fields given. */
  async put(id: string, input: ClientInput): Promise<{ client: ClientView; created: boolean }> {
    if (!(await this.exists(id))) {
      try {
        return { client: await this.create(input, id), created: true };
      } catch (err) {
        // Created meanwhile by another request: this one becomes an update.
        if (!(err instanceof ClientExistsError)) throw err;
      }
    }
    return { client: await this.update(id, input), created: false };
  }

  /**
   * maubot's update, in its order: new access details (checked with whoami), profile fields,
   * `started` (which sees the stored `enabled`, not this request's), then the flags.
   */
  async update(id: string, input: ClientInput): Promise<ClientView> {
    return this.lock.run(id, async () => {
      const stored = await findClient(this.db, id);
      if (!stored) throw new ClientNotFoundError(id);
      const next: ClientValues = {
        ...stored,
        enabled: input.enabled ?? stored.enabled,
        sync: input.sync ?? stored.sync,
        autojoin: input.autojoin ?? stored.autojoin,
        online: input.online ?? stored.online,
        displayname: input.displayname ?? stored.displayname,
        avatarUrl: input.avatar_url ?? stored.avatarUrl,
      };
      const accessChanged = await this.applyAccess(stored, input, next);
      await this.rows.written('client', updateClient(this.db, next));
      await this.applyToRuntime(stored, next, input.started, accessChanged);
      return this.get(id);
    });
  }

  async delete(id: string): Promise<void> {
    await this.lock.run(id, async () => {
      await this.db.transaction(async (trx) => {
        if (!(await findClient(trx, id))) throw new ClientNotFoundError(id);
        const instances = await this.instances.byClient(trx, [id]);
        if ((instances.get(id) ?? []).length > 0) throw new ClientInUseError(id);
        await deleteClient(trx, id);
      });
      this.rows.changed('client');
      this.pool.forget(id);
      this.logger.info({ client: id }, `client ${id} deleted`);
    });
  }

  /** Forgets the sync token and filter; a running client syncs again from scratch. */
  async clearCache(id: string): Promise<void> {
    await this.lock.run(id, async () => {
      if (!(await this.exists(id))) throw new ClientNotFoundError(id);
      const bot = this.pool.running(id);
      if (bot) await bot.clearCache();
      else await saveSyncPosition(this.db, id, { nextBatch: '', filterId: '' });
      this.logger.info({ client: id }, `client ${id}: cache cleared`);
    });
  }

  /**
   * Starts every enabled client in the background: each retries on its own, so a slow or
   * broken homeserver delays neither the others nor the caller.
   */
  async startAll(): Promise<void> {
    await this.resealTokens();
    const clients = (await listClients(this.db)).filter((c) => c.enabled);
    for (const client of clients) void this.pool.start(client.id);
    if (clients.length > 0) this.logger.info({ clients: clients.length }, 'starting clients');
  }

  async stopAll(): Promise<void> {
    await this.pool.stopAll();
  }

  /** Tokens sealed with a previous key are rewritten with the current one. */
  private async resealTokens(): Promise<void> {
    const stale = await clientsSealedWithOtherKeys(this.db, this.secrets.currentKeyId);
    for (const client of stale) {
      const token = this.secrets.open(client.accessToken);
      await this.rows.written(
        'client',
        replaceClientToken(this.db, client.id, this.secrets.seal(token)),
      );
    }
    if (stale.length > 0) {
      this.logger.info(
        { clients: stale.length },
        're-encrypted access tokens with the current key',
      );
    }
  }

  /** Sets new access details on `next` when given and different; true when they changed. */
  private async applyAccess(
    stored: StoredClient,
    input: ClientInput,
    next: ClientValues,
  ): Promise<boolean> {
    if (input.access_token === undefined && input.homeserver === undefined) return false;
    const storedToken = this.secrets.open(stored.accessToken);
    const homeserver =
      input.homeserver !== undefined ? normaliseHomeserver(input.homeserver) : stored.homeserver;
    const token = input.access_token ?? storedToken;
    const deviceId = input.device_id ?? stored.deviceId;
    if (homeserver === stored.homeserver && token === storedToken && deviceId === stored.deviceId) {
      return false;
    }
    if (!isHttpUrl(homeserver)) throw new ClientAccessError('details', 'invalid homeserver URL');
    const whoami = await this.checkAccess(homeserver, token);
    if (whoami.userId !== stored.id) throw new ClientIdentityMismatchError('user', whoami.userId);
    this.checkDevice(deviceId, whoami);
    next.homeserver = homeserver;
    next.accessToken = this.secrets.seal(token);
    next.deviceId = deviceId;
    return true;
  }

  private async applyToRuntime(
    stored: StoredClient,
    next: ClientValues,
    started: boolean | undefined,
    accessChanged: boolean,
  ): Promise<void> {
    const id = stored.id;
    if (accessChanged && this.pool.running(id)) await this.pool.restart(id);
    const bot = this.pool.running(id);
    if (bot) {
      await this.tryProfile(id, () =>
        next.avatarUrl !== stored.avatarUrl ? bot.setAvatarUrl(next.avatarUrl) : undefined,
      );
      await this.tryProfile(id, () =>
        next.displayname !== stored.displayname ? bot.setDisplayname(next.displayname) : undefined,
      );
      this.pool.rememberProfile(id);
    }
    if (started === true && stored.enabled) await this.pool.start(id);
    else if (started === false) this.pool.stop(id);
    const running = this.pool.running(id);
    if (!running) return;
    if (next.autojoin !== stored.autojoin) running.setAutojoin(next.autojoin);
    if (next.online !== stored.online) await running.setOnline(next.online);
    if (next.sync !== stored.sync) await running.setSync(next.sync);
  }

  /** A profile the homeserver refuses is logged; the stored value is pushed on next start. */
  private async tryProfile(id: string, change: () => Promise<void> | undefined): Promise<void> {
    try {
      await change();
    } catch (err) {
      this.logger.warn(
        { err, client: id },
        `client ${id}: could not update the profile on the homeserver`,
      );
    }
  }

  private async checkAccess(homeserver: string, accessToken: string): Promise<Whoami> {
    try {
      return await homeserverApi.whoami(homeserver, accessToken);
    } catch (err) {
      if (err instanceof HomeserverError) {
        throw new ClientAccessError(err.tokenRejected ? 'token' : 'details', err.message);
      }
      if (err instanceof HomeserverUnreachableError) {
        throw new ClientAccessError('connection', err.message);
      }
      throw err;
    }
  }

  private checkDevice(deviceId: string, whoami: Whoami): void {
    if (deviceId && whoami.deviceId && deviceId !== whoami.deviceId) {
      throw new ClientIdentityMismatchError('device', whoami.deviceId);
    }
  }

  private view(client: StoredClient, instances: InstanceView[]): ClientView {
    const status = this.pool.status(client.id);
    return {
      id: client.id,
      homeserver: client.homeserver,
      access_token: this.secrets.open(client.accessToken),
      device_id: client.deviceId,
      fingerprint: null,
      enabled: client.enabled,
      started: status.started,
      sync: client.sync,
      sync_ok: status.syncOk,
      autojoin: client.autojoin,
      online: client.online,
      displayname: client.displayname,
      avatar_url: client.avatarUrl,
      remote_displayname: status.remoteDisplayname,
      remote_avatar_url: status.remoteAvatarUrl,
      instances,
      trust_state: null,
    };
  }
}
