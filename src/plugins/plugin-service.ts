import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Knex } from 'knex';
import type { components } from '../../generated/maubot';
import {
  deleteArchive,
  deletePlugin,
  deleteUnusedArchives,
  findPlugin,
  insertArchive,
  insertPlugin,
  lockPluginId,
  readArchive,
  updatePlugin,
  type PluginValues,
  type StoredPlugin,
} from '../db/plugin-repository';
import { RowCache, type CachedRows } from '../db/row-cache';
import type { UploadedFile } from './uploaded-file';
import type { Logger } from '../logging/logger';
import { answersByKey, JsonMemo, type JsonAnswer } from '../util/json-memo';
import { KeyedLock } from '../util/keyed-lock';
import { readPluginArchive } from './plugin-archive';
import { PluginInvalidError } from './plugin-meta';
import {
  PluginExistsError,
  PluginIdMismatchError,
  PluginInUseError,
  PluginNotFoundError,
  PluginReloadError,
} from './plugin-errors';

export type PluginView = components['schemas']['Plugin'];
export type InstanceView = components['schemas']['Instance'];

/** How plugins learn which instances use them (instances live elsewhere). */
export interface PluginInstances {
  byPlugin(db: Knex, pluginIds: readonly string[]): Promise<Map<string, InstanceView[]>>;
  /** The same from rows in memory (without it, the lists ask byPlugin). */
  answersByPlugin?(rows: CachedRows): ReadonlyMap<string, readonly JsonAnswer<InstanceView>[]>;
  /**
   * Stops the plugin's running instances, runs `apply`, and starts the enabled ones again.
   * When one fails to start, runs `revert`, restarts the previous instances and throws.
   */
  swapPlugin?(
    pluginId: string,
    apply: () => Promise<void>,
    revert: () => Promise<void>,
  ): Promise<void>;
}

const NONE: readonly JsonAnswer<InstanceView>[] = [];

export const NO_PLUGIN_INSTANCES: PluginInstances = {
  byPlugin: () => Promise.resolve(new Map()),
};

export interface UploadOptions {
  /** Replace an existing plugin with the same id instead of answering that it exists. */
  allowOverride: boolean;
  /** The id the caller expects (PUT /plugin/{id}); the archive's id must equal it. */
  expectedId?: string;
}

/** Plugin archives: validated on upload, stored in the database, listed and removed. */
export class PluginService {
  constructor(
    private readonly db: Knex,
    private readonly logger: Logger,
    private readonly instances: PluginInstances = NO_PLUGIN_INSTANCES,
    private readonly rows: RowCache = new RowCache(db),
  ) {}

  private readonly lock = new KeyedLock();
  private readonly answers = new JsonMemo();

  /** GET /plugins, from memory (see RowCache); the answer is kept while nothing changes. */
  async listAnswer(): Promise<JsonAnswer<PluginView[]>> {
    const rows = await this.rows.rows();
    const instances = await this.instanceAnswers(rows);
    const items = rows.plugins.map((p) => this.answer(rows, p, instances.get(p.id)));
    return this.memo(rows).get('', items, () => items.map((item) => item.view));
  }

  async getAnswer(id: string): Promise<JsonAnswer<PluginView>> {
    const rows = await this.rows.rows();
    const plugin = rows.plugin.get(id);
    if (!plugin) throw new PluginNotFoundError(id);
    return this.answer(rows, plugin, (await this.instanceAnswers(rows)).get(id));
  }

  async list(): Promise<PluginView[]> {
    return JSON.parse((await this.listAnswer()).json) as PluginView[];
  }

  async get(id: string): Promise<PluginView> {
    return JSON.parse((await this.getAnswer(id)).json) as PluginView;
  }

  private async instanceAnswers(
    rows: CachedRows,
  ): Promise<ReadonlyMap<string, readonly JsonAnswer<InstanceView>[]>> {
    if (this.instances.answersByPlugin) return this.instances.answersByPlugin(rows);
    const views = await this.instances.byPlugin(
      this.db,
      rows.plugins.map((p) => p.id),
    );
    return answersByKey(views);
  }

  /** A plugin's answer is remade when its row or one of its instances' answers changes. */
  private answer(
    rows: CachedRows,
    plugin: StoredPlugin,
    instances: readonly JsonAnswer<InstanceView>[] = NONE,
  ): JsonAnswer<PluginView> {
    return this.memo(rows).get(plugin.id, [plugin, instances], () =>
      this.view(
        plugin,
        instances.map((i) => i.view),
      ),
    );
  }

  /** Kept answers of one snapshot of the rows (ids of gone rows are forgotten with it). */
  private memo(rows: CachedRows): JsonMemo {
    return this.answers.at(rows.version);
  }

  /**
   * Validates the archive completely, then stores it and its metadata in one transaction: a
   * failed upload leaves whatever was stored before untouched.
   */
  async upload(
    file: UploadedFile,
    options: UploadOptions,
  ): Promise<{ plugin: PluginView; created: boolean }> {
    const archive = await readPluginArchive(file.path);
    const { meta, loader } = archive;
    if (options.expectedId !== undefined && meta.id !== options.expectedId) {
      throw new PluginIdMismatchError(meta.id);
    }
    const sha256 = file.sha256 ?? (await fileSha256(file.path));
    // One upload of an id at a time in this process (a replacement restarts instances here),
    // and the advisory lock across processes while the rows change.
    const { created, plugin } = await this.lock.run(meta.id, async () => {
      const { existing, archiveId } = await this.db.transaction(async (trx) => {
        await lockPluginId(trx, meta.id);
        const existing = await findPlugin(trx, meta.id);
        if (existing && !options.allowOverride) throw new PluginExistsError(meta.id);
        const archiveId = await insertArchive(trx, { pluginId: meta.id, sha256, file });
        if (!existing) {
          await insertPlugin(trx, { id: meta.id, version: meta.version, loader, meta, archiveId });
        }
        return { existing, archiveId };
      });
      this.rows.changed('plugin');
      // The archive went in first; a replacement switches over only once its instances run.
      if (existing) {
        await this.replace(existing, {
          id: meta.id,
          version: meta.version,
          loader,
          meta,
          archiveId,
        });
      }
      // Read back before the next operation on this id can change it.
      return { created: !existing, plugin: await this.get(meta.id) };
    });
    this.logger.info(
      { plugin: meta.id, version: meta.version, loader, bytes: file.size, created },
      `plugin ${meta.id} ${meta.version} ${created ? 'uploaded' : 'replaced'}`,
    );
    return { plugin, created };
  }

  /**
   * maubot's replacement: stop the running instances, switch to the new archive, start the
   * enabled instances. If one fails to start, the previous archive comes back and its
   * instances run again; the new archive is dropped and the upload answers 400.
   */
  private async replace(existing: StoredPlugin, values: PluginValues): Promise<void> {
    const previous: PluginValues = {
      id: existing.id,
      version: existing.version,
      loader: existing.loader,
      meta: existing.meta,
      archiveId: existing.archiveId,
    };
    const apply = () => this.rows.written('plugin', updatePlugin(this.db, values));
    const revert = () => this.rows.written('plugin', updatePlugin(this.db, previous));
    try {
      if (this.instances.swapPlugin) await this.instances.swapPlugin(existing.id, apply, revert);
      else await apply();
    } catch (err) {
      await deleteArchive(this.db, values.archiveId);
      const reason = err instanceof Error ? err.message : String(err);
      this.logger.warn(
        { plugin: existing.id, reason },
        `the new version of plugin ${existing.id} failed; rolled back`,
      );
      throw new PluginInvalidError('Failed to start the new version of the plugin', reason);
    }
    await deleteArchive(this.db, existing.archiveId);
  }

  /**
   * At startup: archives that no plugin points at are what a process killed between storing an
   * upload and switching to it left behind.
   */
  async removeUnusedArchives(): Promise<void> {
    const removed = await deleteUnusedArchives(this.db);
    if (removed > 0) this.logger.info({ archives: removed }, 'removed unused plugin archives');
  }

  async delete(id: string): Promise<void> {
    // In turn with uploads and reloads of the same id: none sees the plugin half-changed.
    await this.lock.run(id, () =>
      this.db.transaction(async (trx) => {
        await lockPluginId(trx, id);
        if (!(await findPlugin(trx, id))) throw new PluginNotFoundError(id);
        const instances = await this.instances.byPlugin(trx, [id]);
        if ((instances.get(id) ?? []).length > 0) throw new PluginInUseError(id);
        await deletePlugin(trx, id);
      }),
    );
    this.rows.changed('plugin');
    this.logger.info({ plugin: id }, `plugin ${id} deleted`);
  }

  /** Reads and validates the stored archive again and refreshes the stored metadata from it. */
  async reload(id: string): Promise<void> {
    await this.lock.run(id, () => this.reloadNow(id));
  }

  private async reloadNow(id: string): Promise<void> {
    const plugin = await findPlugin(this.db, id);
    if (!plugin) throw new PluginNotFoundError(id);
    const data = await readArchive(this.db, plugin.archiveId);
    if (!data)
      throw new PluginReloadError('Plugin archive is missing', `archive ${plugin.archiveId}`);
    let archive;
    try {
      archive = await readPluginArchive(data);
    } catch (err) {
      if (err instanceof PluginInvalidError) throw new PluginReloadError(err.message, err.detail);
      throw err;
    }
    if (archive.meta.id !== id) {
      throw new PluginReloadError(
        'Maubot plugin ID changed during reload',
        `the archive now says ${archive.meta.id}`,
      );
    }
    const apply = () =>
      this.rows.written(
        'plugin',
        updatePlugin(this.db, {
          id,
          version: archive.meta.version,
          loader: archive.loader,
          meta: archive.meta,
          archiveId: plugin.archiveId,
        }),
      );
    const revert = () =>
      this.rows.written(
        'plugin',
        updatePlugin(this.db, { ...plugin, archiveId: plugin.archiveId }),
      );
    try {
      if (this.instances.swapPlugin) await this.instances.swapPlugin(id, apply, revert);
      else await apply();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new PluginReloadError('Failed to start the reloaded plugin', reason);
    }
    this.logger.info(
      { plugin: id, version: archive.meta.version },
      `plugin ${id} ${archive.meta.version} reloaded`,
    );
  }

  private view(plugin: StoredPlugin, instances: InstanceView[]): PluginView {
    return { id: plugin.id, version: plugin.version, instances, loader: plugin.loader };
  }
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), hash);
  return hash.digest('hex');
}
