import type { Knex } from 'knex';
import type { ChangeFeed } from './change-feed';
import { listClients, type StoredClient } from './client-repository';
import { listInstances, type StoredInstance } from './instance-repository';
import { listPlugins, type StoredPlugin } from './plugin-repository';

/** The tables kept in memory, named as in the database (and in their announcements). */
export type CachedTable = 'plugin' | 'client' | 'instance';
const TABLES: readonly CachedTable[] = ['plugin', 'client', 'instance'];

/** What the list endpoints read, in the database's order, with lookups by id. */
export interface CachedRows {
  /** Changes whenever any table is read again (a new snapshot). */
  readonly version: number;
  readonly plugins: readonly StoredPlugin[];
  readonly clients: readonly StoredClient[];
  readonly instances: readonly StoredInstance[];
  readonly plugin: ReadonlyMap<string, StoredPlugin>;
  readonly client: ReadonlyMap<string, StoredClient>;
  readonly instance: ReadonlyMap<string, StoredInstance>;
  /** Instances by plugin id and by client id, each in the database's order. */
  readonly byPlugin: ReadonlyMap<string, readonly StoredInstance[]>;
  readonly byClient: ReadonlyMap<string, readonly StoredInstance[]>;
}

function grouped(instances: readonly StoredInstance[], key: (i: StoredInstance) => string) {
  const map = new Map<string, StoredInstance[]>();
  for (const instance of instances) {
    const list = map.get(key(instance));
    if (list) list.push(instance);
    else map.set(key(instance), [instance]);
  }
  return map;
}

/**
 * Plugins, clients and instances in memory, with the database as the record: a table is read
 * again before the next answer once it changed — by this process (its services call
 * `changed` after each write commits) or by another one (the tables' triggers announce every
 * commit, see ChangeFeed). While nothing listens for announcements, every read goes to the
 * database.
 */
export class RowCache {
  private plugins: StoredPlugin[] = [];
  private clients: StoredClient[] = [];
  private instances: StoredInstance[] = [];
  private snapshot: CachedRows | undefined;
  private version = 0;
  private readonly stale = new Set<CachedTable>(TABLES);
  private loading: Promise<void> | undefined;
  /** Loads started and finished, counted: a reader waits for a load started after its need. */
  private started = 0;
  private finished = 0;

  constructor(
    private readonly db: Knex,
    private readonly feed?: ChangeFeed,
  ) {
    feed?.subscribe({
      changed: (table) => {
        if ((TABLES as readonly string[]).includes(table)) this.changed(table as CachedTable);
      },
      resync: () => this.changed(...TABLES),
    });
  }

  /** The rows as committed now (tables that changed are read again first). */
  async rows(): Promise<CachedRows> {
    if (!this.feed?.listening) this.changed(...TABLES);
    // A stale table needs the next load; one under way is for tables stale before it started.
    const needed = this.stale.size > 0 ? this.started + 1 : this.loading ? this.started : 0;
    while (this.finished < needed) await (this.loading ?? this.load());
    return (this.snapshot ??= this.build());
  }

  /** These tables changed (after the commit): the next read takes them from the database. */
  changed(...tables: CachedTable[]): void {
    for (const table of tables) this.stale.add(table);
  }

  /** A write to a table, marked changed once it is done, whether it committed or failed. */
  async written<T>(table: CachedTable, write: Promise<T>): Promise<T> {
    try {
      return await write;
    } finally {
      this.changed(table);
    }
  }

  /** Reads the stale tables; one load at a time, and every waiting reader shares it. */
  private load(): Promise<void> {
    const tables = [...this.stale];
    this.stale.clear();
    const load = ++this.started;
    this.loading = (async () => {
      try {
        const [plugins, clients, instances] = await Promise.all([
          tables.includes('plugin') ? listPlugins(this.db) : undefined,
          tables.includes('client') ? listClients(this.db) : undefined,
          tables.includes('instance') ? listInstances(this.db) : undefined,
        ]);
        if (plugins) this.plugins = plugins;
        if (clients) this.clients = clients;
        if (instances) this.instances = instances;
        this.snapshot = undefined;
        this.version++;
        this.finished = load;
      } catch (err) {
        // Read again by the next caller.
        this.changed(...tables);
        throw err;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private build(): CachedRows {
    return {
      version: this.version,
      plugins: this.plugins,
      clients: this.clients,
      instances: this.instances,
      plugin: new Map(this.plugins.map((p) => [p.id, p])),
      client: new Map(this.clients.map((c) => [c.id, c])),
      instance: new Map(this.instances.map((i) => [i.id, i])),
      byPlugin: grouped(this.instances, (i) => i.type),
      byClient: grouped(this.instances, (i) => i.primaryUser),
    };
  }
}
