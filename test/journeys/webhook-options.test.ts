import request from 'supertest';
import { WEBHOOK } from '../../src/bridge/connection-types';
import { startBridge, type BridgeHarness } from '../helpers/bridge';
import { waitFor } from '../helpers/wait';
import type { RegisteredUser } from '../../testing/homeserver/test-homeserver';
import { expectAnswer } from '../helpers/answers';

const TYPE = WEBHOOK.eventType;

/** hookshot's webhook options through the provisioning API: kept, applied, refused when wrong. */
describe('webhook options', () => {
  let b: BridgeHarness;
  let alice: RegisteredUser;
  let roomId: string;

  beforeAll(async () => {
    b = await startBridge('embedded', {
      config: { webhooks: { urlPrefix: 'https://hooks.example.org/webhook/' } },
    });
    alice = b.user('alice');
    roomId = await b.room(alice, { users: { [b.bot.userId]: 50 } });
  });
  afterAll(() => b.close());

  it('when a hook is made with includeHookBody and showUrlPreviews off then they are stored, shown, applied and kept by PATCH', async () => {
    const created = await b.v1('put', `/${roomId}/connections/${TYPE}`, alice.userId).send({
      name: 'quiet',
      includeHookBody: false,
      showUrlPreviews: false,
    });
    expect(created.status).toBe(200);
    expect(created.body.config).toMatchObject({ includeHookBody: false, showUrlPreviews: false });
    const state = () =>
      b.hs.roomState(roomId)!.find((e) => e.type === TYPE && e.state_key === 'quiet')!.content;
    expect(state()).toMatchObject({ includeHookBody: false, showUrlPreviews: false });

    const url = new URL((created.body.secrets as { url: string }).url).pathname;
    expect(
      (await request(b.t.app).post(url).send({ text: 'see https://example.org' })).status,
    ).toBe(202);
    const notices = () =>
      b.hs
        .roomEvents(roomId)!
        .filter((e) => e.type === 'm.room.message' && e.sender === b.bot.userId);
    await waitFor(() => notices().length === 1, { what: 'the notice' });
    expect(notices()[0]!.content).toEqual({
      msgtype: 'm.notice',
      body: 'see https://example.org',
      format: 'org.matrix.custom.html',
      formatted_body: '<p>see https://example.org</p>',
      'com.beeper.linkpreviews': [],
    });

    const patched = await b
      .v1('patch', `/${roomId}/connections/${created.body.id as string}`, alice.userId)
      .send({ waitForComplete: true });
    expect(patched.status).toBe(200);
    expect(patched.body.config).toMatchObject({
      waitForComplete: true,
      includeHookBody: false,
      showUrlPreviews: false,
    });
    expect(state()).toMatchObject({ includeHookBody: false, showUrlPreviews: false });
  });

  it('when an option is not a boolean then 400 HS_BAD_VALUE and nothing is written', async () => {
    const before = b.hs.roomState(roomId)!.length;
    for (const key of ['includeHookBody', 'showUrlPreviews']) {
      const res = await b
        .v1('put', `/${roomId}/connections/${TYPE}`, alice.userId)
        .send({ name: 'wrong', [key]: 'no' });
      expectAnswer(res, 400, { errcode: 'HS_BAD_VALUE', error: `'${key}' must be a boolean` });
    }
    expect(b.hs.roomState(roomId)!.length).toBe(before);
  });

  it('when transformation functions are off and one is given then 500 HS_DISABLED_FEATURE and nothing is written', async () => {
    const before = b.hs.roomState(roomId)!.length;
    const res = await b
      .v1('put', `/${roomId}/connections/${TYPE}`, alice.userId)
      .send({ name: 'transformed', transformationFunction: 'result = 1' });
    expectAnswer(res, 500, {
      errcode: 'HS_DISABLED_FEATURE',
      error: 'Transformation functions are not allowed',
    });
    expect(b.hs.roomState(roomId)!.length).toBe(before);
  });

  it('when a configuration is too large for a room state event then 400 HS_BAD_VALUE and nothing is stored', async () => {
    const big = await startBridge('embedded', {
      config: {
        webhooks: {
          urlPrefix: 'https://hooks.example.org/webhook/',
          allowJsTransformationFunctions: true,
        },
      },
    });
    try {
      const owner = big.user('owner');
      const room = await big.room(owner, { users: { [big.bot.userId]: 50 } });
      const res = await big.v1('put', `/${room}/connections/${TYPE}`, owner.userId).send({
        name: 'huge',
        transformationFunction: `// ${'x'.repeat(70_000)}\nresult = "ok";`,
      });
      expectAnswer(res, 400, {
        errcode: 'HS_BAD_VALUE',
        error: 'The connection configuration is too large for a Matrix room state event',
      });
      const listed = await big.v1('get', `/${room}/connections`, owner.userId);
      expect(listed.body).toEqual([]);
      expect(big.hs.roomState(room)!.some((e) => e.type === TYPE)).toBe(false);
    } finally {
      await big.close();
    }
  });
});
