import { createHmac } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { provisioningErrorHandler } from '../../src/api/provisioning/error-middleware';
import { jiraHandlers } from '../../src/api/provisioning/handlers/jira';
import type { Config } from '../../src/config/schema';
import { JIRA_PROJECT, type StoredConnection } from '../../src/bridge/connection-types';
import type { Database } from '../../src/db/database';
import type { DbUserTokenRow } from '../../src/db/tables';
import { JiraProjectKind } from '../../src/jira/jira-project-kind';
import { JiraService, type JiraToken } from '../../src/jira/jira-service';
import { JiraEvents } from '../../src/jira/jira-events';
import { jiraRoutes } from '../../src/api/ingress/handlers/jira';
import { ingressErrorHandler } from '../../src/api/ingress/error-middleware';
import { DEFAULT_WEBHOOK_BODY_BYTES } from '../../src/config/schema';
import { OauthStore } from '../../src/oauth/oauth-store';
import { SecretBox } from '../../src/secrets/secret-box';
import { FakeAtlassian } from '../fakes/atlassian-api';
import { testConfig } from '../helpers/config';
import { openTestDatabase } from '../helpers/databases';
import { captureLogs } from '../helpers/log-capture';
import { waitFor } from '../helpers/wait';
import { RecordingMessenger } from '../fakes/recording-messenger';
import { expectAnswer } from '../helpers/answers';

const ALICE = '@alice:switchboard.test';
const BOB = '@bob:switchboard.test';
const ROOM = '!room:switchboard.test';
const HOOK_SECRET = 'jira-hook-secret';
const SITE = 'https://acme.atlassian.net';

let fake: FakeAtlassian;
let db: Database;
let logs: ReturnType<typeof captureLogs>;
let config: Config;
let oauth: OauthStore;
let clock: number;
let service: JiraService;
let kind: JiraProjectKind;
let messenger: RecordingMessenger;
let connections: StoredConnection[];
let app: express.Express;

function jiraConfig(withOauth: boolean): Config {
  return testConfig({
    jira: {
      webhookSecret: HOOK_SECRET,
      oauth: withOauth
        ? {
            clientId: fake.clientId,
            clientSecret: fake.clientSecret,
            redirectUri: fake.redirectUri,
          }
        : null,
      authUrl: fake.url,
      apiUrl: fake.url,
    },
  });
}

function buildApp(svc: JiraService): express.Express {
  const a = express();
  const h = jiraHandlers(svc);
  a.get('/v1/jira/oauth', h.oauth);
  a.get('/v1/jira/account', h.account);
  a.get('/v1/jira/instances/:instanceName/projects', h.projects);
  const events = new JiraEvents({
    webhookSecret: config.jira?.webhookSecret,
    db: db.knex,
    connections: () => connections,
    messenger,
    logger: logs.logger,
  });
  a.use(jiraRoutes(events, svc, config.webhooks?.maxBodyBytes ?? DEFAULT_WEBHOOK_BODY_BYTES));
  a.use('/v1', provisioningErrorHandler(logs.logger));
  a.use(ingressErrorHandler(logs.logger));
  return a;
}

/** Logs a user in the way a browser would: oauth URL, consent at Atlassian, callback. */
async function logIn(userId: string, userKey: string): Promise<void> {
  const { body } = await request(app).get('/v1/jira/oauth').query({ userId }).expect(200);
  const state = new URL((body as { url: string }).url).searchParams.get('state')!;
  await request(app)
    .get('/jira/oauth')
    .query({ code: fake.authorize(userKey), state })
    .expect(200);
}

const sign = (body: string, secret = HOOK_SECRET): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

function issueCreated(projectId = '10000', key = 'PLAY-8'): Record<string, unknown> {
  return {
    timestamp: 1764633600000,
    webhookEvent: 'jira:issue_created',
    issue_event_type_name: 'issue_created',
    user: { accountId: '5b10a2844c20165700ede21g', displayName: 'Test User' },
    issue: {
      id: '10008',
      self: `${SITE}/rest/api/2/issue/10008`,
      key,
      fields: {
        summary: 'Test issue',
        project: { id: projectId, key: key.split('-')[0], name: 'Playground' },
        creator: { accountId: '5b10a2844c20165700ede21g', displayName: 'Test User' },
      },
    },
  };
}

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
        { id: '10003', key: 'API', name: 'Public API' },
        { id: '10004', key: 'DOC', name: 'Docs' },
      ],
    },
    { id: 'cloud-other', name: 'other', url: 'https://other.atlassian.net', projects: [] },
  ]);
  db = await openTestDatabase('embedded');
});

afterAll(async () => {
  await db.close();
  await fake.close();
});

beforeEach(async () => {
  await db.knex('user_token').delete();
  await db.knex('oauth_state').delete();
  await db.knex('webhook_delivery').delete();
  fake.requests.length = 0;
  fake.resourcesStatus = null;
  fake.projectSearchStatus = null;
  fake.expiresIn = 3600;
  logs = captureLogs('debug');
  config = jiraConfig(true);
  clock = Date.now();
  oauth = new OauthStore(db.knex, new SecretBox(config.encryptionKey), () => clock);
  service = new JiraService({
    settings: config.jira!,
    oauth,
    logger: logs.logger,
    now: () => clock,
  });
  kind = new JiraProjectKind(service);
  messenger = new RecordingMessenger();
  connections = [];
  app = buildApp(service);
});

describe('GET /v1/jira/oauth', () => {
  it('when OAuth is configured then the URL is the 3LO authorize URL with parameters in order', async () => {
    const { body } = await request(app).get('/v1/jira/oauth').query({ userId: ALICE }).expect(200);
    const url = new URL((body as { url: string }).url);
    expect(`${url.origin}${url.pathname}`).toBe(`${fake.url}/authorize`);
    expect([...url.searchParams.keys()]).toEqual([
      'audience',
      'client_id',
      'scope',
      'redirect_uri',
      'state',
      'response_type',
      'prompt',
    ]);
    const state = url.searchParams.get('state')!;
    expect((body as { url: string }).url).toBe(
      `${fake.url}/authorize?audience=api.atlassian.com&client_id=jira-client-id` +
        '&scope=read%3Ajira-work%20write%3Ajira-work%20read%3Ajira-user%20read%3Ame%20read%3Aaccount%20offline_access' +
        `&redirect_uri=${encodeURIComponent(fake.redirectUri)}&state=${state}&response_type=code&prompt=consent`,
    );
    expect(await oauth.userOfState('jira', state)).toBe(ALICE);
  });

  it('when OAuth is not configured then 500 HS_DISABLED_FEATURE is answered', async () => {
    config = jiraConfig(false);
    const svc = new JiraService({ settings: config.jira!, oauth, logger: logs.logger });
    const res = await request(buildApp(svc)).get('/v1/jira/oauth').query({ userId: ALICE });
    expectAnswer(res, 500, { errcode: 'HS_DISABLED_FEATURE', error: 'JIRA OAuth is disabled.' });
    const account = await request(buildApp(svc)).get('/v1/jira/account').query({ userId: ALICE });
    expectAnswer(account, 500, {
      errcode: 'HS_DISABLED_FEATURE',
      error: 'JIRA OAuth is disabled.',
    });
  });
});

describe('GET /jira/oauth (callback)', () => {
  it('when state or code is missing then 400 names the parameter', async () => {
    const noState = await request(app).get('/jira/oauth').query({ code: 'x' });
    expectAnswer(noState, 400, { errcode: 'HS_BAD_VALUE', error: "Missing 'state' parameter" });
    const noCode = await request(app).get('/jira/oauth').query({ state: 'x' });
    expectAnswer(noCode, 400, { errcode: 'HS_BAD_VALUE', error: "Missing 'code' parameter" });
  });

  it('when the state is unknown then 404 asks whether it timed out', async () => {
    const res = await request(app).get('/jira/oauth').query({ code: 'x', state: 'nope' });
    expect(res.status).toBe(404);
    expect(res.type).toBe('text/html');
    expect(res.text).toBe(
      '<p>Could not find user which authorised this request. Has it timed out?</p>',
    );
  });

  it('when the state is older than 30 minutes then it is not accepted', async () => {
    const { body } = await request(app).get('/v1/jira/oauth').query({ userId: ALICE });
    const state = new URL((body as { url: string }).url).searchParams.get('state')!;
    clock += 30 * 60_000 + 1;
    const res = await request(app)
      .get('/jira/oauth')
      .query({ code: fake.authorize('alice'), state });
    expect(res.status).toBe(404);
    expect(await oauth.token('jira', ALICE)).toBeNull();
  });

  it('when Atlassian refuses the code then 404 "Unknown failure" and no token is kept', async () => {
    const { body } = await request(app).get('/v1/jira/oauth').query({ userId: ALICE });
    const state = new URL((body as { url: string }).url).searchParams.get('state')!;
    const res = await request(app).get('/jira/oauth').query({ code: 'forged', state });
    expect(res.status).toBe(404);
    expect(res.text).toBe('<p>Unknown failure</p>');
    expect(await oauth.token('jira', ALICE)).toBeNull();
  });

  it('when the code is good then the token is stored with an absolute expiry and the state is spent', async () => {
    const { body } = await request(app).get('/v1/jira/oauth').query({ userId: ALICE });
    const state = new URL((body as { url: string }).url).searchParams.get('state')!;
    const res = await request(app)
      .get('/jira/oauth')
      .query({ code: fake.authorize('alice'), state });
    expect(res.status).toBe(200);
    expect(res.text).toBe('<p> Your account has been bridged </p>');
    const exchange = fake.requests.find((r) => r.path === '/oauth/token');
    expect(exchange?.body).toEqual({
      grant_type: 'authorization_code',
      client_id: fake.clientId,
      client_secret: fake.clientSecret,
      code: expect.stringMatching(/^code-/) as unknown,
      redirect_uri: fake.redirectUri,
    });
    const token = await oauth.token<JiraToken>('jira', ALICE);
    expect(token?.expiresAt).toBe(clock + 3600_000);
    expect(token?.instance).toBe(new URL(fake.url).host);
    const replay = await request(app)
      .get('/jira/oauth')
      .query({ code: fake.authorize('alice'), state });
    expect(replay.status).toBe(404);
  });
});

describe('login permission', () => {
  it('when the bridge permissions deny login for jira then the callback refuses and keeps no token', async () => {
    const svc = new JiraService({
      settings: config.jira!,
      oauth,
      logger: logs.logger,
      mayLogIn: (userId) => Promise.resolve(userId !== ALICE),
    });
    const a = buildApp(svc);
    const { body } = await request(a).get('/v1/jira/oauth').query({ userId: ALICE });
    const state = new URL((body as { url: string }).url).searchParams.get('state')!;
    const res = await request(a)
      .get('/jira/oauth')
      .query({ code: fake.authorize('alice'), state });
    expect(res.status).toBe(403);
    expect(res.text).toBe('<p>You are not permitted to log in to JIRA on this bridge.</p>');
    expect(await oauth.token('jira', ALICE)).toBeNull();
    expect(fake.requests.filter((r) => r.path === '/oauth/token')).toHaveLength(0);
  });
});

describe('GET /v1/jira/account and projects', () => {
  it('when the user never logged in then loggedIn is false and projects are refused', async () => {
    const account = await request(app).get('/v1/jira/account').query({ userId: BOB });
    expectAnswer(account, 200, { loggedIn: false });
    const projects = await request(app)
      .get('/v1/jira/instances/acme/projects')
      .query({ userId: BOB });
    expectAnswer(projects, 403, { errcode: 'HS_FORBIDDEN_USER', error: 'Not logged in' });
  });

  it('when logged in then the sites are listed and every project page is read', async () => {
    await logIn(ALICE, 'alice');
    const account = await request(app).get('/v1/jira/account').query({ userId: ALICE });
    expect(account.body).toEqual({
      loggedIn: true,
      instances: [
        { id: 'cloud-acme', name: 'acme', url: SITE },
        { id: 'cloud-other', name: 'other', url: 'https://other.atlassian.net' },
      ],
    });
    const projects = await request(app)
      .get('/v1/jira/instances/acme/projects')
      .query({ userId: ALICE });
    expectAnswer(projects, 200, [
      { key: 'PLAY', name: 'Playground', id: '10000', url: `${SITE}/projects/PLAY` },
      { key: 'OPS', name: 'Operations', id: '10001', url: `${SITE}/projects/OPS` },
      { key: 'WEB', name: 'Website', id: '10002', url: `${SITE}/projects/WEB` },
      { key: 'API', name: 'Public API', id: '10003', url: `${SITE}/projects/API` },
      { key: 'DOC', name: 'Docs', id: '10004', url: `${SITE}/projects/DOC` },
    ]);
    const searches = fake.requests.filter((r) => r.path.includes('/project/search'));
    expect(searches.map((r) => new URL(r.path, fake.url).searchParams.get('startAt'))).toEqual([
      '0',
      '2',
      '4',
    ]);
    expect(searches[0]?.path.startsWith('/ex/jira/cloud-acme/rest/api/3/project/search?')).toBe(
      true,
    );
  });

  it('when the accessible resources were read within 60 s then they are not read again', async () => {
    await logIn(ALICE, 'alice');
    await request(app).get('/v1/jira/account').query({ userId: ALICE }).expect(200);
    await request(app).get('/v1/jira/account').query({ userId: ALICE }).expect(200);
    const reads = () => fake.requests.filter((r) => r.path === '/oauth/token/accessible-resources');
    expect(reads()).toHaveLength(1);
    clock += 61_000;
    await request(app).get('/v1/jira/account').query({ userId: ALICE }).expect(200);
    expect(reads()).toHaveLength(2);
  });

  it('when the instance is unknown then 403, and Atlassian failures are 500 with hookshot texts', async () => {
    await logIn(ALICE, 'alice');
    const unknown = await request(app)
      .get('/v1/jira/instances/nope/projects')
      .query({ userId: ALICE });
    expectAnswer(unknown, 403, {
      errcode: 'HS_FORBIDDEN_USER',
      error: 'Instance not known or not accessible to this user.',
    });
    fake.projectSearchStatus = 500;
    const search = await request(app)
      .get('/v1/jira/instances/acme/projects')
      .query({ userId: ALICE });
    expectAnswer(search, 500, {
      errcode: 'HS_UNKNOWN',
      error: 'Could not fetch accessible projects for JIRA user.',
    });
    clock += 61_000;
    fake.resourcesStatus = 500;
    for (const path of ['/v1/jira/account', '/v1/jira/instances/acme/projects']) {
      const res = await request(app).get(path).query({ userId: ALICE });
      expectAnswer(res, 500, {
        errcode: 'HS_UNKNOWN',
        error: 'Could not fetch accessible resources for JIRA user.',
      });
    }
  });

  it('when the token expires within 60 s then it is refreshed first', async () => {
    await logIn(ALICE, 'alice');
    const before = await oauth.token<JiraToken>('jira', ALICE);
    clock += 3600_000 - 59_000;
    const account = await request(app).get('/v1/jira/account').query({ userId: ALICE });
    expect(account.status).toBe(200);
    expect((account.body as { loggedIn: boolean }).loggedIn).toBe(true);
    const refresh = fake.requests.find(
      (r) => (r.body as { grant_type?: string } | undefined)?.grant_type === 'refresh_token',
    );
    expect(refresh?.path).toBe('/oauth/token');
    expect(refresh?.body).toEqual({
      grant_type: 'refresh_token',
      client_id: fake.clientId,
      client_secret: fake.clientSecret,
      refresh_token: before?.refreshToken,
    });
    const after = await oauth.token<JiraToken>('jira', ALICE);
    expect(after?.accessToken).not.toBe(before?.accessToken);
    expect(after?.expiresAt).toBe(clock + 3600_000);
  });

  it('when the refresh token is refused then the user is logged out', async () => {
    await logIn(ALICE, 'alice');
    fake.revokeRefreshTokens();
    clock += 3600_000;
    const account = await request(app).get('/v1/jira/account').query({ userId: ALICE });
    expectAnswer(account, 200, { loggedIn: false });
    expect(await db.knex('user_token').where({ service: 'jira', user_id: ALICE })).toEqual([]);
  });
});

describe('JIRA project connection create', () => {
  const create = (userId: string, body: Record<string, unknown>) =>
    kind.create({ roomId: ROOM, userId, body, existing: [] });

  it('when the config is malformed then hookshot messages are given', async () => {
    await logIn(ALICE, 'alice');
    const cases: [Record<string, unknown>, string][] = [
      [{}, "Expected 'url' to be a string"],
      [{ url: 5 }, "Expected 'url' to be a string"],
      [{ url: `${SITE}/projects/PLAY`, id: 5 }, "Expected 'id' to be a string"],
      [
        { url: `${SITE}/projects/PLAY`, commandPrefix: 5 },
        "Expected 'commandPrefix' to be a string",
      ],
      [
        { url: `${SITE}/projects/PLAY`, commandPrefix: '!' },
        "Expected 'commandPrefix' to be between 2-24 characters",
      ],
      [
        { url: `${SITE}/projects/PLAY`, events: ['issue_deleted'] },
        "'events' can only contain issue_created, issue_updated, version_created, version_updated, version_released",
      ],
      [{ url: 'not a url' }, "Expected 'url' to be a valid JIRA project URL"],
      [{ url: `${SITE}/projects/` }, 'URL did not contain a valid project key'],
    ];
    for (const [body, error] of cases) {
      await expect(create(ALICE, body)).rejects.toMatchObject({
        errcode: 'HS_BAD_VALUE',
        message: error,
      });
    }
  });

  it('when the user has no JIRA login, or no access to the site or project, then 403', async () => {
    await expect(create(BOB, { url: `${SITE}/projects/PLAY` })).rejects.toMatchObject({
      errcode: 'HS_FORBIDDEN_USER',
      message: 'User is not authenticated with JIRA',
    });
    await logIn(ALICE, 'alice');
    await expect(
      create(ALICE, { url: 'https://elsewhere.atlassian.net/projects/PLAY' }),
    ).rejects.toMatchObject({
      errcode: 'HS_FORBIDDEN_USER',
      message: 'User is not authenticated with this JIRA instance',
    });
    await expect(create(ALICE, { url: `${SITE}/projects/NOPE` })).rejects.toMatchObject({
      errcode: 'HS_FORBIDDEN_USER',
      message: 'Requested project was not found',
    });
  });

  it('when the project is visible then the state has the url as key, the default events and the project id', async () => {
    await logIn(ALICE, 'alice');
    const prepared = await create(ALICE, { url: `${SITE}/projects/play` });
    expect(prepared).toEqual({
      stateKey: `${SITE}/projects/play`,
      config: { url: `${SITE}/projects/play`, events: ['issue_created'], id: '10000' },
    });
    const legacy = await create(ALICE, { url: `${SITE}/projects/PLAY`, events: ['issue.created'] });
    expect(legacy.config.events).toEqual(['issue_created']);
  });
});

describe('JIRA project connection update', () => {
  const current = (config: Record<string, unknown>): StoredConnection => ({
    id: 'c1',
    roomId: ROOM,
    eventType: JIRA_PROJECT.eventType,
    stateKey: String(config.url),
    type: JIRA_PROJECT.type,
    service: 'jira',
    config,
    secrets: null,
    createdBy: ALICE,
  });

  it('when the body changes events then the merge is validated and the state key stays', async () => {
    const prepared = await kind.update({
      userId: BOB,
      current: current({ url: `${SITE}/projects/PLAY`, id: '10000', events: ['issue_created'] }),
      body: { events: ['issue_created', 'version_released'] },
    });
    expect(prepared).toEqual({
      stateKey: `${SITE}/projects/PLAY`,
      config: {
        url: `${SITE}/projects/PLAY`,
        id: '10000',
        events: ['issue_created', 'version_released'],
      },
    });
    await expect(
      kind.update({
        userId: BOB,
        current: current({ url: `${SITE}/projects/PLAY`, events: ['issue_created'] }),
        body: { events: 'all' },
      }),
    ).rejects.toMatchObject({ errcode: 'HS_BAD_VALUE' });
  });

  it('when the id is missing then it is looked up with the user login, or left out without one', async () => {
    const legacy = current({ url: `${SITE}/projects/OPS`, events: ['issue_created'] });
    const without = await kind.update({ userId: BOB, current: legacy, body: {} });
    expect(without.config).toEqual({ url: `${SITE}/projects/OPS`, events: ['issue_created'] });
    await logIn(ALICE, 'alice');
    const filled = await kind.update({ userId: ALICE, current: legacy, body: {} });
    expect(filled.config).toEqual({
      url: `${SITE}/projects/OPS`,
      events: ['issue_created'],
      id: '10001',
    });
  });

  it('when the body changes the url then 400 (the url is the state key)', async () => {
    await expect(
      kind.update({
        userId: ALICE,
        current: current({ url: `${SITE}/projects/PLAY`, events: ['issue_created'] }),
        body: { url: `${SITE}/projects/OPS` },
      }),
    ).rejects.toMatchObject({
      errcode: 'HS_BAD_VALUE',
      message: "The 'url' of a JIRA project connection cannot be changed",
    });
  });
});

describe('JIRA webhooks', () => {
  const stored = (config: Record<string, unknown>, roomId = ROOM): StoredConnection => ({
    id: `conn-${roomId}`,
    roomId,
    eventType: JIRA_PROJECT.eventType,
    stateKey: String(config.url),
    type: JIRA_PROJECT.type,
    service: 'jira',
    config,
    secrets: null,
    createdBy: ALICE,
  });

  const post = (payload: unknown, headers: Record<string, string> = {}, path = '/jira/webhook') => {
    const body = JSON.stringify(payload);
    let req = request(app).post(path).set('content-type', 'application/json');
    for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
    return req.send(body);
  };

  it('full flow: create, signed delivery posts the notice, bad signature and wrong secret post nothing, delete', async () => {
    await logIn(ALICE, 'alice');
    const prepared = await kind.create({
      roomId: ROOM,
      userId: ALICE,
      body: { url: `${SITE}/projects/PLAY`, events: ['issue_created', 'version_released'] },
      existing: [],
    });
    connections = [stored(prepared.config)];

    const payload = issueCreated();
    const body = JSON.stringify(payload);
    const ok = await post(payload, {
      'x-hub-signature': sign(body),
      'x-atlassian-webhook-identifier': 'delivery-1',
    });
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('OK');
    await waitFor(() => messenger.sent.length === 1, { what: 'the notice' });
    expect(messenger.sent[0]).toEqual({
      roomId: ROOM,
      content: {
        msgtype: 'm.notice',
        body: `Test User created a new JIRA issue [PLAY-8](${SITE}/browse/PLAY-8): "Test issue"`,
        format: 'org.matrix.custom.html',
        formatted_body: `<p>Test User created a new JIRA issue <a href="${SITE}/browse/PLAY-8">PLAY-8</a>: &quot;Test issue&quot;</p>`,
        'uk.half-shot.matrix-hookshot.jira.issue': {
          id: '10008',
          key: 'PLAY-8',
          api_url: `${SITE}/rest/api/2/issue/10008`,
        },
        'uk.half-shot.matrix-hookshot.jira.project': { id: '10000', key: 'PLAY' },
      },
    });

    // The same delivery again is not posted again.
    await post(payload, {
      'x-hub-signature': sign(body),
      'x-atlassian-webhook-identifier': 'delivery-1',
    }).expect(200, 'OK');

    const badSig = await post(payload, { 'x-hub-signature': sign(body, 'wrong') });
    expectAnswer(badSig, 401, { errcode: 'HS_BAD_TOKEN', error: 'Signature did not match' });
    const wrongSecret = await post(payload, {}, '/jira/webhook?secret=wrong');
    expectAnswer(wrongSecret, 401, { errcode: 'HS_BAD_TOKEN', error: 'Invalid secret' });
    const none = await post(payload);
    expectAnswer(none, 401, { errcode: 'HS_BAD_TOKEN', error: 'Invalid secret' });

    // Version events reach the room through the project id the create stored.
    await post(
      {
        webhookEvent: 'jira:version_released',
        version: {
          id: '10100',
          name: '1.0',
          projectId: 10000,
          released: true,
          self: `${SITE}/rest/api/2/version/10100`,
        },
      },
      { 'x-atlassian-webhook-identifier': 'delivery-2' },
      `/?secret=${HOOK_SECRET}`,
    ).expect(200, 'OK');
    await waitFor(() => messenger.sent.length === 2, { what: 'the version notice' });
    expect(messenger.sent[1]?.content.body).toBe(
      `Version **released** in [PLAY](${SITE}/projects/PLAY): 1.0`,
    );
    expect(messenger.sent[1]?.content.formatted_body).toBe(
      `<p>Version <strong>released</strong> in <a href="${SITE}/projects/PLAY">PLAY</a>: 1.0</p>`,
    );

    // Deleted: nothing reaches the room any more.
    connections = [];
    await post(payload, { 'x-hub-signature': sign(body) }).expect(200, 'OK');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(messenger.sent).toHaveLength(2);
  });

  it('when a connection matches by host and key but not the event list then nothing is posted', async () => {
    connections = [
      stored({ url: `${SITE}/projects/PLAY`, events: ['issue_created'] }, '!a:switchboard.test'),
      stored({ url: `${SITE}/projects/PLAY`, events: ['issue_updated'] }, '!b:switchboard.test'),
      stored({ url: 'https://other.atlassian.net/projects/PLAY' }, '!c:switchboard.test'),
    ];
    const payload = issueCreated('99999');
    const body = JSON.stringify(payload);
    await post(payload, { 'x-hub-signature': sign(body) }).expect(200, 'OK');
    await waitFor(() => messenger.sent.length === 1, { what: 'the notice' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(messenger.sent.map((m) => m.roomId)).toEqual(['!a:switchboard.test']);
  });

  it('when POST / carries no JIRA marks then it is left to other routes', async () => {
    const res = await request(app).post('/').send({ webhookEvent: 'jira:issue_created' });
    expect(res.status).toBe(404);
    const jira = await request(app)
      .post('/')
      .set('user-agent', 'Atlassian HttpClient 1.0 JIRA')
      .send({});
    expect(jira.status).toBe(401);
  });

  it('when the body is over the limit then 413 with a JSON error, nothing posted', async () => {
    connections = [stored({ url: `${SITE}/projects/PLAY`, id: '10000' })];
    const res = await request(app)
      .post(`/jira/webhook?secret=${HOOK_SECRET}`)
      .set('content-type', 'application/json')
      .send(JSON.stringify({ ...issueCreated(), padding: 'x'.repeat(1_100_000) }));
    expectAnswer(res, 413, { errcode: 'HS_BAD_VALUE', error: 'Request body is too large' });
    expect(messenger.sent).toEqual([]);
  });

  it('when the authenticated body is not JSON then 400', async () => {
    const res = await request(app)
      .post(`/jira/webhook?secret=${HOOK_SECRET}`)
      .set('content-type', 'application/json')
      .send('{not json');
    expectAnswer(res, 400, { errcode: 'HS_BAD_VALUE', error: 'Body is not valid JSON' });
  });
});

describe('token confidentiality', () => {
  it('when tokens are issued and refreshed then neither the rows nor the logs hold them in plaintext', async () => {
    await logIn(ALICE, 'alice');
    clock += 3600_000;
    await request(app).get('/v1/jira/account').query({ userId: ALICE }).expect(200);
    const issued = fake.issuedTokens();
    expect(issued.length).toBeGreaterThanOrEqual(4);
    const rows = await db.knex<DbUserTokenRow>('user_token').select('*');
    expect(rows).toHaveLength(1);
    const stored = JSON.stringify(rows);
    const logText = logs.text();
    expect(logText).toContain('JIRA account linked');
    for (const token of [...issued, fake.clientSecret]) {
      expect(stored).not.toContain(token);
      expect(logText).not.toContain(token);
    }
  });
});
