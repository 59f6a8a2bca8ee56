import type { Knex } from 'knex';
import { ensureInstanceDatabase, runInstanceQuery } from '../db/instance-database';
import {
  findInstance,
  setInstanceEnabled,
  updateInstance,
  type StoredInstance,
} from '../db/instance-repository';
import { findPlugin, readArchive } from '../db/plugin-repository';
import type { Logger } from '../logging/logger';
import type { BotClient, RoomEvent } from '../matrix/bot-client';
import { readPluginFiles, type PluginMeta } from '../plugins/plugin-archive';
import {
  InstanceWorker,
  type PluginHost,
  type WorkerLimits,
} from '../plugins/runtime/instance-worker';
import { mergeConfig, parseConfig } from './instance-config';

interface Running {
  worker: InstanceWorker;
  clientId: string;
  meta: PluginMeta;
  baseConfig: string | null;
}

/** Where a started instance's client comes from. */
export type RunningClients = (clientId: string) => BotClient | undefined;

/**
 * Running instances: one worker thread each, fed the events of their client. A start that
 * fails disables the instance (as maubot does) and logs why; an instance that crashes, stalls
 * or runs out of memory is stopped and logged, and nothing else is affected.
 */
export class InstanceRuntime {
  private readonly running = new Map<string, Running>();
  /** Why each instance's last start failed. */
  private readonly failures = new Map<string, string>();
  /** The plugin's base config per instance, known once it started (as in maubot). */
  private readonly baseConfigs = new Map<string, string | null>();

  constructor(
    private readonly db: Knex,
    private readonly clients: RunningClients,
    private readonly logger: Logger,
    private readonly limits: WorkerLimits,
  ) {}

  private closed = false;

  /** Shutdown: starts from now on do nothing. */
  close(): void {
    this.closed = true;
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

  instanceLogger(id: string): Logger {
    // maubot's logger name, which its web UI links to the instance.
    return this.logger.child({ logger: `maubot.instance.${id}` });
  }

  /** Starts the instance if its client runs; false when it did not start. */
  async start(instance: StoredInstance): Promise<boolean> {
    if (this.running.has(instance.id)) return true;
    const log = this.instanceLogger(instance.id);
    if (!instance.enabled || this.closed) return false;
    const bot = this.clients(instance.primaryUser);
    if (!bot) {
      log.info({ client: instance.primaryUser }, 'not started: its client is not running');
      return false;
    }
    try {
      const running = await this.launch(instance, bot);
      if (this.closed) {
        await running.worker.stop();
        return false;
      }
      this.running.set(instance.id, running);
      running.worker.onEnd((reason) => {
        if (this.running.get(instance.id) !== running) return;
        this.running.delete(instance.id);
        log.error({ reason }, 'instance stopped: %s', reason);
      });
      log.info({ plugin: instance.type, client: instance.primaryUser }, 'instance started');
      return true;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.failures.set(instance.id, reason);
      log.error({ reason }, 'instance failed to start and was disabled: %s', reason);
      await setInstanceEnabled(this.db, instance.id, false);
      return false;
    }
  }

  async stop(id: string): Promise<void> {
    const running = this.running.get(id);
    if (!running) return;
    this.running.delete(id);
    await running.worker.stop();
    this.instanceLogger(id).info('instance stopped');
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.stop(id)));
  }

  /** Ids of the running instances of a client or plugin. */
  runningOf(filter: { clientId?: string; type?: string }): string[] {
    return [...this.running.entries()]
      .filter(
        ([, r]) =>
          (filter.clientId === undefined || r.clientId === filter.clientId) &&
          (filter.type === undefined || r.meta.id === filter.type),
      )
      .map(([id]) => id);
  }

  /** A room event of a client, to each of its running instances (not the bot's own events). */
  route(clientId: string, event: RoomEvent): void {
    if (event.sender === clientId || event.eventId === undefined) return;
    for (const r of this.running.values()) {
      if (r.clientId !== clientId) continue;
      r.worker.dispatch({ ...event, eventId: event.eventId });
    }
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
    running.worker.updateConfig(mergeConfig(parseConfig(running.baseConfig).config, own.config));
  }

  private async launch(instance: StoredInstance, bot: BotClient): Promise<Running> {
    const plugin = await findPlugin(this.db, instance.type);
    if (!plugin) throw new Error(`plugin ${instance.type} is not installed`);
    if (plugin.loader !== 'javascript') {
      throw new Error(
        `${instance.type} is a Python plugin; Switchboard runs JavaScript plugins only`,
      );
    }
    const data = await readArchive(this.db, plugin.archiveId);
    if (!data) throw new Error(`the archive of ${instance.type} is missing`);
    const { archive, files } = await readPluginFiles(data);
    const baseConfig =
      archive.meta.config && files.has('base-config.yaml')
        ? files.get('base-config.yaml')!.toString('utf8')
        : null;
    this.baseConfigs.set(instance.id, baseConfig);
    const own = parseConfig(instance.config);
    if (own.error) throw new Error(`its config is not valid YAML: ${own.error}`);
    if (archive.meta.database) {
      await ensureInstanceDatabase(this.db, instance.id);
      if (instance.databaseEngine !== 'postgres') {
        const current = await findInstance(this.db, instance.id);
        if (current) await updateInstance(this.db, { ...current, databaseEngine: 'postgres' });
      }
    }
    const sources: Record<string, string> = {};
    for (const [path, content] of files) {
      if (path.endsWith('.js')) sources[path] = content.toString('utf8');
    }
    const worker = await InstanceWorker.start(
      {
        instanceId: instance.id,
        userId: bot.userId,
        sources,
        modulePaths: archive.modulePaths,
        mainModule: archive.mainModule,
        mainClass: archive.mainClass,
        config: mergeConfig(parseConfig(baseConfig).config, own.config),
        hasDatabase: archive.meta.database,
      },
      this.host(instance.id, bot),
      this.instanceLogger(instance.id),
      this.limits,
    );
    return { worker, clientId: instance.primaryUser, meta: archive.meta, baseConfig };
  }

  private host(instanceId: string, bot: BotClient): PluginHost {
    return {
      sendEvent: (roomId, type, content) =>
        bot.sendEvent(roomId as string, type as string, content as Record<string, unknown>),
      getState: (roomId, type, stateKey) =>
        bot.getState(roomId as string, type as string, stateKey as string),
      dbQuery: async (sql, params) => {
        const result = await runInstanceQuery(
          this.db,
          instanceId,
          sql as string,
          params as unknown[],
        );
        return { rows: result.rows, rowCount: result.rowCount };
      },
    };
  }
}
