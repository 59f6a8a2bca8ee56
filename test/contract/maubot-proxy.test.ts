import request from 'supertest';
import { createTestApp, type TestApp } from '../helpers/app';
import { testConfig } from '../helpers/config';
import { testDatabaseKinds } from '../helpers/databases';
import { freePort } from '../helpers/process';
import { TestHomeserver, type RegisteredUser } from '../../testing/homeserver/test-homeserver';
import { expectAnswer } from '../helpers/answers';

const API = '/_matrix/maubot/v1';

describe.each(testDatabaseKinds())('maubot Matrix API proxy (%s)', (kind) => {
  let hs: TestHomeserver;
  let t: TestApp;
  let bot: RegisteredUser;

  beforeAll(async () => {
    hs = await TestHomeserver.start({ authenticatedMedia: true });
    t = await createTestApp(kind);
    bot = hs.registerUser('proxybot');
    const res = await request(t.app)
      .post(`${API}/client/new`)
      .set('Authorization', `Bearer ${t.token}`)
      .send({ homeserver: hs.url, access_token: bot.accessToken, sync: false });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await t.close();
    await hs.close();
  });

  it("when proxying a GET, then it runs with the client's token and the answer comes back unchanged", async () => {
    const res = await request(t.app)
      .get(`${API}/proxy/${bot.userId}/_matrix/client/v3/account/whoami`)
      .set('Authorization', `Bearer ${t.token}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ user_id: bot.userId, device_id: bot.deviceId, is_guest: false });
    const seen = hs.requests.at(-1)!;
    expect(seen.path).toBe('/_matrix/client/v3/account/whoami');
  });

  it('when the UI uploads an avatar and shows it with ?access_token=, then both go through', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const upload = await request(t.app)
      .post(`${API}/proxy/${bot.userId}/_matrix/media/v3/upload?filename=a.png`)
      .set('Authorization', `Bearer ${t.token}`)
      .set('Content-Type', 'image/png')
      .send(png);
    expect(upload.status).toBe(200);
    const uri = upload.body.content_uri as string;
    expect(uri).toMatch(/^mxc:\/\/test\.local\/.+/);
    const [, server, mediaId] = /^mxc:\/\/([^/]+)\/(.+)$/.exec(uri)!;
    const download = await request(t.app)
      .get(`${API}/proxy/${bot.userId}/_matrix/media/v3/download/${server}/${mediaId}`)
      .query({ access_token: t.token })
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
    expect(download.status).toBe(200);
    expect(download.headers['content-type']).toBe('image/png');
    expect(Buffer.compare(download.body as Buffer, png)).toBe(0);
    // The management token never reaches the homeserver.
    expect(hs.requests.at(-1)!.query).toEqual({});
  });

  it('when the homeserver answers an error, then its status and body come back as they are', async () => {
    const res = await request(t.app)
      .get(`${API}/proxy/${bot.userId}/_matrix/client/v3/rooms/!nope:test.local/state`)
      .set('Authorization', `Bearer ${t.token}`);
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
  });

  it('when the path is not under _matrix/, then 400 proxy_path_invalid', async () => {
    const res = await request(t.app)
      .get(`${API}/proxy/${bot.userId}/admin/secret`)
      .set('Authorization', `Bearer ${t.token}`);
    expectAnswer(res, 400, {
      errcode: 'proxy_path_invalid',
      error: 'Only Matrix API paths (starting with _matrix/) can be proxied',
    });
  });

  it('when the client is unknown, then 404 client_not_found', async () => {
    const res = await request(t.app)
      .get(`${API}/proxy/@nobody:test.local/_matrix/client/v3/account/whoami`)
      .set('Authorization', `Bearer ${t.token}`);
    expectAnswer(res, 404, { errcode: 'client_not_found', error: 'Client not found' });
  });

  it('when there is no management token, then 401 and nothing is forwarded', async () => {
    const before = hs.requests.length;
    const res = await request(t.app).get(
      `${API}/proxy/${bot.userId}/_matrix/client/v3/account/whoami`,
    );
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe('auth_token_missing');
    expect(hs.requests.length).toBe(before);
  });

  it('when the homeserver is down, then 500 internal_server_error', async () => {
    const gone = hs.registerUser('gonebot');
    const port = await freePort();
    await t.db.knex('client').insert({
      ...(await t.db.knex('client').where({ id: bot.userId }).first()),
      id: gone.userId,
      homeserver: `http://127.0.0.1:${port}`,
    });
    const res = await request(t.app)
      .get(`${API}/proxy/${gone.userId}/_matrix/client/v3/account/whoami`)
      .set('Authorization', `Bearer ${t.token}`);
    expectAnswer(res, 500, { errcode: 'internal_server_error', error: 'Internal server error' });
  });

  it('when the proxy feature is off, then 404 resource_not_found', async () => {
    const off = await createTestApp(kind, {
      config: testConfig({ apiFeatures: { client_proxy: false } }),
    });
    try {
      const res = await request(off.app)
        .get(`${API}/proxy/${bot.userId}/_matrix/client/v3/account/whoami`)
        .set('Authorization', `Bearer ${off.token}`);
      expect(res.status).toBe(404);
      expect(res.body.errcode).toBe('resource_not_found');
    } finally {
      await off.close();
    }
  });
});
