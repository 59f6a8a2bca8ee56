import request from 'supertest';
import { WEBHOOK } from '../../src/bridge/connection-types';
import { TOO_LARGE_TEXT } from '../../src/bridge/event-size';
import { startBridge, type BridgeHarness } from '../helpers/bridge';
import { waitFor } from '../helpers/wait';
import type { ClientEvent, RegisteredUser } from '../../testing/homeserver/test-homeserver';
import { expectAnswer } from '../helpers/answers';

const TYPE = WEBHOOK.eventType;
const DATA_KEY = 'uk.half-shot.hookshot.webhook_data';

/**
 * Notices over the homeserver's event size limit: made to fit (payload, then HTML, then the
 * text cut, saying so), and a notice in the room when the homeserver still refuses one.
 */
describe('notices too large for a Matrix event', () => {
  let b: BridgeHarness;
  let alice: RegisteredUser;
  let roomId: string;
  let hook: string;

  const notices = (): ClientEvent[] =>
    (b.hs.roomEvents(roomId) ?? []).filter(
      (e) => e.type === 'm.room.message' && e.sender === b.bot.userId,
    );
  const post = (body: unknown) =>
    request(b.t.app)
      .post(hook)
      .send(body as object);
  const next = async (before: number): Promise<ClientEvent> => {
    await waitFor(() => notices().length > before, { what: 'the notice' });
    return notices()[before]!;
  };

  beforeAll(async () => {
    b = await startBridge('embedded', {
      config: { webhooks: { urlPrefix: 'https://hooks.example.org/webhook/' } },
    });
    alice = b.user('alice');
    roomId = await b.room(alice, { users: { [b.bot.userId]: 50 } });
    const created = await b.v1('put', `/${roomId}/connections/${TYPE}`, alice.userId).send({
      name: 'big',
    });
    hook = new URL((created.body.secrets as { url: string }).url).pathname;
  });
  afterAll(() => b.close());

  it('when a JSON payload without text is 30 kB then the notice keeps the whole text, without the payload and HTML', async () => {
    const before = notices().length;
    const payload = { log: 'line "quoted" <tag>\n'.repeat(1500) };
    expect((await post(payload)).status).toBe(202);
    const event = await next(before);
    expect(event.content[DATA_KEY]).toBeUndefined();
    expect(event.content.formatted_body).toBeUndefined();
    expect(event.content.format).toBeUndefined();
    expect(event.content.body).toBe(
      `Received webhook data:\n\n\`\`\`json\n${JSON.stringify(payload, null, 2)}\n\`\`\``,
    );
  });

  it('when a text of 8 kB comes with 60 kB of other fields then only the payload is left out', async () => {
    const before = notices().length;
    const text = 'word '.repeat(1600);
    expect((await post({ text, extra: 'x'.repeat(60_000) })).status).toBe(202);
    const event = await next(before);
    expect(event.content[DATA_KEY]).toBeUndefined();
    expect(event.content.body).toBe(text);
    expect(event.content.formatted_body).toBe(`<p>${text.trim()}</p>`);
  });

  it('when a text of 25 kB is posted then it comes whole with its payload, without HTML (too long to render)', async () => {
    const before = notices().length;
    const text = 'word '.repeat(5000);
    expect((await post({ text })).status).toBe(202);
    const event = await next(before);
    expect(event.content[DATA_KEY]).toEqual({ text });
    expect(event.content.body).toBe(text);
    expect(event.content.formatted_body).toBeUndefined();
  });

  it('when a text of 100 kB is posted then it is cut to fit and says so', async () => {
    const before = notices().length;
    const text = 'x'.repeat(100_000);
    expect((await post({ text })).status).toBe(202);
    const event = await next(before);
    const body = event.content.body as string;
    expect(body).toMatch(
      /^x{60000,}\n\n… \(message truncated: it was too large for a Matrix event\)$/,
    );
    expect(Object.keys(event.content).sort()).toEqual(['body', 'msgtype']);
  });

  it('when the sender waits for completion then it gets 200 and the room the shortened notice', async () => {
    const created = await b.v1('put', `/${roomId}/connections/${TYPE}`, alice.userId).send({
      name: 'waiting',
      waitForComplete: true,
    });
    const path = new URL((created.body.secrets as { url: string }).url).pathname;
    const before = notices().length;
    const res = await request(b.t.app)
      .post(path)
      .send({ text: 'y'.repeat(70_000) });
    expectAnswer(res, 200, { ok: true });
    const event = await next(before);
    expect(event.content.body).toMatch(/^y+\n\n… \(message truncated/);
  });
});

describe('a homeserver with a lower event size limit', () => {
  let b: BridgeHarness;

  afterAll(() => b.close());

  it('when it refuses a message as too large then the room gets a notice saying so, and the next message still goes', async () => {
    b = await startBridge('embedded', {
      config: { webhooks: { urlPrefix: 'https://hooks.example.org/webhook/' } },
      homeserver: { maxEventBytes: 8000 },
    });
    const alice = b.user('alice');
    const roomId = await b.room(alice, { users: { [b.bot.userId]: 50 } });
    const created = await b.v1('put', `/${roomId}/connections/${TYPE}`, alice.userId).send({
      name: 'strict',
    });
    const path = new URL((created.body.secrets as { url: string }).url).pathname;
    for (const text of ['z'.repeat(20_000), 'small']) {
      expect((await request(b.t.app).post(path).send({ text })).status).toBe(202);
    }
    const notices = () =>
      (b.hs.roomEvents(roomId) ?? []).filter(
        (e) => e.type === 'm.room.message' && e.sender === b.bot.userId,
      );
    await waitFor(() => notices().length === 2, { what: 'both notices' });
    expect(notices().map((e) => e.content.body)).toEqual([TOO_LARGE_TEXT, 'small']);
  });
});
