import type { TestHomeserver, RegisteredUser } from '../../testing/homeserver/test-homeserver';
import type { TestApp } from './app';
import { maubotApi } from './maubot-api';
import { waitFor } from './wait';

const CS = '/_matrix/client/v3';

export interface BotRoom {
  alice: RegisteredUser;
  bot: RegisteredUser;
  roomId: string;
  /** alice sends a text message to the room. */
  say(body: string): Promise<void>;
  /** The bodies of the bot's messages in the room, oldest first. */
  botMessages(): string[];
}

/** A bot account added as a client of the app, joined to a room alice made and invited it to. */
export async function botInRoom(hs: TestHomeserver, t: TestApp): Promise<BotRoom> {
  const alice = hs.registerUser('alice');
  const bot = hs.registerUser('bot');
  const created = await maubotApi(t).put(`/client/${bot.userId}`, {
    homeserver: hs.url,
    access_token: bot.accessToken,
  });
  if (created.status !== 201) throw new Error(`adding the bot's client: ${created.status}`);
  const res = await fetch(`${hs.url}${CS}/createRoom`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${alice.accessToken}` },
    body: JSON.stringify({ invite: [bot.userId] }),
  });
  const roomId = ((await res.json()) as { room_id: string }).room_id;
  await waitFor(
    () =>
      hs
        .roomState(roomId)!
        .some(
          (e) =>
            e.type === 'm.room.member' &&
            e.state_key === bot.userId &&
            e.content.membership === 'join',
        ),
    { what: 'the bot to join' },
  );
  let txn = 0;
  return {
    alice,
    bot,
    roomId,
    async say(body) {
      const path = `${CS}/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t${++txn}`;
      await fetch(`${hs.url}${path}`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${alice.accessToken}` },
        body: JSON.stringify({ msgtype: 'm.text', body }),
      });
    },
    botMessages: () =>
      hs
        .roomEvents(roomId)!
        .filter((e) => e.sender === bot.userId && e.type === 'm.room.message')
        .map((e) => String(e.content.body)),
  };
}
