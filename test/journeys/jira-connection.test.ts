import { createHmac } from 'node:crypto';
import request from 'supertest';
import { JIRA_PROJECT } from '../../src/bridge/connection-types';
import { connectionId } from '../../src/bridge/connection-service';
import { FakeAtlassian } from '../fakes/atlassian-api';
import { aliceAndBobRoom, oauthLogin, startBridge, type BridgeHarness } from '../helpers/bridge';
import { testDatabaseKinds } from '../helpers/databases';
import { waitFor } from '../helpers/wait';
import type { RegisteredUser } from '../../testing/homeserver/test-homeserver';
import { expectAnswer } from '../helpers/answers';

const TYPE = JIRA_PROJECT.eventType;
const SITE = 'https://acme.atlassian.net';
const HOOK_SECRET = 'jira-e2e-hook-secret';

const sign = (body: string, secret = HOOK_SECRET): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

const issueCreated = (key: string, summary: string) => ({
  webhookEvent: 'jira:issue_created',
  user: { accountId: 'abc', displayName: 'Test User' },
  issue: {
    id: '10008',
    self: `${SITE}/rest/api/2/issue/10008`,
    key,
    fields: {
      summary,
      project: { id: '10000', key: 'PLAY' },
      creator: { accountId: 'abc', displayName: 'Test User' },
    },
  },
});

describe.each(testDatabaseKinds())('JIRA project connections end to end (%s)', (kind) => {
  let fake: FakeAtlassian;
  let b: BridgeHarness;
  let alice: RegisteredUser;
  let bob: RegisteredUser;
  let roomId: string;

  const notices = () =>
    (b.hs.roomEvents(roomId) ?? []).filter(
      (e) => e.type === 'm.room.message' && e.sender === b.bot.userId,
    );

  const deliver = (payload: unknown, headers: Record<string, string>) => {
    let req = request(b.t.app).post('/jira/webhook').set('content-type', 'application/json');
    for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
    return req.send(JSON.stringify(payload));
  };

  beforeAll(async () => {
    fake = await new FakeAtlassian().start();
    fake.sites.set('alice', [
      {
        id: 'cloud-acme',
        name: 'acme',
        url: SITE,
        projects: [
          { id: '10000', key: 'PLAY', name: 'Playground' },
          { id: '10001', key: 'OPS', name: 'Operations' },
          { id: '10002', key: 'WEB', name: 'Website' },
        ],
      },
    ]);
    b = await startBridge(kind, {
      config: {
        jira: {
          webhookSecret: HOOK_SECRET,
          oauth: {
            clientId: fake.clientId,
            clientSecret: fake.clientSecret,
            redirectUri: fake.redirectUri,
          },
          authUrl: fake.url,
          apiUrl: fake.url,
        },
      },
    });
    ({ alice, bob, roomId } = await aliceAndBobRoom(b));
  });
  afterAll(async () => {
    await b.close();
    await fake.close();
  });

  it('login, listing, create, signed delivery to the room, refused deliveries, delete', async () => {
    // Dimension's JIRA page: login URL, then the browser comes back through the callback.
    const callback = await oauthLogin(
      b,
      { start: '/jira/oauth', urlField: 'url', callback: '/jira/oauth' },
      alice.userId,
      fake.authorize('alice'),
    );
    expect(callback.status).toBe(200);
    expect(callback.text).toBe('<p> Your account has been bridged </p>');

    const account = await b.v1('get', '/jira/account', alice.userId);
    expectAnswer(account, 200, {
      loggedIn: true,
      instances: [{ id: 'cloud-acme', name: 'acme', url: SITE }],
    });
    const projects = await b.v1('get', '/jira/instances/acme/projects', alice.userId);
    expect(projects.status).toBe(200);
    expect((projects.body as { key: string }[]).map((p) => p.key)).toEqual(['PLAY', 'OPS', 'WEB']);
    expect(fake.requests.filter((r) => r.path.includes('/project/search'))).toHaveLength(2);

    // A user without a JIRA login cannot bridge, and nothing is written.
    const refused = await b
      .v1('put', `/${roomId}/connections/${TYPE}`, bob.userId)
      .send({ url: `${SITE}/projects/PLAY`, commandPrefix: '!jira' });
    expectAnswer(refused, 403, {
      errcode: 'HS_FORBIDDEN_USER',
      error: 'User is not authenticated with JIRA',
    });
    const invalid = await b
      .v1('put', `/${roomId}/connections/${TYPE}`, alice.userId)
      .send({ url: 'acme/PLAY' });
    expectAnswer(invalid, 400, {
      errcode: 'HS_BAD_VALUE',
      error: "Expected 'url' to be a valid JIRA project URL",
    });

    // Dimension's "Bridge" button: {url, commandPrefix}.
    const url = (projects.body as { url: string }[])[0]!.url;
    const created = await b
      .v1('put', `/${roomId}/connections/${TYPE}`, alice.userId)
      .send({ url, commandPrefix: '!jira' });
    expect(created.status).toBe(200);
    const id = connectionId(roomId, TYPE, url);
    const config = { url, commandPrefix: '!jira', events: ['issue_created'], id: '10000' };
    expect(created.body).toEqual({
      type: 'JiraProject',
      eventType: TYPE,
      service: 'jira',
      botUserId: b.bot.userId,
      id,
      config,
    });
    const stateEvent = b.hs.roomState(roomId)!.find((e) => e.type === TYPE && e.state_key === url);
    expect(stateEvent?.sender).toBe(b.bot.userId);
    expect(stateEvent?.content).toEqual(config);

    const payload = issueCreated('PLAY-8', 'Test issue');
    const body = JSON.stringify(payload);
    const ok = await deliver(payload, {
      'x-hub-signature': sign(body),
      'x-atlassian-webhook-identifier': 'e2e-1',
    });
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('OK');
    await waitFor(() => notices().length === 1, { what: 'the notice in the room' });
    expect(notices()[0]!.content).toMatchObject({
      msgtype: 'm.notice',
      body: `Test User created a new JIRA issue [PLAY-8](${SITE}/browse/PLAY-8): "Test issue"`,
      format: 'org.matrix.custom.html',
    });

    const forged = issueCreated('PLAY-9', 'Forged');
    const badSig = await deliver(forged, { 'x-hub-signature': sign(JSON.stringify(forged), 'x') });
    expectAnswer(badSig, 401, { errcode: 'HS_BAD_TOKEN', error: 'Signature did not match' });
    const wrongSecret = await request(b.t.app)
      .post('/jira/webhook?secret=guess')
      .set('content-type', 'application/json')
      .send(JSON.stringify(forged));
    expectAnswer(wrongSecret, 401, { errcode: 'HS_BAD_TOKEN', error: 'Invalid secret' });

    const removed = await b.v1('delete', `/${roomId}/connections/${id}`, alice.userId);
    expect(removed.status).toBe(200);
    expect(
      b.hs.roomState(roomId)!.find((e) => e.type === TYPE && e.state_key === url)?.content,
    ).toEqual({
      disabled: true,
    });
    const after = issueCreated('PLAY-10', 'After delete');
    await deliver(after, { 'x-hub-signature': sign(JSON.stringify(after)) }).expect(200, 'OK');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(notices()).toHaveLength(1);
  });

  it('when restarted, stored connections still receive deliveries', async () => {
    const put = await b
      .v1('put', `/${roomId}/connections/${TYPE}`, alice.userId)
      .send({ url: `${SITE}/projects/OPS`, events: ['issue_created'] });
    expect(put.status).toBe(200);
    await b.restart();
    const before = notices().length;
    const payload = {
      ...issueCreated('OPS-1', 'After restart'),
    };
    payload.issue.fields.project = { id: '10001', key: 'OPS' };
    await deliver(payload, { 'x-hub-signature': sign(JSON.stringify(payload)) }).expect(200, 'OK');
    await waitFor(() => notices().length === before + 1, { what: 'the notice after restart' });
    expect(notices().at(-1)!.content.body).toBe(
      `Test User created a new JIRA issue [OPS-1](${SITE}/browse/OPS-1): "After restart"`,
    );
  });
});
