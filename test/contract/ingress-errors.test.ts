import { createHmac } from 'node:crypto';
import request from 'supertest';
import { testConfig } from '../helpers/config';
import { createTestApp, type TestApp } from '../helpers/app';
import { testDatabaseKinds } from '../helpers/databases';
import { captureLogs } from '../helpers/log-capture';
import { expectAnswer } from '../helpers/answers';

const SECRET = 'github-hook-secret';
const sign = (body: string): string =>
  `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

/** A signed GitHub delivery to the webhooks listener. */
function delivery(t: TestApp, body: string, id: string): request.Test {
  return request(t.app)
    .post('/github/webhook')
    .set('content-type', 'application/json')
    .set('x-github-event', 'ping')
    .set('x-github-delivery', id)
    .set('x-hub-signature-256', sign(body))
    .send(body);
}

describe.each(testDatabaseKinds())('the webhooks listener on %s', (kind) => {
  let t: TestApp;
  let logs: ReturnType<typeof captureLogs>;

  beforeAll(async () => {
    logs = captureLogs();
    t = await createTestApp(kind, {
      logger: logs.logger,
      resources: ['webhooks'],
      config: testConfig({
        github: { appId: 1, privateKeyFile: '/nonexistent/app.pem', webhookSecret: SECRET },
        jira: { webhookSecret: SECRET },
      }),
    });
  });
  afterAll(() => t.close());

  it('when a GitHub delivery lacks its headers then 400 HS_BAD_VALUE, as JIRA answers a bad body', async () => {
    const body = '{"zen":"hi"}';
    const res = await request(t.app)
      .post('/github/webhook')
      .set('content-type', 'application/json')
      .set('x-hub-signature-256', sign(body))
      .send(body);
    expectAnswer(res, 400, {
      errcode: 'HS_BAD_VALUE',
      error: 'A delivery needs X-GitHub-Event, X-GitHub-Delivery and a JSON object body',
    });
  });

  it('when a GitHub delivery is over 25 MB then 413 HS_BAD_VALUE as JSON, not an HTML page', async () => {
    const res = await request(t.app)
      .post('/github/webhook')
      .set('content-type', 'application/octet-stream')
      .send(Buffer.alloc(25 * 1024 * 1024 + 1));
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ errcode: 'HS_BAD_VALUE', error: 'Request body is too large' });
  });

  it('when the delivery store fails then 500 HS_UNKNOWN as JSON and the error is logged', async () => {
    expect((await delivery(t, '{"zen":"a"}', 'before-failure')).status).toBe(200);
    await t.db.knex.schema.renameTable('webhook_delivery', 'webhook_delivery_gone');
    try {
      const res = await delivery(t, '{"zen":"b"}', 'during-failure');
      expect(res.status).toBe(500);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({ errcode: 'HS_UNKNOWN', error: 'An internal error occurred' });
      const logged = logs.lines.filter((l) => l.msg === 'unhandled error');
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ level: 50, path: '/github/webhook' });
      expect(JSON.stringify(logged[0]!.err)).toContain('webhook_delivery');
      // JIRA's deliveries go through the same store and the same answer.
      const jira = await request(t.app)
        .post(`/jira/webhook?secret=${SECRET}`)
        .set('x-atlassian-webhook-identifier', 'jira-during-failure')
        .set('content-type', 'application/json')
        .send('{}');
      expectAnswer(jira, 500, { errcode: 'HS_UNKNOWN', error: 'An internal error occurred' });
    } finally {
      await t.db.knex.schema.renameTable('webhook_delivery_gone', 'webhook_delivery');
    }
    // The store is back: the same delivery is taken once, then known.
    expect((await delivery(t, '{"zen":"b"}', 'during-failure')).status).toBe(200);
    expect(
      await t.db.knex('webhook_delivery').where({ delivery_id: 'during-failure' }),
    ).toHaveLength(1);
  });

  it('when a path is unknown then the JSON 404, and a malformed OAuth callback answers a page', async () => {
    const res = await request(t.app).get('/nothing-here');
    expectAnswer(res, 404, { error: 'Not found' });
    const page = await request(t.app).get('/github/oauth');
    expect(page.status).toBe(400);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('GitHub is not configured to support OAuth');
  });
});
