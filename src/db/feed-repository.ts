import type { Knex } from 'knex';
import type { DbFeedItemSeenRow, DbFeedStateRow } from './tables';

/** How many recent poll results a feed keeps (shown as `secrets.lastResults`). */
export const FEED_RESULTS_KEPT = 5;

/** Ids per statement, well below Postgres' bind parameter limit. */
const CHUNK = 500;

export interface FeedResult {
  /** Milliseconds since the epoch. */
  timestamp: number;
  ok: boolean;
  error?: string;
}

/** The polling state of one feed URL, shared by every room that uses it. */
export interface FeedState {
  url: string;
  etag: string | null;
  lastModified: string | null;
  /** The first successful fetch happened (its items were marked seen, not posted). */
  initialised: boolean;
  /** Consecutive failed fetches; 0 after a success. */
  failures: number;
  /** Oldest first, at most FEED_RESULTS_KEPT. */
  lastResults: FeedResult[];
  /** Not fetched before this time (a failure backoff); null = at the next poll. */
  nextPollAt: Date | null;
}

/** The state of a URL never polled. */
export function newFeedState(url: string): FeedState {
  return {
    url,
    etag: null,
    lastModified: null,
    initialised: false,
    failures: 0,
    lastResults: [],
    nextPollAt: null,
  };
}

function fromRow(row: DbFeedStateRow): FeedState {
  return {
    url: row.url,
    etag: row.etag,
    lastModified: row.last_modified,
    initialised: row.initialised,
    failures: row.failures,
    lastResults: row.last_results,
    nextPollAt: row.next_poll_at,
  };
}

export async function getFeedState(
  db: Knex | Knex.Transaction,
  url: string,
): Promise<FeedState | null> {
  const row = await db('feed_state').select<DbFeedStateRow[]>('*').where({ url }).first();
  return row ? fromRow(row) : null;
}

/** The stored states of these URLs (URLs never polled are absent). */
export async function getFeedStates(
  db: Knex | Knex.Transaction,
  urls: readonly string[],
): Promise<Map<string, FeedState>> {
  const states = new Map<string, FeedState>();
  for (let i = 0; i < urls.length; i += CHUNK) {
    const rows = await db('feed_state')
      .select<DbFeedStateRow[]>('*')
      .whereIn('url', urls.slice(i, i + CHUNK));
    for (const row of rows) states.set(row.url, fromRow(row));
  }
  return states;
}

/** Writes the state of a URL; only the newest FEED_RESULTS_KEPT results are kept. */
export async function saveFeedState(db: Knex | Knex.Transaction, state: FeedState): Promise<void> {
  const row: DbFeedStateRow = {
    url: state.url,
    etag: state.etag,
    last_modified: state.lastModified,
    initialised: state.initialised,
    failures: state.failures,
    last_results: state.lastResults.slice(-FEED_RESULTS_KEPT),
    next_poll_at: state.nextPollAt,
  };
  // jsonb columns take a JSON string; a JS array would be sent as a Postgres array.
  await db('feed_state')
    .insert({ ...row, last_results: JSON.stringify(row.last_results) })
    .onConflict('url')
    .merge();
}

/** Forgets a URL: its state and its seen items. */
export async function deleteFeed(db: Knex | Knex.Transaction, url: string): Promise<void> {
  await db('feed_item_seen').where({ url }).delete();
  await db('feed_state').where({ url }).delete();
}

/** Which of these item ids of the feed were seen before. */
export async function seenItemIds(
  db: Knex | Knex.Transaction,
  url: string,
  ids: readonly string[],
): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await db('feed_item_seen')
      .select<Pick<DbFeedItemSeenRow, 'item_id'>[]>('item_id')
      .where({ url })
      .whereIn('item_id', ids.slice(i, i + CHUNK));
    for (const row of rows) seen.add(row.item_id);
  }
  return seen;
}

/** Marks items seen at `at`; ids seen before get the new time (they are still in the feed). */
export async function markItemsSeen(
  db: Knex | Knex.Transaction,
  url: string,
  ids: readonly string[],
  at: Date,
): Promise<void> {
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += CHUNK) {
    const rows: DbFeedItemSeenRow[] = unique
      .slice(i, i + CHUNK)
      .map((id) => ({ url, item_id: id, seen_at: at }));
    await db('feed_item_seen').insert(rows).onConflict(['url', 'item_id']).merge(['seen_at']);
  }
}

/** Forgets items of the feed last seen before `before` (gone from the feed since). */
export async function pruneSeenItems(
  db: Knex | Knex.Transaction,
  url: string,
  before: Date,
): Promise<number> {
  // The count comes from RETURNING: the embedded driver does not answer a DELETE with one.
  const deleted: unknown[] = await db('feed_item_seen')
    .where({ url })
    .andWhere('seen_at', '<', before)
    .delete()
    .returning('item_id');
  return deleted.length;
}
