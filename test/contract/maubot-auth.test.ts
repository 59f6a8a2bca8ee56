import request from 'supertest';
import { signToken } from '../../src/admins/token';
import { createMaubotClient } from '../../src/client';
import { createTestApp, type TestApp } from '../helpers/app';
import { TEST_PASSWORD, TEST_SECRET, testConfig } from '../helpers/config';
import { testDatabaseKinds } from '../helpers/databases';
import { expectAnswer } from '../helpers/answers';

const API = '/_matrix/maubot/v1';
const MISSING = { error: 'Authorization token missing', errcode: 'auth_token_missing' };
const INVALID = { error: 'Invalid authorization token', errcode: 'auth_token_invalid' };
const NOT_FOUND = { error: 'Resource not found', errcode: 'resource_not_found' };
const NOT_ALLOWED = { error: 'Method not allowed', errcode: 'method_not_allowed' };
const ALL_FEATURES = {
  login: true,
  plugin: true,
  plugin_upload: true,
  instance: true,
  instance_database: true,
  client: true,
  client_proxy: true,
  client_auth: true,
  dev_open: true,
  log: true,
};

describe.each(testDatabaseKinds())('maubot API authentication (%s database)', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind);
  });
  afterAll(() => t.close());

  describe('POST /auth/login', () => {
    it('when the password is right, then a token for that admin is returned', async () => {
      const res = await request(t.app)
        .post(`${API}/auth/login`)
        .send({ username: 'admin', password: TEST_PASSWORD });
      expect(res.status).toBe(200);
      expect(Object.keys(res.body)).toEqual(['token']);
      const ping = await request(t.app)
        .post(`${API}/auth/ping`)
        .set('Authorization', `Bearer ${res.body.token}`);
      expect(ping.body.username).toBe('admin');
    });

    it('when the UI posts JSON as text/plain, then it is still parsed', async () => {
      const res = await request(t.app)
        .post(`${API}/auth/login`)
        .set('Content-Type', 'text/plain;charset=UTF-8')
        .send(JSON.stringify({ username: 'admin', password: TEST_PASSWORD }));
      expect(res.status).toBe(200);
      expect(typeof res.body.token).toBe('string');
    });

    it.each([
      ['a wrong password', { username: 'admin', password: 'nope' }],
      ['an unknown user', { username: 'mallory', password: TEST_PASSWORD }],
      ['root with a password', { username: 'root', password: TEST_PASSWORD }],
      ['a user with an empty password entry', { username: 'nopassword', password: '' }],
      ['a missing password', { username: 'admin' }],
      ['a wrong secret', { secret: 'not-the-secret' }],
      ['an empty object', {}],
    ])('when given %s, then 401 invalid_auth', async (_name, body) => {
      const res = await request(t.app).post(`${API}/auth/login`).send(body);
      expectAnswer(res, 401, { error: 'Invalid username or password', errcode: 'invalid_auth' });
    });

    it('when the secret is right, then a root token is returned (or one for the named user)', async () => {
      const root = await request(t.app).post(`${API}/auth/login`).send({ secret: TEST_SECRET });
      expect(root.status).toBe(200);
      const ping = await request(t.app)
        .post(`${API}/auth/ping`)
        .set('Authorization', `Bearer ${root.body.token}`);
      expect(ping.body.username).toBe('root');
      const named = await request(t.app)
        .post(`${API}/auth/login`)
        .send({ secret: TEST_SECRET, user: 'admin' });
      const pingNamed = await request(t.app)
        .post(`${API}/auth/ping`)
        .set('Authorization', `Bearer ${named.body.token}`);
      expect(pingNamed.body.username).toBe('admin');
    });

    it.each([
      ['invalid JSON', '{"username":'],
      ['an array', '[1,2]'],
      ['a string', '"admin"'],
      ['an empty body', ''],
    ])('when the body is %s, then 400 body_not_json', async (_name, raw) => {
      const res = await request(t.app)
        .post(`${API}/auth/login`)
        .set('Content-Type', 'application/json')
        .send(raw);
      expectAnswer(res, 400, { error: 'Request body is not JSON', errcode: 'body_not_json' });
    });

    it('when the JSON body is over 1 MiB, then 413 in the maubot error shape', async () => {
      const res = await request(t.app)
        .post(`${API}/auth/login`)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ username: 'x'.repeat(1024 * 1024 + 10) }));
      expectAnswer(res, 413, {
        error: 'Request body is too large',
        errcode: 'unhandled_http_413',
      });
    });
  });

  describe('POST /auth/ping', () => {
    it('when no token is sent, then 401 auth_token_missing', async () => {
      const res = await request(t.app).post(`${API}/auth/ping`);
      expectAnswer(res, 401, MISSING);
    });

    it('when the UI sends "Bearer undefined" before login, then 401 auth_token_invalid', async () => {
      const res = await request(t.app)
        .post(`${API}/auth/ping`)
        .set('Authorization', 'Bearer undefined');
      expectAnswer(res, 401, INVALID);
    });

    it('when the token is valid, then username and every feature flag', async () => {
      const res = await request(t.app)
        .post(`${API}/auth/ping`)
        .set('Authorization', `Bearer ${t.token}`);
      expectAnswer(res, 200, { username: 'admin', features: ALL_FEATURES });
    });

    it('when the token is only in the query, then it is accepted', async () => {
      const res = await request(t.app).post(`${API}/auth/ping`).query({ access_token: t.token });
      expect(res.status).toBe(200);
      expect(res.body.username).toBe('admin');
    });

    it('when the header is not a Bearer header, then the query token is used', async () => {
      const res = await request(t.app)
        .post(`${API}/auth/ping`)
        .set('Authorization', 'Basic abc')
        .query({ access_token: t.token });
      expect(res.status).toBe(200);
    });
  });

  describe('protected routes', () => {
    it('when no token is sent, then 401 auth_token_missing', async () => {
      const res = await request(t.app).get(`${API}/version`);
      expectAnswer(res, 401, MISSING);
    });

    it.each([
      ['Bearer undefined', 'undefined'],
      ['a garbage token', 'abc:def'],
      ['a token signed with another secret', signToken('some-other-secret-value', 'admin')],
      ['a valid signature for a user who is not an admin', signToken(TEST_SECRET, 'mallory')],
    ])('when the token is %s, then 401 auth_token_invalid', async (_name, token) => {
      const res = await request(t.app)
        .get(`${API}/version`)
        .set('Authorization', `Bearer ${token}`);
      expectAnswer(res, 401, INVALID);
    });

    it('when a maubot token from the same secret is tampered with, then 401 auth_token_invalid', async () => {
      const token = signToken(TEST_SECRET, 'admin');
      const [sig, payload] = token.split(':') as [string, string];
      const forged = `${sig}:${Buffer.from('{"user_id": "root", "created_at": 1}').toString('base64url')}`;
      expect(payload).not.toBe(forged.split(':')[1]);
      const res = await request(t.app)
        .get(`${API}/version`)
        .set('Authorization', `Bearer ${forged}`);
      expectAnswer(res, 401, INVALID);
    });

    it('when a token made by maubot with the same secret is sent, then it is accepted', async () => {
      const maubotToken =
        'etkB6Z2Xa-h50g2lnh7luwaVJ_0z7wBmMK2P5lUaNRQ:eyJ1c2VyX2lkIjogImFkbWluIiwgImNyZWF0ZWRfYXQiOiAxNzAwMDAwMDAwfQ';
      const res = await request(t.app)
        .get(`${API}/version`)
        .set('Authorization', `Bearer ${maubotToken}`);
      expectAnswer(res, 200, { version: '0.6.0' });
    });

    it('when the token is a root token, then it is accepted although root is not listed', async () => {
      const res = await request(t.app)
        .get(`${API}/version`)
        .query({ access_token: signToken(TEST_SECRET, 'root') });
      expect(res.status).toBe(200);
    });

    it('when an unknown path is requested without a token, then 401 (auth runs before routing)', async () => {
      const res = await request(t.app).get(`${API}/no/such/path`);
      expectAnswer(res, 401, MISSING);
    });

    it('when an unknown path is requested with a valid token, then 404 resource_not_found', async () => {
      const res = await request(t.app)
        .get(`${API}/no/such/path`)
        .set('Authorization', `Bearer ${t.token}`);
      expectAnswer(res, 404, NOT_FOUND);
    });

    it('when the method is wrong without a token, then 401', async () => {
      const res = await request(t.app).delete(`${API}/version`);
      expectAnswer(res, 401, MISSING);
    });

    it('when the method is wrong with a valid token, then 405 method_not_allowed with Allow', async () => {
      const res = await request(t.app)
        .delete(`${API}/version`)
        .set('Authorization', `Bearer ${t.token}`);
      expectAnswer(res, 405, NOT_ALLOWED);
      expect(res.headers.allow).toBe('GET, HEAD');
    });

    it('when an unknown /auth/ path is requested without a token, then 404 (it is exempt)', async () => {
      const res = await request(t.app).get(`${API}/auth/nothing`);
      expectAnswer(res, 404, NOT_FOUND);
    });

    it('when login is called with GET, then 405 without needing a token', async () => {
      const res = await request(t.app).get(`${API}/auth/login`);
      expectAnswer(res, 405, NOT_ALLOWED);
    });
  });

  describe('GET /features', () => {
    it('when there is no valid token ("Bearer undefined"), then only the login flag', async () => {
      const res = await request(t.app)
        .get(`${API}/features`)
        .set('Authorization', 'Bearer undefined');
      expectAnswer(res, 200, { login: true });
    });

    it('when the token is valid, then every flag', async () => {
      const res = await request(t.app).get(`${API}/features`).query({ access_token: t.token });
      expectAnswer(res, 200, ALL_FEATURES);
    });
  });

  describe('GET /debug/open', () => {
    it('when asked, then it is always disabled', async () => {
      const res = await request(t.app)
        .get(`${API}/debug/open`)
        .set('Authorization', `Bearer ${t.token}`);
      expectAnswer(res, 200, { enabled: false });
    });
  });

  describe('typed client (switchboard/client)', () => {
    it('when the UI flow runs (login, ping, version), then the typed responses match', async () => {
      const baseUrl = await t.listen();
      const anonymous = createMaubotClient({ baseUrl });
      const features = await anonymous.GET('/features');
      expect(features.data).toEqual({ login: true });
      const login = await anonymous.POST('/auth/login', {
        body: { username: 'admin', password: TEST_PASSWORD },
      });
      expect(login.response.status).toBe(200);
      const client = createMaubotClient({ baseUrl, token: login.data!.token });
      const ping = await client.POST('/auth/ping');
      expect(ping.data).toEqual({ username: 'admin', features: ALL_FEATURES });
      const version = await client.GET('/version');
      expect(version.data).toEqual({ version: '0.6.0' });
      const denied = await createMaubotClient({ baseUrl, token: 'undefined' }).GET('/version');
      expect(denied.response.status).toBe(401);
      expect(denied.error).toEqual(INVALID);
    });
  });
});

describe('maubot feature switches', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('embedded', {
      config: testConfig({ apiFeatures: { login: false, dev_open: false } }),
    });
  });
  afterAll(() => t.close());

  it('when login is disabled, then /features says so and login does not exist', async () => {
    const features = await request(t.app).get(`${API}/features`);
    expect(features.body).toEqual({ login: false });
    const login = await request(t.app).post(`${API}/auth/login`).send({ secret: TEST_SECRET });
    expectAnswer(login, 404, NOT_FOUND);
  });

  it('when dev_open is disabled, then GET /debug/open is 404 and ping reports the flags', async () => {
    const res = await request(t.app)
      .get(`${API}/debug/open`)
      .set('Authorization', `Bearer ${t.token}`);
    expectAnswer(res, 404, NOT_FOUND);
    const ping = await request(t.app)
      .post(`${API}/auth/ping`)
      .set('Authorization', `Bearer ${t.token}`);
    expect(ping.body.features).toEqual({ ...ALL_FEATURES, login: false, dev_open: false });
  });
});

describe('an unshared secret kept from maubot', () => {
  // Made by maubot's algorithm with its 12-character secret (created_at 1700000000).
  const SHORT_SECRET = 'maubot-short';
  const MAUBOT_TOKEN =
    'S0RoGazYhk5nAS-5IHfiSX4IT00SE2GIBu102BW4T_E:eyJ1c2VyX2lkIjogImFkbWluIiwgImNyZWF0ZWRfYXQiOiAxNzAwMDAwMDAwfQ';
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('embedded', {
      config: testConfig({ server: { unsharedSecret: SHORT_SECRET } }),
    });
  });
  afterAll(() => t.close());

  it('when it is shorter than 16 characters, then the tokens maubot issued with it stay valid', async () => {
    const ping = await request(t.app)
      .post(`${API}/auth/ping`)
      .set('Authorization', `Bearer ${MAUBOT_TOKEN}`);
    expect(ping.status).toBe(200);
    expect(ping.body.username).toBe('admin');
    const login = await request(t.app).post(`${API}/auth/login`).send({ secret: SHORT_SECRET });
    expect(login.status).toBe(200);
  });
});
