import request from 'supertest';
import { WEBHOOK } from '../../src/bridge/connection-types';
import { PROVISIONING_AUTH, startBridge, type BridgeHarness } from '../helpers/bridge';
import { testDatabaseKinds } from '../helpers/databases';
import { waitFor } from '../helpers/wait';

const TYPE = WEBHOOK.eventType;
const PREFIX = 'https://hooks.example.org/webhook/';

/**
 * Dimension's webhook bridge, call for call, against Switchboard and a homeserver that behaves
 * like Synapse: room ids raw in the path, `userId` on every call, the state event type in the
 * PUT path, the hook URL read from `config.url`, success only on 200/202 with a JSON body.
 */
describe.each(testDatabaseKinds())('Dimension adding and removing webhooks (%s)', (kind) => {
  let b: BridgeHarness;
  beforeAll(async () => {
    b = await startBridge(kind, { config: { webhooks: { urlPrefix: PREFIX } } });
  });
  afterAll(() => b.close());

  /** A provisioning call as Dimension's `request` client makes it. */
  function dimension(method: 'get' | 'put' | 'delete', path: string, userId: string) {
    const agent = request(b.t.app);
    return agent[method](`/v1${path}?userId=${encodeURIComponent(userId)}`)
      .set('Authorization', PROVISIONING_AUTH)
      .set('Accept', 'application/json');
  }
  const expectDimensionSuccess = (res: request.Response) => {
    expect([200, 202]).toContain(res.status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(() => JSON.parse(res.text) as unknown).not.toThrow();
  };

  it('when a room admin invites the bot, makes it moderator and adds two hooks at once, then both post, a PL 0 member sees no secret, and removing them works', async () => {
    const alice = b.user('alice');
    const bob = b.user('bob');
    const made = await b.matrix(alice, 'POST', '/createRoom', { invite: [bob.userId] });
    const { room_id: roomId } = (await made.json()) as { room_id: string };
    await b.matrix(bob, 'POST', `/join/${encodeURIComponent(roomId)}`, {});

    // The bridge page: connection types name the bot to invite.
    const types = await dimension('get', '/connectiontypes', alice.userId);
    expectDimensionSuccess(types);
    const botUserId = (types.body as Record<string, { eventType: string; botUserId: string }>)
      .Webhook!.botUserId;
    expect(botUserId).toBe(b.bot.userId);

    // "Add webhook": invite, promote to moderator, PUT — without waiting for the join.
    await b.matrix(alice, 'POST', `/rooms/${encodeURIComponent(roomId)}/invite`, {
      user_id: botUserId,
    });
    const levelsPath = `/rooms/${encodeURIComponent(roomId)}/state/m.room.power_levels/`;
    const levels = (await (await b.matrix(alice, 'GET', levelsPath)).json()) as {
      users: Record<string, number>;
    };
    await b.matrix(alice, 'PUT', levelsPath, {
      ...levels,
      users: { ...levels.users, [botUserId]: 50 },
    });
    const first = await dimension('put', `/${roomId}/connections/${TYPE}`, alice.userId).send({
      name: 'Deploys',
    });
    expectDimensionSuccess(first);
    expect(first.body.config.name).toBe('Deploys');
    const firstUrl = first.body.config.url as string;
    expect(firstUrl).toMatch(new RegExp(`^${PREFIX}[0-9a-f-]{36}$`));

    // Dimension shows the URL; someone posts to it; the notice is in the room.
    const posted = await request(b.t.app)
      .post(new URL(firstUrl).pathname)
      .send({ text: 'shipped' });
    expect(posted.status).toBe(202);
    const notices = () =>
      b.hs
        .roomEvents(roomId)!
        .filter((e) => e.sender === botUserId && e.type === 'm.room.message')
        .map((e) => e.content.body);
    await waitFor(() => notices().includes('shipped'), { what: 'the notice' });

    // The second hook: Dimension sends an empty name.
    const second = await dimension('put', `/${roomId}/connections/${TYPE}`, alice.userId).send({
      name: '',
    });
    expectDimensionSuccess(second);
    expect(second.body.config.name).toMatch(/^webhook-[0-9a-f]{8}$/);
    const secondUrl = second.body.config.url as string;
    expect(secondUrl).toMatch(new RegExp(`^${PREFIX}`));
    expect(secondUrl).not.toBe(firstUrl);

    // The admin's listing (what the bridge page shows): both, with their URLs.
    const listed = await dimension('get', `/${roomId}/connections`, alice.userId);
    expectDimensionSuccess(listed);
    const byName = (body: { config: { name: string; url?: string } }[]) =>
      Object.fromEntries(body.map((c) => [c.config.name, c.config.url]));
    expect(byName(listed.body)).toEqual({
      Deploys: firstUrl,
      [second.body.config.name]: secondUrl,
    });

    // A member at PL 0 may list, but sees no URL and no hook id anywhere.
    const seen = await dimension('get', `/${roomId}/connections`, bob.userId);
    expectDimensionSuccess(seen);
    expect(byName(seen.body)).toEqual({ Deploys: undefined, [second.body.config.name]: undefined });
    for (const url of [firstUrl, secondUrl]) {
      expect(seen.text).not.toContain(url.slice(PREFIX.length));
    }
    expect(seen.body.every((c: object) => !('secrets' in c))).toBe(true);
    // Nor does the room state hold them.
    expect(JSON.stringify(b.hs.roomState(roomId))).not.toContain(firstUrl.slice(PREFIX.length));

    // "Remove webhook": DELETE by raw id, a JSON body back; the URLs stop working.
    for (const created of [first, second]) {
      const removed = await dimension(
        'delete',
        `/${roomId}/connections/${created.body.id}`,
        alice.userId,
      );
      expectDimensionSuccess(removed);
      expect(removed.body).toEqual({ ok: true });
    }
    expect((await dimension('get', `/${roomId}/connections`, alice.userId)).body).toEqual([]);
    for (const url of [firstUrl, secondUrl]) {
      expect((await request(b.t.app).post(new URL(url).pathname).send({ text: 'x' })).status).toBe(
        404,
      );
    }
  });
});
