import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { buildPlugin } from '../../scripts/build-plugins';
import { databaseUrl, openTestDatabase } from '../helpers/databases';
import { freePort, runServer, stopServers } from '../helpers/process';
import { parseStrictJson } from '../helpers/strict-json';
import { waitFor } from '../helpers/wait';
import { TestHomeserver } from '../../testing/homeserver/test-homeserver';

const CS = '/_matrix/client/v3';

/** The log output of a whole run of the server process, as a log pipeline reads it. */
describe("the server process's log output", () => {
  let hs: TestHomeserver;
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let dir: string;
  let stdout: string;
  let exitCode: number | null;

  beforeAll(async () => {
    hs = await TestHomeserver.start();
    db = await openTestDatabase('embedded');
    dir = await mkdtemp(join(tmpdir(), 'switchboard-logs-'));
    const alice = hs.registerUser('alice');
    const bot = hs.registerUser('bot');
    const provisioningBot = hs.registerUser('switchboard');
    const path = join(dir, 'config.yaml');
    await writeFile(
      path,
      [
        `dataDir: ${dir}`,
        'server:',
        '  unsharedSecret: an-unshared-secret-of-our-own',
        `encryptionKey: ${Buffer.alloc(32, 3).toString('base64')}`,
        'provisioning:',
        '  secret: a-provisioning-secret-of-our-own',
        `  botUserId: "${provisioningBot.userId}"`,
        '  bot:',
        `    homeserver: ${hs.url}`,
        `    accessToken: ${provisioningBot.accessToken}`,
        'admins:',
        `  admin: ${bcrypt.hashSync('logs-password', 4)}`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    const base = `http://127.0.0.1:${port}/_matrix/maubot/v1`;
    const proc = runServer(['--config', path], {
      DATABASE_URL: databaseUrl(db.connectionParams()),
      SWITCHBOARD_PORT: String(port),
    });
    await proc.waitFor(/"msg":"listening"/, 40_000);
    const login = await fetch(`${base}/auth/login`, {
      method: 'POST',
      body: JSON.stringify({ username: 'admin', password: 'logs-password' }),
    });
    const { token } = (await login.json()) as { token: string };
    const call = (method: string, route: string, body?: unknown, type = 'application/json') =>
      fetch(`${base}${route}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': type },
        ...(body === undefined ? {} : { body: body as string }),
      });
    const echo = await buildPlugin('echo');
    expect((await call('POST', '/plugins/upload', echo.archive, 'application/zip')).status).toBe(
      201,
    );
    const client = await call(
      'PUT',
      `/client/${bot.userId}`,
      JSON.stringify({ homeserver: hs.url, access_token: bot.accessToken }),
    );
    expect(client.status).toBe(201);
    const instance = await call(
      'PUT',
      '/instance/echo',
      JSON.stringify({ type: echo.id, primary_user: bot.userId }),
    );
    expect(instance.status).toBe(201);
    // A room with the bot in it, and a command it answers: a run that did some work.
    const room = await fetch(`${hs.url}${CS}/createRoom`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${alice.accessToken}` },
      body: JSON.stringify({ invite: [bot.userId] }),
    });
    const { room_id: roomId } = (await room.json()) as { room_id: string };
    await waitFor(() =>
      hs
        .roomState(roomId)!
        .some((e) => e.state_key === bot.userId && e.content.membership === 'join'),
    );
    await fetch(`${hs.url}${CS}/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t1`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${alice.accessToken}` },
      body: JSON.stringify({ msgtype: 'm.text', body: '!echo hello' }),
    });
    await waitFor(
      () =>
        hs.roomEvents(roomId)!.some((e) => e.sender === bot.userId && e.type === 'm.room.message'),
      { what: 'the echo' },
    );
    expect((await call('GET', '/plugin/none')).status).toBe(404);
    proc.child.kill('SIGTERM');
    exitCode = await proc.exited;
    stdout = proc.stdout();
  }, 90_000);
  afterAll(async () => {
    await stopServers();
    await db.close();
    await hs.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('when stdout is not a terminal, then every line is one JSON object with each key once', () => {
    expect(exitCode).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(8);
    const repeated = lines
      .map((line) => ({ line, ...parseStrictJson(line) }))
      .filter((l) => l.duplicateKeys.length > 0);
    expect(repeated).toEqual([]);
    for (const line of lines) {
      expect(JSON.parse(line)).toEqual(
        expect.objectContaining({
          level: expect.any(Number),
          time: expect.any(String),
          msg: expect.any(String),
        }),
      );
    }
  });

  it("when clients start and sync, then matrix-js-sdk's own records stay below info", () => {
    const records = stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const sdk = records.filter((r) => r.sdk !== undefined);
    expect(sdk).toEqual([]);
    // Switchboard's own records of the clients did come through.
    expect(records.map((r) => r.msg)).toEqual(
      expect.arrayContaining(['instance echo of plugin switchboard.echo created']),
    );
  });
});
