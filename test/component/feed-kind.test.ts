import { ConnectionError } from '../../src/bridge/connection-errors';
import type { StoredConnection } from '../../src/bridge/connection-types';
import type { Database } from '../../src/db/database';
import { newFeedState, saveFeedState } from '../../src/db/feed-repository';
import { FeedKind } from '../../src/feeds/feed-kind';
import { testConfig } from '../helpers/config';
import { openTestDatabase } from '../helpers/databases';
import { FeedServer, rss } from '../fakes/feed-server';

const ROOM = '!room:switchboard.test';
const USER = '@alice:switchboard.test';
const FEEDS = { enabled: true, validationTimeoutSeconds: 1 };

function connection(config: Record<string, unknown>): StoredConnection {
  return {
    id: 'c1',
    roomId: ROOM,
    eventType: 'uk.half-shot.matrix-hookshot.feed',
    stateKey: String(config.url),
    type: 'Feed',
    service: 'feeds',
    config,
    secrets: null,
    createdBy: USER,
  };
}

/** The ConnectionError a call fails with, as {errcode, message}. */
async function refusal(call: Promise<unknown>): Promise<{ errcode: string; message: string }> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ConnectionError) return { errcode: err.errcode, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('FeedKind', () => {
  let server: FeedServer;
  let db: Database;
  let kind: FeedKind;
  let feedUrl: string;

  beforeAll(async () => {
    server = await new FeedServer().start();
    db = await openTestDatabase('embedded');
    feedUrl = server.serve('/feed.xml', { body: rss('Blog', [{ id: '1', title: 'One' }]) });
    server.serve('/slow.xml', { body: rss('Slow', []), delayMs: 3000 });
    server.serve('/page', { contentType: 'text/html', body: '<html>hello</html>' });
    kind = new FeedKind({
      settings: testConfig({ feeds: FEEDS }).feeds!,
      allowPrivate: true,
      db: db.knex,
    });
  });
  afterAll(async () => {
    await server.close();
    await db.close();
  });

  const create = (body: Record<string, unknown>, k = kind) =>
    k.create({ roomId: ROOM, userId: USER, body, existing: [] });

  it('when the feed is readable then the state key is the URL and the content only what was given', async () => {
    expect(await create({ url: feedUrl })).toEqual({ stateKey: feedUrl, config: { url: feedUrl } });
    expect(
      await create({ url: feedUrl, label: 'News', template: '$TITLE', notifyOnFailure: true }),
    ).toEqual({
      stateKey: feedUrl,
      config: { url: feedUrl, label: 'News', template: '$TITLE', notifyOnFailure: true },
    });
  });

  it.each([
    ['No URL specified', {}],
    ['No URL specified', { url: 5 }],
    ['Label must be a string', { url: 'https://e.org/f', label: 5 }],
    ['Template must be a string', { url: 'https://e.org/f', template: {} }],
    [
      'Template should not be longer than 1024 characters',
      { url: 'https://e.org/f', template: 'x'.repeat(1025) },
    ],
    ['notifyOnFailure must be a boolean', { url: 'https://e.org/f', notifyOnFailure: 'yes' }],
    ["Feed URL doesn't appear valid", { url: 'not a url' }],
    ["Feed URL doesn't appear valid", { url: 'ftp://example.org/feed' }],
  ])('when a create breaks a rule then it is refused with "%s"', async (message, body) => {
    expect(await refusal(create(body))).toEqual({ errcode: 'HS_BAD_VALUE', message });
  });

  it('when a template is exactly 1024 characters then it is accepted', async () => {
    const template = 'x'.repeat(1024);
    expect((await create({ url: feedUrl, template })).config).toEqual({ url: feedUrl, template });
  });

  it('when the URL is not a readable feed then the reason is given', async () => {
    expect(await refusal(create({ url: `${server.baseUrl}/page` }))).toEqual({
      errcode: 'HS_BAD_VALUE',
      message: 'Could not read feed from URL: the document is not an RSS or Atom feed',
    });
    expect(await refusal(create({ url: `${server.baseUrl}/nothing` }))).toEqual({
      errcode: 'HS_BAD_VALUE',
      message: 'Could not read feed from URL: HTTP 404 Not Found',
    });
  });

  it('when the feed does not answer within the validation timeout then the create is refused', async () => {
    const started = Date.now();
    expect(await refusal(create({ url: `${server.baseUrl}/slow.xml` }))).toEqual({
      errcode: 'HS_BAD_VALUE',
      message: 'Could not read feed from URL: timed out after 1 s',
    });
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('when private destinations are not allowed then a loopback feed is refused without a request', async () => {
    const strict = new FeedKind({
      settings: testConfig({ feeds: FEEDS }).feeds!,
      allowPrivate: false,
      db: db.knex,
    });
    const before = server.count('/feed.xml');
    expect(await refusal(create({ url: feedUrl }, strict))).toEqual({
      errcode: 'HS_BAD_VALUE',
      message: 'Could not read feed from URL: 127.0.0.1 is not a public address',
    });
    expect(server.count('/feed.xml')).toBe(before);
  });

  it('when the room already has the URL then the create answers the same state key', async () => {
    const existing = [connection({ url: feedUrl, label: 'Old' })];
    const prepared = await kind.create({
      roomId: ROOM,
      userId: USER,
      body: { url: feedUrl, label: 'New' },
      existing,
    });
    expect(prepared).toEqual({ stateKey: feedUrl, config: { url: feedUrl, label: 'New' } });
  });

  it('when an update changes fields then they are merged and checked, without a fetch', async () => {
    const current = connection({ url: 'https://unreachable.invalid/f', label: 'A' });
    expect(await kind.update({ userId: USER, current, body: { notifyOnFailure: true } })).toEqual({
      stateKey: 'https://unreachable.invalid/f',
      config: { url: 'https://unreachable.invalid/f', label: 'A', notifyOnFailure: true },
    });
    expect((await kind.update({ userId: USER, current, body: { label: null } })).config).toEqual({
      url: 'https://unreachable.invalid/f',
    });
    expect(await refusal(kind.update({ userId: USER, current, body: { template: 7 } }))).toEqual({
      errcode: 'HS_BAD_VALUE',
      message: 'Template must be a string',
    });
  });

  it('when an update changes the URL then it is refused', async () => {
    const current = connection({ url: feedUrl });
    expect(
      await refusal(kind.update({ userId: USER, current, body: { url: `${feedUrl}?v=2` } })),
    ).toEqual({
      errcode: 'HS_BAD_VALUE',
      message: 'Cannot alter url of existing feed. Please create a new one.',
    });
  });

  it('when the feed was never polled then lastResults is empty, later the stored results', async () => {
    const url = 'https://example.org/results.xml';
    expect(await kind.secrets(connection({ url }))).toEqual({ always: { lastResults: [] } });
    const results = [
      { timestamp: 1, ok: false, error: 'HTTP 500 Internal Server Error' },
      { timestamp: 2, ok: true },
    ];
    await saveFeedState(db.knex, { ...newFeedState(url), lastResults: results });
    expect(await kind.secrets(connection({ url }))).toEqual({ always: { lastResults: results } });
  });

  it('when removed then the room state becomes empty content', () => {
    expect(kind.tombstone).toEqual({});
    expect(kind.declaration.eventType).toBe('uk.half-shot.matrix-hookshot.feed');
  });
});
