import request from 'supertest';
import type { ClientInstances } from '../../src/clients/client-service';
import { createTestApp, type TestApp } from '../helpers/app';
import { maubotApi } from '../helpers/maubot-api';
import { testConfig } from '../helpers/config';
import { testDatabaseKinds } from '../helpers/databases';
import { freePort } from '../helpers/process';
import { waitFor } from '../helpers/wait';
import { TestHomeserver, type RegisteredUser } from '../../testing/homeserver/test-homeserver';
import { expectAnswer } from '../helpers/answers';

const API = '/_matrix/maubot/v1';

const INSTANCE = {
  id: 'echo',
  type: 'xyz.maubot.echo',
  enabled: true,
  started: false,
  primary_user: '@inuse:test.local',
  config: '',
  base_config: null,
  database: false,
  database_interface: null,
  database_engine: null,
};

// Only @inuse has an instance: enough to see the 412 and the `instances` field.
const instances: ClientInstances = {
  byClient: (_db, ids) =>
    Promise.resolve(
      new Map(ids.filter((id) => id === INSTANCE.primary_user).map((id) => [id, [INSTANCE]])),
    ),
};

describe.each(testDatabaseKinds())('maubot clients API (%s)', (kind) => {
  let hs: TestHomeserver;
  let t: TestApp;
  let closedPort: number;

  beforeAll(async () => {
    hs = await TestHomeserver.start();
    closedPort = await freePort();
    t = await createTestApp(kind, { clientInstances: instances });
  });
  afterAll(async () => {
    await t.close();
    await hs.close();
  });

  const api = () => maubotApi(t);

  function expected(user: RegisteredUser, overrides: Record<string, unknown> = {}) {
    return {
      id: user.userId,
      homeserver: hs.url,
      access_token: user.accessToken,
      device_id: '',
      fingerprint: null,
      enabled: true,
      started: true,
      sync: true,
      sync_ok: true,
      autojoin: true,
      online: true,
      displayname: 'disable',
      avatar_url: 'disable',
      // The homeserver gives new accounts their localpart as display name, as Synapse does.
      remote_displayname: /^@([^:]+):/.exec(user.userId)![1],
      remote_avatar_url: null,
      instances: [],
      trust_state: null,
      ...overrides,
    };
  }

  async function storedRow(id: string): Promise<Record<string, unknown>> {
    return (await t.db.knex('client').where({ id }).first()) as Record<string, unknown>;
  }

  describe('POST /client/new', () => {
    it('when the token is valid, then 201 with the whole client, started and stored encrypted', async () => {
      const user = hs.registerUser('new1');
      const res = await api().post('/client/new', {
        homeserver: `${hs.url}/`,
        access_token: user.accessToken,
      });
      expectAnswer(res, 201, expected(user));
      expect((await api().get(`/client/${user.userId}`)).body).toEqual(expected(user));
      const row = await storedRow(user.userId);
      expect(JSON.stringify(row)).not.toContain(user.accessToken);
      expect(row.access_token_key_id).toMatch(/^[0-9a-f]{16}$/);
      expect(row.homeserver).toBe(hs.url);
    });

    it('when a client for the token user exists, then 409 user_exists and the stored one is kept', async () => {
      const user = hs.registerUser('new2');
      expect(
        (
          await api().post('/client/new', {
            homeserver: hs.url,
            access_token: user.accessToken,
            autojoin: false,
          })
        ).status,
      ).toBe(201);
      const again = hs.registerUser('other-device-unused');
      void again;
      const res = await api().post('/client/new', {
        homeserver: hs.url,
        access_token: user.accessToken,
      });
      expectAnswer(res, 409, {
        errcode: 'user_exists',
        error: 'There is already a client with the user ID of that token',
      });
      expect((await api().get(`/client/${user.userId}`)).body.autojoin).toBe(false);
    });

    it.each([
      [
        'an unknown token',
        () => ({ access_token: 'nope' }),
        'bad_client_access_token',
        'Invalid access token',
      ],
      [
        'no token',
        () => ({ access_token: undefined }),
        'bad_client_access_token',
        'Invalid access token',
      ],
      [
        'no homeserver',
        () => ({ homeserver: undefined }),
        'bad_client_access_details',
        'Invalid homeserver or access token',
      ],
      [
        'a server that is not a homeserver',
        () => ({ homeserver: `${hs.url}/not-matrix` }),
        'bad_client_access_details',
        'Invalid homeserver or access token',
      ],
      [
        'an unreachable homeserver',
        () => ({ homeserver: `http://127.0.0.1:${closedPort}` }),
        'bad_client_connection_details',
        'Could not connect to homeserver',
      ],
    ])(
      "when given %s, then 400 with maubot's errcode and nothing is stored",
      async (_case, change, errcode, error) => {
        const user = hs.registerUser(`bad${Math.random().toString(36).slice(2, 8)}`);
        const body = { homeserver: hs.url, access_token: user.accessToken, ...change() };
        const res = await api().post('/client/new', body);
        expectAnswer(res, 400, { errcode, error });
        expect(await storedRow(user.userId)).toBeUndefined();
      },
    );

    it("when device_id differs from the token's device, then 400 mxid_mismatch in device words", async () => {
      const user = hs.registerUser('dev1');
      const res = await api().post('/client/new', {
        homeserver: hs.url,
        access_token: user.accessToken,
        device_id: 'WRONG',
      });
      expectAnswer(res, 400, {
        errcode: 'mxid_mismatch',
        error: `The Matrix device ID of the client and the device ID of the access token don't match. Access token is for device ${user.deviceId}`,
      });
    });

    it('when the body is not JSON, then 400 body_not_json', async () => {
      const res = await api()
        .post('/client/new')
        .set('Content-Type', 'application/json')
        .send('{nope');
      expectAnswer(res, 400, { errcode: 'body_not_json', error: 'Request body is not JSON' });
    });

    it('when given all settings, then they are stored and the client does not start when disabled', async () => {
      const user = hs.registerUser('set1');
      const res = await api().post('/client/new', {
        homeserver: hs.url,
        access_token: user.accessToken,
        device_id: user.deviceId,
        enabled: false,
        sync: false,
        autojoin: false,
        online: false,
        displayname: 'Set One',
        avatar_url: 'mxc://test.local/abc',
      });
      expectAnswer(
        res,
        201,
        expected(user, {
          device_id: user.deviceId,
          enabled: false,
          started: false,
          sync: false,
          autojoin: false,
          online: false,
          displayname: 'Set One',
          avatar_url: 'mxc://test.local/abc',
          remote_displayname: null,
        }),
      );
      // Not started: the profile is left alone until it starts.
      expect(hs.userProfile(user.userId)).toEqual({ displayname: 'set1' });
    });
  });

  describe('PUT /client/{id}', () => {
    it('when the id is unknown and the UI sends its whole form, then 201 and the client is created', async () => {
      const user = hs.registerUser('ui1');
      // The whole client object as the UI holds it, plus its own UI state.
      const form = { ...expected(user, { displayname: 'UI Bot' }), verifying: false };
      const res = await api().put(`/client/${user.userId}`, form);
      expectAnswer(
        res,
        201,
        expected(user, { displayname: 'UI Bot', remote_displayname: 'UI Bot' }),
      );
      expect(hs.userProfile(user.userId)).toEqual({ displayname: 'UI Bot' });
    });

    it('when the id is percent-encoded, then it is the same client', async () => {
      const user = hs.registerUser('enc1');
      await api().post('/client/new', { homeserver: hs.url, access_token: user.accessToken });
      const res = await api().get(`/client/${encodeURIComponent(user.userId)}`);
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(user.userId);
    });

    it('when the token belongs to another user than the path, then 400 mxid_mismatch and nothing is stored', async () => {
      const user = hs.registerUser('mm1');
      const res = await api().put('/client/@someoneelse:test.local', {
        homeserver: hs.url,
        access_token: user.accessToken,
      });
      expectAnswer(res, 400, {
        errcode: 'mxid_mismatch',
        error: `The Matrix user ID of the client and the user ID of the access token don't match. Access token is for user ${user.userId}`,
      });
      expect(await storedRow('@someoneelse:test.local')).toBeUndefined();
      expect(await storedRow(user.userId)).toBeUndefined();
    });

    it('when the id is known, then 200, absent fields are kept and the profile is pushed', async () => {
      const user = hs.registerUser('upd1');
      await api().post('/client/new', {
        homeserver: hs.url,
        access_token: user.accessToken,
        autojoin: false,
      });
      const res = await api().put(`/client/${user.userId}`, {
        displayname: 'Renamed',
        online: false,
      });
      expect(res.status).toBe(200);
      // As maubot: remote_* is the profile read at the last start, until the client restarts.
      expect(res.body).toEqual(
        expected(user, {
          autojoin: false,
          online: false,
          displayname: 'Renamed',
          remote_displayname: 'upd1',
        }),
      );
      expect(hs.userProfile(user.userId)).toEqual({ displayname: 'Renamed' });
      await api().put(`/client/${user.userId}`, { started: false });
      const restarted = await api().put(`/client/${user.userId}`, { started: true });
      expect(restarted.body.remote_displayname).toBe('Renamed');
      const row = await storedRow(user.userId);
      expect(row).toMatchObject({
        autojoin: false,
        online: false,
        displayname: 'Renamed',
        enabled: true,
      });
    });

    it('when started is false then true, then the client stops and starts again', async () => {
      const user = hs.registerUser('ss1');
      await api().post('/client/new', { homeserver: hs.url, access_token: user.accessToken });
      const stopped = await api().put(`/client/${user.userId}`, {
        id: user.userId,
        started: false,
      });
      expect(stopped.status).toBe(200);
      expect(stopped.body.started).toBe(false);
      expect(stopped.body.enabled).toBe(true);
      const started = await api().put(`/client/${user.userId}`, { id: user.userId, started: true });
      expect(started.body.started).toBe(true);
    });

    it('when a disabled client gets enabled and started in one request, then it is enabled but not started (maubot order)', async () => {
      const user = hs.registerUser('order1');
      await api().post('/client/new', {
        homeserver: hs.url,
        access_token: user.accessToken,
        enabled: false,
      });
      const res = await api().put(`/client/${user.userId}`, { enabled: true, started: true });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ enabled: true, started: false });
      const again = await api().put(`/client/${user.userId}`, { started: true });
      expect(again.body).toMatchObject({ enabled: true, started: true });
    });

    it('when only a new access token is sent, then the homeserver is kept and the token replaced', async () => {
      const user = hs.registerUser('tok1', 'pw-tok1');
      await api().post('/client/new', { homeserver: hs.url, access_token: user.accessToken });
      const login = await fetch(`${hs.url}/_matrix/client/v3/login`, {
        method: 'POST',
        body: JSON.stringify({
          type: 'm.login.password',
          identifier: { type: 'm.id.user', user: 'tok1' },
          password: 'pw-tok1',
        }),
      });
      const fresh = (await login.json()) as { access_token: string };
      const res = await api().put(`/client/${user.userId}`, { access_token: fresh.access_token });
      expectAnswer(res, 200, expected(user, { access_token: fresh.access_token }));
      expect(JSON.stringify(await storedRow(user.userId))).not.toContain(fresh.access_token);
    });

    it('when the new token belongs to another user, then 400 mxid_mismatch and the stored token stays', async () => {
      const user = hs.registerUser('tok2');
      const other = hs.registerUser('tok2other');
      await api().post('/client/new', { homeserver: hs.url, access_token: user.accessToken });
      const res = await api().put(`/client/${user.userId}`, { access_token: other.accessToken });
      expectAnswer(res, 400, {
        errcode: 'mxid_mismatch',
        error: `The Matrix user ID of the client and the user ID of the access token don't match. Access token is for user ${other.userId}`,
      });
      expect((await api().get(`/client/${user.userId}`)).body.access_token).toBe(user.accessToken);
    });

    it('when the new token is rejected, then 400 bad_client_access_token and nothing changes', async () => {
      const user = hs.registerUser('tok3');
      await api().post('/client/new', { homeserver: hs.url, access_token: user.accessToken });
      const res = await api().put(`/client/${user.userId}`, {
        access_token: 'rejected',
        displayname: 'x',
      });
      expectAnswer(res, 400, {
        errcode: 'bad_client_access_token',
        error: 'Invalid access token',
      });
      expect((await api().get(`/client/${user.userId}`)).body).toEqual(expected(user));
    });

    it('when a field has the wrong type, then 400 invalid_request naming it', async () => {
      const res = await api().put('/client/@x:test.local', { enabled: 'yes' });
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe('invalid_request');
      expect(res.body.error).toContain('enabled');
    });
  });

  describe('GET /clients and GET /client/{id}', () => {
    it('when clients exist, then the list holds each with its instances', async () => {
      const inuse = hs.registerUser('inuse');
      await api().post('/client/new', { homeserver: hs.url, access_token: inuse.accessToken });
      const res = await api().get('/clients');
      expect(res.status).toBe(200);
      const listed = (res.body as { id: string; instances: unknown[] }[]).find(
        (c) => c.id === inuse.userId,
      );
      expect(listed).toEqual(expected(inuse, { instances: [INSTANCE] }));
    });

    it('when the client is unknown, then 404 client_not_found', async () => {
      const res = await api().get('/client/@nobody:test.local');
      expectAnswer(res, 404, { errcode: 'client_not_found', error: 'Client not found' });
    });
  });

  describe('DELETE /client/{id}', () => {
    it('when the client is unused, then 204, it stops and is gone', async () => {
      const user = hs.registerUser('del1');
      await api().post('/client/new', { homeserver: hs.url, access_token: user.accessToken });
      const res = await api().delete(`/client/${user.userId}`);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect(await storedRow(user.userId)).toBeUndefined();
      expect(t.clients.pool.running(user.userId)).toBeUndefined();
      expect((await api().get(`/client/${user.userId}`)).status).toBe(404);
    });

    it('when an instance uses the client, then 412 client_in_use and it stays', async () => {
      const res = await api().delete('/client/@inuse:test.local');
      expectAnswer(res, 412, {
        errcode: 'client_in_use',
        error: 'Plugin instances with this client as their primary user still exist',
      });
      expect(await storedRow('@inuse:test.local')).toBeDefined();
    });

    it('when the client is unknown, then 404 client_not_found', async () => {
      const res = await api().delete('/client/@nobody:test.local');
      expect(res.status).toBe(404);
      expect(res.body.errcode).toBe('client_not_found');
    });
  });

  describe('POST /client/{id}/clearcache', () => {
    it('when the client is stopped, then 200 and its sync position is forgotten', async () => {
      const user = hs.registerUser('cc1');
      await api().post('/client/new', { homeserver: hs.url, access_token: user.accessToken });
      await waitFor(async () => (await storedRow(user.userId)).next_batch !== '', {
        what: 'a sync token',
      });
      await api().put(`/client/${user.userId}`, { started: false });
      const res = await api().post(`/client/${user.userId}/clearcache`);
      expectAnswer(res, 200, { success: true });
      expect(await storedRow(user.userId)).toMatchObject({ next_batch: '', filter_id: '' });
    });

    it('when the client is unknown, then 404 client_not_found', async () => {
      const res = await api().post('/client/@nobody:test.local/clearcache');
      expect(res.status).toBe(404);
      expect(res.body.errcode).toBe('client_not_found');
    });
  });

  describe('encryption endpoints', () => {
    it.each(['verify', 'generate_recovery_key'])(
      'when %s is called, then 500 internal_crypto_error says encryption is unsupported',
      async (op) => {
        const user = hs.registerUser(`crypto${op.length}`);
        await api().post('/client/new', { homeserver: hs.url, access_token: user.accessToken });
        const res = await api().post(
          `/client/${user.userId}/${op}`,
          op === 'verify' ? { recovery_key: 'abc' } : undefined,
        );
        expectAnswer(res, 500, {
          errcode: 'internal_crypto_error',
          error: 'Internal crypto error: end-to-end encryption is not supported for bot clients',
        });
      },
    );

    it.each(['verify', 'generate_recovery_key'])(
      'when %s is called for an unknown client, then 404 client_not_found',
      async (op) => {
        const res = await api().post(`/client/@nobody:test.local/${op}`, { recovery_key: 'abc' });
        expectAnswer(res, 404, { errcode: 'client_not_found', error: 'Client not found' });
      },
    );

    it('when verify has no body, then 404 for an unknown client first, else 400 body_not_json (maubot order)', async () => {
      const unknown = await api().post('/client/@nobody:test.local/verify');
      expectAnswer(unknown, 404, { errcode: 'client_not_found', error: 'Client not found' });
      const user = hs.registerUser('verifyempty');
      await api().post('/client/new', { homeserver: hs.url, access_token: user.accessToken });
      const known = await api().post(`/client/${user.userId}/verify`);
      expectAnswer(known, 400, { errcode: 'body_not_json', error: 'Request body is not JSON' });
    });

    it('when verify gets a body that is not JSON, then 400 body_not_json', async () => {
      const res = await api()
        .post('/client/@nobody:test.local/verify')
        .set('Content-Type', 'application/json')
        .send('{recovery');
      expectAnswer(res, 400, { errcode: 'body_not_json', error: 'Request body is not JSON' });
    });
  });

  describe('feature switch', () => {
    it('when the client feature is off, then its routes are 404 resource_not_found', async () => {
      const off = await createTestApp(kind, {
        config: testConfig({ apiFeatures: { client: false } }),
      });
      try {
        const res = await request(off.app)
          .get(`${API}/clients`)
          .set('Authorization', `Bearer ${off.token}`);
        expectAnswer(res, 404, { errcode: 'resource_not_found', error: 'Resource not found' });
      } finally {
        await off.close();
      }
    });
  });
});
