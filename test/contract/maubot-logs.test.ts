import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import WebSocket from 'ws';
import { attachLogSocket } from '../../src/api/maubot/log-socket';
import { LOG_HISTORY, LogHub, pythonTime, type LogRecord } from '../../src/logging/log-hub';
import { createLogger } from '../../src/logging/logger';
import { createTestApp, type TestApp } from '../helpers/app';
import { testConfig } from '../helpers/config';

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
        { config: testConfig(), admins: { userForToken: () => null } as never, logHub: hub },
        200,
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      local = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/_matrix/maubot/v1/logs`;
    });
    afterEach(async () => {
      socket.close();
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
      socket.close();
      const deadline = Date.now() + 3000;
      while (!c.closed() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(c.closed()).toEqual({ code: 1012 });
    });
  });
});
