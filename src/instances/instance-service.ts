import type { Knex } from 'knex';
import type { components } from '../../generated/maubot';
import type { ClientInstances } from '../clients/client-service';
import { findClient } from '../db/client-repository';
import {
  deleteInstance,
  findInstance,
  insertInstance,
  instancesOf,
  listInstances,
  setInstanceEnabled,
  updateInstance,
  type StoredInstance,
} from '../db/instance-repository';
import { findPlugin, listPlugins, type StoredPlugin } from '../db/plugin-repository';
import { RowCache, type CachedRows } from '../db/row-cache';
import type { Logger } from '../logging/logger';
import type { BotClient } from '../matrix/bot-client';
import type { PluginInstances } from '../plugins/plugin-service';
import { JsonMemo, type JsonAnswer } from '../util/json-memo';
import { KeyedLock } from '../util/keyed-lock';
import {
  InstanceExistsError,
  InstanceNotFoundError,
  PluginTypeNotFoundError,
  PluginTypeRequiredError,
  PrimaryUserNotFoundError,
  PrimaryUserRequiredError,
} from './instance-errors';
import type { InstanceDatabases } from './instance-databases';
import type { InstanceRuntime } from './instance-runtime';

export type InstanceView = components['schemas']['Instance'];

/** Every instance's kept answer for one snapshot of the rows and of the running state. */
interface InstanceAnswers {
  rows: CachedRows;
  state: number;
  byId: Map<string, JsonAnswer<InstanceView>>;
  byPlugin: Map<string, JsonAnswer<InstanceView>[]>;
  byClient: Map<string, JsonAnswer<InstanceView>[]>;
  list: JsonAnswer<InstanceView[]>;
}
export type InstanceInput = components['schemas']['InstanceInput'];

/** Plugin instances: stored settings, maubot's create/update rules, and their running state. */
export class InstanceService implements ClientInstances, PluginInstances {
  private readonly lock = new KeyedLock();
  private readonly background = new Set<Promise<unknown>>();
  private readonly answers = new JsonMemo();
  private answerSet: InstanceAnswers | undefined;

  constructor(
    private readonly db: Knex,
    readonly runtime: InstanceRuntime,
    private readonly databases: InstanceDatabases,
    private readonly logger: Logger,
    private readonly databaseFeature: boolean,
    private readonly rows: RowCache = new RowCache(db),
  ) {}

  /** GET /instances, from memory (see RowCache); the answer is kept while nothing changes. */
  async listAnswer(): Promise<JsonAnswer<InstanceView[]>> {
    return this.answersOf(await this.rows.rows()).list;
  }

  async getAnswer(rawId: string): Promise<JsonAnswer<InstanceView>> {
    const answer = this.answersOf(await this.rows.rows()).byId.get(rawId.toLowerCase());
    if (!answer) throw new InstanceNotFoundError(rawId);
    return answer;
  }

  async list(): Promise<InstanceView[]> {
    return JSON.parse((await this.listAnswer()).json) as InstanceView[];
  }

  async get(rawId: string): Promise<InstanceView> {
    return JSON.parse((await this.getAnswer(rawId)).json) as InstanceView;
  }

  /** The answers of each plugin's instances, from the same rows (for the plugin lists). */
  answersByPlugin(rows: CachedRows): ReadonlyMap<string, readonly JsonAnswer<InstanceView>[]> {
    return this.answersOf(rows).byPlugin;
  }

  /** The answers of each client's instances, from the same rows (for the client lists). */
  answersByClient(rows: CachedRows): ReadonlyMap<string, readonly JsonAnswer<InstanceView>[]> {
    return this.answersOf(rows).byClient;
  }

  /**
   * Every instance's answer, made again only when the rows or the running state changed (each
   * instance's own answer is kept when its row, plugin and state are the same).
   */
  private answersOf(rows: CachedRows): InstanceAnswers {
    const state = this.runtime.version;
    const kept = this.answerSet;
    if (kept && kept.rows === rows && kept.state === state) return kept;
    const memo = this.memo(rows);
    const byId = new Map<string, JsonAnswer<InstanceView>>();
    const all = rows.instances.map((instance) => {
      const plugin = rows.plugin.get(instance.type);
      const started = this.runtime.isStarted(instance.id);
      const baseConfig = this.runtime.baseConfig(instance.id);
      const answer = memo.get(instance.id, [instance, plugin, started, baseConfig], () =>
        this.view(instance, plugin),
      );
      byId.set(instance.id, answer);
      return answer;
    });
    const group = (groups: ReadonlyMap<string, readonly StoredInstance[]>) =>
      new Map([...groups].map(([key, list]) => [key, list.map((i) => byId.get(i.id)!)]));
    this.answerSet = {
      rows,
      state,
      byId,
      byPlugin: group(rows.byPlugin),
      byClient: group(rows.byClient),
      list: memo.get('', all, () => all.map((answer) => answer.view)),
    };
    return this.answerSet;
  }

  /** Kept answers of one snapshot of the rows (ids of gone rows are forgotten with it). */
  private memo(rows: CachedRows): JsonMemo {
    return this.answers.at(rows.version);
  }

  async byClient(db: Knex, clientIds: readonly string[]): Promise<Map<string, InstanceView[]>> {
    return this.grouped(
      db,
      await instancesOf(db, 'primary_user', clientIds),
      (i) => i.primary_user,
    );
  }

  async byPlugin(db: Knex, pluginIds: readonly string[]): Promise<Map<string, InstanceView[]>> {
    return this.grouped(db, await instancesOf(db, 'type', pluginIds), (i) => i.type);
  }

  /** The client runs: its events reach its instances, and its enabled instances start. */
  clientStarted(clientId: string, bot: BotClient): void {
    bot.onRoomEvent((event) => this.runtime.route(clientId, event));
    this.inBackground(this.startAllOf({ primary_user: clientId }));
  }

  /** Work nobody awaits: logged if it fails, and awaited by stopAll(). */
  private inBackground(work: Promise<unknown>): void {
    const tracked = work
      .catch((err: unknown) => this.logger.error({ err }, 'instance start or stop failed'))
      .finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  clientStopped(clientId: string): void {
    for (const id of this.runtime.runningOf({ clientId })) {
      this.inBackground(this.lock.run(id, () => this.runtime.stop(id)));
    }
  }

  /** PUT /instance/{id}: creates an unknown instance (201), else updates it (200). */
  async put(
    rawId: string,
    input: InstanceInput,
  ): Promise<{ instance: InstanceView; created: boolean }> {
    const id = rawId.toLowerCase();
    return this.lock.run(id, async () => {
      const existing = await findInstance(this.db, id);
      if (!existing) return { instance: await this.create(id, input), created: true };
      return { instance: await this.update(existing, input), created: false };
    });
  }

  async delete(rawId: string): Promise<void> {
    const id = rawId.toLowerCase();
    await this.lock.run(id, async () => {
      if (!(await findInstance(this.db, id))) throw new InstanceNotFoundError(id);
      await this.runtime.stop(id);
      await this.db.transaction(async (trx) => {
        await this.databases.drop(trx, id);
        await deleteInstance(trx, id);
      });
      this.rows.changed('instance');
      this.logger.info({ instance: id }, `instance ${id} deleted`);
    });
  }

  /** maubot's plugin replacement, with a rollback when the new version does not start. */
  async swapPlugin(
    type: string,
    apply: () => Promise<void>,
    revert: () => Promise<void>,
  ): Promise<void> {
    const enabled = (await listInstances(this.db, { type })).filter((i) => i.enabled);
    await this.stopPlugin(type);
    await apply();
    const failure = await this.startAllOf({ type });
    if (failure === null) return;
    await this.stopPlugin(type);
    await revert();
    // The failed starts disabled their instances; they were enabled with the old version.
    for (const instance of enabled) await setInstanceEnabled(this.db, instance.id, true);
    this.rows.changed('instance');
    await this.startAllOf({ type });
    throw new Error(failure);
  }

  private async stopPlugin(type: string): Promise<void> {
    const ids = this.runtime.runningOf({ type });
    await Promise.all(ids.map((id) => this.lock.run(id, () => this.runtime.stop(id))));
  }

  /** Shutdown: no more starts; what is starting finishes, then everything stops. */
  async stopAll(): Promise<void> {
    this.runtime.close();
    await Promise.all([...this.background]);
    await this.runtime.stopAll();
    await this.databases.close();
  }

  /** Starts the enabled instances; the first start failure's reason, or null. */
  private async startAllOf(where: {
    type?: string;
    primary_user?: string;
  }): Promise<string | null> {
    let failure: string | null = null;
    for (const instance of await listInstances(this.db, where)) {
      if (!instance.enabled) continue;
      const started = await this.lock.run(instance.id, async () => {
        const current = await findInstance(this.db, instance.id);
        return current ? this.runtime.start(current) : true;
      });
      // Only a failure of the instance's own start counts, not a client that is not running.
      if (!started && !(await findInstance(this.db, instance.id))?.enabled) {
        failure ??= this.runtime.lastFailure(instance.id) ?? 'an instance failed to start';
      }
    }
    return failure;
  }

  /** maubot's create checks, in its order. */
  private async create(id: string, input: InstanceInput): Promise<InstanceView> {
    if (!input.type) throw new PluginTypeRequiredError();
    if (!input.primary_user) throw new PrimaryUserRequiredError();
    if (!(await findClient(this.db, input.primary_user))) {
      throw new PrimaryUserNotFoundError(input.primary_user);
    }
    if (!(await findPlugin(this.db, input.type))) throw new PluginTypeNotFoundError(input.type);
    const instance: StoredInstance = {
      id,
      type: input.type,
      enabled: input.enabled ?? true,
      primaryUser: input.primary_user,
      config: input.config ?? '',
      databaseEngine: null,
    };
    if (!(await insertInstance(this.db, instance))) throw new InstanceExistsError(id);
    this.rows.changed('instance');
    this.logger.info(
      { instance: id, plugin: instance.type },
      `instance ${id} of plugin ${instance.type} created`,
    );
    await this.runtime.start(instance);
    return this.get(id);
  }

  /** maubot's update order: primary_user, id, enabled, config, started, type. */
  private async update(stored: StoredInstance, input: InstanceInput): Promise<InstanceView> {
    let current = stored;
    const save = async (next: StoredInstance, previousId = current.id) => {
      await updateInstance(this.db, next, previousId);
      this.rows.changed('instance');
      current = next;
    };
    const restart = async (change: () => Promise<void>) => {
      await this.runtime.stop(current.id);
      await change();
      await this.runtime.start(current);
    };

    if (input.primary_user && input.primary_user !== current.primaryUser) {
      const user = input.primary_user;
      if (!(await findClient(this.db, user))) throw new PrimaryUserNotFoundError(user);
      await restart(() => save({ ...current, primaryUser: user }));
    }
    const newId = input.id?.toLowerCase();
    if (newId && newId !== current.id) await this.rename(current, newId, save);
    if (input.enabled !== undefined && input.enabled !== current.enabled) {
      await save({ ...current, enabled: input.enabled });
    }
    if (input.config !== undefined && input.config !== current.config) {
      await save({ ...current, config: input.config });
      this.runtime.updateConfig(current.id, current.config);
    }
    if (input.started === true) await this.runtime.start(await this.reread(current));
    else if (input.started === false) await this.runtime.stop(current.id);
    if (input.type && input.type !== current.type && (await findPlugin(this.db, input.type))) {
      const type = input.type;
      await restart(() => save({ ...current, type }));
    }
    return this.get(current.id);
  }

  /**
   * A rename moves the instance's database (its row follows the id) and log name with it; the
   * target must be free.
   */
  private async rename(
    current: StoredInstance,
    newId: string,
    save: (next: StoredInstance, previousId?: string) => Promise<void>,
  ): Promise<void> {
    if (await findInstance(this.db, newId)) throw new InstanceExistsError(newId);
    const wasRunning = this.runtime.isStarted(current.id);
    await this.runtime.stop(current.id);
    const oldId = current.id;
    await save({ ...current, id: newId }, oldId);
    this.logger.info({ instance: newId, previous: oldId }, `instance ${oldId} renamed to ${newId}`);
    if (wasRunning) await this.runtime.start({ ...current, id: newId });
  }

  /** The stored row (a failed start may have disabled it meanwhile). */
  private async reread(instance: StoredInstance): Promise<StoredInstance> {
    return (await findInstance(this.db, instance.id)) ?? instance;
  }

  private async grouped(
    db: Knex,
    instances: StoredInstance[],
    key: (view: InstanceView) => string,
  ): Promise<Map<string, InstanceView[]>> {
    const map = new Map<string, InstanceView[]>();
    for (const view of await this.views(db, instances)) {
      const list = map.get(key(view)) ?? [];
      list.push(view);
      map.set(key(view), list);
    }
    return map;
  }

  private async views(db: Knex, instances: StoredInstance[]): Promise<InstanceView[]> {
    if (instances.length === 0) return [];
    const plugins = new Map<string, StoredPlugin>((await listPlugins(db)).map((p) => [p.id, p]));
    return instances.map((instance) => this.view(instance, plugins.get(instance.type)));
  }

  private view(instance: StoredInstance, plugin: StoredPlugin | undefined): InstanceView {
    const meta = plugin?.meta;
    const hasDatabase = meta?.database === true;
    return {
      id: instance.id,
      type: instance.type,
      enabled: instance.enabled,
      started: this.runtime.isStarted(instance.id),
      primary_user: instance.primaryUser,
      config: instance.config,
      base_config: this.runtime.baseConfig(instance.id),
      database: this.databaseFeature && hasDatabase && instance.databaseEngine !== null,
      database_interface: meta ? (hasDatabase ? meta.database_type : null) : 'unknown',
      database_engine: instance.databaseEngine,
    };
  }
}
