import type { Database } from '../../src/db/database';
import {
  deleteFeed,
  FEED_RESULTS_KEPT,
  getFeedState,
  getFeedStates,
  markItemsSeen,
  newFeedState,
  pruneSeenItems,
  saveFeedState,
  seenItemIds,
} from '../../src/db/feed-repository';
import { openTestDatabase, testDatabaseKinds } from '../helpers/databases';

const URL_A = 'https://example.org/a.xml';
const URL_B = 'https://example.org/b.xml';

describe.each(testDatabaseKinds())('feed repository on %s', (kind) => {
  let db: Database;

  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await db.close();
  });
  beforeEach(async () => {
    await db.knex('feed_item_seen').delete();
    await db.knex('feed_state').delete();
  });

  it('when no state was saved then there is none', async () => {
    expect(await getFeedState(db.knex, URL_A)).toBeNull();
    expect((await getFeedStates(db.knex, [URL_A])).size).toBe(0);
  });

  it('when a state is saved and saved again then it reads back as last written', async () => {
    const at = new Date('2026-12-01T12:00:00Z');
    await saveFeedState(db.knex, {
      ...newFeedState(URL_A),
      etag: '"1"',
      failures: 2,
      lastResults: [{ timestamp: 1, ok: false, error: 'HTTP 500' }],
      nextPollAt: at,
    });
    await saveFeedState(db.knex, {
      url: URL_A,
      etag: '"2"',
      lastModified: 'Tue, 01 Dec 2026 12:00:00 GMT',
      initialised: true,
      failures: 0,
      lastResults: [
        { timestamp: 1, ok: false, error: 'HTTP 500' },
        { timestamp: 2, ok: true },
      ],
      nextPollAt: null,
    });
    await saveFeedState(db.knex, { ...newFeedState(URL_B), nextPollAt: at });
    expect(await getFeedState(db.knex, URL_A)).toEqual({
      url: URL_A,
      etag: '"2"',
      lastModified: 'Tue, 01 Dec 2026 12:00:00 GMT',
      initialised: true,
      failures: 0,
      lastResults: [
        { timestamp: 1, ok: false, error: 'HTTP 500' },
        { timestamp: 2, ok: true },
      ],
      nextPollAt: null,
    });
    const both = await getFeedStates(db.knex, [URL_A, URL_B, 'https://other/']);
    expect([...both.keys()].sort()).toEqual([URL_A, URL_B]);
    expect(both.get(URL_B)?.nextPollAt).toEqual(at);
  });

  it('when more than five results are saved then only the newest five are kept', async () => {
    const results = Array.from({ length: 8 }, (_, i) => ({ timestamp: i, ok: true }));
    await saveFeedState(db.knex, { ...newFeedState(URL_A), lastResults: results });
    const state = await getFeedState(db.knex, URL_A);
    expect(state?.lastResults).toEqual(results.slice(-FEED_RESULTS_KEPT));
    expect(FEED_RESULTS_KEPT).toBe(5);
  });

  it('when items are marked seen then exactly those are seen, per URL', async () => {
    await markItemsSeen(db.knex, URL_A, ['a', 'b', 'b'], new Date());
    await markItemsSeen(db.knex, URL_B, ['c'], new Date());
    expect([...(await seenItemIds(db.knex, URL_A, ['a', 'b', 'c', 'd']))].sort()).toEqual([
      'a',
      'b',
    ]);
    expect([...(await seenItemIds(db.knex, URL_B, ['a', 'c']))]).toEqual(['c']);
    expect((await seenItemIds(db.knex, URL_A, [])).size).toBe(0);
  });

  it('when many items are marked at once then all of them are stored', async () => {
    const ids = Array.from({ length: 1203 }, (_, i) => `item-${i}`);
    await markItemsSeen(db.knex, URL_A, ids, new Date());
    expect((await seenItemIds(db.knex, URL_A, ids)).size).toBe(1203);
  });

  it('when old items are pruned then only those not seen again since are forgotten', async () => {
    const old = new Date('2026-10-01T00:00:00Z');
    const recent = new Date('2026-12-01T00:00:00Z');
    await markItemsSeen(db.knex, URL_A, ['gone', 'still-there'], old);
    await markItemsSeen(db.knex, URL_B, ['other-feed'], old);
    // Seeing an item again refreshes it.
    await markItemsSeen(db.knex, URL_A, ['still-there'], recent);
    expect(await pruneSeenItems(db.knex, URL_A, new Date('2026-11-01T00:00:00Z'))).toBe(1);
    expect([...(await seenItemIds(db.knex, URL_A, ['gone', 'still-there']))]).toEqual([
      'still-there',
    ]);
    expect((await seenItemIds(db.knex, URL_B, ['other-feed'])).size).toBe(1);
  });

  it('when a feed is deleted then its state and seen items are gone, others stay', async () => {
    await saveFeedState(db.knex, newFeedState(URL_A));
    await saveFeedState(db.knex, newFeedState(URL_B));
    await markItemsSeen(db.knex, URL_A, ['a'], new Date());
    await markItemsSeen(db.knex, URL_B, ['b'], new Date());
    await deleteFeed(db.knex, URL_A);
    expect(await getFeedState(db.knex, URL_A)).toBeNull();
    expect((await seenItemIds(db.knex, URL_A, ['a'])).size).toBe(0);
    expect(await getFeedState(db.knex, URL_B)).not.toBeNull();
    expect((await seenItemIds(db.knex, URL_B, ['b'])).size).toBe(1);
  });
});
