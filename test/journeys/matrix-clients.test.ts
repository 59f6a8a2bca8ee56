import { createServer, type Server, type Socket } from 'node:net';
import request from 'supertest';
import { openTestDatabase, testDatabaseKinds } from '../helpers/databases';
import { createTestApp, type TestApp } from '../helpers/app';
import { maubotApi } from '../helpers/maubot-api';
import { captureLogs } from '../helpers/log-capture';
import { waitFor } from '../helpers/wait';
import { TestHomeserver, type RegisteredUser } from '../../testing/homeserver/test-homeserver';
import type { Database } from '../../src/db/database';
import { SecretBox } from '../../src/secrets/secret-box';
import { testConfig } from '../helpers/config';
import { expectAnswer } from '../helpers/answers';

const API = '/_matrix/maubot/v1';
const CS = '/_matrix/client/v3';

/** The real adapters (matrix-js-sdk sync loops) against the test homeserver over HTTP. */
describe.each(testDatabaseKinds())('Matrix clients against a homeserver (%s)', (kind) => {
  let hs: TestHomeserver;
  let db: Database;
  let t: TestApp;
  let logs: ReturnType<typeof captureLogs>;

  beforeAll(async () => {
    hs = await TestHomeserver.start();
    db = await openTestDatabase(kind);
    logs = captureLogs('info');
    t = await createTestApp(kind, { db, logger: logs.logger });
  });
  afterAll(async () => {
    await t.close();
    await db.close();
    await hs.close();
  });

  const api = () => maubotApi(t);

  async function createClient(user: RegisteredUser, settings: object = {}) {
    const res = await api().put(`/client/${user.userId}`, {
      homeserver: hs.url,
      access_token: user.accessToken,
      ...settings,
    });
    expect(res.status).toBe(201);
    return res.body as Record<string, unknown>;
  }

  async function matrix(user: RegisteredUser, method: string, path: string, body?: object) {
    const res = await fetch(`${hs.url}${CS}${path}`, {
      method,
      headers: { Authorization: `Bearer ${user.accessToken}` },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return (await res.json()) as Record<string, unknown>;
  }

  const membership = (roomId: string, userId: string) =>
    hs.roomState(roomId)?.find((e) => e.type === 'm.room.member' && e.state_key === userId)?.content
      .membership;

  /** The homeserver's log of one user's requests since `mark`. */
  const requestsOf = (user: RegisteredUser, mark: number) =>
    hs.requests.slice(mark).filter((r) => r.userId === user.userId);

  const storedRow = async (id: string) =>
    (await db.knex('client').where({ id }).first()) as Record<string, unknown>;

  it("when created from a registered user's token, then it is started and syncing", async () => {
    const bot = hs.registerUser('sync1');
    const client = await createClient(bot);
    expect(client).toMatchObject({ started: true, sync_ok: true });
    await waitFor(async () => (await storedRow(bot.userId)).next_batch !== '', {
      what: 'the first sync token to be stored',
    });
    expect((await storedRow(bot.userId)).filter_id).not.toBe('');
  });

  it('when invited with autojoin on, then it joins; with autojoin off, it stays invited', async () => {
    const alice = hs.registerUser('alice1');
    const joiner = hs.registerUser('joiner');
    const stayer = hs.registerUser('stayer');
    await createClient(joiner);
    await createClient(stayer, { autojoin: false });
    await waitFor(async () => (await storedRow(stayer.userId)).next_batch !== '', { what: 'sync' });
    const position = (await storedRow(stayer.userId)).next_batch;
    const room = (await matrix(alice, 'POST', '/createRoom', {
      invite: [joiner.userId, stayer.userId],
    })) as { room_id: string };
    await waitFor(() => membership(room.room_id, joiner.userId) === 'join', {
      what: 'the autojoin client to join',
    });
    // The other client synced past the invite (and had the chance to act on it).
    await waitFor(async () => (await storedRow(stayer.userId)).next_batch !== position, {
      what: 'the invite to reach the other client',
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(membership(room.room_id, stayer.userId)).toBe('invite');
  });

  it('when autojoin is switched on for a running client, then the next invite is joined', async () => {
    const alice = hs.registerUser('alice2');
    const bot = hs.registerUser('later');
    await createClient(bot, { autojoin: false });
    await api().put(`/client/${bot.userId}`, { autojoin: true });
    const room = (await matrix(alice, 'POST', '/createRoom', { invite: [bot.userId] })) as {
      room_id: string;
    };
    await waitFor(() => membership(room.room_id, bot.userId) === 'join', { what: 'a join' });
  });

  it('when the display name is set, then the homeserver profile shows it and remote_displayname follows at the next start', async () => {
    const bot = hs.registerUser('named');
    await createClient(bot);
    const res = await api().put(`/client/${bot.userId}`, { displayname: 'Named Bot' });
    // maubot reads the remote profile when the client starts, not after pushing a change.
    expect(res.body).toMatchObject({ displayname: 'Named Bot', remote_displayname: 'named' });
    expect(hs.userProfile(bot.userId)?.displayname).toBe('Named Bot');
    await api().put(`/client/${bot.userId}`, { started: false });
    const restarted = await api().put(`/client/${bot.userId}`, { started: true });
    expect(restarted.body).toMatchObject({ started: true, remote_displayname: 'Named Bot' });
  });

  it('when the avatar is set, then the homeserver profile has it; "disable" leaves it alone', async () => {
    const bot = hs.registerUser('pictured');
    await createClient(bot);
    const res = await api().put(`/client/${bot.userId}`, { avatar_url: 'mxc://test.local/face' });
    expect(res.body).toMatchObject({
      avatar_url: 'mxc://test.local/face',
      remote_avatar_url: null,
    });
    expect(hs.userProfile(bot.userId)?.avatar_url).toBe('mxc://test.local/face');
    const disabled = await api().put(`/client/${bot.userId}`, { avatar_url: 'disable' });
    expect(disabled.body).toMatchObject({
      avatar_url: 'disable',
      remote_avatar_url: 'mxc://test.local/face',
    });
    expect(hs.userProfile(bot.userId)?.avatar_url).toBe('mxc://test.local/face');
  });

  it('when sync is switched off and on for a running client, then its sync loop stops and resumes', async () => {
    const bot = hs.registerUser('toggler');
    await createClient(bot);
    await waitFor(async () => (await storedRow(bot.userId)).next_batch !== '', { what: 'sync' });
    await api().put(`/client/${bot.userId}`, { sync: false });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const mark = hs.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(requestsOf(bot, mark).filter((r) => r.path === `${CS}/sync`)).toEqual([]);
    await api().put(`/client/${bot.userId}`, { sync: true });
    await waitFor(() => requestsOf(bot, mark).some((r) => r.path === `${CS}/sync`), {
      what: 'syncing again',
    });
  });

  it('when online is off, then its syncs set presence offline', async () => {
    const bot = hs.registerUser('away');
    await createClient(bot, { online: false });
    await waitFor(() => hs.presenceOf(bot.userId) === 'offline', { what: 'offline presence' });
  });

  it('when sync is off, then it runs but never syncs', async () => {
    const bot = hs.registerUser('nosync');
    const client = await createClient(bot, { sync: false });
    expect(client).toMatchObject({ started: true, sync: false });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await storedRow(bot.userId)).next_batch).toBe('');
  });

  it('when the homeserver stops, then sync_ok turns false, and true again once it is back', async () => {
    const bot = hs.registerUser('weather');
    await createClient(bot);
    await waitFor(async () => (await storedRow(bot.userId)).next_batch !== '', { what: 'sync' });
    // The list and the item are kept between requests: both must follow the running state.
    const listed = async () =>
      ((await api().get('/clients')).body as { id: string; sync_ok: boolean }[]).find(
        (c) => c.id === bot.userId,
      )?.sync_ok;
    expect(await listed()).toBe(true);
    expect((await api().get(`/client/${bot.userId}`)).body.sync_ok).toBe(true);
    await hs.stop();
    try {
      await waitFor(async () => (await listed()) === false, { what: 'sync_ok false' });
      expect((await api().get(`/client/${bot.userId}`)).body.sync_ok).toBe(false);
    } finally {
      await hs.restart();
    }
    await waitFor(async () => (await listed()) === true, {
      what: 'sync_ok true',
      timeoutMs: 30_000,
    });
    expect((await api().get(`/client/${bot.userId}`)).body.sync_ok).toBe(true);
  }, 45_000);

  it('when the cache is cleared, then it syncs again from scratch with a new filter', async () => {
    const bot = hs.registerUser('clearme');
    await createClient(bot);
    await waitFor(async () => (await storedRow(bot.userId)).next_batch !== '', { what: 'sync' });
    const firstFilter = (await storedRow(bot.userId)).filter_id;
    const mark = hs.requests.length;
    const res = await api().post(`/client/${bot.userId}/clearcache`);
    expectAnswer(res, 200, { success: true });
    const fresh = await waitFor(
      () =>
        requestsOf(bot, mark).find((r) => r.path === `${CS}/sync` && r.query.since === undefined),
      { what: 'an initial sync' },
    );
    expect(fresh.query.filter).toContain('lazy_load_members');
    expect(
      requestsOf(bot, mark).some((r) => r.method === 'POST' && r.path.endsWith('/filter')),
    ).toBe(true);
    await waitFor(async () => (await storedRow(bot.userId)).filter_id !== '', { what: 'filter' });
    expect(typeof firstFilter).toBe('string');
  });

  it('when Switchboard restarts, then the client resumes from its stored sync token', async () => {
    const bot = hs.registerUser('resume');
    await createClient(bot);
    await waitFor(async () => (await storedRow(bot.userId)).next_batch !== '', { what: 'sync' });
    await t.close();
    const stored = await storedRow(bot.userId);
    const mark = hs.requests.length;
    t = await createTestApp(kind, { db, logger: logs.logger, startClients: true });
    const first = await waitFor(() => requestsOf(bot, mark).find((r) => r.path === `${CS}/sync`), {
      what: 'the first sync after the restart',
    });
    expect(first.query.since).toBe(stored.next_batch);
    expect(first.query.filter).toBe(stored.filter_id);
    // The stored filter was reused, not created again.
    expect(
      requestsOf(bot, mark).some((r) => r.method === 'POST' && r.path.endsWith('/filter')),
    ).toBe(false);
    const client = await waitFor(
      async () => {
        const body = (await api().get(`/client/${bot.userId}`)).body as { started: boolean };
        return body.started ? body : undefined;
      },
      { what: 'the client to be started' },
    );
    expect(client).toMatchObject({ started: true, sync_ok: true });
  });

  it('when the token is rejected at start, then the client is disabled, stored so, and the reason logged', async () => {
    const bot = hs.registerUser('revoked');
    await createClient(bot, { sync: false });
    await t.close();
    await matrix(bot, 'POST', '/logout', {});
    t = await createTestApp(kind, { db, logger: logs.logger, startClients: true });
    await waitFor(async () => (await storedRow(bot.userId)).enabled === false, {
      what: 'the client to be disabled',
    });
    const res = await api().get(`/client/${bot.userId}`);
    expect(res.body).toMatchObject({ enabled: false, started: false });
    const line = logs.lines.find(
      (l) =>
        l.logger === `maubot.client.${bot.userId}` &&
        l.msg === 'client disabled: the homeserver rejected the access token (M_UNKNOWN_TOKEN)',
    );
    expect(line).toMatchObject({ level: 50 });
  });

  it('when the token is revoked while it runs, then the client stops and is disabled', async () => {
    const bot = hs.registerUser('loggedout');
    await createClient(bot);
    await waitFor(async () => (await storedRow(bot.userId)).next_batch !== '', { what: 'sync' });
    await matrix(bot, 'POST', '/logout', {});
    await waitFor(async () => (await storedRow(bot.userId)).enabled === false, {
      what: 'the client to be disabled',
    });
    expect((await api().get(`/client/${bot.userId}`)).body).toMatchObject({ started: false });
  });

  it('when one homeserver hangs at startup, then the others start at once and it retries in the background', async () => {
    // Accepts connections and never answers.
    const sockets: Socket[] = [];
    const blackhole: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const port = (blackhole.address() as { port: number }).port;
    try {
      const good = hs.registerUser('good');
      const slow = hs.registerUser('slow');
      await createClient(good, { sync: false });
      await createClient(slow, { sync: false });
      await t.close();
      await db
        .knex('client')
        .where({ id: slow.userId })
        .update({ homeserver: `http://127.0.0.1:${port}` });
      const began = Date.now();
      t = await createTestApp(kind, { db, logger: logs.logger, startClients: true });
      expect(Date.now() - began).toBeLessThan(5_000);
      await waitFor(async () => (await api().get(`/client/${good.userId}`)).body.started === true, {
        what: 'the good client',
        timeoutMs: 5_000,
      });
      expect((await api().get(`/client/${slow.userId}`)).body).toMatchObject({
        started: false,
        enabled: true,
      });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => blackhole.close(resolve));
    }
  });

  it('when the homeserver is down at startup, then the client starts once it comes back', async () => {
    const bot = hs.registerUser('patient');
    await createClient(bot, { sync: false });
    await t.close();
    await hs.stop();
    try {
      t = await createTestApp(kind, { db, logger: logs.logger, startClients: true });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await api().get(`/client/${bot.userId}`)).body.started).toBe(false);
    } finally {
      await hs.restart();
    }
    await waitFor(async () => (await api().get(`/client/${bot.userId}`)).body.started === true, {
      what: 'the retried start',
      timeoutMs: 10_000,
    });
    expect(
      logs.lines.some(
        (l) =>
          l.logger === `maubot.client.${bot.userId}` &&
          l.msg === 'client could not start; retrying',
      ),
    ).toBe(true);
  });
});

describe('access tokens at rest', () => {
  it('when the encryption key rotates, then startup re-encrypts tokens with the new key and they still work', async () => {
    const hs = await TestHomeserver.start();
    const db = await openTestDatabase('embedded');
    const oldKey = Buffer.alloc(32, 1).toString('base64');
    const newKey = Buffer.alloc(32, 2).toString('base64');
    try {
      const bot = hs.registerUser('rotating');
      const before = await createTestApp('embedded', {
        db,
        config: testConfig({ encryptionKey: oldKey }),
      });
      const created = await request(before.app)
        .post(`${API}/client/new`)
        .set('Authorization', `Bearer ${before.token}`)
        .send({ homeserver: hs.url, access_token: bot.accessToken, sync: false });
      expect(created.status).toBe(201);
      await before.close();
      const oldRow = await db.knex('client').where({ id: bot.userId }).first();

      const after = await createTestApp('embedded', {
        db,
        config: testConfig({ encryptionKey: newKey, previousEncryptionKeys: [oldKey] }),
        startClients: true,
      });
      try {
        const row = await db.knex('client').where({ id: bot.userId }).first();
        expect(row.access_token_key_id).toBe(new SecretBox(newKey).currentKeyId);
        expect(row.access_token_key_id).not.toBe(oldRow.access_token_key_id);
        expect(JSON.stringify(row)).not.toContain(bot.accessToken);
        const res = await request(after.app)
          .get(`${API}/client/${bot.userId}`)
          .set('Authorization', `Bearer ${after.token}`);
        expect(res.body.access_token).toBe(bot.accessToken);
        await waitFor(
          async () =>
            (
              await request(after.app)
                .get(`${API}/client/${bot.userId}`)
                .set('Authorization', `Bearer ${after.token}`)
            ).body.started === true,
          { what: 'the client to start with the re-encrypted token' },
        );
      } finally {
        await after.close();
      }
    } finally {
      await db.close();
      await hs.close();
    }
  });
});
