import { createHmac } from 'node:crypto';
import { TestHomeserver, type RegisteredUser } from '../../testing/homeserver/test-homeserver';
import { expectAnswer } from '../helpers/answers';

const SECRET = 'shared-secret-for-tests';
const CS = '/_matrix/client/v3';

interface Reply {
  status: number;
  /** Parsed JSON, untyped like supertest's `res.body`; tests assert its shape. */
  body: ReturnType<typeof JSON.parse>;
  headers: Headers;
}

async function call(
  hs: TestHomeserver,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; raw?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(`${hs.url}${path}`, { method, headers, ...(body ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

function mac(nonce: string, username: string, password: string, admin: boolean, type?: string) {
  const hmac = createHmac('sha1', SECRET);
  hmac.update(`${nonce}\0${username}\0${password}\0${admin ? 'admin' : 'notadmin'}`);
  if (type !== undefined) hmac.update(`\0${type}`);
  return hmac.digest('hex');
}

const enc = encodeURIComponent;

describe('TestHomeserver', () => {
  let hs: TestHomeserver;
  let alice: RegisteredUser;
  let bob: RegisteredUser;
  beforeAll(async () => {
    hs = await TestHomeserver.start({ registrationSharedSecret: SECRET });
    alice = hs.registerUser('alice', 'alice-pw');
    bob = hs.registerUser('bob', 'bob-pw');
  });
  afterAll(() => hs.close());

  async function createRoom(token: string, body: object = {}): Promise<string> {
    const res = await call(hs, 'POST', `${CS}/createRoom`, { token, body });
    expect(res.status).toBe(200);
    return res.body.room_id as string;
  }

  async function roomWithBob(extra: object = {}): Promise<string> {
    const roomId = await createRoom(alice.accessToken, { invite: [bob.userId], ...extra });
    const join = await call(hs, 'POST', `${CS}/rooms/${enc(roomId)}/join`, {
      token: bob.accessToken,
      body: {},
    });
    expect(join.status).toBe(200);
    return roomId;
  }

  describe('discovery and errors', () => {
    it("when /versions is requested without a token, then Synapse 1.67's r0.0.1 to v1.2 are listed", async () => {
      const res = await call(hs, 'GET', '/_matrix/client/versions');
      expect(res.status).toBe(200);
      expect(res.body.versions).toContain('v1.1');
      expect(res.body.versions).toContain('v1.2');
      expect(res.body.versions).not.toContain('v1.11');
    });

    it('when an unknown endpoint is requested, then 400 M_UNRECOGNIZED', async () => {
      const res = await call(hs, 'GET', `${CS}/nope`, { token: alice.accessToken });
      expectAnswer(res, 400, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
    });

    it('when a known path is used with the wrong method, then 400 M_UNRECOGNIZED', async () => {
      const res = await call(hs, 'DELETE', `${CS}/account/whoami`, { token: alice.accessToken });
      expectAnswer(res, 400, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
    });

    it('when the body is not JSON, then 400 M_NOT_JSON; when not an object, M_BAD_JSON', async () => {
      const notJson = await call(hs, 'POST', `${CS}/createRoom`, {
        token: alice.accessToken,
        raw: '{nope',
      });
      expect(notJson.status).toBe(400);
      expect(notJson.body.errcode).toBe('M_NOT_JSON');
      const array = await call(hs, 'POST', `${CS}/createRoom`, {
        token: alice.accessToken,
        body: [],
      });
      expect(array.status).toBe(400);
      expect(array.body.errcode).toBe('M_BAD_JSON');
    });

    it('when the token is missing or unknown, then 401 M_MISSING_TOKEN / M_UNKNOWN_TOKEN', async () => {
      const missing = await call(hs, 'GET', `${CS}/account/whoami`);
      expect(missing.status).toBe(401);
      expect(missing.body.errcode).toBe('M_MISSING_TOKEN');
      const unknown = await call(hs, 'GET', `${CS}/account/whoami`, { token: 'bogus' });
      expect(unknown.status).toBe(401);
      expect(unknown.body.errcode).toBe('M_UNKNOWN_TOKEN');
    });

    it('when the token is passed as ?access_token, then it authenticates', async () => {
      const res = await call(hs, 'GET', `${CS}/account/whoami?access_token=${alice.accessToken}`);
      expect(res.status).toBe(200);
      expect(res.body.user_id).toBe(alice.userId);
    });

    it('when rateLimitNext(2) is set, then two requests get 429 and the third succeeds', async () => {
      hs.rateLimitNext(2);
      for (let i = 0; i < 2; i++) {
        const res = await call(hs, 'GET', '/_matrix/client/versions');
        expect(res.status).toBe(429);
        expect(res.body.errcode).toBe('M_LIMIT_EXCEEDED');
        expect(typeof res.body.retry_after_ms).toBe('number');
      }
      expect((await call(hs, 'GET', '/_matrix/client/versions')).status).toBe(200);
    });

    it('when requests are made, then they are logged with their query but never the token', async () => {
      await call(hs, 'GET', `${CS}/account/whoami?access_token=${alice.accessToken}&x=1`);
      expect(hs.requests.at(-1)).toEqual({
        method: 'GET',
        path: `${CS}/account/whoami`,
        query: { x: '1' },
        userId: alice.userId,
      });
    });
  });

  describe('shared-secret registration', () => {
    async function nonce(): Promise<string> {
      const res = await call(hs, 'GET', '/_synapse/admin/v1/register');
      expect(res.status).toBe(200);
      return res.body.nonce as string;
    }

    it('when the MAC is right, then the user is created and the token works', async () => {
      const n = await nonce();
      const res = await call(hs, 'POST', '/_synapse/admin/v1/register', {
        body: {
          nonce: n,
          username: 'carol',
          password: 'pw',
          admin: false,
          mac: mac(n, 'carol', 'pw', false),
        },
      });
      expectAnswer(res, 200, {
        user_id: '@carol:test.local',
        access_token: expect.any(String),
        device_id: expect.any(String),
        home_server: 'test.local',
      });
      const whoami = await call(hs, 'GET', `${CS}/account/whoami`, {
        token: res.body.access_token,
      });
      expect(whoami.body.user_id).toBe('@carol:test.local');
    });

    it('when user_type is given, then it is part of the MAC', async () => {
      const n = await nonce();
      const body = { nonce: n, username: 'botty', password: 'pw', admin: true, user_type: 'bot' };
      const res = await call(hs, 'POST', '/_synapse/admin/v1/register', {
        body: { ...body, mac: mac(n, 'botty', 'pw', true, 'bot') },
      });
      expect(res.status).toBe(200);
    });

    it('when the MAC is wrong, then 403 HMAC incorrect and the nonce is spent', async () => {
      const n = await nonce();
      const bad = await call(hs, 'POST', '/_synapse/admin/v1/register', {
        body: {
          nonce: n,
          username: 'dave',
          password: 'pw',
          admin: true,
          mac: mac(n, 'dave', 'pw', false),
        },
      });
      expectAnswer(bad, 403, { errcode: 'M_UNKNOWN', error: 'HMAC incorrect' });
      const reuse = await call(hs, 'POST', '/_synapse/admin/v1/register', {
        body: {
          nonce: n,
          username: 'dave',
          password: 'pw',
          admin: false,
          mac: mac(n, 'dave', 'pw', false),
        },
      });
      expectAnswer(reuse, 400, { errcode: 'M_UNKNOWN', error: 'unrecognised nonce' });
    });

    it('when a nonce is reused after success, then 400 unrecognised nonce', async () => {
      const n = await nonce();
      const body = {
        nonce: n,
        username: 'erin',
        password: 'pw',
        admin: false,
        mac: mac(n, 'erin', 'pw', false),
      };
      expect((await call(hs, 'POST', '/_synapse/admin/v1/register', { body })).status).toBe(200);
      const again = await call(hs, 'POST', '/_synapse/admin/v1/register', { body });
      expect(again.status).toBe(400);
      expect(again.body.error).toBe('unrecognised nonce');
    });

    it('when the username is taken, then 400 M_USER_IN_USE', async () => {
      const n = await nonce();
      const res = await call(hs, 'POST', '/_synapse/admin/v1/register', {
        body: {
          nonce: n,
          username: 'alice',
          password: 'pw',
          admin: false,
          mac: mac(n, 'alice', 'pw', false),
        },
      });
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe('M_USER_IN_USE');
    });

    it('when no shared secret is configured, then 400 not enabled', async () => {
      const other = await TestHomeserver.start({ serverName: 'other.local' });
      try {
        const res = await call(other, 'GET', '/_synapse/admin/v1/register');
        expectAnswer(res, 400, {
          errcode: 'M_UNKNOWN',
          error: 'Shared secret registration is not enabled',
        });
        expect(other.serverName).toBe('other.local');
      } finally {
        await other.close();
      }
    });
  });

  describe('login, whoami, logout', () => {
    it('when GET /login, then the password flow is offered', async () => {
      const res = await call(hs, 'GET', `${CS}/login`);
      expect(res.body).toEqual({
        flows: [{ type: 'm.login.password' }, { type: 'm.login.application_service' }],
      });
    });

    it('when the password is right, then a token is returned; logout invalidates it', async () => {
      const login = await call(hs, 'POST', `${CS}/login`, {
        body: {
          type: 'm.login.password',
          identifier: { type: 'm.id.user', user: 'alice' },
          password: 'alice-pw',
          device_id: 'MYDEVICE',
        },
      });
      expectAnswer(login, 200, {
        user_id: alice.userId,
        access_token: expect.any(String),
        device_id: 'MYDEVICE',
        home_server: 'test.local',
        // As Synapse with public_baseurl set.
        well_known: { 'm.homeserver': { base_url: `${hs.url}/` } },
      });
      const token = login.body.access_token as string;
      const whoami = await call(hs, 'GET', `${CS}/account/whoami`, { token });
      expect(whoami.body).toEqual({
        user_id: alice.userId,
        device_id: 'MYDEVICE',
        is_guest: false,
      });
      const logout = await call(hs, 'POST', `${CS}/logout`, { token, body: {} });
      expectAnswer(logout, 200, {});
      const after = await call(hs, 'GET', `${CS}/account/whoami`, { token });
      expect(after.status).toBe(401);
      expect(after.body.errcode).toBe('M_UNKNOWN_TOKEN');
      // Alice's other sessions are unaffected.
      expect(
        (await call(hs, 'GET', `${CS}/account/whoami`, { token: alice.accessToken })).status,
      ).toBe(200);
    });

    it('when the legacy top-level user (full MXID) is used, then login works', async () => {
      const res = await call(hs, 'POST', `/_matrix/client/r0/login`, {
        body: { type: 'm.login.password', user: bob.userId, password: 'bob-pw' },
      });
      expect(res.status).toBe(200);
      expect(res.body.user_id).toBe(bob.userId);
    });

    it.each([
      ['a wrong password', 'alice', 'nope'],
      ['an unknown user', 'zed', 'alice-pw'],
    ])('when %s is given, then 403 Invalid username or password', async (_, user, password) => {
      const res = await call(hs, 'POST', `${CS}/login`, {
        body: { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password },
      });
      expectAnswer(res, 403, { errcode: 'M_FORBIDDEN', error: 'Invalid username or password' });
    });
  });

  describe('rooms', () => {
    it('when a room is created, then it has the default state and invitees are invited', async () => {
      const roomId = await createRoom(alice.accessToken, { name: 'Ops', invite: [bob.userId] });
      const state = hs.roomState(roomId)!;
      const byType = (t: string, k = '') => state.find((e) => e.type === t && e.state_key === k);
      expect(byType('m.room.create')?.content.creator).toBe(alice.userId);
      expect(byType('m.room.member', alice.userId)?.content.membership).toBe('join');
      expect(byType('m.room.member', bob.userId)?.content.membership).toBe('invite');
      expect(byType('m.room.power_levels')?.content).toMatchObject({
        users: { [alice.userId]: 100 },
        users_default: 0,
        state_default: 50,
        events_default: 0,
        invite: 0,
        events: {},
      });
      expect(byType('m.room.join_rules')?.content.join_rule).toBe('invite');
      expect(byType('m.room.name')?.content.name).toBe('Ops');
      const joined = await call(hs, 'GET', `${CS}/joined_rooms`, { token: alice.accessToken });
      expect(joined.body.joined_rooms).toContain(roomId);
    });

    it('when a non-member reads state or sends, then 403; after join, both work', async () => {
      const roomId = await createRoom(alice.accessToken);
      const path = `${CS}/rooms/${enc(roomId)}`;
      const read = await call(hs, 'GET', `${path}/state`, { token: bob.accessToken });
      expect(read.status).toBe(403);
      expect(read.body.errcode).toBe('M_FORBIDDEN');
      const send = await call(hs, 'PUT', `${path}/send/m.room.message/t1`, {
        token: bob.accessToken,
        body: { msgtype: 'm.text', body: 'hi' },
      });
      expect(send.status).toBe(403);
      const uninvited = await call(hs, 'POST', `${path}/join`, { token: bob.accessToken });
      expect(uninvited.status).toBe(403);

      const inviteByStranger = await call(hs, 'POST', `${path}/invite`, {
        token: bob.accessToken,
        body: { user_id: bob.userId },
      });
      expect(inviteByStranger.status).toBe(403);
      const invite = await call(hs, 'POST', `${path}/invite`, {
        token: alice.accessToken,
        body: { user_id: bob.userId },
      });
      expect(invite.status).toBe(200);
      // An invitee reads nothing, not even its own membership (as Synapse).
      const ownMember = await call(hs, 'GET', `${path}/state/m.room.member/${enc(bob.userId)}`, {
        token: bob.accessToken,
      });
      expect(ownMember.status).toBe(403);
      const name = await call(hs, 'GET', `${path}/state/m.room.create/`, {
        token: bob.accessToken,
      });
      expect(name.status).toBe(403);

      const join = await call(hs, 'POST', `${CS}/join/${enc(roomId)}`, {
        token: bob.accessToken,
        body: {},
      });
      expect(join.body).toEqual({ room_id: roomId });
      const all = await call(hs, 'GET', `${path}/state`, { token: bob.accessToken });
      expect(all.status).toBe(200);
      expect(all.body.map((e: { type: string }) => e.type)).toContain('m.room.power_levels');
      expect(all.body[0].room_id).toBe(roomId);
    });

    it('when state is read, then content is returned or 404 Event not found.', async () => {
      const roomId = await createRoom(alice.accessToken, { name: 'N' });
      const path = `${CS}/rooms/${enc(roomId)}/state`;
      for (const suffix of ['/m.room.name', '/m.room.name/']) {
        const res = await call(hs, 'GET', `${path}${suffix}`, { token: alice.accessToken });
        expect(res.body).toEqual({ name: 'N' });
      }
      const missing = await call(hs, 'GET', `${path}/m.room.topic`, { token: alice.accessToken });
      expectAnswer(missing, 404, { errcode: 'M_NOT_FOUND', error: 'Event not found.' });
    });

    it('when a PL 0 user sets state_default state, then 403; an explicit events entry is honoured', async () => {
      const roomId = await roomWithBob({
        power_level_content_override: { events: { 'org.example.open': 0 } },
      });
      const path = `${CS}/rooms/${enc(roomId)}/state`;
      const topic = await call(hs, 'PUT', `${path}/m.room.topic`, {
        token: bob.accessToken,
        body: { topic: 'mine' },
      });
      expect(topic.status).toBe(403);
      expect(topic.body.errcode).toBe('M_FORBIDDEN');
      const open = await call(hs, 'PUT', `${path}/org.example.open/k`, {
        token: bob.accessToken,
        body: { ok: true },
      });
      expect(open.status).toBe(200);
      expect(open.body.event_id).toMatch(/^\$/);
      const read = await call(hs, 'GET', `${path}/org.example.open/k`, {
        token: alice.accessToken,
      });
      expect(read.body).toEqual({ ok: true });
      const byAdmin = await call(hs, 'PUT', `${path}/m.room.topic/`, {
        token: alice.accessToken,
        body: { topic: 'admin topic' },
      });
      expect(byAdmin.status).toBe(200);
    });

    it('when someone sets another user’s state key, then 403', async () => {
      const roomId = await roomWithBob({ power_level_content_override: { state_default: 0 } });
      const res = await call(
        hs,
        'PUT',
        `${CS}/rooms/${enc(roomId)}/state/org.example.owned/${enc(alice.userId)}`,
        { token: bob.accessToken, body: {} },
      );
      expect(res.status).toBe(403);
    });

    it('when power levels change, then the sender cannot exceed its own level', async () => {
      const roomId = await roomWithBob();
      const path = `${CS}/rooms/${enc(roomId)}/state/m.room.power_levels/`;
      const current = (await call(hs, 'GET', path, { token: alice.accessToken })).body;
      const promote = await call(hs, 'PUT', path, {
        token: bob.accessToken,
        body: { ...current, users: { ...current.users, [bob.userId]: 100 } },
      });
      expect(promote.status).toBe(403);
      const raise = await call(hs, 'PUT', path, {
        token: alice.accessToken,
        body: { ...current, users: { ...current.users, [bob.userId]: 50 } },
      });
      expect(raise.status).toBe(200);
      const topic = await call(hs, 'PUT', `${CS}/rooms/${enc(roomId)}/state/m.room.topic`, {
        token: bob.accessToken,
        body: { topic: 'now allowed' },
      });
      expect(topic.status).toBe(200);
      // PL 50 may not demote the PL 100 creator.
      const demote = await call(hs, 'PUT', path, {
        token: bob.accessToken,
        body: { ...current, state_default: 50, users: { [bob.userId]: 50, [alice.userId]: 0 } },
      });
      expect(demote.status).toBe(403);
    });

    it('when a message is sent twice with the same txnId, then the same event_id', async () => {
      const roomId = await roomWithBob();
      const path = `${CS}/rooms/${enc(roomId)}/send/m.room.message/txn-1`;
      const body = { msgtype: 'm.text', body: 'hello' };
      const first = await call(hs, 'PUT', path, { token: bob.accessToken, body });
      const second = await call(hs, 'PUT', path, { token: bob.accessToken, body });
      expect(first.status).toBe(200);
      expect(second.body.event_id).toBe(first.body.event_id);
      const other = await call(hs, 'PUT', path.replace('txn-1', 'txn-2'), {
        token: bob.accessToken,
        body,
      });
      expect(other.body.event_id).not.toBe(first.body.event_id);
    });

    it('when events_default or an events entry is above the sender, then send is 403', async () => {
      const roomId = await roomWithBob({
        power_level_content_override: { events: { 'm.reaction': 10 } },
      });
      const path = `${CS}/rooms/${enc(roomId)}/send`;
      const reaction = await call(hs, 'PUT', `${path}/m.reaction/a`, {
        token: bob.accessToken,
        body: {},
      });
      expect(reaction.status).toBe(403);
      const message = await call(hs, 'PUT', `${path}/m.room.message/b`, {
        token: bob.accessToken,
        body: { msgtype: 'm.text', body: 'x' },
      });
      expect(message.status).toBe(200);
    });

    it('when a member leaves, then it can no longer send and joined_rooms drops the room', async () => {
      const roomId = await roomWithBob();
      const leave = await call(hs, 'POST', `${CS}/rooms/${enc(roomId)}/leave`, {
        token: bob.accessToken,
      });
      expect(leave.status).toBe(200);
      const send = await call(hs, 'PUT', `${CS}/rooms/${enc(roomId)}/send/m.room.message/z`, {
        token: bob.accessToken,
        body: {},
      });
      expect(send.status).toBe(403);
      const joined = await call(hs, 'GET', `${CS}/joined_rooms`, { token: bob.accessToken });
      expect(joined.body.joined_rooms).not.toContain(roomId);
    });

    it('when a room is public, then anyone may join it by alias', async () => {
      const roomId = await createRoom(alice.accessToken, {
        preset: 'public_chat',
        room_alias_name: 'lobby',
      });
      const join = await call(hs, 'POST', `${CS}/join/${enc('#lobby:test.local')}`, {
        token: bob.accessToken,
      });
      expect(join.body).toEqual({ room_id: roomId });
    });
  });

  describe('kick and ban', () => {
    const membership = (roomId: string, userId: string) =>
      hs.roomState(roomId)!.find((e) => e.type === 'm.room.member' && e.state_key === userId);

    it('when a moderator kicks, then the member leaves (sent by the kicker) and may come back only on invite', async () => {
      const roomId = await roomWithBob();
      const path = `${CS}/rooms/${enc(roomId)}`;
      const byMember = await call(hs, 'POST', `${path}/kick`, {
        token: bob.accessToken,
        body: { user_id: alice.userId },
      });
      expect(byMember.status).toBe(403);
      const kick = await call(hs, 'POST', `${path}/kick`, {
        token: alice.accessToken,
        body: { user_id: bob.userId, reason: 'out' },
      });
      expect(kick.body).toEqual({});
      expect(membership(roomId, bob.userId)).toMatchObject({
        sender: alice.userId,
        content: { membership: 'leave', reason: 'out' },
      });
      const back = await call(hs, 'POST', `${CS}/join/${enc(roomId)}`, { token: bob.accessToken });
      expect(back.status).toBe(403);
      await call(hs, 'POST', `${path}/invite`, {
        token: alice.accessToken,
        body: { user_id: bob.userId },
      });
      expect(
        (await call(hs, 'POST', `${CS}/join/${enc(roomId)}`, { token: bob.accessToken })).status,
      ).toBe(200);
    });

    it('when a moderator bans, then the member cannot join or be invited until unbanned', async () => {
      const roomId = await roomWithBob();
      const path = `${CS}/rooms/${enc(roomId)}`;
      await call(hs, 'POST', `${path}/ban`, {
        token: alice.accessToken,
        body: { user_id: bob.userId },
      });
      expect(membership(roomId, bob.userId)?.content.membership).toBe('ban');
      const join = await call(hs, 'POST', `${CS}/join/${enc(roomId)}`, { token: bob.accessToken });
      expect(join.status).toBe(403);
      const invite = await call(hs, 'POST', `${path}/invite`, {
        token: alice.accessToken,
        body: { user_id: bob.userId },
      });
      expect(invite.status).toBe(403);
      await call(hs, 'POST', `${path}/unban`, {
        token: alice.accessToken,
        body: { user_id: bob.userId },
      });
      expect(membership(roomId, bob.userId)?.content.membership).toBe('leave');
    });
  });

  describe('sync', () => {
    it('when a user is kicked and invited again between two syncs, then the room is in both rooms.leave and rooms.invite', async () => {
      const roomId = await roomWithBob();
      const initial = await call(hs, 'GET', `${CS}/sync`, { token: bob.accessToken });
      const path = `${CS}/rooms/${enc(roomId)}`;
      await call(hs, 'POST', `${path}/kick`, {
        token: alice.accessToken,
        body: { user_id: bob.userId },
      });
      await call(hs, 'POST', `${path}/invite`, {
        token: alice.accessToken,
        body: { user_id: bob.userId },
      });
      const res = await call(hs, 'GET', `${CS}/sync?since=${initial.body.next_batch}`, {
        token: bob.accessToken,
      });
      expect(res.body.rooms.leave[roomId].timeline.events.at(-1)).toMatchObject({
        sender: alice.userId,
        content: { membership: 'leave' },
      });
      expect(Object.keys(res.body.rooms.invite)).toEqual([roomId]);
      expect(res.body.rooms.join).toBeUndefined();
    });

    it('when a user that filters out its own events is kicked, then rooms.leave shows the kick; its own leave shows nowhere', async () => {
      const roomId = await roomWithBob();
      const filter = enc(JSON.stringify({ room: { timeline: { not_senders: [bob.userId] } } }));
      const sync = async (since?: string): Promise<Reply['body']> => {
        const query = `filter=${filter}${since ? `&since=${since}` : ''}`;
        return (await call(hs, 'GET', `${CS}/sync?${query}`, { token: bob.accessToken })).body;
      };
      const initial = await sync();
      await call(hs, 'POST', `${CS}/rooms/${enc(roomId)}/kick`, {
        token: alice.accessToken,
        body: { user_id: bob.userId },
      });
      const kicked = await sync(initial.next_batch);
      const events = kicked.rooms.leave[roomId].timeline.events;
      expect(events.at(-1)).toMatchObject({
        sender: alice.userId,
        state_key: bob.userId,
        content: { membership: 'leave' },
      });

      await call(hs, 'POST', `${CS}/rooms/${enc(roomId)}/invite`, {
        token: alice.accessToken,
        body: { user_id: bob.userId },
      });
      await call(hs, 'POST', `${CS}/join/${enc(roomId)}`, { token: bob.accessToken });
      const rejoined = await sync(kicked.next_batch);
      expect(Object.keys(rejoined.rooms.join)).toEqual([roomId]);
      await call(hs, 'POST', `${CS}/rooms/${enc(roomId)}/leave`, { token: bob.accessToken });
      expect((await sync(rejoined.next_batch)).rooms).toBeUndefined();
    });

    it('when syncing initially then incrementally, then only new events arrive', async () => {
      const user = hs.registerUser('syncer');
      const roomId = await createRoom(user.accessToken, { name: 'S' });
      const first = await call(hs, 'GET', `${CS}/sync`, { token: user.accessToken });
      expect(first.status).toBe(200);
      const room = first.body.rooms.join[roomId];
      const types = [...room.state.events, ...room.timeline.events].map(
        (e: { type: string }) => e.type,
      );
      expect(types).toEqual(expect.arrayContaining(['m.room.create', 'm.room.name']));
      expect(room.timeline.events[0]).toEqual(
        expect.objectContaining({
          event_id: expect.any(String),
          sender: user.userId,
          origin_server_ts: expect.any(Number),
          unsigned: expect.any(Object),
        }),
      );
      expect(room.timeline.events[0].room_id).toBeUndefined();

      const since = first.body.next_batch as string;
      const empty = await call(hs, 'GET', `${CS}/sync?since=${since}`, { token: user.accessToken });
      // Nothing new: no `rooms` key at all.
      expect(empty.body.rooms).toBeUndefined();

      const sent = await call(hs, 'PUT', `${CS}/rooms/${enc(roomId)}/send/m.room.message/s1`, {
        token: user.accessToken,
        body: { msgtype: 'm.text', body: 'new' },
      });
      const next = await call(hs, 'GET', `${CS}/sync?since=${since}&timeout=0`, {
        token: user.accessToken,
      });
      const timeline = next.body.rooms.join[roomId].timeline;
      expect(timeline.events).toHaveLength(1);
      expect(timeline.events[0]).toMatchObject({
        event_id: sent.body.event_id,
        content: { body: 'new' },
        unsigned: { transaction_id: 's1' },
      });
      expect(timeline.limited).toBe(false);
      expect(next.body.next_batch).not.toBe(since);
    });

    it('when a long-poll is waiting, then a new message wakes it before the timeout', async () => {
      const roomId = await roomWithBob();
      const initial = await call(hs, 'GET', `${CS}/sync`, { token: bob.accessToken });
      const started = Date.now();
      const poll = call(hs, 'GET', `${CS}/sync?since=${initial.body.next_batch}&timeout=5000`, {
        token: bob.accessToken,
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      await call(hs, 'PUT', `${CS}/rooms/${enc(roomId)}/send/m.room.message/wake`, {
        token: alice.accessToken,
        body: { msgtype: 'm.text', body: 'wake up' },
      });
      const res = await poll;
      expect(Date.now() - started).toBeLessThan(2000);
      const events = res.body.rooms.join[roomId].timeline.events;
      expect(events.map((e: { content: { body?: string } }) => e.content.body)).toEqual([
        'wake up',
      ]);
      // Another device does not see the sender's transaction id.
      expect(events[0].unsigned.transaction_id).toBeUndefined();
    });

    it('when nothing happens, then the long-poll returns empty after the timeout', async () => {
      const user = hs.registerUser('idle');
      const initial = await call(hs, 'GET', `${CS}/sync`, { token: user.accessToken });
      const started = Date.now();
      const res = await call(hs, 'GET', `${CS}/sync?since=${initial.body.next_batch}&timeout=150`, {
        token: user.accessToken,
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(res.body.rooms).toBeUndefined();
    });

    it('when the user is invited, then the room shows in rooms.invite with stripped state', async () => {
      const user = hs.registerUser('invitee');
      const initial = await call(hs, 'GET', `${CS}/sync`, { token: user.accessToken });
      const roomId = await createRoom(alice.accessToken, { name: 'Invite me' });
      await call(hs, 'POST', `${CS}/rooms/${enc(roomId)}/invite`, {
        token: alice.accessToken,
        body: { user_id: user.userId },
      });
      const res = await call(hs, 'GET', `${CS}/sync?since=${initial.body.next_batch}`, {
        token: user.accessToken,
      });
      const events = res.body.rooms.invite[roomId].invite_state.events;
      expect(events).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: 'm.room.name', content: { name: 'Invite me' } }),
          expect.objectContaining({
            type: 'm.room.member',
            state_key: user.userId,
            content: expect.objectContaining({ membership: 'invite' }),
          }),
        ]),
      );
      expect(res.body.rooms.join).toBeUndefined();
    });

    it('when the user leaves, then the room shows in rooms.leave once', async () => {
      const roomId = await roomWithBob();
      const initial = await call(hs, 'GET', `${CS}/sync`, { token: bob.accessToken });
      await call(hs, 'POST', `${CS}/rooms/${enc(roomId)}/leave`, { token: bob.accessToken });
      const res = await call(hs, 'GET', `${CS}/sync?since=${initial.body.next_batch}`, {
        token: bob.accessToken,
      });
      expect(res.body.rooms.leave[roomId].timeline.events.at(-1).content.membership).toBe('leave');
      const again = await call(hs, 'GET', `${CS}/sync?since=${res.body.next_batch}`, {
        token: bob.accessToken,
      });
      expect(again.body.rooms).toBeUndefined();
    });

    it('when a filter sets timeline.limit, then the timeline is limited', async () => {
      const user = hs.registerUser('filtered');
      const roomId = await createRoom(user.accessToken);
      const filter = await call(hs, 'POST', `${CS}/user/${enc(user.userId)}/filter`, {
        token: user.accessToken,
        body: { room: { timeline: { limit: 2 }, state: { lazy_load_members: true } } },
      });
      const res = await call(hs, 'GET', `${CS}/sync?filter=${filter.body.filter_id}`, {
        token: user.accessToken,
      });
      const timeline = res.body.rooms.join[roomId].timeline;
      expect(timeline.events).toHaveLength(2);
      expect(timeline.limited).toBe(true);
      expect(typeof timeline.prev_batch).toBe('string');
      const inline = await call(
        hs,
        'GET',
        `${CS}/sync?filter=${enc(JSON.stringify({ room: { timeline: { limit: 1 } } }))}`,
        { token: user.accessToken },
      );
      expect(inline.body.rooms.join[roomId].timeline.events).toHaveLength(1);
    });

    it('when a filter sets timeline.not_senders, then their messages are left out, others kept', async () => {
      const roomId = await roomWithBob();
      const filter = enc(JSON.stringify({ room: { timeline: { not_senders: [bob.userId] } } }));
      const initial = await call(hs, 'GET', `${CS}/sync?filter=${filter}`, {
        token: bob.accessToken,
      });
      for (const [token, body] of [
        [bob.accessToken, 'mine'],
        [alice.accessToken, 'theirs'],
      ] as const) {
        await call(hs, 'PUT', `${CS}/rooms/${enc(roomId)}/send/m.room.message/ns-${body}`, {
          token,
          body: { msgtype: 'm.text', body },
        });
      }
      const res = await call(
        hs,
        'GET',
        `${CS}/sync?filter=${filter}&since=${initial.body.next_batch}`,
        { token: bob.accessToken },
      );
      const bodies = res.body.rooms.join[roomId].timeline.events.map(
        (e: { content: { body?: string } }) => e.content.body,
      );
      expect(bodies).toEqual(['theirs']);
      // Nothing but their own messages since: the room is not in the answer at all.
      await call(hs, 'PUT', `${CS}/rooms/${enc(roomId)}/send/m.room.message/ns-again`, {
        token: bob.accessToken,
        body: { msgtype: 'm.text', body: 'again' },
      });
      const quiet = await call(
        hs,
        'GET',
        `${CS}/sync?filter=${filter}&since=${res.body.next_batch}&timeout=0`,
        { token: bob.accessToken },
      );
      expect(quiet.body.rooms).toBeUndefined();
    });

    it('when since is garbage or from the future, then 400 M_UNKNOWN Invalid stream token', async () => {
      for (const since of ['garbage', 's999999999']) {
        const res = await call(hs, 'GET', `${CS}/sync?since=${since}`, {
          token: alice.accessToken,
        });
        expectAnswer(res, 400, { errcode: 'M_UNKNOWN', error: 'Invalid stream token' });
      }
    });
  });

  describe('profile', () => {
    it('when a user sets its display name and avatar, then both read back (without auth)', async () => {
      const user = hs.registerUser('profiled');
      const base = `${CS}/profile/${enc(user.userId)}`;
      expect((await call(hs, 'GET', `${base}/displayname`)).body).toEqual({
        displayname: 'profiled',
      });
      const put = await call(hs, 'PUT', `${base}/displayname`, {
        token: user.accessToken,
        body: { displayname: 'Profiled Bot' },
      });
      expect(put.status).toBe(200);
      await call(hs, 'PUT', `${base}/avatar_url`, {
        token: user.accessToken,
        body: { avatar_url: 'mxc://test.local/abc' },
      });
      expect((await call(hs, 'GET', base)).body).toEqual({
        displayname: 'Profiled Bot',
        avatar_url: 'mxc://test.local/abc',
      });
      expect((await call(hs, 'GET', `${base}/avatar_url`)).body).toEqual({
        avatar_url: 'mxc://test.local/abc',
      });
      expect(hs.userProfile(user.userId)?.displayname).toBe('Profiled Bot');
    });

    it('when a user sets another user’s profile, then 400 M_FORBIDDEN; unknown users are 404', async () => {
      const res = await call(hs, 'PUT', `${CS}/profile/${enc(alice.userId)}/displayname`, {
        token: bob.accessToken,
        body: { displayname: 'hacked' },
      });
      expectAnswer(res, 400, {
        errcode: 'M_FORBIDDEN',
        error: "Cannot set another user's displayname",
      });
      const unknown = await call(hs, 'GET', `${CS}/profile/${enc('@ghost:test.local')}`);
      expect(unknown.status).toBe(404);
      expect(unknown.body.errcode).toBe('M_NOT_FOUND');
    });
  });

  describe('filters', () => {
    it('when a filter is created, then it reads back; unknown and foreign filters fail', async () => {
      const filter = { room: { timeline: { limit: 5 } } };
      const created = await call(hs, 'POST', `${CS}/user/${enc(alice.userId)}/filter`, {
        token: alice.accessToken,
        body: filter,
      });
      expect(typeof created.body.filter_id).toBe('string');
      const read = await call(
        hs,
        'GET',
        `${CS}/user/${enc(alice.userId)}/filter/${created.body.filter_id}`,
        { token: alice.accessToken },
      );
      expect(read.body).toEqual(filter);
      const unknown = await call(hs, 'GET', `${CS}/user/${enc(alice.userId)}/filter/9999`, {
        token: alice.accessToken,
      });
      expect(unknown.status).toBe(404);
      const foreign = await call(hs, 'POST', `${CS}/user/${enc(alice.userId)}/filter`, {
        token: bob.accessToken,
        body: filter,
      });
      expect(foreign.status).toBe(403);
    });
  });

  describe('media', () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]);
    async function upload(server: TestHomeserver, token: string): Promise<string> {
      const up = await fetch(`${server.url}/_matrix/media/v3/upload?filename=a.png`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'image/png' },
        body: bytes,
      });
      expect(up.status).toBe(200);
      const { content_uri } = (await up.json()) as { content_uri: string };
      expect(content_uri).toMatch(/^mxc:\/\/test\.local\/[\w-]+$/);
      return content_uri.slice('mxc://'.length);
    }

    it('when media is uploaded, then the v3 download returns it and the v1 (authenticated) one is unknown', async () => {
      const mediaPath = await upload(hs, alice.accessToken);
      const legacy = await fetch(`${hs.url}/_matrix/media/v3/download/${mediaPath}`);
      expect(legacy.headers.get('content-type')).toBe('image/png');
      expect(legacy.headers.get('content-disposition')).toBe('inline; filename=a.png');
      expect(Buffer.from(await legacy.arrayBuffer())).toEqual(bytes);
      const authed = await call(hs, 'GET', `/_matrix/client/v1/media/download/${mediaPath}`, {
        token: alice.accessToken,
      });
      expectAnswer(authed, 400, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });

      const missing = await call(hs, 'GET', '/_matrix/media/v3/download/test.local/nope');
      expect(missing.status).toBe(404);
      expect(missing.body.errcode).toBe('M_NOT_FOUND');
    });

    it('when uploading without a token, then 401', async () => {
      const res = await call(hs, 'POST', '/_matrix/media/v3/upload', { raw: 'x' });
      expect(res.status).toBe(401);
    });

    it('when authenticatedMedia is on, then /_matrix/client/v1/media serves downloads to users with a token', async () => {
      const modern = await TestHomeserver.start({ authenticatedMedia: true });
      try {
        const user = modern.registerUser('modern');
        const mediaPath = await upload(modern, user.accessToken);
        const url = `${modern.url}/_matrix/client/v1/media/download/${mediaPath}`;
        const authed = await fetch(url, {
          headers: { Authorization: `Bearer ${user.accessToken}` },
        });
        expect(authed.status).toBe(200);
        expect(Buffer.from(await authed.arrayBuffer())).toEqual(bytes);
        expect((await fetch(url)).status).toBe(401);
        expect((await call(modern, 'GET', '/_matrix/client/versions')).body.versions).toContain(
          'v1.11',
        );
      } finally {
        await modern.close();
      }
    });
  });
});

describe('TestHomeserver stop and restart', () => {
  it('when stopped, then fetch fails; when restarted, then same port, state and tokens', async () => {
    const hs = await TestHomeserver.start();
    try {
      const user = hs.registerUser('persist', 'pw');
      const url = hs.url;
      const roomId = (
        await call(hs, 'POST', `${CS}/createRoom`, { token: user.accessToken, body: { name: 'R' } })
      ).body.room_id as string;
      await hs.stop();
      await expect(fetch(`${url}/_matrix/client/versions`)).rejects.toThrow();
      await hs.restart();
      expect(hs.url).toBe(url);
      const name = await call(hs, 'GET', `${CS}/rooms/${enc(roomId)}/state/m.room.name`, {
        token: user.accessToken,
      });
      expect(name.body).toEqual({ name: 'R' });
    } finally {
      await hs.close();
    }
  });

  it('when stopped during a long-poll, then the poll ends instead of hanging', async () => {
    const hs = await TestHomeserver.start();
    try {
      const user = hs.registerUser('poller');
      const initial = await call(hs, 'GET', `${CS}/sync`, { token: user.accessToken });
      const poll = call(hs, 'GET', `${CS}/sync?since=${initial.body.next_batch}&timeout=10000`, {
        token: user.accessToken,
      }).catch((err: unknown) => err);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = Date.now();
      await hs.stop();
      await poll;
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await hs.close();
    }
  });
});

describe('TestHomeserver limits, as Synapse', () => {
  it('when an event is over 65536 bytes in its federation form, then 413 M_TOO_LARGE and nothing is stored', async () => {
    const hs = await TestHomeserver.start();
    try {
      const user = hs.registerUser('big');
      const roomId = (
        await call(hs, 'POST', `${CS}/createRoom`, { token: user.accessToken, body: {} })
      ).body.room_id as string;
      const before = hs.roomEvents(roomId)!.length;
      const send = (txn: string, body: string) =>
        call(hs, 'PUT', `${CS}/rooms/${enc(roomId)}/send/m.room.message/${txn}`, {
          token: user.accessToken,
          body: { msgtype: 'm.text', body },
        });
      // The recorded case: a 66 000-character body.
      const recorded = await send('t1', 'x'.repeat(66_000));
      expectAnswer(recorded, 413, { errcode: 'M_TOO_LARGE', error: 'event too large' });
      // The envelope counts too: content that alone is under the limit can be refused.
      const close = await send('t2', 'x'.repeat(65_000));
      expect(close.status).toBe(413);
      const state = await call(hs, 'PUT', `${CS}/rooms/${enc(roomId)}/state/m.room.topic/`, {
        token: user.accessToken,
        body: { topic: 'x'.repeat(66_000) },
      });
      expect(state.status).toBe(413);
      expect(hs.roomEvents(roomId)!.length).toBe(before);
      const fine = await send('t3', 'x'.repeat(60_000));
      expect(fine.status).toBe(200);
    } finally {
      await hs.close();
    }
  });

  it('when sends exceed the capacity, then the extra ones wait for a slot, each taking the latency', async () => {
    const hs = await TestHomeserver.start({ sendCapacity: 2, sendLatencyMs: 100 });
    try {
      const user = hs.registerUser('busy');
      const roomIds: string[] = [];
      for (let i = 0; i < 4; i++) {
        roomIds.push(
          (await call(hs, 'POST', `${CS}/createRoom`, { token: user.accessToken, body: {} })).body
            .room_id as string,
        );
      }
      const started = performance.now();
      const done: number[] = [];
      await Promise.all(
        roomIds.map(async (roomId, i) => {
          const res = await call(
            hs,
            'PUT',
            `${CS}/rooms/${enc(roomId)}/send/m.room.message/t${i}`,
            {
              token: user.accessToken,
              body: { msgtype: 'm.text', body: `${i}` },
            },
          );
          expect(res.status).toBe(200);
          done.push(performance.now() - started);
        }),
      );
      done.sort((a, b) => a - b);
      // Two at a time: the last two cannot be done before two latencies have passed.
      expect(done[0]).toBeGreaterThanOrEqual(95);
      expect(done[2]).toBeGreaterThanOrEqual(195);
      expect(done[3]).toBeGreaterThanOrEqual(195);
    } finally {
      await hs.close();
    }
  });
});

describe('TestHomeserver /messages', () => {
  it('pages forward from a sync token up to a prev_batch, and back from one, leaving out filtered senders', async () => {
    const hs = await TestHomeserver.start();
    try {
      const alice = hs.registerUser('alice');
      const bob = hs.registerUser('bob');
      const roomId = (
        await call(hs, 'POST', `${CS}/createRoom`, {
          token: alice.accessToken,
          body: { preset: 'public_chat' },
        })
      ).body.room_id as string;
      await call(hs, 'POST', `${CS}/join/${enc(roomId)}`, { token: bob.accessToken, body: {} });
      const since = (await call(hs, 'GET', `${CS}/sync`, { token: bob.accessToken })).body
        .next_batch as string;
      for (let i = 0; i < 6; i++) {
        const who = i % 3 === 2 ? bob : alice;
        await call(hs, 'PUT', `${CS}/rooms/${enc(roomId)}/send/m.room.message/t${i}`, {
          token: who.accessToken,
          body: { msgtype: 'm.text', body: `m${i}` },
        });
      }
      const sync = await call(
        hs,
        'GET',
        `${CS}/sync?since=${since}&filter=${enc(JSON.stringify({ room: { timeline: { limit: 2 } } }))}`,
        { token: bob.accessToken },
      );
      const timeline = sync.body.rooms.join[roomId].timeline;
      expect(timeline.limited).toBe(true);
      expect(timeline.events.map((e: { content: { body: string } }) => e.content.body)).toEqual([
        'm4',
        'm5',
      ]);
      const page = async (query: string) => {
        const res = await call(hs, 'GET', `${CS}/rooms/${enc(roomId)}/messages?${query}`, {
          token: bob.accessToken,
        });
        expect(res.status).toBe(200);
        return res.body as {
          chunk: { content: { body: string }; room_id: string }[];
          start: string;
          end?: string;
        };
      };
      const filter = enc(JSON.stringify({ not_senders: [bob.userId] }));
      const first = await page(
        `dir=f&from=${since}&to=${timeline.prev_batch}&limit=2&filter=${filter}`,
      );
      expect(first.chunk.map((e) => e.content.body)).toEqual(['m0', 'm1']);
      expect(first.chunk[0]!.room_id).toBe(roomId);
      expect(first.start).toBe(since);
      const second = await page(
        `dir=f&from=${first.end}&to=${timeline.prev_batch}&limit=2&filter=${filter}`,
      );
      expect(second.chunk.map((e) => e.content.body)).toEqual(['m3']);
      const done = await page(
        `dir=f&from=${second.end}&to=${timeline.prev_batch}&filter=${filter}`,
      );
      expect(done).toEqual({ chunk: [], start: second.end });
      const back = await page(`dir=b&from=${timeline.prev_batch}&limit=3`);
      expect(back.chunk.map((e) => e.content.body)).toEqual(['m3', 'm2', 'm1']);
      const bad = await call(hs, 'GET', `${CS}/rooms/${enc(roomId)}/messages?from=nope`, {
        token: bob.accessToken,
      });
      expect(bad.status).toBe(400);
    } finally {
      await hs.close();
    }
  });
});
