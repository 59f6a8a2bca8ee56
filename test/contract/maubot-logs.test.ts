import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import request from 'supertest';
import WebSocket from 'ws';
import { AdminAuthService } from '../../src/admins/admin-auth-service';
import {
  attachLogSocket,
  MAX_MESSAGE_BYTES,
  MAX_PENDING_PER_ADDRESS,
} from '../../src/api/maubot/log-socket';
import { signToken } from '../../src/admins/token';
import { LOG_HISTORY, LogHub, pythonTime, type LogRecord } from '../../src/logging/log-hub';
import { createLogger } from '../../src/logging/logger';
import { createTestApp, type TestApp } from '../helpers/app';
import { TEST_SECRET, testConfig } from '../helpers/config';
import {
  closeCode,
  frame,
  rawUpgrade,
  textMessages,
  type RawSocket,
} from '../helpers/raw-websocket';
import { waitFor } from '../helpers/wait';
import { buildPlugin } from '../helpers/zip';

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/;

/** A websocket client that collects what it receives. */
function connect(url: string) {
  const ws = new WebSocket(url);
  const messages: Record<string, unknown>[] = [];
  let closed: { code: number } | undefined;
  ws.on('message', (data: Buffer) =>
    messages.push(JSON.parse(data.toString()) as Record<string, unknown>),
  );
  ws.on('close', (code) => (closed = { code }));
  return {
    ws,
    messages,
    closed: () => closed,
    open: () =>
      new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject)),
    async next(count: number): Promise<Record<string, unknown>[]> {
      const deadline = Date.now() + 5000;
      while (messages.length < count && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      return messages.slice(0, count);
    },
  };
}

describe('the log websocket', () => {
  let hub: LogHub;
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    hub = new LogHub();
    const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
    const logger = createLogger('info', discard, hub);
    t = await createTestApp('embedded', { logger, logHub: hub });
    url = `${(await t.listen()).replace('http', 'ws')}/_matrix/maubot/v1/logs`;
    logger.child({ logger: 'maubot.instance.echo' }).info('an earlier record');
  });
  afterAll(async () => {
    await t.close();
  });

  it('when the token is wrong, then auth_success is false and the socket stays open', async () => {
    const c = connect(url);
    await c.open();
    c.ws.send('not-a-token');
    expect(await c.next(1)).toEqual([{ auth_success: false }]);
    expect(c.closed()).toBeUndefined();
    c.ws.close();
  });

  it('when the token is right, then auth_success, the history, and each new record follow', async () => {
    const c = connect(url);
    await c.open();
    c.ws.send(t.token);
    const [auth, history] = await c.next(2);
    expect(auth).toEqual({ auth_success: true });
    const records = (history as { history: LogRecord[] }).history;
    const earlier = records.find((r) => r.msg === 'an earlier record')!;
    expect(earlier).toMatchObject({
      name: 'maubot.instance.echo',
      levelname: 'INFO',
      levelno: 20,
      module: 'echo',
      lineno: 0,
      funcName: '',
    });
    expect(earlier.time).toMatch(TIME);
    expect(earlier.id).toMatch(/^\d+\.\d{3}$/);

    t.logger
      .child({ logger: 'maubot.client.@bot:test.local' })
      .warn({ room: '!r:x' }, 'live record');
    const [, , live] = await c.next(3);
    expect(live).toMatchObject({
      name: 'maubot.client.@bot:test.local',
      levelname: 'WARNING',
      levelno: 30,
      msg: 'live record',
      room: '!r:x',
    });
    c.ws.close();
  });

  it("when an admin uploads and deletes a plugin and a request is refused, then Switchboard's records say what, on which plugin, with method, path, status and duration", async () => {
    const c = connect(url);
    await c.open();
    c.ws.send(t.token);
    await c.next(2);
    const auth = { Authorization: `Bearer ${t.token}` };
    const upload = await request(t.app)
      .post('/_matrix/maubot/v1/plugins/upload')
      .set(auth)
      .set('Content-Type', 'application/zip')
      .send(buildPlugin({ meta: { id: 'xyz.logged.plugin', version: '2.1.0' } }));
    expect(upload.status).toBe(201);
    expect(
      (await request(t.app).delete('/_matrix/maubot/v1/plugin/xyz.logged.plugin').set(auth)).status,
    ).toBe(204);
    expect((await request(t.app).get('/_matrix/maubot/v1/plugin/xyz.none').set(auth)).status).toBe(
      404,
    );
    await waitFor(() => c.messages.length >= 5);
    const live = c.messages.slice(2) as LogRecord[];
    expect(live.map((r) => r.msg)).toEqual([
      'plugin xyz.logged.plugin 2.1.0 uploaded',
      'plugin xyz.logged.plugin deleted',
      expect.stringMatching(/^GET \/_matrix\/maubot\/v1\/plugin\/xyz\.none 404 \d+(\.\d)? ms$/),
    ]);
    expect(live[0]).toMatchObject({
      plugin: 'xyz.logged.plugin',
      version: '2.1.0',
      levelname: 'INFO',
    });
    expect(live[1]).toMatchObject({ plugin: 'xyz.logged.plugin' });
    expect(live[2]).toMatchObject({
      method: 'GET',
      path: '/_matrix/maubot/v1/plugin/xyz.none',
      status: 404,
      ms: expect.any(Number),
      reqId: expect.any(String),
      levelname: 'INFO',
    });
    c.ws.close();
  });

  it('when fetched without a websocket upgrade, then 400 says so', async () => {
    const res = await fetch(url.replace('ws', 'http'));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      errcode: 'invalid_request',
      error: 'This is a websocket endpoint: connect with a websocket client',
    });
  });

  it('keeps only the last records', () => {
    const own = new LogHub();
    for (let i = 0; i < LOG_HISTORY + 10; i++)
      own.stream.write(`${JSON.stringify({ level: 30, msg: `m${i}` })}\n`);
    const recent = own.recent();
    expect(recent).toHaveLength(LOG_HISTORY);
    expect(recent[0]!.msg).toBe('m10');
  });

  it('formats times as mbc parses them', () => {
    expect(pythonTime(new Date('2026-01-02T03:04:05.123Z'))).toBe(
      '2026-01-02T03:04:05.123000+00:00',
    );
  });

  describe('closing', () => {
    let server: Server;
    let socket: ReturnType<typeof attachLogSocket>;
    let local: string;

    beforeEach(async () => {
      server = createServer();
      socket = attachLogSocket(
        server,
        {
          config: testConfig(),
          admins: { userForToken: () => null } as never,
          logHub: hub,
          logger: createLogger('silent'),
        },
        { authTimeoutMs: 200 },
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      local = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/_matrix/maubot/v1/logs`;
    });
    afterEach(async () => {
      await socket.close();
      await new Promise((resolve) => server.close(resolve));
    });

    it('when no valid token comes in time, then the socket closes with 4000', async () => {
      const c = connect(local);
      await c.open();
      const deadline = Date.now() + 3000;
      while (!c.closed() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(c.closed()).toEqual({ code: 4000 });
    });

    it('when the server shuts down, then open sockets close with 1012', async () => {
      const c = connect(local);
      await c.open();
      void socket.close();
      const deadline = Date.now() + 3000;
      while (!c.closed() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(c.closed()).toEqual({ code: 1012 });
    });
  });

  describe('hostile clients', () => {
    let server: Server;
    let socket: ReturnType<typeof attachLogSocket>;
    let port: number;
    const token = signToken(TEST_SECRET, 'admin');

    beforeEach(async () => {
      server = createServer((req, res) => {
        res.end(req.url === '/health' ? 'ok' : '');
      });
      socket = attachLogSocket(
        server,
        {
          config: testConfig(),
          admins: new AdminAuthService(TEST_SECRET, { admin: '' }),
          logHub: hub,
          logger: createLogger('silent'),
        },
        { authTimeoutMs: 300, closeGraceMs: 200 },
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterEach(async () => {
      await socket.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    /** The server still answers HTTP and a well-behaved client still gets its logs. */
    async function stillServing(): Promise<void> {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      expect(await res.text()).toBe('ok');
      const c = await rawUpgrade(port);
      await c.write(frame(0x1, Buffer.from(token)));
      await waitFor(() => textMessages(c.received()).length >= 2, { what: 'the history' });
      expect(JSON.parse(textMessages(c.received())[0]!)).toEqual({ auth_success: true });
      c.socket.destroy();
    }

    async function closedWith(c: RawSocket): Promise<number | undefined> {
      await c.closed;
      return closeCode(c.received());
    }

    const hostileFrames: [string, () => Buffer, number][] = [
      ['an unmasked frame (81 02 68 69)', () => Buffer.from([0x81, 0x02, 0x68, 0x69]), 1002],
      ['a reserved opcode', () => frame(0x3, Buffer.from('hi')), 1002],
      ['an RSV bit without an extension', () => frame(0x1, Buffer.from('hi'), { rsv: 4 }), 1002],
      ['invalid UTF-8 in a text frame', () => frame(0x1, Buffer.from([0xff, 0xfe, 0xfd])), 1007],
      [
        'a header announcing 2^40 bytes',
        () => frame(0x1, Buffer.alloc(0), { length: 2n ** 40n }),
        1009,
      ],
      [
        'a header announcing more than 2^53 bytes',
        () => frame(0x1, Buffer.alloc(0), { length: 2n ** 63n - 1n }),
        1009,
      ],
    ];

    it.each(hostileFrames)(
      'when a client sends %s, then the socket closes with the right code and the server stays up',
      async (_name, bytes, code) => {
        const c = await rawUpgrade(port);
        expect(c.status).toBe('HTTP/1.1 101 Switching Protocols');
        await c.write(bytes());
        expect(await closedWith(c)).toBe(code);
        await stillServing();
      },
    );

    it('when an unauthenticated client streams a ~100 MB message, then it is closed with 1009 after the header', async () => {
      const c = await rawUpgrade(port);
      const size = 100 * 1024 * 1024;
      await c.write(frame(0x1, Buffer.alloc(0), { length: BigInt(size) }).subarray(0, 14));
      const chunk = Buffer.alloc(1024 * 1024, 0x61);
      let sent = 0;
      while (!c.socket.writableEnded && !c.socket.destroyed && sent < size) {
        await c.write(chunk);
        sent += chunk.length;
      }
      expect(await closedWith(c)).toBe(1009);
      // Cut long before the whole message could have been buffered.
      expect(sent).toBeLessThan(size);
      await stillServing();
    });

    it('when a client splits an oversized message into small fragments, then it is closed with 1009', async () => {
      const c = await rawUpgrade(port);
      const piece = Buffer.alloc(1000, 0x61);
      await c.write(frame(0x1, piece, { fin: false }));
      for (let i = 0; i < 10 && !c.isClosed(); i++)
        await c.write(frame(0x0, piece, { fin: false }));
      expect(await closedWith(c)).toBe(1009);
      await stillServing();
    });

    it('when an authenticated client sends more than the maximum message, then it is closed with 1009', async () => {
      const c = await rawUpgrade(port);
      await c.write(frame(0x1, Buffer.from(token)));
      await waitFor(() => textMessages(c.received()).length >= 2, { what: 'the history' });
      await c.write(frame(0x1, Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x61)));
      expect(await closedWith(c)).toBe(1009);
      await stillServing();
    });

    it('when a client never authenticates and ignores the close, then it is cut after the timeout and the grace', async () => {
      const c = await rawUpgrade(port);
      expect(await closedWith(c)).toBe(4000);
    });

    it('when an upgrade asks for another path, then it gets 404 and the connection is closed', async () => {
      const c = await rawUpgrade(port, '/_matrix/maubot/v1/plugins');
      expect(c.status).toBe('HTTP/1.1 404 Not Found');
      await c.closed;
      await stillServing();
    });

    it('when a client asks to upgrade another path and half-closes, then the server closes its side too', async () => {
      const c = await rawUpgrade(port, '/elsewhere', { halfClose: true });
      expect(c.status).toBe('HTTP/1.1 404 Not Found');
      await c.closed;
      await stillServing();
    });

    it('when the log feature is off, then the upgrade gets 404', async () => {
      const own = createServer();
      const off = attachLogSocket(own, {
        config: testConfig({ apiFeatures: { log: false } }),
        admins: new AdminAuthService(TEST_SECRET, { admin: '' }),
        logHub: hub,
        logger: createLogger('silent'),
      });
      await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
      const c = await rawUpgrade((own.address() as AddressInfo).port);
      expect(c.status).toBe('HTTP/1.1 404 Not Found');
      await c.closed;
      await off.close();
      await new Promise((resolve) => own.close(resolve));
    });

    describe('sockets waiting for their token', () => {
      let own: Server;
      let limited: ReturnType<typeof attachLogSocket>;
      let ownPort: number;
      const open: RawSocket[] = [];

      /** A server whose waiting sockets last long enough to count them. */
      async function serve(trustedProxies: string[] = []): Promise<void> {
        own = createServer();
        limited = attachLogSocket(
          own,
          {
            config: testConfig({ server: { unsharedSecret: TEST_SECRET, trustedProxies } }),
            admins: new AdminAuthService(TEST_SECRET, { admin: '' }),
            logHub: hub,
            logger: createLogger('silent'),
          },
          { authTimeoutMs: 10_000 },
        );
        await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
        ownPort = (own.address() as AddressInfo).port;
      }
      const upgrade = async (headers: Record<string, string> = {}) => {
        const c = await rawUpgrade(ownPort, undefined, { headers });
        open.push(c);
        return c;
      };
      afterEach(async () => {
        for (const c of open.splice(0)) c.socket.destroy();
        await limited.close();
        own.closeAllConnections();
        await new Promise((resolve) => own.close(resolve));
      });

      it('when one address keeps the maximum waiting, then its next upgrade gets 429 until one of them authenticates or leaves', async () => {
        await serve();
        const waiting: RawSocket[] = [];
        for (let i = 0; i < MAX_PENDING_PER_ADDRESS; i++) {
          const c = await upgrade();
          expect(c.status).toBe('HTTP/1.1 101 Switching Protocols');
          waiting.push(c);
        }
        const refused = await upgrade();
        expect(refused.status).toBe('HTTP/1.1 429 Too Many Requests');
        await refused.closed;

        await waiting[0]!.write(frame(0x1, Buffer.from(token)));
        await waitFor(() => textMessages(waiting[0]!.received()).length >= 2, {
          what: 'the history',
        });
        expect((await upgrade()).status).toBe('HTTP/1.1 101 Switching Protocols');
        expect((await upgrade()).status).toBe('HTTP/1.1 429 Too Many Requests');

        waiting[1]!.socket.destroy();
        await waitFor(async () => (await upgrade()).status.includes('101'), {
          what: 'a place freed by a socket that left',
        });
        // An authenticated socket never counted: a wrong token later does not make it wait again.
        await waiting[0]!.write(frame(0x1, Buffer.from('wrong')));
        expect((await upgrade()).status).toBe('HTTP/1.1 429 Too Many Requests');
      });

      it('when behind a trusted proxy, then each forwarded client address has its own count', async () => {
        await serve(['loopback']);
        for (let i = 0; i < MAX_PENDING_PER_ADDRESS; i++) {
          expect((await upgrade({ 'X-Forwarded-For': '203.0.113.7' })).status).toContain('101');
        }
        expect((await upgrade({ 'X-Forwarded-For': '203.0.113.7' })).status).toContain('429');
        expect((await upgrade({ 'X-Forwarded-For': '203.0.113.8' })).status).toContain('101');
        // The proxy's own address is a client of its own too.
        expect((await upgrade()).status).toContain('101');
      });

      it('when the peer is not a trusted proxy, then X-Forwarded-For does not buy more sockets', async () => {
        await serve(['10.0.0.0/8']);
        for (let i = 0; i < MAX_PENDING_PER_ADDRESS; i++) {
          expect((await upgrade({ 'X-Forwarded-For': `198.51.100.${i}` })).status).toContain('101');
        }
        expect((await upgrade({ 'X-Forwarded-For': '198.51.100.200' })).status).toContain('429');
      });
    });

    it('when it shuts down with clients that ignore the close handshake, then it cuts them and resolves', async () => {
      const authed = await rawUpgrade(port);
      await authed.write(frame(0x1, Buffer.from(token)));
      const waiting = await rawUpgrade(port);
      await waitFor(() => textMessages(authed.received()).length >= 2, { what: 'the history' });
      await socket.close();
      await Promise.all([authed.closed, waiting.closed]);
      expect(closeCode(authed.received())).toBe(1012);
      expect(closeCode(waiting.received())).toBe(1012);
    });
  });
});
