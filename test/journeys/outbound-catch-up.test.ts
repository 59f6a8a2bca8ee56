import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OUTBOUND_HOOK } from '../../src/bridge/connection-types';
import { startBridge, type BridgeHarness } from '../helpers/bridge';
import { captureLogs } from '../helpers/log-capture';
import { waitFor } from '../helpers/wait';
import type {
  RegisteredUser,
  TestHomeserverOptions,
} from '../../testing/homeserver/test-homeserver';

const TYPE = OUTBOUND_HOOK.eventType;

interface Delivery {
  event: { event_id: string; content: Record<string, unknown> };
  media: File | null;
}

/** A local receiver of outbound hook requests. */
async function receiver(): Promise<{ url: string; got: Delivery[]; close(): Promise<void> }> {
  const got: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void new Response(Buffer.concat(chunks), {
        headers: { 'content-type': req.headers['content-type']! },
      })
        .formData()
        .then(async (form) => {
          const event = JSON.parse(await (form.get('event') as File).text()) as Delivery['event'];
          got.push({ event, media: (form.get('media') as File | null) ?? null });
          res.writeHead(200).end('ok');
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function setup(homeserver: TestHomeserverOptions = {}) {
  const logs = captureLogs();
  const hook = await receiver();
  const b = await startBridge('embedded', {
    config: {
      webhooks: { urlPrefix: 'https://hooks.example.org/webhook/', outbound: true },
      allowPrivateDestinations: true,
    },
    logger: logs.logger,
    homeserver,
  });
  const alice = b.user('alice');
  const roomId = await b.room(alice, { users: { [b.bot.userId]: 50 } });
  const created = await b.v1('put', `/${roomId}/connections/${TYPE}`, alice.userId).send({
    name: 'relay',
    url: hook.url,
    method: 'POST',
  });
  expect(created.status).toBe(200);
  const say = async (user: RegisteredUser, content: Record<string, unknown>) => {
    const res = await b.matrix(
      user,
      'PUT',
      `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/`,
      content,
    );
    return ((await res.json()) as { event_id: string }).event_id;
  };
  return { b, alice, roomId, hook, logs, say };
}

describe('outbound hooks across a restart', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  afterAll(async () => {
    await s.b.close();
    await s.hook.close();
  });

  it('when messages are sent while Switchboard is stopped then they are delivered after the start, in order, and logged', async () => {
    s = await setup();
    await s.say(s.alice, { msgtype: 'm.text', body: 'before' });
    await waitFor(() => s.hook.got.length === 1, { what: 'the first delivery' });
    const missed: string[] = [];
    await s.b.restart(async () => {
      for (let i = 1; i <= 5; i++) {
        missed.push(await s.say(s.alice, { msgtype: 'm.text', body: `while stopped ${i}` }));
      }
    });
    await s.say(s.alice, { msgtype: 'm.text', body: 'after' });
    await waitFor(() => s.hook.got.length === 7, { what: 'every message' });
    expect(s.hook.got.map((d) => d.event.content.body)).toEqual([
      'before',
      'while stopped 1',
      'while stopped 2',
      'while stopped 3',
      'while stopped 4',
      'while stopped 5',
      'after',
    ]);
    const caughtUp = s.logs.lines
      .filter((l) => l.msg === 'catching up on an event from while the client was stopped')
      .map((l) => l.eventId);
    expect(caughtUp).toEqual(expect.arrayContaining(missed));
  });

  it('when more messages than a sync timeline holds (50) are sent while stopped then every one is delivered, in order', async () => {
    const before = s.hook.got.length;
    const bodies = Array.from({ length: 80 }, (_, i) => `missed ${i}`);
    await s.b.restart(async () => {
      for (const body of bodies) await s.say(s.alice, { msgtype: 'm.text', body });
    });
    await s.say(s.alice, { msgtype: 'm.text', body: 'after the gap' });
    await waitFor(() => s.hook.got.length === before + 81, {
      what: 'every message',
      timeoutMs: 30_000,
    });
    expect(s.hook.got.slice(before).map((d) => d.event.content.body)).toEqual([
      ...bodies,
      'after the gap',
    ]);
    expect(s.logs.lines).toContainEqual(
      expect.objectContaining({
        msg: 'fetched the events a limited sync left out of a room',
        events: 30,
      }),
    );
  });
});

describe('outbound hooks with media', () => {
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

  async function upload(b: BridgeHarness, user: RegisteredUser): Promise<string> {
    const res = await fetch(`${b.hs.url}/_matrix/media/v3/upload?filename=pixel.png`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${user.accessToken}`, 'Content-Type': 'image/png' },
      body: png,
    });
    return ((await res.json()) as { content_uri: string }).content_uri;
  }

  it.each([
    ['a homeserver without authenticated media (Synapse 1.67)', false],
    ['a homeserver with authenticated media', true],
  ])('on %s an image is attached to the delivery', async (_name, authenticatedMedia) => {
    const { b, alice, hook, say } = await setup({ authenticatedMedia });
    try {
      for (const body of ['one.png', 'two.png']) {
        await say(alice, {
          msgtype: 'm.image',
          body,
          url: await upload(b, alice),
          info: { mimetype: 'image/png' },
        });
      }
      await waitFor(() => hook.got.length === 2, { what: 'both deliveries' });
      for (const [i, delivery] of hook.got.entries()) {
        expect(delivery.media).not.toBeNull();
        expect(delivery.media!.name).toBe(['one.png', 'two.png'][i]);
        expect(delivery.media!.type).toBe('image/png');
        expect(Buffer.from(await delivery.media!.arrayBuffer())).toEqual(png);
      }
      // Only the bot downloads here.
      const downloads = b.hs.requests
        .filter((r) => r.path.includes('/download/'))
        .map((r) => r.path.replace(/\/download\/.*/, ''));
      // Without authenticated media it is tried once (400 M_UNRECOGNIZED), then the older path.
      expect(downloads).toEqual(
        authenticatedMedia
          ? ['/_matrix/client/v1/media', '/_matrix/client/v1/media']
          : ['/_matrix/client/v1/media', '/_matrix/media/v3', '/_matrix/media/v3'],
      );
    } finally {
      await b.close();
      await hook.close();
    }
  });
});
