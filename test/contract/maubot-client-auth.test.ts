import request from 'supertest';
import { registrationMac } from '../../src/matrix/homeserver-api';
import { createTestApp, type TestApp } from '../helpers/app';
import { testConfig } from '../helpers/config';
import { testDatabaseKinds } from '../helpers/databases';
import { freePort } from '../helpers/process';
import { TestHomeserver } from '../../testing/homeserver/test-homeserver';
import { expectAnswer } from '../helpers/answers';

const API = '/_matrix/maubot/v1';
const SHARED_SECRET = 'registration-shared-secret';
const EMPTY_WELL_KNOWN = {
  'm.homeserver': {},
  'm.identity_server': {},
  'm.integrations': { managers: [] },
};

describe.each(testDatabaseKinds())('maubot client auth API (%s)', (kind) => {
  let hs: TestHomeserver;
  let t: TestApp;
  let closedPort: number;

  beforeAll(async () => {
    hs = await TestHomeserver.start({ registrationSharedSecret: SHARED_SECRET, ssoUser: 'ssobot' });
    closedPort = await freePort();
    t = await createTestApp(kind, {
      config: testConfig({
        homeservers: {
          test: { url: hs.url, secret: SHARED_SECRET },
          nosecret: { url: hs.url, secret: null },
          down: { url: `http://127.0.0.1:${closedPort}`, secret: SHARED_SECRET },
        },
      }),
    });
  });
  afterAll(async () => {
    await t.close();
    await hs.close();
  });

  const post = (path: string, body?: unknown) => {
    const r = request(t.app)
      .post(API + path)
      .set('Authorization', `Bearer ${t.token}`);
    return body === undefined ? r : r.send(body as object);
  };

  it('GET /client/auth/servers lists the configured names and URLs only', async () => {
    const res = await request(t.app)
      .get(`${API}/client/auth/servers`)
      .set('Authorization', `Bearer ${t.token}`);
    expectAnswer(res, 200, {
      test: hs.url,
      nosecret: hs.url,
      down: `http://127.0.0.1:${closedPort}`,
    });
  });

  describe('register', () => {
    it('when registering without update_client, then 200 with the homeserver credentials and nothing stored', async () => {
      const res = await post('/client/auth/test/register', { username: 'reg1', password: 'pw' });
      expect(res.status).toBe(200);
      // maubot answers with its login-response type: empty discovery entries are added.
      expect(res.body).toEqual({
        user_id: '@reg1:test.local',
        device_id: expect.any(String),
        access_token: expect.any(String),
        well_known: EMPTY_WELL_KNOWN,
        home_server: 'test.local',
      });
      expect(Object.keys(res.body)).toEqual([
        'user_id',
        'device_id',
        'access_token',
        'well_known',
        'home_server',
      ]);
      expect(await t.db.knex('client').where({ id: '@reg1:test.local' }).first()).toBeUndefined();
    });

    it('when registering with update_client, then 201 with a new started client; a login with update_client then answers 202', async () => {
      const created = await post('/client/auth/test/register?update_client=TRUE', {
        username: 'reg2',
        password: 'pw2',
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        id: '@reg2:test.local',
        homeserver: hs.url,
        enabled: true,
        started: true,
        displayname: 'disable',
      });
      const updated = await post('/client/auth/test/login?update_client=yes', {
        username: 'reg2',
        password: 'pw2',
      });
      expect(updated.status).toBe(202);
      expect(updated.body.id).toBe('@reg2:test.local');
      expect(updated.body.device_id).toMatch(/^maubot_[A-Z0-9]{8}$/);
      expect(updated.body.access_token).not.toBe(created.body.access_token);
      const listed = await request(t.app)
        .get(`${API}/client/@reg2:test.local`)
        .set('Authorization', `Bearer ${t.token}`);
      expect(listed.body).toMatchObject({
        access_token: updated.body.access_token,
        device_id: updated.body.device_id,
        started: true,
      });
    });

    it('when the homeserver refuses, then 500 with its errcode, message and http_status', async () => {
      await post('/client/auth/test/register', { username: 'taken', password: 'pw' });
      const res = await post('/client/auth/test/register', { username: 'taken', password: 'pw' });
      expectAnswer(res, 500, {
        errcode: 'M_USER_IN_USE',
        error: 'User ID already taken.',
        http_status: 400,
      });
    });

    it.each([
      [
        'an unknown server',
        '/client/auth/nope/register',
        { username: 'a', password: 'b' },
        404,
        'server_not_found',
        'Registration target server not found',
      ],
      [
        'no password',
        '/client/auth/test/register',
        { username: 'a' },
        400,
        'username_or_password_missing',
        'Username or password missing',
      ],
      [
        'sso',
        '/client/auth/test/register?sso=1',
        { username: 'a', password: 'b' },
        400,
        'registration_no_sso',
        'The register operation is only for registering with a password',
      ],
      [
        'a server without secret',
        '/client/auth/nosecret/register',
        { username: 'a', password: 'b' },
        404,
        'registration_secret_not_found',
        'Config does not have a registration secret for that server',
      ],
    ])('when registering on %s, then %i %s', async (_case, path, body, status, errcode, error) => {
      const res = await post(path, body);
      expect(res.status).toBe(status);
      expect(res.body).toEqual({ errcode, error });
    });

    it('when the server is unreachable, then 500 internal_server_error', async () => {
      const res = await post('/client/auth/down/register', { username: 'a', password: 'b' });
      expectAnswer(res, 500, {
        errcode: 'internal_server_error',
        error: 'Internal server error',
      });
    });

    it('when the body is not JSON, then 400 body_not_json', async () => {
      const res = await post('/client/auth/test/register')
        .set('Content-Type', 'application/json')
        .send('nope{');
      expectAnswer(res, 400, { errcode: 'body_not_json', error: 'Request body is not JSON' });
    });

    it('the MAC is HMAC-SHA1 over nonce, user, password, notadmin and user type, NUL-separated', () => {
      // Reference value computed independently with Python's hmac module.
      expect(
        registrationMac('secret', 'abc', { username: 'bot', password: 'pw', userType: 'bot' }),
      ).toBe('d03fd951ebbc14ef18e987fddf949517e37c581b');
    });
  });

  describe('login', () => {
    it('when logging in without update_client, then 200 with the credentials and a maubot device id', async () => {
      hs.registerUser('log1', 'secret1');
      const res = await post('/client/auth/test/login', { username: 'log1', password: 'secret1' });
      expectAnswer(res, 200, {
        user_id: '@log1:test.local',
        device_id: expect.stringMatching(/^maubot_[A-Z0-9]{8}$/),
        access_token: expect.any(String),
        well_known: { ...EMPTY_WELL_KNOWN, 'm.homeserver': { base_url: `${hs.url}/` } },
        home_server: 'test.local',
      });
      expect(await t.db.knex('client').where({ id: '@log1:test.local' }).first()).toBeUndefined();
    });

    it('when logging in with update_client for a new account, then 201 with a client', async () => {
      hs.registerUser('log2', 'secret2');
      const res = await post('/client/auth/test/login?update_client=1', {
        username: 'log2',
        password: 'secret2',
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ id: '@log2:test.local', started: true });
    });

    it("when the password is wrong, then the homeserver's status and error pass through", async () => {
      hs.registerUser('log3', 'right');
      const res = await post('/client/auth/test/login', { username: 'log3', password: 'wrong' });
      expectAnswer(res, 403, { errcode: 'M_FORBIDDEN', error: 'Invalid username or password' });
    });

    it('when the server is unknown, then 404 server_not_found', async () => {
      const res = await post('/client/auth/nope/login', { username: 'a', password: 'b' });
      expectAnswer(res, 404, {
        errcode: 'server_not_found',
        error: 'Registration target server not found',
      });
    });

    it('when the username is missing, then 400 username_or_password_missing', async () => {
      const res = await post('/client/auth/test/login', { password: 'b' });
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe('username_or_password_missing');
    });

    it('when the homeserver is unreachable, then 500 internal_server_error', async () => {
      const res = await post('/client/auth/down/login', { username: 'a', password: 'b' });
      expect(res.status).toBe(500);
      expect(res.body.errcode).toBe('internal_server_error');
    });
  });

  describe('single sign-on', () => {
    it('when SSO completes in the browser, then the waiting call logs in and creates the client', async () => {
      const start = await post('/client/auth/test/login?sso=true&update_client=true', {
        device_name: 'SSO bot',
      });
      expect(start.status).toBe(200);
      expect(start.body.id).toMatch(/^[a-z0-9]{16}$/);
      const ssoUrl = new URL(start.body.sso_url as string);
      expect(`${ssoUrl.origin}${ssoUrl.pathname}`).toBe(
        `${hs.url}/_matrix/client/v3/login/sso/redirect`,
      );
      const returnUrl = new URL(ssoUrl.searchParams.get('redirectUrl')!);
      expect(returnUrl.pathname).toBe(`${API}/client/auth_external_sso/complete/${start.body.id}`);

      const waiting = post(`/client/auth/test/sso/${start.body.id}/wait`, {}).then((r) => r);
      // The browser: the homeserver redirects back with a login token.
      const redirect = await fetch(ssoUrl, { redirect: 'manual' });
      const back = new URL(redirect.headers.get('location')!);
      const page = await request(t.app).get(`${back.pathname}${back.search}`);
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/plain/);
      expect(page.text).toBe(
        'Login token received, please return to your Maubot client. This tab can be closed.\n',
      );
      const again = await request(t.app).get(`${back.pathname}${back.search}`);
      expect(again.text).toBe('The login token was already received\n');

      const res = await waiting;
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ id: '@ssobot:test.local', started: true });
      expect(res.body.device_id).toMatch(/^maubot_[A-Z0-9]{8}$/);
    });

    it('when the server offers no SSO, then 403 sso_not_supported', async () => {
      const plain = await TestHomeserver.start();
      const app = await createTestApp(kind, {
        config: testConfig({ homeservers: { plain: { url: plain.url, secret: null } } }),
      });
      try {
        const res = await request(app.app)
          .post(`${API}/client/auth/plain/login?sso=yes`)
          .set('Authorization', `Bearer ${app.token}`)
          .send({});
        expectAnswer(res, 403, {
          errcode: 'sso_not_supported',
          error: 'That server does not seem to support single sign-on',
        });
      } finally {
        await app.close();
        await plain.close();
      }
    });

    it('the return page answers in plain text for unknown sessions and missing tokens', async () => {
      const unknown = await request(t.app).get(
        `${API}/client/auth_external_sso/complete/nosuchsession?loginToken=x`,
      );
      expect(unknown.status).toBe(404);
      expect(unknown.text).toBe('Invalid session ID\n');
      const start = await post('/client/auth/test/login?sso=1', {});
      const missing = await request(t.app).get(
        `${API}/client/auth_external_sso/complete/${start.body.id}`,
      );
      expect(missing.status).toBe(400);
      expect(missing.text).toBe('Missing loginToken query parameter\n');
    });

    it('when the waiting client hangs up, then the return page says the login was cancelled', async () => {
      const base = await t.listen();
      const start = await post('/client/auth/test/login?sso=1', {});
      const abort = new AbortController();
      const waiting = fetch(`${base}${API}/client/auth/test/sso/${start.body.id}/wait`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${t.token}` },
        body: '{}',
        signal: abort.signal,
      }).catch((err: unknown) => err);
      await new Promise((resolve) => setTimeout(resolve, 100));
      abort.abort();
      await waiting;
      await new Promise((resolve) => setTimeout(resolve, 100));
      const page = await request(t.app).get(
        `${API}/client/auth_external_sso/complete/${start.body.id}?loginToken=x`,
      );
      expect(page.status).toBe(200);
      expect(page.text).toBe('The login was cancelled from the Maubot client\n');
    });

    it('when waiting on an unknown session, then 404 resource_not_found', async () => {
      const res = await post('/client/auth/test/sso/nosuchsession/wait', {});
      expectAnswer(res, 404, { errcode: 'resource_not_found', error: 'Resource not found' });
    });
  });
});
