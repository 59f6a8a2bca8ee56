import { createHash } from 'node:crypto';
import type { StoredConnection } from '../../src/bridge/connection-types';
import type { Database } from '../../src/db/database';
import { getFeedState, seenItemIds } from '../../src/db/feed-repository';
import type { readFeed } from '../../src/feeds/feed-reader';
import { type FeedFetch } from '../../src/feeds/feed-reader';
import { FeedPoller, backoffMs } from '../../src/feeds/feed-poller';
import { testConfig } from '../helpers/config';
import { openTestDatabase, testDatabaseKinds } from '../helpers/databases';
import { captureLogs } from '../helpers/log-capture';
import { waitFor } from '../helpers/wait';
import { atom, FeedServer, rss, type TestItem } from '../fakes/feed-server';
import { RecordingMessenger } from '../fakes/recording-messenger';

const ROOM_1 = '!one:switchboard.test';
const ROOM_2 = '!two:switchboard.test';
const INTERVAL_S = 600;
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const START = Date.parse('2026-12-01T12:00:00Z');

function feedConnection(roomId: string, config: Record<string, unknown>): StoredConnection {
  return {
    id: `${roomId}-${String(config.url)}`,
    roomId,
    eventType: 'uk.half-shot.matrix-hookshot.feed',
    stateKey: String(config.url),
    type: 'Feed',
    service: 'feeds',
    config,
    secrets: null,
    createdBy: '@alice:switchboard.test',
  };
}

const item = (n: number, extra: Partial<TestItem> = {}): TestItem => ({
  id: `post-${n}`,
  title: `Post ${n}`,
  link: `https://example.org/posts/${n}`,
  date: new Date(START + n * 60_000).toUTCString(),
  ...extra,
});

describe.each(testDatabaseKinds())('FeedPoller on %s', (kind) => {
  let db: Database;
  let server: FeedServer;
  let messenger: RecordingMessenger;
  let connections: StoredConnection[];
  let clock: number;
  let logs: ReturnType<typeof captureLogs>;
  const config = testConfig({
    feeds: { enabled: true, pollIntervalSeconds: INTERVAL_S, pollTimeoutSeconds: 2 },
    allowPrivateDestinations: true,
  });

  const poller = (read?: typeof readFeed, overrides = config) =>
    new FeedPoller({
      settings: overrides.feeds!,
      allowPrivate: overrides.allowPrivateDestinations,
      db: db.knex,
      messenger,
      logger: logs.logger,
      feeds: () => connections,
      now: () => clock,
      ...(read ? { read } : {}),
    });

  beforeAll(async () => {
    db = await openTestDatabase(kind);
    server = await new FeedServer().start();
  });
  afterAll(async () => {
    await server.close();
    await db.close();
  });
  beforeEach(async () => {
    await db.knex('feed_item_seen').delete();
    await db.knex('feed_state').delete();
    messenger = new RecordingMessenger();
    connections = [];
    clock = START;
    logs = captureLogs('debug');
  });

  it('when a feed is first fetched then nothing is posted; new items later go once to each room, oldest first', async () => {
    const url = server.serve('/switch', { body: rss('Blog', [item(2), item(1)]) });
    connections = [
      feedConnection(ROOM_1, { url }),
      feedConnection(ROOM_2, { url, label: 'Team feed', template: '$TITLE by $AUTHOR' }),
    ];
    const p = poller();
    await p.pollNow();
    expect(messenger.sent).toEqual([]);
    expect((await getFeedState(db.knex, url))?.initialised).toBe(true);

    // The same feed now as Atom, with two new entries (the ids of the old ones unchanged).
    server.serve('/switch', {
      contentType: 'application/atom+xml',
      body: atom('Blog', [item(4, { author: 'Bea' }), item(3, { author: 'Al' }), item(2), item(1)]),
    });
    await p.pollNow();
    expect(messenger.bodies(ROOM_1)).toEqual([
      'New post in Blog: [Post 3](https://example.org/posts/3)',
      'New post in Blog: [Post 4](https://example.org/posts/4)',
    ]);
    expect(messenger.bodies(ROOM_2)).toEqual(['Post 3 by Al', 'Post 4 by Bea']);
    expect(messenger.sent[0]?.content).toMatchObject({
      msgtype: 'm.notice',
      external_url: 'https://example.org/posts/3',
      formatted_body: 'New post in Blog: <a href="https://example.org/posts/3">Post 3</a>',
    });

    await p.pollNow();
    expect(messenger.sent).toHaveLength(4);
  });

  it('when the poller restarts on the same database then nothing is reposted, new items still are', async () => {
    const url = server.serve('/restart', { body: rss('R', [item(1)]) });
    connections = [feedConnection(ROOM_1, { url })];
    await poller().pollNow();
    server.serve('/restart', { body: rss('R', [item(2), item(1)]) });
    const first = poller();
    await first.pollNow();
    expect(messenger.bodies(ROOM_1)).toEqual([
      'New post in R: [Post 2](https://example.org/posts/2)',
    ]);
    await first.stop();

    const second = poller();
    await second.pollNow();
    expect(messenger.sent).toHaveLength(1);
    server.serve('/restart', { body: rss('R', [item(3), item(2), item(1)]) });
    await second.pollNow();
    expect(messenger.bodies(ROOM_1)).toEqual([
      'New post in R: [Post 2](https://example.org/posts/2)',
      'New post in R: [Post 3](https://example.org/posts/3)',
    ]);
  });

  it('when two rooms use one URL then it is fetched once per poll', async () => {
    const url = server.serve('/shared', { body: rss('S', [item(1)]) });
    const other = server.serve('/other', { body: rss('O', [item(1)]) });
    connections = [
      feedConnection(ROOM_1, { url }),
      feedConnection(ROOM_2, { url }),
      feedConnection(ROOM_2, { url: other }),
    ];
    const p = poller();
    await p.pollNow();
    await p.pollNow();
    expect(server.count('/shared')).toBe(2);
    expect(server.count('/other')).toBe(2);
  });

  it('when the feed is unchanged then the validators are sent, the 304 posts nothing and counts as a success', async () => {
    const lastModified = 'Tue, 01 Dec 2026 11:00:00 GMT';
    const url = server.serve('/cached', { body: rss('C', [item(1)]), etag: '"v1"', lastModified });
    connections = [feedConnection(ROOM_1, { url })];
    const p = poller();
    await p.pollNow();
    clock += 1000;
    await p.pollNow();
    const second = server.requests.filter((r) => r.path === '/cached')[1];
    expect(second?.headers['if-none-match']).toBe('"v1"');
    expect(second?.headers['if-modified-since']).toBe(lastModified);
    expect(messenger.sent).toEqual([]);
    const state = await getFeedState(db.knex, url);
    expect(state).toMatchObject({ etag: '"v1"', lastModified, failures: 0 });
    expect(state?.lastResults).toEqual([
      { timestamp: START, ok: true },
      { timestamp: START + 1000, ok: true },
    ]);
  });

  it('when a feed keeps failing then rooms with notifyOnFailure hear once per streak, and polls back off', async () => {
    const url = server.serve('/flaky', { status: 500, body: 'oops' });
    connections = [
      feedConnection(ROOM_1, { url, notifyOnFailure: true }),
      feedConnection(ROOM_2, { url }),
    ];
    const p = poller();
    const notice = `Error fetching ${url}: HTTP 500 Internal Server Error`;
    await p.pollNow();
    expect(messenger.sent).toEqual([
      { roomId: ROOM_1, content: { msgtype: 'm.notice', body: notice } },
    ]);
    expect(await getFeedState(db.knex, url)).toMatchObject({
      failures: 1,
      nextPollAt: new Date(START + INTERVAL_S * 1000),
      lastResults: [{ timestamp: START, ok: false, error: 'HTTP 500 Internal Server Error' }],
    });

    // Not due before the backoff has passed.
    clock = START + INTERVAL_S * 1000 - 1;
    await p.pollNow();
    expect(server.count('/flaky')).toBe(1);

    clock = START + INTERVAL_S * 1000;
    await p.pollNow();
    expect(server.count('/flaky')).toBe(2);
    expect(messenger.sent).toHaveLength(1);
    // The second failure in a row waits two intervals.
    expect((await getFeedState(db.knex, url))?.nextPollAt).toEqual(
      new Date(clock + 2 * INTERVAL_S * 1000),
    );
    const warnings = logs.lines.filter((l) => l.msg === 'could not read feed');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, url, reason: 'HTTP 500 Internal Server Error' });

    server.serve('/flaky', { body: rss('F', [item(1)]) });
    clock += 2 * INTERVAL_S * 1000;
    await p.pollNow();
    expect(await getFeedState(db.knex, url)).toMatchObject({ failures: 0, nextPollAt: null });

    server.serve('/flaky', { status: 503, body: 'down' });
    clock += INTERVAL_S * 1000;
    await p.pollNow();
    expect(messenger.sent.map((s) => s.content.body)).toEqual([
      notice,
      `Error fetching ${url}: HTTP 503 Service Unavailable`,
    ]);
    expect((await getFeedState(db.knex, url))?.lastResults.map((r) => r.ok)).toEqual([
      false,
      false,
      true,
      false,
    ]);
  });

  it('when a feed times out then the failure says so', async () => {
    const url = server.serve('/hang', { body: rss('H', []), delayMs: 5000 });
    connections = [feedConnection(ROOM_1, { url, notifyOnFailure: true })];
    const fast = testConfig({
      feeds: { enabled: true, pollTimeoutSeconds: 1 },
      allowPrivateDestinations: true,
    });
    await poller(undefined, fast).pollNow();
    expect(messenger.bodies(ROOM_1)).toEqual([`Error fetching ${url}: timed out after 1 s`]);
  });

  it('when a first fetch fails then the feed is not initialised, and the first success posts nothing', async () => {
    const url = server.serve('/late', { status: 502, body: '' });
    connections = [feedConnection(ROOM_1, { url })];
    const p = poller();
    await p.pollNow();
    server.serve('/late', { body: rss('L', [item(1)]) });
    clock += INTERVAL_S * 1000;
    await p.pollNow();
    expect(messenger.sent).toEqual([]);
    expect([...(await seenItemIds(db.knex, url, [md5('post-1')]))]).toEqual([md5('post-1')]);
    expect((await getFeedState(db.knex, url))?.initialised).toBe(true);
  });

  it('when the last connection of a URL goes away then its state is forgotten, others kept', async () => {
    const url = server.serve('/dropped', { body: rss('D', [item(1)]) });
    const kept = server.serve('/kept', { body: rss('K', [item(1)]) });
    connections = [feedConnection(ROOM_1, { url }), feedConnection(ROOM_2, { url: kept })];
    const p = poller();
    await p.pollNow();
    connections = [feedConnection(ROOM_2, { url: kept })];
    await p.pollNow();
    expect(await getFeedState(db.knex, url)).toBeNull();
    expect((await seenItemIds(db.knex, url, [md5('post-1')])).size).toBe(0);
    expect(await getFeedState(db.knex, kept)).not.toBeNull();

    // Subscribing again starts over: the backlog is not posted.
    server.serve('/dropped', { body: rss('D', [item(2), item(1)]) });
    connections.push(feedConnection(ROOM_1, { url }));
    await p.pollNow();
    expect(messenger.sent).toEqual([]);
  });

  it('when many URLs are due then at most pollConcurrency are fetched at a time', async () => {
    let inFlight = 0;
    let most = 0;
    const read: typeof readFeed = async (): Promise<FeedFetch> => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 30));
      inFlight--;
      return { status: 'ok', etag: null, lastModified: null, feed: { title: 'x', items: [] } };
    };
    connections = Array.from({ length: 7 }, (_, i) =>
      feedConnection(ROOM_1, { url: `https://example.org/${i}.xml` }),
    );
    const two = testConfig({ feeds: { enabled: true, pollConcurrency: 2 } });
    await poller(read, two).pollNow();
    expect(most).toBe(2);
    expect((await db.knex('feed_state').count<{ count: string }[]>('* as count'))[0]?.count).toBe(
      '7',
    );
  });

  it('when stopped during a poll then stop waits for the fetch under way and no more start', async () => {
    const started: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const read: typeof readFeed = async (url): Promise<FeedFetch> => {
      started.push(url);
      await gate;
      return { status: 'ok', etag: null, lastModified: null, feed: { title: 'x', items: [] } };
    };
    connections = [
      feedConnection(ROOM_1, { url: 'https://example.org/a.xml' }),
      feedConnection(ROOM_1, { url: 'https://example.org/b.xml' }),
    ];
    const one = testConfig({ feeds: { enabled: true, pollConcurrency: 1 } });
    const p = poller(read, one);
    p.start();
    // The first fetch starts after the poller has read its state: wait for it, then give a
    // second fetch the chance to start (it must not, with a concurrency of one).
    await waitFor(() => started.length > 0, { what: 'the first fetch' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(started).toEqual(['https://example.org/a.xml']);
    let stopped = false;
    const stopping = p.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(started).toEqual(['https://example.org/a.xml']);
    expect(await getFeedState(db.knex, 'https://example.org/a.xml')).not.toBeNull();
  });
});

describe('backoffMs', () => {
  it('when failures repeat then the wait doubles from one interval up to a day', () => {
    expect(backoffMs(1, 600_000)).toBe(600_000);
    expect(backoffMs(2, 600_000)).toBe(1_200_000);
    expect(backoffMs(4, 600_000)).toBe(4_800_000);
    expect(backoffMs(50, 600_000)).toBe(24 * 3600 * 1000);
  });
});
