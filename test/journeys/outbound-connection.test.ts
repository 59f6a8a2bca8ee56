import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OUTBOUND_HOOK } from '../../src/bridge/connection-types';
import { startBridge, type BridgeHarness } from '../helpers/bridge';
import { testDatabaseKinds } from '../helpers/databases';
import { waitFor } from '../helpers/wait';
import type { RegisteredUser } from '../../testing/homeserver/test-homeserver';
import { expectAnswer } from '../helpers/answers';

const TYPE = OUTBOUND_HOOK.eventType;

interface Received {
  method: string;
  headers: IncomingHttpHeaders;
  form: FormData;
}

/** Outbound webhooks through the whole server: a room message reaches a local receiver. */
describe.each(testDatabaseKinds())('outbound webhooks end to end (%s)', (kind) => {
  let b: BridgeHarness;
  let alice: RegisteredUser;
  let roomId: string;
  let receiver: Server;
  let receiverUrl: string;
  const received: Received[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        void new Response(body, { headers: { 'content-type': req.headers['content-type']! } })
          .formData()
          .then((form) => {
            received.push({ method: req.method!, headers: req.headers, form });
            res.writeHead(200).end('ok');
          });
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    b = await startBridge(kind, {
      config: {
        webhooks: { urlPrefix: 'https://hooks.example.org/webhook/', outbound: true },
        allowPrivateDestinations: true,
      },
    });
    alice = b.user('alice');
    roomId = await b.room(alice, { users: { [b.bot.userId]: 50 } });
  });
  afterAll(async () => {
    await b.close();
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('when a user writes in the room, then the hook gets the event with the token; the bot itself is not echoed', async () => {
    const created = await b.v1('put', `/${roomId}/connections/${TYPE}`, alice.userId).send({
      name: 'relay',
      url: receiverUrl,
      method: 'POST',
    });
    expect(created.status).toBe(200);
    expect(created.body.type).toBe('Webhook');
    expect(created.body.service).toBe('genericOutbound');
    expect(created.body.config).toEqual({ name: 'relay', url: receiverUrl, method: 'POST' });
    const token = created.body.secrets.token as string;
    expect(token).toMatch(/^hs-ob-[0-9a-f-]{36}$/);
    const row = await b.t.db.knex('connection').where({ id: created.body.id }).first();
    expect(JSON.stringify(row)).not.toContain(token);
    // GET never shows the token.
    const one = await b.v1('get', `/${roomId}/connections/${created.body.id}`, alice.userId);
    expect(one.body.secrets).toBeUndefined();

    await b.t.bridge.bot.send(roomId, { msgtype: 'm.notice', body: 'from the bot' });
    const sent = await b.matrix(
      alice,
      'PUT',
      `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/`,
      {
        msgtype: 'm.text',
        body: 'hello hook',
      },
    );
    const { event_id: eventId } = (await sent.json()) as { event_id: string };
    await waitFor(() => received.length >= 1, { what: 'the outbound request' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received).toHaveLength(1);
    const [got] = received;
    expect(got!.method).toBe('POST');
    expect(got!.headers['x-matrix-hookshot-roomid']).toBe(roomId);
    expect(got!.headers['x-matrix-hookshot-eventid']).toBe(eventId);
    expect(got!.headers['x-matrix-hookshot-token']).toBe(token);
    const part = got!.form.get('event') as File;
    expect(part.name).toBe('event_data.json');
    expect(part.type).toBe('application/json');
    const event = JSON.parse(await part.text()) as Record<string, unknown>;
    expect(event).toMatchObject({
      room_id: roomId,
      event_id: eventId,
      sender: alice.userId,
      type: 'm.room.message',
      content: { msgtype: 'm.text', body: 'hello hook' },
    });

    // After a restart the hook is still there, with its token.
    await b.restart();
    await b.matrix(alice, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/`, {
      msgtype: 'm.text',
      body: 'after restart',
    });
    await waitFor(() => received.length >= 2, { what: 'the request after the restart' });
    expect(received[1]!.headers['x-matrix-hookshot-token']).toBe(token);
  });

  it('when the URL is not http(s), then 400 HS_BAD_VALUE (upstream answered 500)', async () => {
    const res = await b.v1('put', `/${roomId}/connections/${TYPE}`, alice.userId).send({
      name: 'bad-url',
      url: 'ftp://example.org/x',
    });
    expectAnswer(res, 400, {
      errcode: 'HS_BAD_VALUE',
      error: 'Outbound URL protocol must be http or https',
    });
  });
});
