import request from 'supertest';
import { WEBHOOK } from '../../src/bridge/connection-types';
import { connectionId } from '../../src/bridge/connection-service';
import { startBridge, type BridgeHarness } from '../helpers/bridge';
import { testDatabaseKinds } from '../helpers/databases';
import { waitFor } from '../helpers/wait';
import type { RegisteredUser } from '../../testing/homeserver/test-homeserver';
import { expectAnswer } from '../helpers/answers';

const TYPE = WEBHOOK.eventType;
const PREFIX = 'https://hooks.example.org/webhook/';

/** Inbound webhooks through the whole server: provisioning API, bot, room, ingress, restart. */
describe.each(testDatabaseKinds())('inbound webhooks end to end (%s)', (kind) => {
  let b: BridgeHarness;
  let alice: RegisteredUser; // room owner
  let mod: RegisteredUser; // PL 50
  let roomId: string;

  const notices = () =>
    (b.hs.roomEvents(roomId) ?? []).filter(
      (e) => e.type === 'm.room.message' && e.sender === b.bot.userId,
    );
  const stateOf = (stateKey: string) =>
    b.hs.roomState(roomId)!.find((e) => e.type === TYPE && e.state_key === stateKey);
  const post = (url: string, body: unknown) =>
    request(b.t.app)
      .post(new URL(url).pathname)
      .send(body as object);

  beforeAll(async () => {
    b = await startBridge(kind, { config: { webhooks: { urlPrefix: PREFIX } } });
    alice = b.user('alice');
    mod = b.user('mod');
    roomId = await b.room(alice, {
      users: { [b.bot.userId]: 50, [mod.userId]: 50 },
      members: [mod],
    });
  });
  afterAll(() => b.close());

  it('when created, posted to, updated, deleted, re-created and restarted, then the room gets exactly the notices', async () => {
    const types = await b.v1('get', '/connectiontypes', mod.userId);
    expect(types.body.Webhook).toEqual({
      type: 'Webhook',
      eventType: TYPE,
      service: 'generic',
      botUserId: b.bot.userId,
    });

    const created = await b.v1('put', `/${roomId}/connections/${TYPE}`, mod.userId).send({
      name: 'alerts',
    });
    expect(created.status).toBe(200);
    const { url, hookId } = created.body.secrets as { url: string; hookId: string };
    expect(url).toBe(`${PREFIX}${hookId}`);
    expect(created.body).toEqual({
      type: 'Webhook',
      eventType: TYPE,
      service: 'generic',
      botUserId: b.bot.userId,
      id: connectionId(roomId, TYPE, 'alerts'),
      // Dimension reads the URL from config.url.
      config: { name: 'alerts', url },
      secrets: { url, hookId },
    });
    const state = stateOf('alerts')!;
    expect(state.sender).toBe(b.bot.userId);
    expect(state.content).toEqual({ name: 'alerts' });
    // The hook id is a secret of the database, never in the room.
    expect(JSON.stringify(b.hs.roomState(roomId))).not.toContain(hookId);

    // Listed for a user who may manage webhooks here: with config.url, without secrets.
    const listed = await b.v1('get', `/${roomId}/connections`, mod.userId);
    expect(listed.body).toEqual([{ ...created.body, secrets: undefined }].map(stripUndefined));

    const accepted = await post(url, { text: 'hi' });
    expectAnswer(accepted, 202, { ok: true });
    await waitFor(() => notices().length === 1, { what: 'the notice' });
    expect(notices()[0]!.content).toMatchObject({ msgtype: 'm.notice', body: 'hi' });

    const patched = await b
      .v1('patch', `/${roomId}/connections/${created.body.id}`, mod.userId)
      .send({ waitForComplete: true });
    expect(patched.status).toBe(200);
    expect(patched.body.config).toEqual({ name: 'alerts', waitForComplete: true, url });
    expect(patched.body.secrets).toEqual({ url, hookId });
    // The hook id is in no config: not in the room state, not in the stored row.
    expect(stateOf('alerts')!.content).toEqual({ name: 'alerts', waitForComplete: true });
    const row = await b.t.db.knex('connection').where({ id: created.body.id }).first();
    expect(row.config).toEqual({ name: 'alerts', waitForComplete: true });
    // waitForComplete: the answer comes once the message is in the room.
    const completed = await post(url, { text: 'second' });
    expectAnswer(completed, 200, { ok: true });
    expect(notices().map((e) => e.content.body)).toEqual(['hi', 'second']);

    const deleted = await b.v1('delete', `/${roomId}/connections/${created.body.id}`, mod.userId);
    expectAnswer(deleted, 200, { ok: true });
    expect(stateOf('alerts')!.content).toEqual({ disabled: true });
    const gone = await post(url, { text: 'lost' });
    expectAnswer(gone, 404, { ok: false, error: 'Webhook not found' });

    const again = await b.v1('put', `/${roomId}/connections/${TYPE}`, mod.userId).send({
      name: 'alerts',
    });
    expect(again.status).toBe(200);
    const second = again.body.secrets as { url: string; hookId: string };
    expect(second.hookId).not.toBe(hookId);

    // Re-creating the same name updates that connection and keeps its one URL (upstream's
    // second PUT made a URL that died at the next restart).
    const recreated = await b.v1('put', `/${roomId}/connections/${TYPE}`, mod.userId).send({
      name: 'alerts',
    });
    expect(recreated.status).toBe(200);
    expect(recreated.body.secrets).toEqual(second);
    expect(await b.t.db.knex('webhook_hook')).toHaveLength(1);

    await b.restart();
    const restarted = await post(second.url, { text: 'after restart' });
    expect(restarted.status).toBe(202);
    await waitFor(() => notices().length === 3, { what: 'the notice after the restart' });
    expect(notices().map((e) => e.content.body)).toEqual(['hi', 'second', 'after restart']);
    const stale = await post(url, { text: 'old url' });
    expect(stale.status).toBe(404);
  });

  it('when Dimension adds a webhook without a name, then one is generated and it works', async () => {
    const created = await b.v1('put', `/${roomId}/connections/${TYPE}`, mod.userId).send({});
    expect(created.status).toBe(200);
    const name = created.body.config.name as string;
    expect(name).toMatch(/^webhook-[0-9a-f]{8}$/);
    expect(stateOf(name)!.content).toEqual({ name });
    // Dimension reads id and config.name from the listing and deletes by raw id.
    const listed = await b.v1('get', `/${roomId}/connections`, mod.userId);
    expect(listed.body.map((c: { config: { name: string } }) => c.config.name)).toContain(name);
    const deleted = await request(b.t.app)
      .delete(
        `/v1/${roomId}/connections/${created.body.id}?userId=${encodeURIComponent(mod.userId)}`,
      )
      .set('Authorization', 'Bearer provisioning-test-secret');
    expectAnswer(deleted, 200, { ok: true });
  });

  it('when the homeserver rate-limits the bot then the posts still arrive, in order, and nothing stays pending', async () => {
    const created = await b.v1('put', `/${roomId}/connections/${TYPE}`, mod.userId).send({
      name: 'limited',
    });
    const { url } = created.body.secrets as { url: string };
    const before = notices().length;
    b.hs.rateLimitNext(2);
    for (const text of ['one', 'two', 'three']) {
      expect((await post(url, { text })).status).toBe(202);
    }
    await waitFor(() => notices().length === before + 3, { what: 'the rate-limited notices' });
    expect(
      notices()
        .slice(before)
        .map((e) => e.content.body),
    ).toEqual(['one', 'two', 'three']);
    const metrics = await request(b.t.app).get('/metrics');
    expect(metrics.text).toContain('switchboard_bridge_messages_pending 0\n');
  });

  it('when a user at PL 0 tries to create one, then 403 and no state', async () => {
    const pleb = b.user('pleb');
    await b.matrix(alice, 'POST', `/rooms/${encodeURIComponent(roomId)}/invite`, {
      user_id: pleb.userId,
    });
    await b.matrix(pleb, 'POST', `/join/${encodeURIComponent(roomId)}`, {});
    const res = await b.v1('put', `/${roomId}/connections/${TYPE}`, pleb.userId).send({
      name: 'sneaky',
    });
    expectAnswer(res, 403, {
      errcode: 'HS_FORBIDDEN_USER',
      error: 'User has a PL of 0 but needs at least 50.',
    });
    expect(stateOf('sneaky')).toBeUndefined();
  });
});

function stripUndefined<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
