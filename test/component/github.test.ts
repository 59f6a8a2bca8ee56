import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { provisioningErrorHandler } from '../../src/api/provisioning/error-middleware';
import { githubHandlers } from '../../src/api/provisioning/handlers/github';
import type { Config } from '../../src/config/schema';
import { ConnectionError } from '../../src/bridge/connection-errors';
import { GITHUB_REPO, type StoredConnection } from '../../src/bridge/connection-types';
import type { Database } from '../../src/db/database';
import type { DbUserTokenRow } from '../../src/db/tables';
import { GithubRepoKind } from '../../src/github/github-repo-kind';
import { GithubService } from '../../src/github/github-service';
import { GithubEvents } from '../../src/github/github-events';
import { githubRoutes } from '../../src/api/ingress/handlers/github';
import { ingressErrorHandler } from '../../src/api/ingress/error-middleware';
import { OauthStore } from '../../src/oauth/oauth-store';
import { SecretBox } from '../../src/secrets/secret-box';
import { FakeGithub } from '../fakes/github-api';
import { testConfig } from '../helpers/config';
import { openTestDatabase } from '../helpers/databases';
import { captureLogs } from '../helpers/log-capture';
import { waitFor } from '../helpers/wait';
import { RecordingMessenger } from '../fakes/recording-messenger';
import { expectAnswer } from '../helpers/answers';

const ALICE = '@alice:switchboard.test';
const BOB = '@bob:switchboard.test';
const ROOM = '!room:switchboard.test';
const HOOK_SECRET = 'github-hook-secret';

let fake: FakeGithub;
let db: Database;
let logs: ReturnType<typeof captureLogs>;
let config: Config;
let service: GithubService;
let kind: GithubRepoKind;
let messenger: RecordingMessenger;
let connections: StoredConnection[];
let app: express.Express;
let clock: number;

beforeAll(async () => {
  fake = await new FakeGithub().start();
  const dir = mkdtempSync(join(tmpdir(), 'gh-key-'));
  writeFileSync(join(dir, 'app.pem'), fake.privateKeyPem);
  fake.installations.push(
    {
      id: 11,
      account: 'acme',
      accountType: 'Organization',
      repositorySelection: 'selected',
      repositories: [
        { name: 'one', description: 'First' },
        { name: 'two', description: null },
        { name: 'three', description: 'Third' },
      ],
    },
    {
      id: 12,
      account: 'alice-gh',
      accountType: 'User',
      repositorySelection: 'all',
      repositories: [{ name: 'dotfiles', description: 'Mine' }],
    },
  );
  fake.permissions.set('acme/one/alice-gh', 'write');
  fake.permissions.set('acme/two/alice-gh', 'read');
  fake.permissions.set('other/thing/alice-gh', 'admin');
  config = testConfig({
    github: {
      appId: fake.appId,
      privateKeyFile: join(dir, 'app.pem'),
      webhookSecret: HOOK_SECRET,
      apiUrl: fake.url,
      webUrl: fake.url,
      oauth: {
        clientId: fake.clientId,
        clientSecret: fake.clientSecret,
        redirectUri: 'http://127.0.0.1/oauth',
      },
    },
  });
  db = await openTestDatabase('embedded');
  logs = captureLogs('debug');
  clock = Date.now();
  const oauth = new OauthStore(db.knex, new SecretBox(config.encryptionKey), () => clock);
  service = new GithubService({
    settings: config.github!,
    oauth,
    logger: logs.logger,
    now: () => clock,
  });
  kind = new GithubRepoKind(service);
  messenger = new RecordingMessenger();
  connections = [];
  app = express();
  const h = githubHandlers(service);
  app.get('/v1/github/oauth', h.oauth);
  app.get('/v1/github/account', h.account);
  app.get('/v1/github/orgs/:orgName/repositories', h.orgRepositories);
  app.get('/v1/github/repositories', h.userRepositories);
  const events = new GithubEvents({
    webhookSecret: HOOK_SECRET,
    db: db.knex,
    logger: logs.logger,
    messenger,
    connections: () => connections,
  });
  app.use(githubRoutes(events, service));
  app.use('/v1', provisioningErrorHandler(logs.logger));
  app.use(ingressErrorHandler(logs.logger));
});

afterAll(async () => {
  await db.close();
  await fake.close();
});

async function refusal(promise: Promise<unknown>): Promise<ConnectionError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ConnectionError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

function deliver(
  event: string,
  payload: unknown,
  id: string,
  secret = HOOK_SECRET,
  path = '/github/webhook',
) {
  const body = JSON.stringify(payload);
  const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  return request(app)
    .post(path)
    .set('content-type', 'application/json')
    .set('x-github-event', event)
    .set('x-github-delivery', id)
    .set('x-hub-signature-256', signature)
    .send(body);
}

const prOpened = {
  action: 'opened',
  repository: { id: 1, full_name: 'Acme/One', html_url: 'https://github.com/acme/one' },
  sender: { login: 'alice' },
  pull_request: {
    number: 12,
    title: 'Title',
    html_url: 'https://github.com/acme/one/pull/12',
    labels: [],
  },
};

describe('GitHub service and router', () => {
  test('oauth URLs: the authorise page on the web host with a stored state, and the App page', async () => {
    const res = await request(app).get('/v1/github/oauth').query({ userId: ALICE });
    expect(res.status).toBe(200);
    const userUrl = new URL(res.body.user_url as string);
    expect(`${userUrl.origin}${userUrl.pathname}`).toBe(`${fake.url}/login/oauth/authorize`);
    expect(userUrl.searchParams.get('client_id')).toBe(fake.clientId);
    expect(userUrl.searchParams.get('redirect_uri')).toBe('http://127.0.0.1/oauth');
    expect(userUrl.searchParams.has('scope')).toBe(false);
    const state = userUrl.searchParams.get('state')!;
    const row = (await db.knex('oauth_state').where({ state }).first()) as { user_id: string };
    expect(row.user_id).toBe(ALICE);
    // The install link carries a state of its own, so installing logs the user in too.
    const orgUrl = new URL(res.body.org_url as string);
    expect(`${orgUrl.origin}${orgUrl.pathname}`).toBe(
      `${fake.url}/apps/switchboard-test/installations/new`,
    );
    const installState = orgUrl.searchParams.get('state')!;
    expect(installState).not.toBe(state);
    const installRow = (await db.knex('oauth_state').where({ state: installState }).first()) as {
      user_id: string;
    };
    expect(installRow.user_id).toBe(ALICE);
  });

  test('oauth URLs when the App lookup fails: the login link still comes, and stands in for the install link', async () => {
    const fresh = new GithubService({
      settings: config.github!,
      oauth: new OauthStore(db.knex, new SecretBox(config.encryptionKey)),
      logger: logs.logger,
    });
    fake.appLookupStatus = 500;
    try {
      const urls = await fresh.oauthUrls(ALICE);
      expect(new URL(urls.user_url).pathname).toBe('/login/oauth/authorize');
      expect(urls.org_url).toBe(urls.user_url);
      expect(logs.text()).toContain('Could not look up the GitHub App');
    } finally {
      fake.appLookupStatus = null;
    }
  });

  test("Dimension's install link: the install callback with a code logs the user in", async () => {
    const res = await request(app).get('/v1/github/oauth').query({ userId: BOB });
    const state = new URL(res.body.org_url as string).searchParams.get('state')!;
    const cb = await request(app)
      .get('/oauth')
      .query({
        code: fake.authorize('bob-gh'),
        installation_id: '11',
        setup_action: 'install',
        state,
      });
    expect(cb.status).toBe(200);
    expect(cb.text).toContain('The GitHub App is installed. Your GitHub account has been bridged');
    const account = await request(app).get('/v1/github/account').query({ userId: BOB });
    expect(account.body).toMatchObject({ loggedIn: true, username: 'bob-gh' });
    await db.knex('user_token').where({ user_id: BOB }).delete();
  });

  test('an install callback with a code but no state gets a page saying so, and nobody is logged in', async () => {
    const before = await db.knex('user_token').count({ n: '*' }).first();
    const cb = await request(app)
      .get('/oauth')
      .query({ code: fake.authorize('carol-gh'), installation_id: '11', setup_action: 'install' });
    expect(cb.status).toBe(200);
    expect(cb.headers['content-type']).toMatch(/text\/html/);
    expect(cb.text).toContain('The GitHub App is installed');
    expect(cb.text).toContain(
      'No Matrix account was linked: log in to GitHub from your integration manager to use it',
    );
    expect(await db.knex('user_token').count({ n: '*' }).first()).toEqual(before);
  });

  test('callback errors are HTML pages with 4xx', async () => {
    const missing = await request(app).get('/oauth').query({ code: 'x' });
    expect(missing.status).toBe(400);
    expect(missing.headers['content-type']).toMatch(/text\/html/);
    expect(missing.text).toContain('Missing state');
    const unknown = await request(app).get('/github/oauth').query({ state: 'nope', code: 'x' });
    expect(unknown.status).toBe(404);
    // A NUL byte in the state used to fail the lookup: a 500 page and an error in the log.
    const nul = await request(app).get('/github/oauth?state=%00&code=x');
    expect(nul.status).toBe(404);
    expect(logs.lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    const res = await request(app).get('/v1/github/oauth').query({ userId: ALICE });
    const state = new URL(res.body.user_url as string).searchParams.get('state')!;
    const bad = await request(app).get('/oauth').query({ state, code: 'wrong' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('GitHub refused the login code');
    // A failed exchange leaves the state usable for another try.
    expect(await db.knex('oauth_state').where({ state }).first()).toBeDefined();
    const install = await request(app)
      .get('/oauth')
      .query({ setup_action: 'install', installation_id: '11' });
    expect(install.status).toBe(200);
    expect(install.text).toContain('The GitHub App is installed');
  });

  test('not logged in: account says so, listings and create are refused', async () => {
    expect((await request(app).get('/v1/github/account').query({ userId: BOB })).body).toEqual({
      loggedIn: false,
    });
    const org = await request(app).get('/v1/github/orgs/acme/repositories').query({ userId: BOB });
    expectAnswer(org, 403, { errcode: 'HS_FORBIDDEN_USER', error: 'Not logged in' });
    const err = await refusal(
      kind.create({ roomId: ROOM, userId: BOB, body: { org: 'acme', repo: 'one' }, existing: [] }),
    );
    expect([err.errcode, err.message]).toEqual([
      'HS_FORBIDDEN_USER',
      'User is not authenticated with GitHub',
    ]);
  });

  test('login, account, paginated listings', async () => {
    const res = await request(app).get('/v1/github/oauth').query({ userId: ALICE });
    const state = new URL(res.body.user_url as string).searchParams.get('state')!;
    const cb = await request(app)
      .get('/oauth')
      .query({ state, code: fake.authorize('alice-gh') });
    expect(cb.status).toBe(200);
    expect(cb.text).toContain('Your GitHub account has been bridged');
    expect(await db.knex('oauth_state').where({ state }).first()).toBeUndefined();

    const account = await request(app).get('/v1/github/account').query({ userId: ALICE });
    expectAnswer(account, 200, {
      loggedIn: true,
      username: 'alice-gh',
      organisations: [
        { name: 'acme', avatarUrl: `${fake.url}/avatars/acme` },
        { name: 'alice-gh', avatarUrl: `${fake.url}/avatars/alice-gh` },
      ],
    });
    const second = await request(app)
      .get('/v1/github/account')
      .query({ userId: ALICE, page: 2, perPage: 1 });
    expect(second.body.organisations).toEqual([
      { name: 'alice-gh', avatarUrl: `${fake.url}/avatars/alice-gh` },
    ]);

    const page1 = await request(app)
      .get('/v1/github/orgs/acme/repositories')
      .query({ userId: ALICE, page: 1, perPage: 2 });
    expectAnswer(page1, 200, {
      page: 1,
      repositories: [
        {
          name: 'one',
          owner: 'acme',
          fullName: 'acme/one',
          description: 'First',
          avatarUrl: `${fake.url}/avatars/acme`,
        },
        {
          name: 'two',
          owner: 'acme',
          fullName: 'acme/two',
          description: null,
          avatarUrl: `${fake.url}/avatars/acme`,
        },
      ],
      changeSelectionUrl: `${fake.url}/organizations/acme/settings/installations/11`,
    });
    const page2 = await request(app)
      .get('/v1/github/orgs/acme/repositories')
      .query({ userId: ALICE, page: 2, perPage: 2 });
    expect((page2.body.repositories as { name: string }[]).map((r) => r.name)).toEqual(['three']);
    expect(page2.body.page).toBe(2);

    const mine = await request(app).get('/v1/github/repositories').query({ userId: ALICE });
    expect(mine.body).toEqual({
      page: 1,
      repositories: [
        {
          name: 'dotfiles',
          owner: 'alice-gh',
          fullName: 'alice-gh/dotfiles',
          description: 'Mine',
          avatarUrl: `${fake.url}/avatars/alice-gh`,
        },
      ],
    });

    const missing = await request(app)
      .get('/v1/github/orgs/nobody/repositories')
      .query({ userId: ALICE });
    expectAnswer(missing, 400, {
      errcode: 'HS_ADDITIONAL_ACTION_REQUIRED',
      error: 'Could not fetch accessible repos for GitHub org',
    });
  });

  test('a revoked token: /user failure is 400 HS_ADDITIONAL_ACTION_REQUIRED, never a hang', async () => {
    fake.userStatus = 500;
    try {
      const account = await request(app).get('/v1/github/account').query({ userId: ALICE });
      expect(account.status).toBe(400);
      expect(account.body.errcode).toBe('HS_ADDITIONAL_ACTION_REQUIRED');
      const repos = await request(app).get('/v1/github/repositories').query({ userId: ALICE });
      expect(repos.body).toEqual({
        errcode: 'HS_ADDITIONAL_ACTION_REQUIRED',
        error: 'Could not fetch accessible repos for GitHub user',
      });
    } finally {
      fake.userStatus = null;
    }
  });

  test('an expired token is refreshed and the new one stored', async () => {
    const before = (await db.knex<DbUserTokenRow>('user_token').where({ user_id: ALICE }).first())!;
    const exchanges = () =>
      fake.requests.filter((r) => r.path === '/login/oauth/access_token').length;
    const exchangesBefore = exchanges();
    fake.expireAccessTokens();
    clock += 9 * 3600_000;
    try {
      const account = await request(app).get('/v1/github/account').query({ userId: ALICE });
      expect(account.body.username).toBe('alice-gh');
    } finally {
      clock = Date.now();
    }
    const after = (await db.knex<DbUserTokenRow>('user_token').where({ user_id: ALICE }).first())!;
    expect(JSON.stringify(after)).not.toBe(JSON.stringify(before));
    expect(exchanges()).toBe(exchangesBefore + 1);
  });

  test('kind create: validation, permissions, installation', async () => {
    const create = (body: Record<string, unknown>) =>
      kind.create({ roomId: ROOM, userId: ALICE, body, existing: [] });

    let err = await refusal(create({ repo: 'one' }));
    expect(err.errcode).toBe('HS_BAD_VALUE');
    expect(err.message).toBe("Failed to validate: : must have required property 'org'");
    expect(err.extra).toEqual({
      validationErrors: [{ path: '', message: "must have required property 'org'" }],
    });
    err = await refusal(create({ org: 'acme', repo: 'one', commandPrefix: '!' }));
    expect(err.message).toBe(
      'Failed to validate: /commandPrefix: must NOT have fewer than 2 characters',
    );
    err = await refusal(create({ org: 'acme', repo: 'one', ignoreHooks: ['push'] }));
    expect(err.message).toBe('`ignoreHooks` cannot be used with new connections');
    err = await refusal(create({ org: 'acme', repo: 'one', enableHooks: ['push', 'nope'] }));
    expect(err.message).toBe(
      "'enableHooks' must only contain allowed values. Found invalid values nope",
    );

    err = await refusal(create({ org: 'acme', repo: 'missing' }));
    expect([err.errcode, err.message]).toEqual([
      'HS_FORBIDDEN_USER',
      'Could not determine if the user has access to this repository, does the repository exist?',
    ]);
    err = await refusal(create({ org: 'acme', repo: 'two' }));
    expect(err.message).toBe('You must at least have write permissions to bridge this repository');
    err = await refusal(create({ org: 'other', repo: 'thing' }));
    expect(err.errcode).toBe('HS_ADDITIONAL_ACTION_REQUIRED');
    expect(err.message).toBe(
      'You need to add a GitHub App to this organisation / repository before you can bridge it.',
    );
    expect(err.extra).toEqual({
      installUrl: `${fake.url}/apps/switchboard-test/installations/new`,
    });

    const prepared = await create({ org: 'acme', repo: 'one', commandPrefix: '!github', extra: 1 });
    expect(prepared.stateKey).toBe('acme/one');
    expect(prepared.config).toEqual({
      org: 'acme',
      repo: 'one',
      commandPrefix: '!github',
      extra: 1,
      enableHooks: [
        'issue.changed',
        'issue.created',
        'issue.edited',
        'issue.labeled',
        'issue',
        'pull_request.closed',
        'pull_request.merged',
        'pull_request.opened',
        'pull_request.ready_for_review',
        'pull_request.reviewed',
        'pull_request',
        'release.created',
      ],
    });
    connections.push({
      id: 'c1',
      roomId: ROOM,
      eventType: GITHUB_REPO.eventType,
      stateKey: prepared.stateKey,
      type: GITHUB_REPO.type,
      service: 'github',
      config: prepared.config,
      secrets: null,
      createdBy: ALICE,
    });
  });

  test('kind update: merges, validates again, keeps the state key', async () => {
    const current = connections[0]!;
    const updated = await kind.update({
      userId: ALICE,
      current,
      body: { enableHooks: ['push'], repo: 'renamed' },
    });
    expect(updated.stateKey).toBe('acme/one');
    expect(updated.config).toMatchObject({ org: 'acme', repo: 'renamed', enableHooks: ['push'] });
    const err = await refusal(kind.update({ userId: ALICE, current, body: { priority: 'high' } }));
    expect(err.message).toBe('Failed to validate: /priority: must be number');
  });

  test('without OAuth configured the login URL is refused with 400', async () => {
    const noOauth = testConfig({ github: { ...config.github!, oauth: null } });
    const svc = new GithubService({
      settings: noOauth.github!,
      oauth: new OauthStore(db.knex, new SecretBox(config.encryptionKey)),
      logger: logs.logger,
    });
    const err = await refusal(svc.oauthUrls(ALICE));
    expect([err.errcode, err.message]).toEqual([
      'HS_UNSUPPORTED_OPERATION',
      'GitHub is not configured to support OAuth',
    ]);
  });

  test('a signed delivery posts the notice; bad signature and redelivery post nothing', async () => {
    const bad = await deliver('pull_request', prOpened, 'd-bad', 'wrong-secret');
    expectAnswer(bad, 401, { errcode: 'HS_BAD_TOKEN', error: 'Signature did not match' });
    const unsigned = await request(app)
      .post('/github/webhook')
      .set('x-github-event', 'pull_request')
      .set('x-github-delivery', 'd-unsigned')
      .send(prOpened);
    expect(unsigned.status).toBe(401);
    expect(messenger.sent).toHaveLength(0);

    const ok = await deliver('pull_request', prOpened, 'd-1');
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('OK');
    await waitFor(() => messenger.sent.length === 1);
    expect(messenger.sent[0]!.roomId).toBe(ROOM);
    expect(messenger.sent[0]!.content).toMatchObject({
      msgtype: 'm.notice',
      body: '**alice** opened a new PR [#12](https://github.com/acme/one/pull/12): "Title"',
      format: 'org.matrix.custom.html',
      formatted_body:
        '<p><strong>alice</strong> opened a new PR <a href="https://github.com/acme/one/pull/12">#12</a>: &quot;Title&quot;</p>',
    });

    const again = await deliver('pull_request', prOpened, 'd-1');
    expect(again.status).toBe(200);
    // The old root path with X-GitHub-Delivery works too.
    const root = await deliver(
      'pull_request',
      { ...prOpened, action: 'ready_for_review' },
      'd-2',
      HOOK_SECRET,
      '/',
    );
    expect(root.status).toBe(200);
    await waitFor(() => messenger.sent.length === 2);
    expect(messenger.sent[1]!.content.body).toBe(
      'PR [#12](https://github.com/acme/one/pull/12): "Title" is ready for review',
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(messenger.sent).toHaveLength(2);
  });

  test('user tokens are never stored or logged in plaintext', async () => {
    const rows = await db.knex<DbUserTokenRow>('user_token').select();
    expect(rows.length).toBeGreaterThan(0);
    const stored = JSON.stringify(rows);
    const logged = logs.text();
    for (const token of fake.issuedTokens()) {
      expect(stored).not.toContain(token);
      expect(logged).not.toContain(token);
    }
  });
});
