import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OUTBOUND_HOOK, type StoredConnection } from '../../src/bridge/connection-types';
import type { RoomEvent } from '../../src/matrix/bot-client';
import { OutboundSender } from '../../src/outbound/outbound-sender';
import { captureLogs } from '../helpers/log-capture';

const ROOM = '!room:switchboard.test';
const BOT = '@bot:switchboard.test';
const ALICE = '@alice:switchboard.test';
const TOKEN = 'hs-ob-00000000-0000-4000-8000-000000000001';

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** When the receiver finished answering it. */
  answeredAt: number;
  receivedAt: number;
}

/** A local receiver; `answer` picks each reply's status and delay. */
class Receiver {
  readonly received: Received[] = [];
  answer: (req: Received) => { status: number; delayMs?: number } = () => ({ status: 200 });
  private server: Server | undefined;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const entry: Received = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks),
          receivedAt: Date.now(),
          answeredAt: 0,
        };
        this.received.push(entry);
        const { status, delayMs = 0 } = this.answer(entry);
        setTimeout(() => {
          entry.answeredAt = Date.now();
          res.writeHead(status, { 'content-type': 'text/plain' }).end('answer');
        }, delayMs);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  url(path = '/hook'): string {
    const { port } = this.server?.address() as AddressInfo;
    return `http://127.0.0.1:${port}${path}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** Parses a received multipart body with the platform's own form-data parser. */
async function parts(received: Received): Promise<FormData> {
  const type = received.headers['content-type'] ?? '';
  return new Response(received.body, { headers: { 'content-type': type } }).formData();
}

function part(form: FormData, name: string): File {
  const value = form.get(name);
  if (!(value instanceof File)) throw new Error(`part ${name} is not a file`);
  return value;
}

function hook(url: string, overrides: Partial<StoredConnection> = {}): StoredConnection {
  return {
    id: 'conn-1',
    roomId: ROOM,
    eventType: OUTBOUND_HOOK.eventType,
    stateKey: 'hook',
    type: 'Webhook',
    service: 'genericOutbound',
    config: { name: 'hook', url, method: 'PUT' },
    secrets: { token: TOKEN },
    createdBy: ALICE,
    ...overrides,
  };
}

let seq = 0;
function message(content: Record<string, unknown>, overrides: Partial<RoomEvent> = {}): RoomEvent {
  seq += 1;
  return {
    roomId: ROOM,
    eventId: `$event${seq}`,
    type: 'm.room.message',
    sender: ALICE,
    content,
    originServerTs: 1_700_000_000_000 + seq,
    ...overrides,
  };
}

const FILE_BYTES = Buffer.from([0, 1, 2, 250, 251, 252, 0x0d, 0x0a, 0x2d, 0x2d, 99]);

describe('OutboundSender', () => {
  const receiver = new Receiver();
  let logs: ReturnType<typeof captureLogs>;
  let downloads: string[];
  let download: (mxc: string) => Promise<{ data: Buffer; contentType: string }>;

  const sender = (allowPrivate = true): OutboundSender =>
    new OutboundSender({
      allowPrivate,
      timeoutMs: 5_000,
      logger: logs.logger,
      userAgent: 'Switchboard/test',
      botUserId: BOT,
      download: (mxc) => {
        downloads.push(mxc);
        return download(mxc);
      },
    });

  const warnings = () => logs.lines.filter((l) => l.level === 40);

  beforeAll(() => receiver.start());
  afterAll(() => receiver.stop());
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.answer = () => ({ status: 200 });
    logs = captureLogs('debug');
    downloads = [];
    download = () => Promise.resolve({ data: FILE_BYTES, contentType: 'application/x-served' });
  });

  it('when a text message is delivered then the receiver gets the headers and the event part', async () => {
    const event = message({ msgtype: 'm.text', body: 'hello' });
    await sender().deliver(hook(receiver.url('/in?x=1')), event);

    expect(receiver.received).toHaveLength(1);
    const [got] = receiver.received as [Received];
    expect(got.method).toBe('PUT');
    expect(got.path).toBe('/in?x=1');
    expect(got.headers['x-matrix-hookshot-roomid']).toBe(ROOM);
    expect(got.headers['x-matrix-hookshot-eventid']).toBe(event.eventId);
    expect(got.headers['x-matrix-hookshot-token']).toBe(TOKEN);
    expect(got.headers['user-agent']).toBe('Switchboard/test');
    expect(got.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);

    const form = await parts(got);
    expect([...form.keys()]).toEqual(['event']);
    const eventPart = part(form, 'event');
    expect(eventPart.name).toBe('event_data.json');
    expect(eventPart.type).toBe('application/json');
    expect(JSON.parse(await eventPart.text())).toEqual({
      room_id: ROOM,
      event_id: event.eventId,
      sender: ALICE,
      type: 'm.room.message',
      content: { msgtype: 'm.text', body: 'hello' },
      origin_server_ts: event.originServerTs,
    });
    expect(downloads).toEqual([]);
    expect(warnings()).toEqual([]);
  });

  it('when an m.file is delivered by POST then the media part has its bytes, mimetype and filename', async () => {
    const content = {
      msgtype: 'm.file',
      body: 'caption text',
      filename: 'report.pdf',
      url: 'mxc://switchboard.test/abc',
      info: { mimetype: 'application/pdf', size: FILE_BYTES.length },
    };
    const conn = hook(receiver.url(), {
      config: { name: 'hook', url: receiver.url(), method: 'POST' },
    });
    await sender().deliver(conn, message(content));

    const [got] = receiver.received as [Received];
    expect(got.method).toBe('POST');
    expect(downloads).toEqual(['mxc://switchboard.test/abc']);
    const form = await parts(got);
    expect([...form.keys()]).toEqual(['event', 'media']);
    expect(JSON.parse(await part(form, 'event').text())).toMatchObject({ content });
    const media = part(form, 'media');
    expect(media.name).toBe('report.pdf');
    expect(media.type).toBe('application/pdf');
    expect(Buffer.from(await media.arrayBuffer())).toEqual(FILE_BYTES);
  });

  it.each(['m.image', 'm.audio', 'm.video'])(
    'when an %s has no filename then the media part is named after its body',
    async (msgtype) => {
      await sender().deliver(
        hook(receiver.url()),
        message({ msgtype, body: 'cat.bin', url: 'mxc://switchboard.test/m' }),
      );
      const media = part(await parts(receiver.received[0] as Received), 'media');
      expect(media.name).toBe('cat.bin');
      // No info.mimetype: the type the media server gave is used.
      expect(media.type).toBe('application/x-served');
      expect(Buffer.from(await media.arrayBuffer())).toEqual(FILE_BYTES);
    },
  );

  it('when the media cannot be downloaded then the event is sent without it and a warning logged', async () => {
    download = () => Promise.reject(new Error('M_NOT_FOUND'));
    await sender().deliver(
      hook(receiver.url()),
      message({ msgtype: 'm.image', body: 'x.png', url: 'mxc://switchboard.test/gone' }),
    );
    const form = await parts(receiver.received[0] as Received);
    expect([...form.keys()]).toEqual(['event']);
    expect(warnings()).toEqual([
      expect.objectContaining({ connectionId: 'conn-1', reason: 'M_NOT_FOUND' }),
    ]);
  });

  it('when the receiver answers non-2xx then a warning with connection id and status is logged', async () => {
    receiver.answer = () => ({ status: 503 });
    await expect(
      sender().deliver(hook(receiver.url()), message({ msgtype: 'm.text', body: 'x' })),
    ).resolves.toBeUndefined();
    expect(receiver.received).toHaveLength(1);
    expect(warnings()).toEqual([
      expect.objectContaining({
        connectionId: 'conn-1',
        roomId: ROOM,
        status: 503,
        msg: 'Outbound hook receiver refused the event',
      }),
    ]);
    expect(logs.text()).not.toContain(TOKEN);
  });

  it('when the receiver cannot be reached then a warning is logged and nothing is thrown', async () => {
    const closed = new Receiver();
    await closed.start();
    const url = closed.url();
    await closed.stop();
    await expect(
      sender().deliver(hook(url), message({ msgtype: 'm.text', body: 'x' })),
    ).resolves.toBeUndefined();
    expect(warnings()).toEqual([
      expect.objectContaining({ connectionId: 'conn-1', msg: 'Outbound hook delivery failed' }),
    ]);
  });

  it('when private destinations are not allowed then a loopback receiver gets nothing', async () => {
    await sender(false).deliver(hook(receiver.url()), message({ msgtype: 'm.text', body: 'x' }));
    expect(receiver.received).toEqual([]);
    expect(warnings()).toEqual([
      expect.objectContaining({ connectionId: 'conn-1', msg: 'Outbound hook destination refused' }),
    ]);
  });

  it('when the connection has no token then nothing is sent', async () => {
    await sender().deliver(
      hook(receiver.url(), { secrets: null }),
      message({ msgtype: 'm.text', body: 'x' }),
    );
    expect(receiver.received).toEqual([]);
    expect(warnings()).toHaveLength(1);
  });

  it('when events follow each other then one hook gets them in order, one at a time', async () => {
    // The first answer is slow: a parallel sender would deliver the later events first.
    receiver.answer = (req) => ({
      status: 200,
      delayMs: req.headers['x-matrix-hookshot-eventid'] === '$ordered-1' ? 300 : 0,
    });
    const s = sender();
    const conn = hook(receiver.url());
    const events = [1, 2, 3].map((n) =>
      message({ msgtype: 'm.text', body: `n${n}` }, { eventId: `$ordered-${n}` }),
    );
    await Promise.all(events.map((e) => s.deliver(conn, e)));

    expect(receiver.received.map((r) => r.headers['x-matrix-hookshot-eventid'])).toEqual([
      '$ordered-1',
      '$ordered-2',
      '$ordered-3',
    ]);
    const [first, second] = receiver.received as [Received, Received];
    expect(second.receivedAt).toBeGreaterThanOrEqual(first.answeredAt);
  });

  it('when stopping then queued deliveries are waited for; those left after the time limit are counted and logged', async () => {
    receiver.answer = () => ({ status: 200, delayMs: 200 });
    const s = sender();
    const conn = hook(receiver.url());
    for (const n of [1, 2]) void s.deliver(conn, message({ msgtype: 'm.text', body: `d${n}` }));
    expect(await s.drain(5_000)).toBe(0);
    expect(receiver.received).toHaveLength(2);
    expect(warnings()).toEqual([]);

    for (const n of [3, 4, 5]) void s.deliver(conn, message({ msgtype: 'm.text', body: `d${n}` }));
    expect(await s.drain(50)).toBe(3);
    expect(warnings().map((l) => [l.msg, l.deliveries])).toEqual([
      ['Stopping with outbound hook deliveries not yet made; those events are not sent', 3],
    ]);
    expect(await s.drain(5_000)).toBe(0);
  });

  describe('handleRoomEvent', () => {
    const tokens = () => receiver.received.map((r) => r.headers['x-matrix-hookshot-token']).sort();

    it("delivers a message to every outbound hook of the event's room only", async () => {
      const url = receiver.url();
      const connections = [
        hook(url, { id: 'a', secrets: { token: 'hs-ob-a' } }),
        hook(url, { id: 'b', stateKey: 'other', secrets: { token: 'hs-ob-b' } }),
        hook(url, {
          id: 'c',
          roomId: '!elsewhere:switchboard.test',
          secrets: { token: 'hs-ob-c' },
        }),
        hook(url, {
          id: 'd',
          eventType: 'uk.half-shot.matrix-hookshot.generic.hook',
          secrets: { token: 'hs-ob-d' },
        }),
        hook(url, {
          id: 'e',
          config: { name: 'hook', url, method: 'PUT', disabled: true },
          secrets: { token: 'hs-ob-e' },
        }),
      ];
      await sender().handleRoomEvent(message({ msgtype: 'm.text', body: 'hi' }), connections);
      expect(tokens()).toEqual(['hs-ob-a', 'hs-ob-b']);
    });

    it('when two hooks send one media message then the file is downloaded once', async () => {
      const url = receiver.url();
      await sender().handleRoomEvent(
        message({ msgtype: 'm.file', body: 'a.txt', url: 'mxc://switchboard.test/once' }),
        [hook(url, { id: 'a' }), hook(url, { id: 'b', stateKey: 'b' })],
      );
      expect(receiver.received).toHaveLength(2);
      expect(downloads).toEqual(['mxc://switchboard.test/once']);
      for (const got of receiver.received) {
        const media = part(await parts(got), 'media');
        expect(Buffer.from(await media.arrayBuffer())).toEqual(FILE_BYTES);
      }
    });

    it.each<[string, Partial<RoomEvent>]>([
      ['sent by the bot', { sender: BOT }],
      ['a reaction', { type: 'm.reaction' }],
      ['a state event', { type: 'm.room.message', stateKey: '' }],
      ['a topic change', { type: 'm.room.topic', stateKey: '' }],
      ['without an event id', { eventId: undefined }],
    ])('when the event is %s then nothing is sent', async (_what, overrides) => {
      const event = { ...message({ msgtype: 'm.text', body: 'x' }), ...overrides };
      await sender().handleRoomEvent(event, [hook(receiver.url())]);
      expect(receiver.received).toEqual([]);
    });
  });
});
