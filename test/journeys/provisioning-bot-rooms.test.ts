import request from 'supertest';
import { connectionId } from '../../src/bridge/connection-service';
import { WEBHOOK } from '../../src/bridge/connection-types';
import { startBridge, type BridgeHarness } from '../helpers/bridge';
import { TEST_PROVISIONING_SECRET } from '../helpers/config';
import { testDatabaseKinds } from '../helpers/databases';
import { captureLogs } from '../helpers/log-capture';
import { waitFor } from '../helpers/wait';
import type { RegisteredUser } from '../../testing/homeserver/test-homeserver';
import { expectAnswer } from '../helpers/answers';

const TYPE = WEBHOOK.eventType;
const PREFIX = 'https://hooks.example.org/webhook/';
const enc = encodeURIComponent;

/**
 * The provisioning bot on a homeserver that behaves like Synapse: it never sees its own joins
 * and leaves in sync (it filters out its own events), yet always knows its rooms, and the
 * rooms decide where connections live.
 */
describe.each(testDatabaseKinds())('the provisioning bot and its rooms (%s)', (kind) => {
  let b: BridgeHarness;
  let alice: RegisteredUser;
  const logs = captureLogs();

  beforeAll(async () => {
    b = await startBridge(kind, {
      config: { webhooks: { urlPrefix: PREFIX } },
      logger: logs.logger,
    });
    alice = b.user('alice');
  });
  afterAll(() => b.close());

  const bot = () => b.t.bridge.bot;
  const joinRequests = (roomId: string) =>
    b.hs.requests.filter(
      (r) =>
        r.userId === b.bot.userId &&
        r.method === 'POST' &&
        (r.path.endsWith(`/join/${enc(roomId)}`) || r.path.endsWith(`/join/${roomId}`)),
    ).length;
  /** A message from alice that the bot has seen: its sync got past everything before it. */
  async function botCaughtUp(roomId: string): Promise<void> {
    const marker = `marker ${Math.random()}`;
    const seen = new Promise<void>((resolve) =>
      bot().onRoomEvent((e) => {
        if (e.content.body === marker) resolve();
      }),
    );
    await b.matrix(alice, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/`, {
      msgtype: 'm.text',
      body: marker,
    });
    await seen;
  }
  async function createRoom(body: Record<string, unknown> = {}): Promise<string> {
    const res = await b.matrix(alice, 'POST', '/createRoom', {
      power_level_content_override: { users: { [alice.userId]: 100, [b.bot.userId]: 50 } },
      ...body,
    });
    return ((await res.json()) as { room_id: string }).room_id;
  }
  const invite = (roomId: string) =>
    b.matrix(alice, 'POST', `/rooms/${enc(roomId)}/invite`, { user_id: b.bot.userId });
  /** A room of alice's that the bot was invited to and joined. */
  async function joinedRoom(): Promise<string> {
    const roomId = await createRoom();
    await invite(roomId);
    await waitFor(() => bot().isJoined(roomId), { what: 'the bot to join' });
    return roomId;
  }
  /**
   * The upgrade as a client performs it: a new room naming its predecessor, the bot invited
   * there, then the tombstone in the old room.
   */
  async function upgrade(oldRoom: string): Promise<string> {
    const newRoom = await createRoom({
      creation_content: { predecessor: { room_id: oldRoom, event_id: '$tombstone' } },
      invite: [b.bot.userId],
    });
    await b.matrix(alice, 'PUT', `/rooms/${enc(oldRoom)}/state/m.room.tombstone/`, {
      body: 'This room has been replaced',
      replacement_room: newRoom,
    });
    return newRoom;
  }
  const hookOf = async (roomId: string, name: string) => {
    const res = await b.v1('put', `/${roomId}/connections/${TYPE}`, alice.userId).send({ name });
    expect(res.status).toBe(200);
    return { id: res.body.id as string, url: res.body.secrets.url as string };
  };
  const post = (url: string, body: unknown) =>
    request(b.t.app)
      .post(new URL(url).pathname)
      .send(body as object);
  const botNotices = (roomId: string) =>
    (b.hs.roomEvents(roomId) ?? [])
      .filter((e) => e.sender === b.bot.userId && e.type === 'm.room.message')
      .map((e) => e.content.body);

  it('when invited while running, then it joins once and the room can be provisioned at once', async () => {
    const roomId = await joinedRoom();
    const listed = await b.v1('get', `/${roomId}/connections`, alice.userId);
    expectAnswer(listed, 200, []);
    // The sync after the join shows the room with its old invite: no second join.
    await botCaughtUp(roomId);
    expect(joinRequests(roomId)).toBe(1);
  });

  it('when the server joins it (its own join is filtered out of sync), then it knows the room', async () => {
    const roomId = await createRoom({ preset: 'public_chat' });
    const joined = await fetch(`${b.hs.url}/_matrix/client/v3/join/${enc(roomId)}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${b.bot.accessToken}` },
      body: '{}',
    });
    expect(joined.status).toBe(200);
    await waitFor(() => bot().isJoined(roomId), { what: 'the bot to notice its join' });
    expect(joinRequests(roomId)).toBe(1);
  });

  it('when kicked, then its connections are dropped (hook 404, rows gone, logged); a new invite is joined again', async () => {
    const roomId = await joinedRoom();
    const hook = await hookOf(roomId, 'kicked-hook');
    expect((await post(hook.url, { text: 'before' })).status).toBe(202);

    await b.matrix(alice, 'POST', `/rooms/${enc(roomId)}/kick`, {
      user_id: b.bot.userId,
      reason: 'go away',
    });
    await waitFor(() => !bot().isJoined(roomId), { what: 'the bot to notice the kick' });
    await waitFor(() => b.t.bridge.connections.inRoom(roomId).length === 0, {
      what: 'the connections to go',
    });
    expect(b.t.bridge.connections.get(hook.id)).toBeUndefined();
    expect(await b.t.db.knex('connection').where({ room_id: roomId })).toEqual([]);
    expect(await b.t.db.knex('webhook_hook').where({ connection_id: hook.id })).toEqual([]);
    const gone = await post(hook.url, { text: 'after' });
    expect(gone.status).toBe(404);
    expect(logs.lines).toContainEqual(
      expect.objectContaining({
        roomId,
        connectionId: hook.id,
        msg: `connection dropped: the bot was kicked by ${alice.userId}`,
      }),
    );
    // The admin sees an unknown room now, not a room the bot is still in.
    const listed = await b.v1('get', `/${roomId}/connections`, alice.userId);
    expect(listed.body).toEqual({
      errcode: 'HS_NOT_IN_ROOM',
      error: 'Bot is not joined to the room.',
    });

    await invite(roomId);
    await waitFor(() => bot().isJoined(roomId), { what: 'the bot to join again' });
    expect(joinRequests(roomId)).toBe(2);
  });

  it('when banned, then its connections are dropped too', async () => {
    const roomId = await joinedRoom();
    const hook = await hookOf(roomId, 'banned-hook');
    await b.matrix(alice, 'POST', `/rooms/${enc(roomId)}/ban`, { user_id: b.bot.userId });
    await waitFor(() => b.t.bridge.connections.get(hook.id) === undefined, {
      what: 'the connection to go',
    });
    expect(bot().isJoined(roomId)).toBe(false);
    expect((await post(hook.url, { text: 'x' })).status).toBe(404);
    expect(logs.text()).toContain(`connection dropped: the bot was banned by ${alice.userId}`);
  });

  it('when it leaves from another session (invisible in its sync), then the homeserver\'s next "not in room" corrects its rooms', async () => {
    const roomId = await joinedRoom();
    await fetch(`${b.hs.url}/_matrix/client/v3/rooms/${enc(roomId)}/leave`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${b.bot.accessToken}` },
      body: '{}',
    });
    // Still believed joined (a former member may read the room as it was): the homeserver
    // refuses the state write, and that corrects it.
    const first = await b.v1('put', `/${roomId}/connections/${TYPE}`, alice.userId).send({
      name: 'too-late',
    });
    expect(first.status).toBe(403);
    expect(first.body.errcode).toBe('HS_FORBIDDEN_BOT');
    expect(await b.t.db.knex('connection').where({ room_id: roomId })).toEqual([]);
    await waitFor(() => !bot().isJoined(roomId), { what: 'the bot to re-read its rooms' });
    const second = await b.v1('get', `/${roomId}/connections`, alice.userId);
    expect(second.body).toEqual({
      errcode: 'HS_NOT_IN_ROOM',
      error: 'Bot is not joined to the room.',
    });
  });

  it('when it was joined while Switchboard was stopped, then it knows the room after the restart', async () => {
    const roomId = await createRoom({ preset: 'public_chat' });
    await b.t.close();
    await fetch(`${b.hs.url}/_matrix/client/v3/join/${enc(roomId)}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${b.bot.accessToken}` },
      body: '{}',
    });
    await b.restart();
    expect(bot().isJoined(roomId)).toBe(true);
    expect((await b.v1('get', `/${roomId}/connections`, alice.userId)).status).toBe(200);
  });

  it('when it was kicked and invited again while Switchboard was stopped, then the connections are dropped and it joins again', async () => {
    const roomId = await joinedRoom();
    const hook = await hookOf(roomId, 'kicked-while-down');
    await b.t.close();
    await b.matrix(alice, 'POST', `/rooms/${enc(roomId)}/kick`, { user_id: b.bot.userId });
    await invite(roomId);
    await b.restart();
    await waitFor(() => b.t.bridge.connections.get(hook.id) === undefined, {
      what: 'the connection to be dropped',
    });
    expect(await b.t.db.knex('connection').where({ room_id: roomId })).toEqual([]);
    expect((await post(hook.url, { text: 'x' })).status).toBe(404);
    await waitFor(() => bot().isJoined(roomId), { what: 'the bot to join again' });
  });

  it('when hooks were edited in the room state while Switchboard was stopped, then the edits are read after the restart', async () => {
    const roomId = await joinedRoom();
    const edited = await hookOf(roomId, 'edited-while-down');
    const disabled = await hookOf(roomId, 'disabled-while-down');
    await b.restart(async () => {
      await b.matrix(alice, 'PUT', `/rooms/${enc(roomId)}/state/${TYPE}/edited-while-down`, {
        name: 'edited-while-down',
        waitForComplete: true,
      });
      await b.matrix(alice, 'PUT', `/rooms/${enc(roomId)}/state/${TYPE}/disabled-while-down`, {
        disabled: true,
      });
      // More messages than a sync's timeline holds: the edits are only in the gap before it.
      for (let i = 0; i < 60; i++) {
        await b.matrix(alice, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/`, {
          msgtype: 'm.text',
          body: `filler ${i}`,
        });
      }
    });
    await waitFor(() => b.t.bridge.connections.get(edited.id)?.config.waitForComplete === true, {
      what: 'the edit to be read',
    });
    await waitFor(() => b.t.bridge.connections.get(disabled.id) === undefined, {
      what: 'the disabled hook to be removed',
    });
    expect(await b.t.db.knex('connection').where({ id: disabled.id })).toEqual([]);
    const row = await b.t.db.knex('connection').where({ id: edited.id }).first();
    expect(row.config).toEqual({ name: 'edited-while-down', waitForComplete: true });
    expect((await post(disabled.url, { text: 'gone' })).status).toBe(404);
  });

  it('when the room was upgraded while Switchboard was stopped, then the bot follows the tombstone after the restart', async () => {
    const oldRoom = await joinedRoom();
    const hook = await hookOf(oldRoom, 'upgraded-while-down');
    let newRoom = '';
    await b.restart(async () => {
      newRoom = await upgrade(oldRoom);
    });
    const movedId = connectionId(newRoom, TYPE, 'upgraded-while-down');
    await waitFor(() => b.t.bridge.connections.get(movedId), { what: 'the connection to move' });
    expect(bot().isJoined(newRoom)).toBe(true);
    expect(b.t.bridge.connections.get(hook.id)).toBeUndefined();
    expect((await post(hook.url, { text: 'after the upgrade' })).status).toBe(202);
    await waitFor(() => botNotices(newRoom).includes('after the upgrade'), {
      what: 'the notice in the new room',
    });
  });

  it('when Dimension invites the bot and sends the PUT at once, then the PUT waits for the join and succeeds', async () => {
    const roomId = await createRoom();
    await invite(roomId);
    const res = await b.v1('put', `/${roomId}/connections/${TYPE}`, alice.userId).send({
      name: 'right-away',
    });
    expect(res.status).toBe(200);
    expect(res.body.config.name).toBe('right-away');
    expect(bot().isJoined(roomId)).toBe(true);
  });

  it('when a PUT names a room the bot is never invited to, then 403 HS_NOT_IN_ROOM after a short wait', async () => {
    const roomId = await createRoom();
    const res = await b.v1('put', `/${roomId}/connections/${TYPE}`, alice.userId).send({
      name: 'nobody-here',
    });
    expectAnswer(res, 403, {
      errcode: 'HS_NOT_IN_ROOM',
      error: 'Bot is not joined to the room.',
    });
  });

  it('when the room is upgraded, then the bot follows the tombstone and the connections move (same hook URL)', async () => {
    const oldRoom = await joinedRoom();
    const hook = await hookOf(oldRoom, 'moving-hook');
    const newRoom = await upgrade(oldRoom);
    const movedId = connectionId(newRoom, TYPE, 'moving-hook');
    await waitFor(() => b.t.bridge.connections.get(movedId), { what: 'the connection to move' });
    expect(bot().isJoined(newRoom)).toBe(true);
    expect(b.t.bridge.connections.get(hook.id)).toBeUndefined();
    expect(await b.t.db.knex('connection').where({ room_id: oldRoom })).toEqual([]);
    const newState = b.hs
      .roomState(newRoom)!
      .find((e) => e.type === TYPE && e.state_key === 'moving-hook');
    expect(newState).toMatchObject({ sender: b.bot.userId, content: { name: 'moving-hook' } });
    // The old room's state says the hook is gone (written after the move).
    await waitFor(
      () =>
        b.hs.roomState(oldRoom)!.find((e) => e.type === TYPE && e.state_key === 'moving-hook')
          ?.content.disabled,
      { what: 'the old room state to be marked removed' },
    );
    // The same URL now posts into the new room.
    expect((await post(hook.url, { text: 'in the new room' })).status).toBe(202);
    await waitFor(() => botNotices(newRoom).includes('in the new room'), {
      what: 'the notice in the new room',
    });
    expect(botNotices(oldRoom)).not.toContain('in the new room');
    const listed = await b.v1('get', `/${newRoom}/connections`, alice.userId);
    expect(listed.body.map((c: { id: string }) => c.id)).toEqual([movedId]);
  });

  it('when an admin edits a hook in the room state, then it is read: disabled:true removes it, other content replaces its config', async () => {
    const roomId = await joinedRoom();
    const hook = await hookOf(roomId, 'edited-hook');
    await b.matrix(alice, 'PUT', `/rooms/${enc(roomId)}/state/${TYPE}/edited-hook`, {
      name: 'edited-hook',
      waitForComplete: true,
    });
    await waitFor(() => b.t.bridge.connections.get(hook.id)?.config.waitForComplete === true, {
      what: 'the edit to be read',
    });
    const row = await b.t.db.knex('connection').where({ id: hook.id }).first();
    expect(row.config).toEqual({ name: 'edited-hook', waitForComplete: true });
    // waitForComplete is in force: the answer comes once the notice is in the room.
    expect((await post(hook.url, { text: 'waited' })).status).toBe(200);

    await b.matrix(alice, 'PUT', `/rooms/${enc(roomId)}/state/${TYPE}/edited-hook`, {
      disabled: true,
    });
    await waitFor(() => b.t.bridge.connections.get(hook.id) === undefined, {
      what: 'the hook to be removed',
    });
    expect(await b.t.db.knex('connection').where({ id: hook.id })).toEqual([]);
    expect((await post(hook.url, { text: 'no more' })).status).toBe(404);

    // Empty content (how clients "remove" state) removes it as well.
    const emptied = await hookOf(roomId, 'emptied-hook');
    await b.matrix(alice, 'PUT', `/rooms/${enc(roomId)}/state/${TYPE}/emptied-hook`, {});
    await waitFor(() => b.t.bridge.connections.get(emptied.id) === undefined, {
      what: 'the emptied hook to be removed',
    });
  });

  it('when an admin writes invalid hook state, then the stored state is put back and the room is told why', async () => {
    const roomId = await joinedRoom();
    const hook = await hookOf(roomId, 'guarded-hook');
    await b.matrix(alice, 'PUT', `/rooms/${enc(roomId)}/state/${TYPE}/guarded-hook`, {
      name: 'guarded-hook',
      waitForComplete: 'yes',
    });
    const stateOf = () =>
      b.hs.roomState(roomId)!.find((e) => e.type === TYPE && e.state_key === 'guarded-hook')!;
    await waitFor(() => stateOf().sender === b.bot.userId, { what: 'the state to be put back' });
    expect(stateOf().content).toEqual({ name: 'guarded-hook' });
    expect(b.t.bridge.connections.get(hook.id)?.config).toEqual({ name: 'guarded-hook' });
    await waitFor(() => botNotices(roomId).length > 0, { what: 'the notice' });
    expect(botNotices(roomId)).toEqual([
      `The change to the connection "guarded-hook" was not applied: 'waitForComplete' must be a boolean`,
    ]);
  });
});

describe.each(testDatabaseKinds())('bridge permissions, listings and state edits (%s)', (kind) => {
  let b: BridgeHarness;
  let owner: RegisteredUser;
  let moderator: RegisteredUser;

  beforeAll(async () => {
    b = await startBridge(kind, {
      config: {
        webhooks: { urlPrefix: PREFIX },
        // The owner manages connections; everyone else on the server may only use them.
        provisioning: {
          secret: TEST_PROVISIONING_SECRET,
          botUserId: '@bridgebot:test.local',
          permissions: [
            { actor: '@owner:test.local', services: [{ service: '*', level: 'admin' }] },
            { actor: 'test.local', services: [{ service: '*', level: 'commands' }] },
          ],
        },
      },
    });
    owner = b.user('owner');
    moderator = b.user('moderator');
  });
  afterAll(() => b.close());

  it('when a moderator without the bridge permission lists hooks, then no URL; when they edit one in the room, then the stored state is put back', async () => {
    const roomId = await b.room(owner, {
      users: { [b.bot.userId]: 50, [moderator.userId]: 50 },
      members: [moderator],
    });
    const created = await b.v1('put', `/${roomId}/connections/${TYPE}`, owner.userId).send({
      name: 'owned',
    });
    expect(created.status).toBe(200);
    // The power level to manage webhooks, but not the bridge permission: no URL in the listing.
    const listed = await b.v1('get', `/${roomId}/connections`, moderator.userId);
    expect(listed.body).toEqual([expect.objectContaining({ config: { name: 'owned' } })]);
    expect(listed.text).not.toContain(created.body.secrets.hookId);
    await b.matrix(moderator, 'PUT', `/rooms/${enc(roomId)}/state/${TYPE}/owned`, {
      disabled: true,
    });
    const stateOf = () =>
      b.hs.roomState(roomId)!.find((e) => e.type === TYPE && e.state_key === 'owned')!;
    await waitFor(() => stateOf().sender === b.bot.userId, { what: 'the state to be put back' });
    expect(stateOf().content).toEqual({ name: 'owned' });
    expect(b.t.bridge.connections.get(created.body.id)).toBeDefined();
  });
});
