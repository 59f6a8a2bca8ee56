import { createLogger } from '../../src/logging/logger';
import { BotClient, type RoomEvent } from '../../src/matrix/bot-client';
import { homeserverApi } from '../../src/matrix/homeserver-api';
import {
  HomeserverError,
  HomeserverUnreachableError,
  IdentityMismatchError,
} from '../../src/matrix/matrix-errors';
import { freePort } from '../helpers/process';
import { waitFor } from '../helpers/wait';
import { TestHomeserver, type RegisteredUser } from '../../testing/homeserver/test-homeserver';

const CS = '/_matrix/client/v3';

describe('the Matrix adapter (BotClient, homeserverApi) against a homeserver', () => {
  let hs: TestHomeserver;
  let alice: RegisteredUser;
  const running: BotClient[] = [];

  beforeAll(async () => {
    hs = await TestHomeserver.start();
    alice = hs.registerUser('alice');
  });
  afterAll(async () => {
    for (const bot of running) bot.stop();
    await hs.close();
  });

  function botFor(
    user: RegisteredUser,
    settings: Partial<ConstructorParameters<typeof BotClient>[0]> = {},
  ) {
    const bot = new BotClient({
      userId: user.userId,
      homeserver: hs.url,
      accessToken: user.accessToken,
      deviceId: user.deviceId,
      sync: true,
      autojoin: false,
      online: true,
      displayname: 'disable',
      avatarUrl: 'disable',
      nextBatch: '',
      filterId: '',
      logger: createLogger('silent'),
      onSyncPosition: () => undefined,
      onTokenRejected: () => undefined,
      ...settings,
    });
    running.push(bot);
    return bot;
  }

  async function aliceCreatesRoom(invite: string[] = []): Promise<string> {
    const res = await fetch(`${hs.url}${CS}/createRoom`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${alice.accessToken}` },
      body: JSON.stringify({ invite }),
    });
    return ((await res.json()) as { room_id: string }).room_id;
  }

  it('joins, reads membership and power levels, writes and reads state, sends, leaves', async () => {
    const user = hs.registerUser('roomops');
    const bot = botFor(user, { sync: false });
    await bot.start();
    const roomId = await aliceCreatesRoom([user.userId]);
    // An invitee may not read the room (not even its own membership), as on Synapse.
    await expect(bot.getMembership(roomId, user.userId)).rejects.toMatchObject({ status: 403 });
    expect(await bot.joinRoom(roomId)).toBe(roomId);
    expect(await bot.joinedRooms()).toEqual([roomId]);
    expect(await bot.getMembership(roomId, user.userId)).toBe('join');
    const levels = await bot.getPowerLevels(roomId);
    expect(levels).toMatchObject({ users: { [alice.userId]: 100 } });
    // A member at level 0 may not send state (state_default 50): the homeserver's 403 surfaces.
    await expect(bot.setState(roomId, 'org.example.state', 'k', { a: 1 })).rejects.toMatchObject({
      status: 403,
      errcode: 'M_FORBIDDEN',
    });
    expect(await bot.getState(roomId, 'org.example.state', 'k')).toBeNull();
    const eventId = await bot.sendText(roomId, 'hello', '<b>hello</b>');
    const sent = hs.roomEvents(roomId)!.find((e) => e.event_id === eventId)!;
    expect(sent).toMatchObject({
      type: 'm.room.message',
      sender: user.userId,
      content: {
        msgtype: 'm.text',
        body: 'hello',
        format: 'org.matrix.custom.html',
        formatted_body: '<b>hello</b>',
      },
    });
    await bot.leaveRoom(roomId);
    expect(await bot.joinedRooms()).toEqual([]);
  });

  it('writes state where it has the power, and reads it back', async () => {
    const user = hs.registerUser('stateops');
    const bot = botFor(user, { sync: false });
    await bot.start();
    const res = await fetch(`${hs.url}${CS}/createRoom`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${user.accessToken}` },
      body: '{}',
    });
    const { room_id: roomId } = (await res.json()) as { room_id: string };
    const eventId = await bot.setState(roomId, 'org.example.state', 'k', { a: 1 });
    expect(eventId).toMatch(/^\$/);
    expect(await bot.getState(roomId, 'org.example.state', 'k')).toEqual({ a: 1 });
    await bot.inviteUser(roomId, alice.userId);
    expect(await bot.getMembership(roomId, alice.userId)).toBe('invite');
  });

  it('uploads media and answers its mxc URI', async () => {
    const user = hs.registerUser('media');
    const bot = botFor(user, { sync: false });
    await bot.start();
    const uri = await bot.uploadMedia(Buffer.from('avatar bytes'), 'image/png', 'a.png');
    const [, server, id] = /^mxc:\/\/([^/]+)\/(.+)$/.exec(uri)!;
    const res = await fetch(`${hs.url}/_matrix/media/v3/download/${server}/${id}`);
    expect(await res.text()).toBe('avatar bytes');
  });

  it('delivers events that arrive after the initial sync, not the backlog', async () => {
    const user = hs.registerUser('listener');
    const roomId = await aliceCreatesRoom([user.userId]);
    const say = (txn: string, body: string) =>
      fetch(`${hs.url}${CS}/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txn}`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${alice.accessToken}` },
        body: JSON.stringify({ msgtype: 'm.text', body }),
      });
    await fetch(`${hs.url}${CS}/join/${encodeURIComponent(roomId)}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${user.accessToken}` },
      body: '{}',
    });
    await say('t0', 'said before the bot started');
    const bot = botFor(user);
    const seen: RoomEvent[] = [];
    bot.onRoomEvent((e) => seen.push(e));
    await bot.start();
    await say('t1', '!ping');
    const message = await waitFor(
      () => seen.find((e) => e.type === 'm.room.message' && e.content.body === '!ping'),
      { what: 'the message' },
    );
    expect(message).toMatchObject({ roomId, sender: alice.userId });
    expect(message.eventId).toMatch(/^\$/);
    expect(seen.map((e) => e.content.body)).not.toContain('said before the bot started');
  });

  it('refuses a token of another device at start', async () => {
    const user = hs.registerUser('wrongdevice');
    const bot = botFor(user, { deviceId: 'OTHERDEVICE', sync: false });
    await expect(bot.start()).rejects.toBeInstanceOf(IdentityMismatchError);
  });

  it('translates homeserver answers and network failures into its own errors', async () => {
    await expect(homeserverApi.whoami(hs.url, 'bad')).rejects.toMatchObject({
      status: 401,
      errcode: 'M_UNKNOWN_TOKEN',
      tokenRejected: true,
    });
    await expect(homeserverApi.whoami(hs.url, 'bad')).rejects.toBeInstanceOf(HomeserverError);
    const port = await freePort();
    await expect(homeserverApi.whoami(`http://127.0.0.1:${port}`, 'x')).rejects.toBeInstanceOf(
      HomeserverUnreachableError,
    );
    expect(await homeserverApi.versions(hs.url)).toContain('v1.2');
    expect(await homeserverApi.loginFlows(hs.url)).toEqual([
      'm.login.password',
      'm.login.application_service',
    ]);
  });
});
