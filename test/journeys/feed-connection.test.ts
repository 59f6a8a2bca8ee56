import { connectionId } from '../../src/bridge/connection-service';
import { integrationsOf } from '../../src/app/integrations';
import { FEED } from '../../src/bridge/connection-types';
import type { FeedPoller } from '../../src/feeds/feed-poller';
import { atom, FeedServer, rss } from '../fakes/feed-server';
import { startBridge, type BridgeHarness } from '../helpers/bridge';
import { testDatabaseKinds } from '../helpers/databases';
import { waitFor } from '../helpers/wait';
import type { RegisteredUser } from '../../testing/homeserver/test-homeserver';
import { expectAnswer } from '../helpers/answers';

const TYPE = FEED.eventType;

describe.each(testDatabaseKinds())('feed connections end to end (%s)', (kind) => {
  let server: FeedServer;
  let b: BridgeHarness;
  let alice: RegisteredUser;
  let roomId: string;
  let feedUrl: string;
  let poller: FeedPoller;

  const state = () =>
    b.hs.roomState(roomId)?.find((e) => e.type === TYPE && e.state_key === feedUrl)?.content;
  const notices = () =>
    (b.hs.roomEvents(roomId) ?? []).filter(
      (e) => e.type === 'm.room.message' && e.sender === b.bot.userId,
    );

  beforeAll(async () => {
    server = await new FeedServer().start();
    feedUrl = server.serve('/blog.xml', {
      body: rss('Blog', [{ id: '1', title: 'One', link: 'https://example.org/1' }]),
    });
    b = await startBridge(kind, {
      config: { feeds: { enabled: true }, allowPrivateDestinations: true },
    });
    // The bridge's own poller, driven by hand (its timer waits a whole interval).
    poller = integrationsOf(b.t.bridge).feeds!.poller;
    alice = b.user('alice');
    roomId = await b.room(alice, { users: { [b.bot.userId]: 50 } });
  });
  afterAll(async () => {
    await poller.stop();
    await b.close();
    await server.close();
  });

  it('when a feed is created, polled, updated and removed then the API, room state and notices follow', async () => {
    const put = await b
      .v1('put', `/${roomId}/connections/${TYPE}`, alice.userId)
      .send({ url: feedUrl, label: 'Team blog' });
    const id = connectionId(roomId, TYPE, feedUrl);
    expectAnswer(put, 200, {
      type: 'Feed',
      eventType: TYPE,
      service: 'feeds',
      botUserId: b.bot.userId,
      id,
      config: { url: feedUrl, label: 'Team blog' },
      secrets: { lastResults: [] },
    });
    expect(state()).toEqual({ url: feedUrl, label: 'Team blog' });

    await poller.pollNow();
    server.serve('/blog.xml', {
      contentType: 'application/atom+xml',
      body: atom('Blog', [
        { id: '2', title: 'Two', link: 'https://example.org/2' },
        { id: '1', title: 'One', link: 'https://example.org/1' },
      ]),
    });
    await poller.pollNow();
    await waitFor(() => notices().length === 1, { what: 'the feed notice' });
    expect(notices()[0]?.content).toMatchObject({
      msgtype: 'm.notice',
      body: 'New post in Team blog: [Two](https://example.org/2)',
      external_url: 'https://example.org/2',
    });

    const get = await b.v1('get', `/${roomId}/connections/${id}`, alice.userId);
    expect(get.status).toBe(200);
    expect(get.body.secrets.lastResults).toHaveLength(2);
    expect(get.body.secrets.lastResults[1]).toEqual({ timestamp: expect.any(Number), ok: true });

    const moved = await b
      .v1('patch', `/${roomId}/connections/${id}`, alice.userId)
      .send({ url: `${feedUrl}?other` });
    expectAnswer(moved, 400, {
      errcode: 'HS_BAD_VALUE',
      error: 'Cannot alter url of existing feed. Please create a new one.',
    });
    const patched = await b
      .v1('patch', `/${roomId}/connections/${id}`, alice.userId)
      .send({ notifyOnFailure: true });
    expect(patched.status).toBe(200);
    expect(state()).toEqual({
      url: feedUrl,
      label: 'Team blog',
      notifyOnFailure: true,
    });

    const del = await b.v1('delete', `/${roomId}/connections/${id}`, alice.userId);
    expect(del.status).toBe(200);
    expect(state()).toEqual({});
    expect(b.t.bridge.connections.ofType(TYPE)).toEqual([]);
  });

  it('when the URL is not a feed then the create answers 400 with the reason and stores nothing', async () => {
    server.serve('/page.html', { contentType: 'text/html', body: '<html>hi</html>' });
    const res = await b
      .v1('put', `/${roomId}/connections/${TYPE}`, alice.userId)
      .send({ url: `${server.baseUrl}/page.html` });
    expectAnswer(res, 400, {
      errcode: 'HS_BAD_VALUE',
      error: 'Could not read feed from URL: the document is not an RSS or Atom feed',
    });
    const missing = await b
      .v1('put', `/${roomId}/connections/${TYPE}`, alice.userId)
      .send({ label: 'x' });
    expectAnswer(missing, 400, { errcode: 'HS_BAD_VALUE', error: 'No URL specified' });
    expect(b.t.bridge.connections.inRoom(roomId)).toEqual([]);
  });
});
