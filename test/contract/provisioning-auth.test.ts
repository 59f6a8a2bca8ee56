import request from 'supertest';
import { createProvisioningClient } from '../../src/client';
import { createTestApp, type TestApp } from '../helpers/app';
import { TEST_PROVISIONING_SECRET, testConfig } from '../helpers/config';
import { testDatabaseKinds } from '../helpers/databases';
import { expectAnswer } from '../helpers/answers';

const AUTH = `Bearer ${TEST_PROVISIONING_SECRET}`;
const BAD_TOKEN = { errcode: 'HS_BAD_TOKEN', error: 'Unauthorized' };
const BAD_USER = { errcode: 'HS_BAD_VALUE', error: 'Invalid userId' };
const BAD_ROOM = { errcode: 'HS_BAD_VALUE', error: 'Invalid roomId' };

describe.each(testDatabaseKinds())('provisioning API authentication (%s database)', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind, {
      config: testConfig({
        webhooks: { urlPrefix: 'https://hooks.example.org/webhook/' },
        jira: { webhookSecret: 'jira-hook-secret' },
      }),
    });
  });
  afterAll(() => t.close());

  it('when /v1/health is called without a secret, then 200 {}', async () => {
    const res = await request(t.app).get('/v1/health');
    expectAnswer(res, 200, {});
  });

  it.each([
    ['no Authorization header', undefined],
    ['a wrong secret', 'Bearer not-the-secret'],
    ['the right secret with another scheme', `Basic ${TEST_PROVISIONING_SECRET}`],
    ['the right secret with a lower-case scheme', `bearer ${TEST_PROVISIONING_SECRET}`],
    ['a prefix of the secret', `Bearer ${TEST_PROVISIONING_SECRET.slice(0, -1)}`],
  ])('when sent with %s, then 401 HS_BAD_TOKEN', async (_name, header) => {
    const req = request(t.app).get('/v1/connectiontypes');
    if (header) req.set('Authorization', header);
    const res = await req;
    expectAnswer(res, 401, BAD_TOKEN);
  });

  it('when an unknown path is requested without the secret, then 401 (auth before routing)', async () => {
    const res = await request(t.app).get('/v1/no/such/route');
    expectAnswer(res, 401, BAD_TOKEN);
  });

  it('when /v1/connectiontypes is called without userId, then the enabled types', async () => {
    const res = await request(t.app).get('/v1/connectiontypes').set('Authorization', AUTH);
    expectAnswer(res, 200, {
      JiraProject: {
        type: 'JiraProject',
        eventType: 'uk.half-shot.matrix-hookshot.jira.project',
        service: 'jira',
        botUserId: '@bot:switchboard.test',
      },
      Webhook: {
        type: 'Webhook',
        eventType: 'uk.half-shot.matrix-hookshot.generic.hook',
        service: 'generic',
        botUserId: '@bot:switchboard.test',
      },
    });
    expect(Object.keys(res.body)).toEqual(['JiraProject', 'Webhook']);
  });

  it('when Dimension sends userId on /v1/connectiontypes (percent-encoded), then it is accepted', async () => {
    const res = await request(t.app)
      .get('/v1/connectiontypes?userId=%40alice%3Aexample.org')
      .set('Authorization', AUTH);
    expect(res.status).toBe(200);
  });

  it.each([
    ['missing', ''],
    ['without @', '?userId=alice'],
    ['without a server part', '?userId=%40alice'],
    ['empty', '?userId='],
    ['repeated', '?userId=%40a%3Ab&userId=%40c%3Ad'],
  ])('when userId is %s, then 400 Invalid userId', async (_name, query) => {
    const res = await request(t.app).get(`/v1/github/oauth${query}`).set('Authorization', AUTH);
    expectAnswer(res, 400, BAD_USER);
  });

  it('when userId is missing on an unknown path, then 400 Invalid userId (checked before routing)', async () => {
    const res = await request(t.app).get('/v1/no/such/route').set('Authorization', AUTH);
    expectAnswer(res, 400, BAD_USER);
  });

  it('when userId is raw (not percent-encoded), then it is accepted', async () => {
    const res = await request(t.app)
      .get('/v1/no/such/route?userId=@alice:example.org')
      .set('Authorization', AUTH);
    expectAnswer(res, 404, { errcode: 'HS_NOTFOUND', error: 'Not found' });
  });

  it.each(['abc', '%21nocolon', 'room%3Aserver', '@user:server'])(
    'when roomId is %s, then 400 Invalid roomId',
    async (roomId) => {
      const res = await request(t.app)
        .get(`/v1/${roomId}/connections?userId=%40alice%3Aexample.org`)
        .set('Authorization', AUTH);
      expectAnswer(res, 400, BAD_ROOM);
    },
  );

  it('when a known path gets the wrong method without the secret, then 401', async () => {
    const res = await request(t.app).post('/v1/connectiontypes');
    expectAnswer(res, 401, BAD_TOKEN);
  });

  it('when a known path gets the wrong method, then 405 HS_METHOD_NOT_ALLOWED', async () => {
    const res = await request(t.app)
      .post('/v1/connectiontypes?userId=%40alice%3Aexample.org')
      .set('Authorization', AUTH);
    expectAnswer(res, 405, { errcode: 'HS_METHOD_NOT_ALLOWED', error: 'Method not allowed' });
  });

  it('when the body is invalid JSON, then 400 HS_BAD_VALUE (upstream answers 500)', async () => {
    const res = await request(t.app)
      .put('/v1/!room:example.org/connections/uk.half-shot.matrix-hookshot.generic.hook')
      .query({ userId: '@alice:example.org' })
      .set('Authorization', AUTH)
      .set('Content-Type', 'application/json')
      .send('{"name": ');
    expectAnswer(res, 400, { errcode: 'HS_BAD_VALUE', error: 'Request body is not valid JSON' });
  });

  it('when the body is over 100 kB, then 413 in the provisioning error shape', async () => {
    const res = await request(t.app)
      .put('/v1/!room:example.org/connections/uk.half-shot.matrix-hookshot.generic.hook')
      .query({ userId: '@alice:example.org' })
      .set('Authorization', AUTH)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ name: 'x'.repeat(100 * 1024 + 10) }));
    expectAnswer(res, 413, { errcode: 'HS_BAD_VALUE', error: 'Request body is too large' });
  });

  it('when HEAD is sent to a GET route, then the GET answer without its body (as Express gives hookshot)', async () => {
    const get = await request(t.app).get('/v1/connectiontypes').set('Authorization', AUTH);
    const head = await request(t.app).head('/v1/connectiontypes').set('Authorization', AUTH);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(head.text ?? '').toBe('');
    expect((await request(t.app).head('/v1/health')).status).toBe(200);
  });

  it('when GitHub is not configured, then its routes answer 404 HS_NOTFOUND as JSON', async () => {
    const res = await request(t.app)
      .get('/v1/github/oauth?userId=%40alice%3Aexample.org')
      .set('Authorization', AUTH);
    expectAnswer(res, 404, { errcode: 'HS_NOTFOUND', error: 'GitHub is not configured' });
  });

  it('when JIRA is configured without OAuth, then its routes answer 500 HS_DISABLED_FEATURE (upstream hung)', async () => {
    const res = await request(t.app)
      .get('/v1/jira/oauth?userId=%40alice%3Aexample.org')
      .set('Authorization', AUTH);
    expectAnswer(res, 500, { errcode: 'HS_DISABLED_FEATURE', error: 'JIRA OAuth is disabled.' });
  });

  it('when the typed client calls health and connectiontypes, then the types match', async () => {
    const baseUrl = await t.listen();
    const client = createProvisioningClient({ baseUrl, secret: TEST_PROVISIONING_SECRET });
    const health = await client.GET('/health');
    expect(health.data).toEqual({});
    const types = await client.GET('/connectiontypes', {
      params: { query: { userId: '@alice:example.org' } },
    });
    expect(Object.keys(types.data!)).toEqual(['JiraProject', 'Webhook']);
    const wrong = createProvisioningClient({ baseUrl, secret: 'not-the-secret' });
    const denied = await wrong.GET('/connectiontypes');
    expect(denied.response.status).toBe(401);
    expect(denied.error).toEqual(BAD_TOKEN);
  });

  it('when a path id holds a NUL byte, then 404 HS_NOTFOUND, not 500', async () => {
    const res = await request(t.app)
      .get(`/v1/${encodeURIComponent('!room:example.org')}/connections/a%00b`)
      .query({ userId: '@admin:example.org' })
      .set('Authorization', AUTH);
    expectAnswer(res, 404, { errcode: 'HS_NOTFOUND', error: 'Not found' });
  });

  it.each(['%ED%A0%80', '%zz'])(
    'when a path id has an escape that is not UTF-8 (%s), then 404 HS_NOTFOUND, not an undeclared 400',
    async (id) => {
      const res = await request(t.app)
        .delete(`/v1/${encodeURIComponent('!room:example.org')}/connections/${id}`)
        .query({ userId: '@admin:example.org' })
        .set('Authorization', AUTH);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ errcode: 'HS_NOTFOUND', error: 'Not found' });
    },
  );
});
