import type { ConnectionKind, PreparedConnection } from '../../src/bridge/connection-types';
import { WEBHOOK } from '../../src/bridge/connection-types';
import { badValue } from '../../src/bridge/connection-errors';
import { connectionId } from '../../src/bridge/connection-service';
import request from 'supertest';
import { BRIDGE_UNAVAILABLE, NO_BOT_CONFIGURED } from '../../src/bridge/room-access';
import { HomeserverError } from '../../src/matrix/matrix-errors';
import { createTestApp, type TestApp } from '../helpers/app';
import { PROVISIONING_AUTH, startBridge, type BridgeHarness } from '../helpers/bridge';
import { TEST_PROVISIONING_SECRET, testConfig } from '../helpers/config';
import { openTestDatabase, testDatabaseKinds } from '../helpers/databases';
import type { Database } from '../../src/db/database';
import { freePort } from '../helpers/process';
import { waitFor } from '../helpers/wait';
import type { RegisteredUser } from '../../testing/homeserver/test-homeserver';
import { expectAnswer } from '../helpers/answers';

const TYPE = WEBHOOK.eventType;

/**
 * A connection kind that only stores what it is given: these tests are about the service
 * around every kind (access checks, storage, room state, conflicts), not one kind's rules.
 */
function recordingKind(): ConnectionKind {
  const prepare = (config: Record<string, unknown>): PreparedConnection => {
    if (typeof config.name !== 'string') throw badValue('Missing name');
    return { stateKey: config.name, config, secrets: { token: `secret-${config.name}` } };
  };
  return {
    declaration: WEBHOOK,
    tombstone: { disabled: true },
    defaultCommandPrefix: '!rec',
    create: ({ body }) => Promise.resolve(prepare(body)),
    update: ({ current, body }) => {
      const prepared = prepare({ ...current.config, ...body });
      return Promise.resolve({ stateKey: prepared.stateKey, config: prepared.config });
    },
    secrets: (c) => Promise.resolve({ shown: { token: c.secrets?.token } }),
  };
}

describe.each(testDatabaseKinds())('provisioning room connections (%s)', (kind) => {
  let b: BridgeHarness;
  let alice: RegisteredUser; // room owner, PL 100
  let mod: RegisteredUser; // PL 50
  let pleb: RegisteredUser; // PL 0, joined
  let outsider: RegisteredUser; // never joined
  let roomId: string;

  const stateOf = (room: string, type: string, stateKey: string) =>
    b.hs.roomState(room)!.find((e) => e.type === type && e.state_key === stateKey);

  beforeAll(async () => {
    b = await startBridge(kind, {
      config: { webhooks: { urlPrefix: 'https://hooks.example.org/webhook/' } },
    });
    b.t.bridge.connections.register(recordingKind());
    alice = b.user('alice');
    mod = b.user('mod');
    pleb = b.user('pleb');
    outsider = b.user('outsider');
    roomId = await b.room(alice, {
      users: { [b.bot.userId]: 50, [mod.userId]: 50 },
      members: [mod, pleb],
    });
  });
  afterAll(() => b.close());

  describe('read access', () => {
    it('when the user is joined and the room has no connections, then 200 []', async () => {
      const res = await b.v1('get', `/${roomId}/connections`, pleb.userId);
      expectAnswer(res, 200, []);
    });

    it('when the user never joined, then 403 HS_NOT_IN_ROOM (Dimension reads it as "none")', async () => {
      const res = await b.v1('get', `/${roomId}/connections`, outsider.userId);
      expectAnswer(res, 403, {
        errcode: 'HS_NOT_IN_ROOM',
        error: 'User is not joined to the room.',
      });
    });

    it('when the user is only invited, then 403 HS_NOT_IN_ROOM', async () => {
      const invited = b.user('invited');
      await b.matrix(alice, 'POST', `/rooms/${encodeURIComponent(roomId)}/invite`, {
        user_id: invited.userId,
      });
      const res = await b.v1('get', `/${roomId}/connections`, invited.userId);
      expectAnswer(res, 403, {
        errcode: 'HS_NOT_IN_ROOM',
        error: 'User is not joined to the room.',
      });
    });

    it('when the bot is not in the room, then 403 HS_NOT_IN_ROOM at once (upstream hung)', async () => {
      const res = await b.matrix(alice, 'POST', '/createRoom', {});
      const { room_id: lonely } = (await res.json()) as { room_id: string };
      for (const method of ['get', 'put'] as const) {
        const path = method === 'get' ? `/${lonely}/connections` : `/${lonely}/connections/${TYPE}`;
        const answer = await b.v1(method, path, alice.userId).send({ name: 'x' });
        expectAnswer(answer, 403, {
          errcode: 'HS_NOT_IN_ROOM',
          error: 'Bot is not joined to the room.',
        });
      }
    });
  });

  describe('write access', () => {
    it('when the user has PL 0 of the 50 needed, then 403 HS_FORBIDDEN_USER', async () => {
      const res = await b
        .v1('put', `/${roomId}/connections/${TYPE}`, pleb.userId)
        .send({ name: 'denied' });
      expectAnswer(res, 403, {
        errcode: 'HS_FORBIDDEN_USER',
        error: 'User has a PL of 0 but needs at least 50.',
      });
      expect(stateOf(roomId, TYPE, 'denied')).toBeUndefined();
    });

    it('when the bot has PL 0, then 403 HS_FORBIDDEN_BOT (the bot is checked first)', async () => {
      const room = await b.room(alice, { members: [pleb] });
      const res = await b
        .v1('put', `/${room}/connections/${TYPE}`, pleb.userId)
        .send({ name: 'x' });
      expectAnswer(res, 403, {
        errcode: 'HS_FORBIDDEN_BOT',
        error: 'Bot has a PL of 0 but needs at least 50.',
      });
    });

    it('when the power levels name the event type, then that level is needed', async () => {
      const room = await b.room(alice, {
        users: { [b.bot.userId]: 100, [mod.userId]: 50 },
        levels: { events: { [TYPE]: 100 } },
        members: [mod],
      });
      const res = await b.v1('put', `/${room}/connections/${TYPE}`, mod.userId).send({ name: 'x' });
      expectAnswer(res, 403, {
        errcode: 'HS_FORBIDDEN_USER',
        error: 'User has a PL of 50 but needs at least 100.',
      });
    });

    it('when the event type needs an explicit 0, then a PL 0 user may create (0 is not "unset")', async () => {
      const room = await b.room(alice, {
        levels: { events: { [TYPE]: 0 } },
        members: [pleb],
      });
      const res = await b
        .v1('put', `/${room}/connections/${TYPE}`, pleb.userId)
        .send({ name: 'zero' });
      expect(res.status).toBe(200);
      expect(res.body.config).toEqual({ name: 'zero' });
    });

    it('when the user is explicitly at PL 0 and users_default is 50, then 0 counts', async () => {
      const room = await b.room(alice, {
        users: { [pleb.userId]: 0 },
        levels: { users_default: 50 },
        members: [pleb],
      });
      const res = await b
        .v1('put', `/${room}/connections/${TYPE}`, pleb.userId)
        .send({ name: 'x' });
      expectAnswer(res, 403, {
        errcode: 'HS_FORBIDDEN_USER',
        error: 'User has a PL of 0 but needs at least 50.',
      });
    });

    it('when the user has left the room, then 403 HS_NOT_IN_ROOM', async () => {
      const leaver = b.user('leaver');
      const room = await b.room(alice, {
        users: { [b.bot.userId]: 50, [leaver.userId]: 50 },
        members: [leaver],
      });
      await b.matrix(leaver, 'POST', `/rooms/${encodeURIComponent(room)}/leave`, {});
      const res = await b
        .v1('put', `/${room}/connections/${TYPE}`, leaver.userId)
        .send({ name: 'x' });
      expectAnswer(res, 403, {
        errcode: 'HS_NOT_IN_ROOM',
        error: 'User is not joined to the room.',
      });
    });
  });

  describe('PUT, GET, PATCH, DELETE', () => {
    it('when the event type is unknown, then 404 HS_NOTFOUND (upstream hung)', async () => {
      const res = await b
        .v1('put', `/${roomId}/connections/org.example.nothing`, mod.userId)
        .send({});
      expectAnswer(res, 404, { errcode: 'HS_NOTFOUND', error: 'Unknown event type' });
    });

    it('when the type is switched off in the config, then 500 HS_DISABLED_FEATURE', async () => {
      const res = await b
        .v1('put', `/${roomId}/connections/uk.half-shot.matrix-hookshot.feed`, mod.userId)
        .send({ url: 'https://example.org/feed.xml' });
      expectAnswer(res, 500, {
        errcode: 'HS_DISABLED_FEATURE',
        error: 'RSS/Atom feeds are not configured',
      });
    });

    it('when the body is a JSON array, then 400 HS_BAD_VALUE', async () => {
      const res = await b.v1('put', `/${roomId}/connections/${TYPE}`, mod.userId).send([1]);
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe('HS_BAD_VALUE');
    });

    it('when created, read, updated and deleted, then the room state and answers follow', async () => {
      const id = connectionId(roomId, TYPE, 'alerts');
      // The legacy event type names the same kind; the item shows the canonical one.
      const created = await b
        .v1('put', `/${roomId}/connections/uk.half-shot.matrix-github.generic.hook`, mod.userId)
        .send({ name: 'alerts', level: 1 });
      expectAnswer(created, 200, {
        type: 'Webhook',
        eventType: TYPE,
        service: 'generic',
        botUserId: b.bot.userId,
        id,
        config: { name: 'alerts', level: 1 },
        secrets: { token: 'secret-alerts' },
      });
      const state = stateOf(roomId, TYPE, 'alerts')!;
      expect(state.sender).toBe(b.bot.userId);
      expect(state.content).toEqual({ name: 'alerts', level: 1 });

      const listed = await b.v1('get', `/${roomId}/connections`, pleb.userId);
      expectAnswer(listed, 200, [
        {
          type: 'Webhook',
          eventType: TYPE,
          service: 'generic',
          botUserId: b.bot.userId,
          id,
          config: { name: 'alerts', level: 1 },
        },
      ]);
      const one = await b.v1('get', `/${roomId}/connections/${id}`, pleb.userId);
      expectAnswer(one, 200, listed.body[0]);

      const patched = await b
        .v1('patch', `/${roomId}/connections/${id}`, mod.userId)
        .send({ level: 2 });
      expect(patched.status).toBe(200);
      expect(patched.body.config).toEqual({ name: 'alerts', level: 2 });
      expect(patched.body.secrets).toEqual({ token: 'secret-alerts' });
      expect(stateOf(roomId, TYPE, 'alerts')!.content).toEqual({ name: 'alerts', level: 2 });

      const rows = await b.t.db.knex('connection').where({ id });
      expect(rows).toHaveLength(1);
      expect(rows[0].config).toEqual({ name: 'alerts', level: 2 });
      // The side secret is sealed, never in clear.
      expect(JSON.stringify(rows[0])).not.toContain('secret-alerts');

      const deleted = await b.v1('delete', `/${roomId}/connections/${id}`, mod.userId);
      expectAnswer(deleted, 200, { ok: true });
      expect(stateOf(roomId, TYPE, 'alerts')!.content).toEqual({ disabled: true });
      expect(await b.t.db.knex('connection').where({ id })).toEqual([]);

      const again = await b.v1('delete', `/${roomId}/connections/${id}`, mod.userId);
      expectAnswer(again, 404, { errcode: 'HS_NOTFOUND', error: 'Connection does not exist.' });
      const gone = await b.v1('get', `/${roomId}/connections/${id}`, pleb.userId);
      expect(gone.status).toBe(404);
    });

    it('when PATCH or DELETE come from a PL 0 user, then 403 and nothing changes', async () => {
      const created = await b
        .v1('put', `/${roomId}/connections/${TYPE}`, mod.userId)
        .send({ name: 'keep' });
      const { id } = created.body as { id: string };
      const patched = await b
        .v1('patch', `/${roomId}/connections/${id}`, pleb.userId)
        .send({ x: 1 });
      expect(patched.status).toBe(403);
      expect(patched.body.errcode).toBe('HS_FORBIDDEN_USER');
      const deleted = await b.v1('delete', `/${roomId}/connections/${id}`, pleb.userId);
      expect(deleted.status).toBe(403);
      expect(stateOf(roomId, TYPE, 'keep')!.content).toEqual({ name: 'keep' });
    });

    it('when the connection id belongs to another room, then 404', async () => {
      const other = await b.room(alice, { users: { [b.bot.userId]: 50 } });
      const created = await b
        .v1('put', `/${other}/connections/${TYPE}`, alice.userId)
        .send({ name: 'elsewhere' });
      expect(created.status).toBe(200);
      const res = await b.v1('get', `/${roomId}/connections/${created.body.id}`, alice.userId);
      expectAnswer(res, 404, { errcode: 'HS_NOTFOUND', error: 'Connection does not exist.' });
    });

    it('when a command prefix is taken in the room, then 409 with the existing connection', async () => {
      const first = await b
        .v1('put', `/${roomId}/connections/${TYPE}`, mod.userId)
        .send({ name: 'one', commandPrefix: '!ci' });
      expect(first.status).toBe(200);
      const clash = await b
        .v1('put', `/${roomId}/connections/${TYPE}`, mod.userId)
        .send({ name: 'two', commandPrefix: '!ci' });
      expectAnswer(clash, 409, {
        errcode: 'HS_CONFLICTING_CONNECTION',
        error: 'Command prefix "!ci" is already used in this room. Please choose another prefix.',
        existingConnection: {
          type: 'Webhook',
          eventType: TYPE,
          service: 'generic',
          botUserId: b.bot.userId,
          id: first.body.id,
          config: { name: 'one', commandPrefix: '!ci' },
        },
      });
      // A connection's default prefix counts too; re-creating the same one is no clash.
      const byDefault = await b
        .v1('put', `/${roomId}/connections/${TYPE}`, mod.userId)
        .send({ name: 'three', commandPrefix: '!rec' });
      expect(byDefault.status).toBe(409);
      const same = await b
        .v1('put', `/${roomId}/connections/${TYPE}`, mod.userId)
        .send({ name: 'one', commandPrefix: '!ci' });
      expect(same.status).toBe(200);
      expect(stateOf(roomId, TYPE, 'two')).toBeUndefined();
    });

    it('when the room state cannot be written, then nothing is stored', async () => {
      const before = await b.t.db.knex('connection').count<{ count: string }[]>('* as count');
      const write = jest
        .spyOn(b.t.bridge.bot, 'setState')
        .mockRejectedValueOnce(new HomeserverError(502, 'M_UNKNOWN', 'Bad gateway', {}));
      try {
        const res = await b
          .v1('put', `/${roomId}/connections/${TYPE}`, mod.userId)
          .send({ name: 'failing' });
        expectAnswer(res, 500, {
          errcode: 'HS_UNKNOWN',
          error: 'Could not write the connection state to the room.',
        });
      } finally {
        write.mockRestore();
      }
      const after = await b.t.db.knex('connection').count<{ count: string }[]>('* as count');
      expect(after).toEqual(before);
      expect(b.t.bridge.connections.get(connectionId(roomId, TYPE, 'failing'))).toBeUndefined();
      expect(stateOf(roomId, TYPE, 'failing')).toBeUndefined();
    });

    it('when Switchboard restarts, then the connections come back with the same ids', async () => {
      const before = await b.v1('get', `/${roomId}/connections`, pleb.userId);
      expect(before.body.length).toBeGreaterThan(0);
      await b.restart();
      b.t.bridge.connections.register(recordingKind());
      const after = await b.v1('get', `/${roomId}/connections`, pleb.userId);
      expectAnswer(after, 200, before.body);
    });
  });
});

describe.each(testDatabaseKinds())('provisioning bridge permissions (%s)', (kind) => {
  let b: BridgeHarness;
  afterAll(() => b.close());

  it('when the config does not let a user manage connections, then 403 and the bot refuses their invites', async () => {
    b = await startBridge(kind, {
      config: {
        webhooks: { urlPrefix: 'https://hooks.example.org/webhook/' },
        provisioning: {
          secret: 'provisioning-test-secret',
          permissions: [
            { actor: '@alice:test.local', services: [{ service: '*', level: 'admin' }] },
            { actor: '@carol:test.local', services: [{ service: 'generic', level: 'login' }] },
          ],
        },
      },
    });
    b.t.bridge.connections.register(recordingKind());
    const alice = b.user('alice');
    const carol = b.user('carol');
    const room = await b.room(alice, {
      users: { [b.bot.userId]: 50, [carol.userId]: 100 },
      members: [carol],
    });
    const res = await b
      .v1('put', `/${room}/connections/${TYPE}`, carol.userId)
      .send({ name: 'nope' });
    expectAnswer(res, 403, {
      errcode: 'HS_FORBIDDEN_USER',
      error: 'User is not permitted to provision connections for this type of service.',
    });
    const ok = await b
      .v1('put', `/${room}/connections/${TYPE}`, alice.userId)
      .send({ name: 'yes' });
    expect(ok.status).toBe(200);

    // Someone with no level at all invites the bot: it leaves, saying why.
    const dave = b.user('dave');
    const made = await b.matrix(dave, 'POST', '/createRoom', { invite: [b.bot.userId] });
    const { room_id: daveRoom } = (await made.json()) as { room_id: string };
    await waitFor(
      () =>
        b.hs
          .roomState(daveRoom)!
          .find(
            (e) =>
              e.type === 'm.room.member' &&
              e.state_key === b.bot.userId &&
              e.content.membership === 'leave',
          ),
      { what: 'the bot to refuse the invite' },
    );
    const leave = b.hs
      .roomState(daveRoom)!
      .find((e) => e.type === 'm.room.member' && e.state_key === b.bot.userId)!;
    expect(leave.content.reason).toBe('You do not have permission to invite this bot.');
    expect(b.t.bridge.bot.isJoined(daveRoom)).toBe(false);
  });
});

describe.each(testDatabaseKinds())('room connections while the bot cannot act (%s)', (kind) => {
  // One database for the three servers below; each leaves it empty.
  let db: Database;
  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(() => db.close());
  const unavailable = {
    errcode: 'HS_UNKNOWN',
    error: BRIDGE_UNAVAILABLE,
  };
  const ROOM = '!room:test.local';
  const USER = '@alice:test.local';
  const v1 = (t: TestApp, method: 'get' | 'put' | 'delete', path: string) => {
    const agent = request(t.app);
    return agent[method](`/v1${path}?userId=${encodeURIComponent(USER)}`).set(
      'Authorization',
      PROVISIONING_AUTH,
    );
  };

  it('when no bot is configured, then room requests say so (not "Bot is not joined")', async () => {
    const t = await createTestApp(kind, {
      db,
      config: testConfig({ webhooks: { urlPrefix: 'https://hooks.example.org/webhook/' } }),
    });
    try {
      const noBot = { errcode: 'HS_DISABLED_FEATURE', error: NO_BOT_CONFIGURED };
      const listed = await v1(t, 'get', `/${ROOM}/connections`);
      expectAnswer(listed, 500, noBot);
      const created = await v1(t, 'put', `/${ROOM}/connections/${TYPE}`).send({ name: 'x-x' });
      expectAnswer(created, 500, noBot);
      for (const method of ['get', 'delete'] as const) {
        const one = await v1(t, method, `/${ROOM}/connections/some-connection-id`);
        expectAnswer(one, 500, noBot);
      }
      // What needs no room still answers.
      const types = await request(t.app)
        .get('/v1/connectiontypes')
        .set('Authorization', PROVISIONING_AUTH);
      expect(types.status).toBe(200);
      expect(await t.db.knex('connection')).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('when the bot cannot start (homeserver unreachable), then 503 "the bridge is unavailable" and /ready tells', async () => {
    const port = await freePort();
    const t = await createTestApp(kind, {
      db,
      config: testConfig({
        webhooks: { urlPrefix: 'https://hooks.example.org/webhook/' },
        provisioning: {
          secret: TEST_PROVISIONING_SECRET,
          botUserId: '@bot:test.local',
          bot: { homeserver: `http://127.0.0.1:${port}`, accessToken: 'token' },
        },
      }),
    });
    try {
      await waitFor(() => t.bridge.bot.status === 'unavailable', { what: 'the failed start' });
      expect((await request(t.app).get('/ready')).body).toEqual({
        ready: true,
        provisioningBot: { status: 'unavailable', syncing: false },
      });
      for (const res of [
        await v1(t, 'get', `/${ROOM}/connections`),
        await v1(t, 'put', `/${ROOM}/connections/${TYPE}`).send({ name: 'x-x' }),
        await v1(t, 'delete', `/${ROOM}/connections/abc`),
      ]) {
        expectAnswer(res, 503, unavailable);
      }
    } finally {
      await t.close();
    }
  });

  it('when the homeserver goes away while the bot runs, then 503 instead of HS_NOT_IN_ROOM; back again, 200', async () => {
    const b = await startBridge(kind, {
      db,
      config: { webhooks: { urlPrefix: 'https://hooks.example.org/webhook/' } },
    });
    try {
      const alice = b.user('alice');
      const roomId = await b.room(alice, { users: { [b.bot.userId]: 50 } });
      await b.hs.stop();
      const down = await b.v1('get', `/${roomId}/connections`, alice.userId);
      expectAnswer(down, 503, unavailable);
      await b.hs.restart();
      const up = await b.v1('get', `/${roomId}/connections`, alice.userId);
      expect(up.status).toBe(200);
      expect((await request(b.t.app).get('/ready')).body.provisioningBot.status).toBe('running');
    } finally {
      await b.close();
    }
  });
});

describe.each(testDatabaseKinds())('connection writes and the homeserver (%s)', (kind) => {
  let b: BridgeHarness;
  let alice: RegisteredUser;
  let roomId: string;
  const stateOf = (stateKey: string) =>
    b.hs.roomState(roomId)!.find((e) => e.type === TYPE && e.state_key === stateKey);

  beforeAll(async () => {
    b = await startBridge(kind, {
      config: { webhooks: { urlPrefix: 'https://hooks.example.org/webhook/' } },
    });
    alice = b.user('alice');
    roomId = await b.room(alice, { users: { [b.bot.userId]: 50 } });
  });
  afterAll(() => b.close());

  it('when the homeserver takes its time over the state write, then no database transaction is open meanwhile', async () => {
    const hold = b.hs.holdNext('PUT', new RegExp(`/state/${TYPE.replace(/\./g, '\\.')}/held$`));
    const put = Promise.resolve(
      b.v1('put', `/${roomId}/connections/${TYPE}`, alice.userId).send({ name: 'held' }),
    );
    await hold.reached;
    // A transaction held open would show here (or, on a one-connection pool, block the query).
    const idle = await Promise.race([
      b.t.db.knex.raw<{ rows: { n: number }[] }>(
        "select count(*)::int as n from pg_stat_activity where state like 'idle in transaction%'",
      ),
      new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 5000).unref()),
    ]);
    hold.release();
    expect(idle === 'blocked' ? idle : idle.rows[0]!.n).toBe(0);
    expect((await put).status).toBe(200);
    expect(await b.t.db.knex('connection').where({ state_key: 'held' })).toHaveLength(1);
  });

  it('when the rows cannot be stored after the state was written, then the room state is put back and nothing is stored', async () => {
    await b.t.db.knex.raw(`
      create function refuse_doomed() returns trigger language plpgsql as $$
      begin
        if new.state_key = 'doomed' then raise exception 'refused for the test'; end if;
        return new;
      end $$`);
    await b.t.db.knex.raw(`
      create trigger refuse_doomed before insert on connection
        for each row execute function refuse_doomed()`);
    try {
      const res = await b
        .v1('put', `/${roomId}/connections/${TYPE}`, alice.userId)
        .send({ name: 'doomed' });
      expectAnswer(res, 500, { errcode: 'HS_UNKNOWN', error: 'An internal error occurred' });
      expect(stateOf('doomed')!.content).toEqual({ disabled: true });
      expect(await b.t.db.knex('connection').where({ state_key: 'doomed' })).toEqual([]);
      expect(await b.t.db.knex('webhook_hook')).toHaveLength(
        (await b.t.db.knex('connection')).length,
      );
    } finally {
      await b.t.db.knex.raw('drop trigger refuse_doomed on connection');
      await b.t.db.knex.raw('drop function refuse_doomed()');
    }
  });

  it('when the homeserver refuses the state write, then nothing is stored', async () => {
    const path = `/rooms/${encodeURIComponent(roomId)}/state/m.room.power_levels/`;
    const levels = (await (await b.matrix(alice, 'GET', path)).json()) as Record<string, unknown>;
    // The webhook state event now needs more than the bot's 50.
    await b.matrix(alice, 'PUT', path, { ...levels, events: { [TYPE]: 100 } });
    const res = await b
      .v1('put', `/${roomId}/connections/${TYPE}`, alice.userId)
      .send({ name: 'refused' });
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('HS_FORBIDDEN_BOT');
    expect(stateOf('refused')).toBeUndefined();
    expect(await b.t.db.knex('connection').where({ state_key: 'refused' })).toEqual([]);
  });
});
