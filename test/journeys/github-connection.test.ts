import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { connectionId } from '../../src/bridge/connection-service';
import { GITHUB_REPO } from '../../src/bridge/connection-types';
import { FakeGithub } from '../fakes/github-api';
import { aliceAndBobRoom, oauthLogin, startBridge, type BridgeHarness } from '../helpers/bridge';
import { testDatabaseKinds } from '../helpers/databases';
import { waitFor } from '../helpers/wait';
import type { RegisteredUser } from '../../testing/homeserver/test-homeserver';
import { expectAnswer } from '../helpers/answers';

const TYPE = GITHUB_REPO.eventType;
const HOOK_SECRET = 'github-e2e-hook-secret';

const sign = (body: string, secret = HOOK_SECRET): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

const issueOpened = (number: number, title: string) => ({
  action: 'opened',
  repository: { id: 7, full_name: 'acme/widgets', html_url: 'https://github.com/acme/widgets' },
  sender: { login: 'carol' },
  issue: {
    id: 900 + number,
    number,
    title,
    html_url: `https://github.com/acme/widgets/issues/${number}`,
    labels: [],
  },
});

describe.each(testDatabaseKinds())('GitHub repository connections end to end (%s)', (kind) => {
  let fake: FakeGithub;
  let b: BridgeHarness;
  let alice: RegisteredUser;
  let bob: RegisteredUser;
  let roomId: string;

  const notices = () =>
    (b.hs.roomEvents(roomId) ?? []).filter(
      (e) => e.type === 'm.room.message' && e.sender === b.bot.userId,
    );

  const deliver = (payload: unknown, id: string, secret = HOOK_SECRET) => {
    const body = JSON.stringify(payload);
    return request(b.t.app)
      .post('/github/webhook')
      .set('content-type', 'application/json')
      .set('x-github-event', 'issues')
      .set('x-github-delivery', id)
      .set('x-hub-signature-256', sign(body, secret))
      .send(body);
  };

  beforeAll(async () => {
    fake = await new FakeGithub().start();
    fake.installations.push({
      id: 31,
      account: 'acme',
      accountType: 'Organization',
      repositorySelection: 'all',
      repositories: [{ name: 'widgets', description: 'Widgets' }],
    });
    fake.permissions.set('acme/widgets/alice-gh', 'admin');
    fake.permissions.set('acme/widgets/bob-gh', 'admin');
    const dir = mkdtempSync(join(tmpdir(), 'gh-e2e-'));
    writeFileSync(join(dir, 'app.pem'), fake.privateKeyPem);
    b = await startBridge(kind, {
      config: {
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
      },
    });
    ({ alice, bob, roomId } = await aliceAndBobRoom(b));
  });
  afterAll(async () => {
    await b.close();
    await fake.close();
  });

  it('login, listing, create, signed delivery to the room, refused deliveries, delete', async () => {
    const callback = await oauthLogin(
      b,
      { start: '/github/oauth', urlField: 'user_url', callback: '/oauth' },
      alice.userId,
      fake.authorize('alice-gh'),
    );
    expect(callback.status).toBe(200);

    const account = await b.v1('get', '/github/account', alice.userId);
    expect(account.body).toEqual({
      loggedIn: true,
      username: 'alice-gh',
      organisations: [{ name: 'acme', avatarUrl: `${fake.url}/avatars/acme` }],
    });
    const repos = await b.v1(
      'get',
      '/github/orgs/acme/repositories?page=1&perPage=10',
      alice.userId,
    );
    expect(repos.status).toBe(200);
    expect(
      (repos.body as { repositories: { name: string }[] }).repositories.map((r) => r.name),
    ).toEqual(['widgets']);

    const refused = await b
      .v1('put', `/${roomId}/connections/${TYPE}`, bob.userId)
      .send({ commandPrefix: '!github', org: 'acme', repo: 'widgets' });
    expectAnswer(refused, 403, {
      errcode: 'HS_FORBIDDEN_USER',
      error: 'User is not authenticated with GitHub',
    });

    // Dimension's "Bridge" button.
    const created = await b
      .v1('put', `/${roomId}/connections/${TYPE}`, alice.userId)
      .send({ commandPrefix: '!github', org: 'acme', repo: 'widgets' });
    expect(created.status).toBe(200);
    const id = connectionId(roomId, TYPE, 'acme/widgets');
    expect(created.body).toMatchObject({
      type: 'GithubRepo',
      eventType: TYPE,
      service: 'github',
      botUserId: b.bot.userId,
      id,
      config: { commandPrefix: '!github', org: 'acme', repo: 'widgets' },
    });
    const stateEvent = b.hs
      .roomState(roomId)!
      .find((e) => e.type === TYPE && e.state_key === 'acme/widgets');
    expect(stateEvent?.sender).toBe(b.bot.userId);
    expect(stateEvent?.content).toMatchObject({ org: 'acme', repo: 'widgets' });

    const ok = await deliver(issueOpened(5, 'Broken widget'), 'e2e-1');
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('OK');
    await waitFor(() => notices().length === 1, { what: 'the notice in the room' });
    expect(notices()[0]!.content).toMatchObject({
      msgtype: 'm.notice',
      body: '**carol** created a new issue [#5](https://github.com/acme/widgets/issues/5): "Broken widget"',
      format: 'org.matrix.custom.html',
    });

    const forged = await deliver(issueOpened(6, 'Forged'), 'e2e-2', 'guess');
    expectAnswer(forged, 401, { errcode: 'HS_BAD_TOKEN', error: 'Signature did not match' });
    await deliver(issueOpened(5, 'Broken widget'), 'e2e-1').expect(200, 'OK');

    const removed = await b.v1('delete', `/${roomId}/connections/${id}`, alice.userId);
    expect(removed.status).toBe(200);
    expect(
      b.hs.roomState(roomId)!.find((e) => e.type === TYPE && e.state_key === 'acme/widgets')
        ?.content,
    ).toEqual({ disabled: true });
    await deliver(issueOpened(7, 'After delete'), 'e2e-3').expect(200, 'OK');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(notices()).toHaveLength(1);
  });

  it("Dimension's flow: the install link logs in, and a comment with a 42 kB stack trace still reaches the room", async () => {
    // The App cannot be looked up: the login link still comes (Dimension would spin on a 500).
    // A fresh start, since the App's page is cached once looked up.
    await b.restart();
    fake.appLookupStatus = 500;
    const fallback = await b.v1('get', '/github/oauth', bob.userId);
    fake.appLookupStatus = null;
    expect(fallback.status).toBe(200);
    expect(fallback.body.org_url).toBe(fallback.body.user_url);

    const oauth = await b.v1('get', '/github/oauth', bob.userId);
    const orgUrl = new URL(oauth.body.org_url as string);
    expect(orgUrl.pathname).toBe('/apps/switchboard-test/installations/new');
    const installed = await request(b.t.app)
      .get('/github/oauth')
      .query({
        code: fake.authorize('bob-gh'),
        installation_id: '31',
        setup_action: 'install',
        state: orgUrl.searchParams.get('state'),
      });
    expect(installed.status).toBe(200);
    const account = await b.v1('get', '/github/account', bob.userId);
    expect(account.body).toMatchObject({ loggedIn: true, username: 'bob-gh' });

    const created = await b
      .v1('put', `/${roomId}/connections/${TYPE}`, bob.userId)
      .send({ org: 'acme', repo: 'widgets' });
    expect(created.status).toBe(200);
    const before = notices().length;
    const trace = Array.from(
      { length: 600 },
      (_, i) => `    at frame${i} (src/module${i}.ts:${i}:7)`,
    )
      .join('\n')
      .padEnd(42_000, '.');
    const payload = {
      ...issueOpened(5, 'Crash'),
      action: 'created',
      comment: { body: trace, html_url: 'https://github.com/acme/widgets/issues/5#c1' },
    };
    const body = JSON.stringify(payload);
    const res = await request(b.t.app)
      .post('/github/webhook')
      .set('content-type', 'application/json')
      .set('x-github-event', 'issue_comment')
      .set('x-github-delivery', 'e2e-comment')
      .set('x-hub-signature-256', sign(body))
      .send(body);
    expect(res.status).toBe(200);
    await waitFor(() => notices().length === before + 1, { what: 'the comment notice' });
    const notice = notices()[before]!;
    expect(notice.content.body as string).toMatch(
      /^\*\*carol\*\* \[commented\]\(https:\/\/github\.com\/acme\/widgets\/issues\/5#c1\) on \[#5\]/,
    );
    expect(notice.content.body as string).toContain('at frame599');
  });
});
