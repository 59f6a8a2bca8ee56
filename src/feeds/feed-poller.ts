import type { Knex } from 'knex';
import type { FeedSettings } from '../config/schema';
import type { StoredConnection } from '../bridge/connection-types';
import { notice, type RoomMessenger } from '../bridge/room-messenger';
import {
  deleteFeed,
  getFeedStates,
  markItemsSeen,
  newFeedState,
  pruneSeenItems,
  saveFeedState,
  seenItemIds,
  type FeedState,
} from '../db/feed-repository';
import type { Logger } from '../logging/logger';
import { readFeed, type FeedItem } from './feed-reader';
import { feedMessage } from './feed-template';
import type { FeedConnectionConfig } from './feed-kind';

/** Most items posted from one fetch: a feed that suddenly changes all its ids does not flood. */
export const MAX_ITEMS_PER_FETCH = 20;
/** Seen ids of items gone from a feed for this long are forgotten. */
export const SEEN_RETENTION_MS = 30 * 24 * 3600 * 1000;
export const MAX_BACKOFF_MS = 24 * 3600 * 1000;

/**
 * How long a URL waits after its n-th failure in a row: one poll interval, doubled for every
 * further failure, at most 24 hours. (hookshot adds 5 s × 1.05ⁿ; at the default 10-minute
 * interval that would change nothing for a hundred failures, so Switchboard skips whole polls.)
 */
export function backoffMs(failures: number, intervalMs: number): number {
  return Math.min(MAX_BACKOFF_MS, intervalMs * 2 ** Math.max(0, failures - 1));
}

export interface FeedPollerDeps {
  settings: FeedSettings;
  /** Feeds may be on loopback and private addresses (config `allowPrivateDestinations`). */
  allowPrivate: boolean;
  db: Knex;
  messenger: RoomMessenger;
  logger: Logger;
  /** The current feed connections (read at every poll, so new and removed ones count). */
  feeds(): readonly StoredConnection[];
  read?: typeof readFeed;
  /** Milliseconds since the epoch (tests move it). */
  now?: () => number;
}

/** Items oldest first: feeds list the newest first, and dates decide when every item has one. */
function oldestFirst(items: FeedItem[]): FeedItem[] {
  const reversed = [...items].reverse();
  if (!reversed.every((i) => i.date !== null)) return reversed;
  return reversed.sort((a, b) => (a.date?.getTime() ?? 0) - (b.date?.getTime() ?? 0));
}

function uniqueById(items: FeedItem[]): FeedItem[] {
  const ids = new Set<string>();
  return items.filter((i) => !ids.has(i.id) && !!ids.add(i.id));
}

/**
 * Polls the feeds of all feed connections: each distinct URL once per interval, however many
 * rooms use it, a few at a time. The first successful fetch of a URL only marks its items
 * seen; later fetches post the unseen ones to every room with that feed, then mark them seen.
 * Seen ids and validators are in the database, so a restart neither reposts nor re-reads
 * everything. One process polls (the one that owns the connections); replicas must not.
 */
export class FeedPoller {
  private readonly read: typeof readFeed;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly intervalMs: number;
  private cycle: Promise<void> = Promise.resolve();
  private running = false;
  private stopped = true;
  /** Set while stop() waits: the fetches under way finish, no more start. */
  private stopping = false;
  private timers: NodeJS.Timeout[] = [];
  /** URLs subscribed at the last poll, to notice the ones nobody uses any more. */
  private known = new Set<string>();

  constructor(private readonly deps: FeedPollerDeps) {
    this.read = deps.read ?? readFeed;
    this.now = deps.now ?? Date.now;
    this.logger = deps.logger;
    this.intervalMs = deps.settings.pollIntervalSeconds * 1000;
  }

  /** Polls at once and then every interval; the timers do not keep the process alive. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.timers = [
      setTimeout(() => this.tick(), 0),
      setInterval(() => this.tick(), this.intervalMs),
    ];
    for (const timer of this.timers) timer.unref();
  }

  /** Stops polling; resolves once the fetches under way are done. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
    this.stopping = true;
    try {
      await this.cycle;
    } finally {
      this.stopping = false;
    }
  }

  /** One full poll of every due URL (after the one under way, if any). */
  pollNow(): Promise<void> {
    const next = this.cycle.then(() => this.runCycle());
    this.cycle = next.catch(() => undefined);
    return next;
  }

  private tick(): void {
    // A poll that outlasts the interval is not stacked up behind.
    if (this.running || this.stopped) return;
    this.pollNow().catch((err: unknown) => this.logger.error({ err }, 'feed poll failed'));
  }

  private async runCycle(): Promise<void> {
    this.running = true;
    try {
      const cycleStart = this.now();
      const urls = [...new Set(this.deps.feeds().map((c) => c.stateKey))];
      await this.forgetUnused(new Set(urls));
      const states = await getFeedStates(this.deps.db, urls);
      const due = urls.filter((url) => {
        const at = states.get(url)?.nextPollAt;
        return !at || at.getTime() <= cycleStart;
      });
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < due.length && !this.stopping) {
          const url = due[next++]!;
          try {
            await this.poll(url, states.get(url) ?? newFeedState(url), cycleStart);
          } catch (err) {
            this.logger.error({ err, url }, 'could not poll feed');
          }
        }
      };
      const workers = Math.min(this.deps.settings.pollConcurrency, due.length);
      await Promise.all(Array.from({ length: workers }, worker));
    } finally {
      this.running = false;
    }
  }

  /**
   * Drops the state of URLs whose last connection went away since the last poll, so a room
   * that subscribes again later starts with a fresh first fetch instead of a backlog.
   */
  private async forgetUnused(urls: Set<string>): Promise<void> {
    for (const url of this.known) {
      if (urls.has(url)) continue;
      await deleteFeed(this.deps.db, url);
      this.logger.debug({ url }, 'feed no longer used; its state is forgotten');
    }
    this.known = urls;
  }

  private subscribers(url: string): StoredConnection[] {
    return this.deps.feeds().filter((c) => c.stateKey === url);
  }

  private async poll(url: string, state: FeedState, cycleStart: number): Promise<void> {
    const started = Date.now();
    let fetched;
    try {
      fetched = await this.read(url, {
        etag: state.etag,
        lastModified: state.lastModified,
        timeoutMs: this.deps.settings.pollTimeoutSeconds * 1000,
        allowPrivate: this.deps.allowPrivate,
      });
    } catch (err) {
      await this.failed(url, state, err instanceof Error ? err.message : String(err), cycleStart);
      return;
    }
    const ms = Date.now() - started;
    const success = { timestamp: this.now(), ok: true };
    if (state.failures > 0) {
      this.logger.info({ url, failures: state.failures }, 'feed readable again');
    }
    if (fetched.status === 'not-modified') {
      await saveFeedState(this.deps.db, {
        ...state,
        failures: 0,
        nextPollAt: null,
        lastResults: [...state.lastResults, success],
      });
      this.logger.debug({ url, ms }, 'feed not modified');
      return;
    }
    const { feed } = fetched;
    let posted = 0;
    if (state.initialised) {
      const seen = await seenItemIds(
        this.deps.db,
        url,
        feed.items.map((i) => i.id),
      );
      const fresh = oldestFirst(uniqueById(feed.items.filter((i) => !seen.has(i.id))));
      if (fresh.length > MAX_ITEMS_PER_FETCH) {
        this.logger.warn(
          { url, items: fresh.length, posted: MAX_ITEMS_PER_FETCH },
          'feed has more new items than are posted at once; the oldest are skipped',
        );
      }
      posted = await this.post(url, feed.title, fresh.slice(-MAX_ITEMS_PER_FETCH));
    }
    const at = new Date(this.now());
    await markItemsSeen(
      this.deps.db,
      url,
      feed.items.map((i) => i.id),
      at,
    );
    await pruneSeenItems(this.deps.db, url, new Date(at.getTime() - SEEN_RETENTION_MS));
    await saveFeedState(this.deps.db, {
      url,
      etag: fetched.etag,
      lastModified: fetched.lastModified,
      initialised: true,
      failures: 0,
      nextPollAt: null,
      lastResults: [...state.lastResults, success],
    });
    this.logger.debug(
      { url, ms, items: feed.items.length, posted, initial: !state.initialised },
      'feed fetched',
    );
  }

  /** Hands every item to every subscribed room (the messenger keeps each room's order). */
  private async post(url: string, title: string | null, items: FeedItem[]): Promise<number> {
    const sends: Promise<unknown>[] = [];
    for (const item of items) {
      for (const connection of this.subscribers(url)) {
        const config = connection.config as Partial<FeedConnectionConfig>;
        const content = feedMessage({ label: config.label, url, title }, item, config.template);
        sends.push(
          this.deps.messenger.send(connection.roomId, content).catch((err: unknown) => {
            this.logger.warn({ err, url, roomId: connection.roomId }, 'could not post feed item');
          }),
        );
      }
    }
    await Promise.all(sends);
    return items.length;
  }

  private async failed(
    url: string,
    state: FeedState,
    reason: string,
    cycleStart: number,
  ): Promise<void> {
    const failures = state.failures + 1;
    const wait = backoffMs(failures, this.intervalMs);
    await saveFeedState(this.deps.db, {
      ...state,
      failures,
      nextPollAt: new Date(cycleStart + wait),
      lastResults: [...state.lastResults, { timestamp: this.now(), ok: false, error: reason }],
    });
    if (failures > 1) {
      this.logger.debug({ url, reason, failures, retryInMs: wait }, 'feed still failing');
      return;
    }
    // Once per failure streak: the log, and the rooms that asked to hear about it.
    this.logger.warn({ url, reason }, 'could not read feed');
    const rooms = this.subscribers(url).filter((c) => c.config.notifyOnFailure === true);
    await Promise.all(
      rooms.map((c) =>
        this.deps.messenger
          .send(c.roomId, notice(`Error fetching ${url}: ${reason}`))
          .catch((err: unknown) => {
            this.logger.warn({ err, url, roomId: c.roomId }, 'could not post feed failure');
          }),
      ),
    );
  }
}
