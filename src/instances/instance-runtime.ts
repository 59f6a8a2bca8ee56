import type { Knex } from 'knex';
import type { Config } from '../config/schema';
import {
  findInstance,
  setInstanceEnabled,
  updateInstance,
  type StoredInstance,
} from '../db/instance-repository';
import { findPlugin, readArchive, type StoredPlugin } from '../db/plugin-repository';
import type { RowCache } from '../db/row-cache';
import { namedLogger, type Logger } from '../logging/logger';
import type { BotClient, RoomEvent } from '../matrix/bot-client';
import { readPluginFiles } from '../plugins/plugin-archive';
import type { PluginMeta } from '../plugins/plugin-meta';
import { HostSandbox, resolveHostUser } from '../plugins/runtime/host-sandbox';
import {
  PluginHost,
  type HostLimits,
  type InstancePort,
  type QueryResult,
} from '../plugins/runtime/host-process';
import { mergeConfig, parseConfig } from './instance-config';
import type { InstanceDatabases } from './instance-databases';

export interface RuntimeSettings extends HostLimits {
  /** First delay before instances whose host ended start again; doubles per crash. */
  restartBaseMs: number;
  restartMaxMs: number;
  /** Who plugin hosts run as when the server runs as root (`instances.hostUser`). */
  hostUser: string;
}

export function runtimeSettings(instances: Config['instances']): RuntimeSettings {
  return {
    memoryMb: instances.memoryLimitMb,
    stallMs: instances.stallTimeoutSeconds * 1000,
    startMs: instances.startTimeoutSeconds * 1000,
    callsPerSecond: instances.callsPerSecond,
    callBurst: instances.callBurst,
    logsPerSecond: instances.logRecordsPerSecond,
    logBurst: instances.logBurst,
    restartBaseMs: 1_000,
    restartMaxMs: 5 * 60_000,
    hostUser: instances.hostUser,
  };
}

/** The instance databases as plugins reach them: the server's side of `db.query`. */
export interface InstanceDatabasePort {
  prepare(instanceId: string): Promise<void>;
  query(instanceId: string, sql: string, params: unknown[]): Promise<QueryResult>;
}

export function instanceDatabases(databases: InstanceDatabases): InstanceDatabasePort {
  return {
    prepare: async (instanceId) => {
      await databases.prepare(instanceId);
    },
    query: async (instanceId, sql, params) => {
      const result = await databases.query(instanceId, sql, params);
      // Rows as objects, as pg gives them (a later column of the same name wins).
      const rows = result.rows.map((row) =>
        Object.fromEntries(result.columns.map((column, i) => [column, row[i]])),
      );
      return { rows, rowCount: result.rowCount ?? rows.length };
    },
  };
}

/** A plugin host and what was read from its archive; shared by the instances started on it. */
interface HostEntry {
  key: string;
  pluginId: string;
  launched: Promise<Launched>;
  /** Instances running or starting on it; at zero the host is closed. */
  users: number;
}

interface Launched {
  host: PluginHost;
  meta: PluginMeta;
  baseConfig: string | null;
}

interface Running {
  entry: HostEntry;
  launched: Launched;
  clientId: string;
}

/** Where a started instance's client comes from. */
export type RunningClients = (clientId: string) => BotClient | undefined;

/** A plugin whose host keeps ending is restarted less and less often, until it runs a while. */
const CRASH_MEMORY_MS = 10 * 60_000;

/**
 * Running instances. Each plugin runs in a host process of its own (its code loaded once, its
 * instances objects in it), started when its first instance starts and ended with its last.
 * A start that fails disables the instance (as maubot does) and logs why. A host that crashes,
 * stalls or passes its memory limit ends only that plugin's instances: they are logged and
 * started again after a delay that grows while the plugin keeps failing.
 */
export class InstanceRuntime {
  private readonly running = new Map<string, Running>();
  private readonly starting = new Map<string, Promise<boolean>>();
  private readonly hosts = new Map<string, HostEntry>();
  private readonly closingHosts = new Set<Promise<void>>();
  /** Why each instance's last start failed. */
  private readonly failures = new Map<string, string>();
  /** The plugin's base config per instance, known once it started (as in maubot). */
  private readonly baseConfigs = new Map<string, string | null>();
  private readonly restarts = new Map<string, NodeJS.Timeout>();
  /** Bumped by every stop: a restart that began before it does not start the instance. */
  private readonly generations = new Map<string, number>();
  private readonly crashes = new Map<string, { count: number; at: number }>();
  private sandboxReady?: Promise<HostSandbox>;
  private closed = false;
  private stateVersion = 0;

  constructor(
    private readonly db: Knex,
    private readonly clients: RunningClients,
    private readonly logger: Logger,
    private readonly settings: RuntimeSettings,
    private readonly databases: InstanceDatabasePort,
    /** Told about the instance rows this runtime writes. */
    private readonly rows?: RowCache,
  ) {}

  /** Shutdown: starts and restarts from now on do nothing. */
  close(): void {
    this.closed = true;
    for (const timer of this.restarts.values()) clearTimeout(timer);
    this.restarts.clear();
  }

  /** Changes whenever isStarted or baseConfig may answer differently for some instance. */
  get version(): number {
    return this.stateVersion;
  }

  isStarted(id: string): boolean {
    return this.running.has(id);
  }

  lastFailure(id: string): string | undefined {
    return this.failures.get(id);
  }

  baseConfig(id: string): string | null {
    return this.baseConfigs.get(id) ?? null;
  }

  /** The process an instance runs in (its id, and the directory its plugin's files are in). */
  hostOf(id: string): { pid: number | undefined; dir: string } | undefined {
    const host = this.running.get(id)?.launched.host;
    return host && { pid: host.pid, dir: host.dir };
  }

  /** Plugin host processes running. */
  hostCount(): number {
    return this.hosts.size;
  }

  instanceLogger(id: string): Logger {
    // maubot's logger name, which its web UI links to the instance.
    return namedLogger(this.logger, `maubot.instance.${id}`);
  }

  /** Starts the instance if its client runs; false when it did not start. */
  start(instance: StoredInstance): Promise<boolean> {
    if (this.running.has(instance.id)) return Promise.resolve(true);
    const inFlight = this.starting.get(instance.id);
    if (inFlight) return inFlight;
    const attempt = this.startNow(instance).finally(() => {
      if (this.starting.get(instance.id) === attempt) this.starting.delete(instance.id);
    });
    this.starting.set(instance.id, attempt);
    return attempt;
  }

  async stop(id: string): Promise<void> {
    this.cancelRestart(id);
    await this.starting.get(id)?.catch(() => false);
    const running = this.running.get(id);
    if (!running) return;
    this.running.delete(id);
    this.stateVersion++;
    await running.launched.host.stopInstance(id);
    this.release(running.entry);
    this.instanceLogger(id).info('instance stopped');
  }

  /** Stops every instance and waits until every plugin host has exited. */
  async stopAll(): Promise<void> {
    for (const id of this.restarts.keys()) this.cancelRestart(id);
    await Promise.all([...this.running.keys()].map((id) => this.stop(id)));
    await Promise.all([...this.closingHosts]);
    if (this.closed && this.sandboxReady) {
      const sandbox = await this.sandboxReady.catch(() => null);
      this.sandboxReady = undefined;
      await sandbox?.close();
    }
  }

  /** Ids of the running instances of a client or plugin. */
  runningOf(filter: { clientId?: string; type?: string }): string[] {
    return [...this.running.entries()]
      .filter(
        ([, r]) =>
          (filter.clientId === undefined || r.clientId === filter.clientId) &&
          (filter.type === undefined || r.entry.pluginId === filter.type),
      )
      .map(([id]) => id);
  }

  /** A room event of a client, to each of its running instances (not the bot's own events). */
  route(clientId: string, event: RoomEvent): void {
    if (event.sender === clientId || event.eventId === undefined) return;
    const byHost = new Map<PluginHost, string[]>();
    for (const [id, r] of this.running) {
      if (r.clientId !== clientId) continue;
      const ids = byHost.get(r.launched.host) ?? [];
      ids.push(id);
      byHost.set(r.launched.host, ids);
    }
    for (const [host, ids] of byHost) host.dispatch(ids, { ...event, eventId: event.eventId });
  }

  /** New config text reaches the running plugin merged over its base config. */
  updateConfig(id: string, text: string): void {
    const running = this.running.get(id);
    if (!running) return;
    const own = parseConfig(text);
    if (own.error) {
      this.instanceLogger(id).warn({ reason: own.error }, 'new config is not valid YAML; ignored');
      return;
    }
    const base = parseConfig(running.launched.baseConfig).config;
    running.launched.host.updateConfig(id, mergeConfig(base, own.config));
  }

  private async startNow(instance: StoredInstance): Promise<boolean> {
    const log = this.instanceLogger(instance.id);
    if (!instance.enabled || this.closed) return false;
    const bot = this.clients(instance.primaryUser);
    if (!bot) {
      log.info({ client: instance.primaryUser }, 'not started: its client is not running');
      return false;
    }
    let entry: HostEntry | undefined;
    try {
      const plugin = await findPlugin(this.db, instance.type);
      if (!plugin) throw new Error(`plugin ${instance.type} is not installed`);
      if (plugin.loader !== 'javascript') {
        throw new Error(
          `${instance.type} is a Python plugin; Switchboard runs JavaScript plugins only`,
        );
      }
      entry = this.acquire(plugin);
      const launched = await entry.launched;
      this.baseConfigs.set(instance.id, launched.baseConfig);
      this.stateVersion++;
      const own = parseConfig(instance.config);
      if (own.error) throw new Error(`its config is not valid YAML: ${own.error}`);
      if (launched.meta.database) {
        await this.databases.prepare(instance.id);
        if (instance.databaseEngine !== 'postgres') {
          const current = await findInstance(this.db, instance.id);
          if (current) await updateInstance(this.db, { ...current, databaseEngine: 'postgres' });
          this.rows?.changed('instance');
        }
      }
      await launched.host.startInstance(
        {
          instanceId: instance.id,
          userId: bot.userId,
          config: mergeConfig(parseConfig(launched.baseConfig).config, own.config),
          hasDatabase: launched.meta.database,
        },
        this.port(instance.id, bot),
      );
      if (this.closed) {
        await launched.host.stopInstance(instance.id);
        this.release(entry);
        return false;
      }
      this.running.set(instance.id, { entry, launched, clientId: instance.primaryUser });
      this.stateVersion++;
      this.failures.delete(instance.id);
      log.info({ plugin: instance.type, client: instance.primaryUser }, 'instance started');
      return true;
    } catch (err) {
      if (entry) this.release(entry);
      const reason = err instanceof Error ? err.message : String(err);
      this.failures.set(instance.id, reason);
      log.error({ reason }, 'instance failed to start and was disabled: %s', reason);
      await setInstanceEnabled(this.db, instance.id, false);
      this.rows?.changed('instance');
      return false;
    }
  }

  /** The running host of the plugin's current archive, or a new one; counts one more user. */
  private acquire(plugin: StoredPlugin): HostEntry {
    const key = `${plugin.id}\u0000${plugin.archiveId}`;
    let entry = this.hosts.get(key);
    if (!entry) {
      const created: HostEntry = { key, pluginId: plugin.id, users: 0, launched: null! };
      created.launched = this.launch(plugin, created);
      // A host that did not start is forgotten: the next start tries again.
      created.launched.catch(() => this.forget(created));
      this.hosts.set(key, created);
      entry = created;
    }
    entry.users++;
    return entry;
  }

  private release(entry: HostEntry): void {
    if (--entry.users > 0) return;
    this.forget(entry);
    const closing = entry.launched
      .then((launched) => launched.host.close())
      .catch(() => undefined)
      .finally(() => this.closingHosts.delete(closing));
    this.closingHosts.add(closing);
  }

  private forget(entry: HostEntry): void {
    if (this.hosts.get(entry.key) === entry) this.hosts.delete(entry.key);
  }

  private async launch(plugin: StoredPlugin, entry: HostEntry): Promise<Launched> {
    const data = await readArchive(this.db, plugin.archiveId);
    if (!data) throw new Error(`the archive of ${plugin.id} is missing`);
    const { archive, files } = await readPluginFiles(data);
    const baseConfig =
      archive.meta.config && files.has('base-config.yaml')
        ? files.get('base-config.yaml')!.toString('utf8')
        : null;
    const sandbox = await this.sandbox();
    const dir = await sandbox.unpack(plugin.id, files);
    const pluginLogger = namedLogger(this.logger, `maubot.plugin.${plugin.id}`);
    let host: PluginHost;
    try {
      host = await PluginHost.launch({
        sandbox,
        dir,
        load: {
          pluginId: plugin.id,
          sources: [...files.keys()].filter((path) => path.endsWith('.js')),
          modulePaths: archive.modulePaths,
          mainModule: archive.mainModule,
          mainClass: archive.mainClass,
        },
        limits: this.settings,
        logger: pluginLogger,
      });
    } catch (err) {
      await sandbox.remove(dir);
      throw err;
    }
    void host.exited.then(() => sandbox.remove(dir));
    host.onEnd((reason, ids) => this.hostEnded(entry, reason, ids));
    pluginLogger.debug({ pid: host.pid, version: archive.meta.version }, 'plugin host started');
    return { host, meta: archive.meta, baseConfig };
  }

  /** The sandbox, made at the first host start; as root, with the configured host user. */
  private sandbox(): Promise<HostSandbox> {
    this.sandboxReady ??= (async () => {
      if (process.getuid?.() !== 0) {
        this.logger.warn(
          'the server does not run as root, so plugin hosts run as its own user (see docs/plugins.md)',
        );
        return HostSandbox.create(null);
      }
      return HostSandbox.create(await resolveHostUser(this.settings.hostUser));
    })();
    this.sandboxReady.catch(() => (this.sandboxReady = undefined));
    return this.sandboxReady;
  }

  /** A host ended on its own: its running instances are logged and started again later. */
  private hostEnded(entry: HostEntry, reason: string, ids: string[]): void {
    this.forget(entry);
    const delay = this.restartDelay(entry.pluginId);
    for (const id of ids) {
      if (this.running.get(id)?.entry !== entry) continue;
      this.running.delete(id);
      this.stateVersion++;
      this.release(entry);
      this.instanceLogger(id).error(
        { reason, restartInMs: delay },
        'instance stopped: %s; restarting in %s s',
        reason,
        (delay / 1000).toFixed(1),
      );
      this.scheduleRestart(id, delay);
    }
  }

  private restartDelay(pluginId: string): number {
    const now = Date.now();
    const last = this.crashes.get(pluginId);
    const count = last && now - last.at < CRASH_MEMORY_MS ? last.count + 1 : 1;
    this.crashes.set(pluginId, { count, at: now });
    const { restartBaseMs, restartMaxMs } = this.settings;
    return Math.min(restartBaseMs * 2 ** Math.min(count - 1, 30), restartMaxMs);
  }

  private scheduleRestart(id: string, delay: number): void {
    if (this.closed) return;
    this.cancelRestart(id);
    const generation = this.generations.get(id) ?? 0;
    const timer = setTimeout(() => {
      this.restarts.delete(id);
      void this.restart(id, generation);
    }, delay);
    timer.unref();
    this.restarts.set(id, timer);
  }

  private cancelRestart(id: string): void {
    clearTimeout(this.restarts.get(id));
    this.restarts.delete(id);
    this.generations.set(id, (this.generations.get(id) ?? 0) + 1);
  }

  private async restart(id: string, generation: number): Promise<void> {
    try {
      const instance = await findInstance(this.db, id);
      if (!instance || this.generations.get(id) !== generation || this.closed) return;
      await this.start(instance);
    } catch (err) {
      this.instanceLogger(id).error({ err }, 'instance restart failed');
    }
  }

  private port(instanceId: string, bot: BotClient): InstancePort {
    return {
      logger: this.instanceLogger(instanceId),
      sendEvent: (roomId, type, content) => bot.sendEvent(roomId, type, content),
      getState: (roomId, type, stateKey) => bot.getState(roomId, type, stateKey),
      dbQuery: (sql, params) => this.databases.query(instanceId, sql, params),
    };
  }
}
