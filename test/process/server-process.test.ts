import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { signToken } from '../../src/admins/token';
import { databaseUrl, openTestDatabase } from '../helpers/databases';
import { databaseServerPid, freePort, isRunning, runServer, stopServers } from '../helpers/process';
import { closeCode, frame, rawUpgrade, textMessages } from '../helpers/raw-websocket';
import { waitFor } from '../helpers/wait';
import { buildPlugin } from '../helpers/zip';

const dirs: string[] = [];

/** A data directory (each holds a database cluster: removed after the tests). */
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-process-'));
  dirs.push(dir);
  return dir;
}

const pidFile = (dataDir: string) => join(dataDir, 'postgres', 'postmaster.pid');

/** The embedded database server's pid (the postmaster) and process group. */
async function databaseServer(dataDir: string): Promise<{ pid: number; group: number }> {
  const pid = await databaseServerPid(dataDir);
  return { pid, group: processGroup(pid) };
}

function processGroup(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

describe('the server process', () => {
  afterEach(stopServers);
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('when the config file is bad, then it exits 1 with a message naming the key', async () => {
    const dir = await tempDir();
    const path = join(dir, 'bad.yaml');
    await writeFile(path, 'listeners:\n  - port: eighty\n    resources: [maubot]\n');
    const proc = runServer(['--config', path], {});
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toContain(`switchboard: Invalid config file ${path}: `);
    expect(proc.stderr()).toContain('listeners.0.port: ');
  });

  it('when the unshared secret is short, then the log warns about it at startup', async () => {
    const dir = await tempDir();
    const path = join(dir, 'config.yaml');
    await writeFile(
      path,
      [
        'server:',
        '  unsharedSecret: maubot-short',
        `encryptionKey: ${Buffer.alloc(32, 1).toString('base64')}`,
        'provisioning:',
        '  secret: a-long-enough-provisioning-secret',
        '',
      ].join('\n'),
    );
    // No database answers, so the start ends right after the configuration is read.
    const closed = await freePort();
    const proc = runServer(['--config', path], {
      SWITCHBOARD_DATA_DIR: dir,
      DATABASE_URL: `postgres://postgres@127.0.0.1:${closed}/none`,
    });
    await proc.exited;
    const warnings = proc
      .stdout()
      .split('\n')
      .filter((line) => line.includes('unsharedSecret'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(warnings).toEqual([
      expect.objectContaining({
        level: 40,
        msg: expect.stringMatching(/^server\.unsharedSecret is shorter than 16 characters/),
      }),
    ]);
  });

  it('when "migrate" runs on a fresh data directory, then it migrates, prints the login and exits 0', async () => {
    const dataDir = await tempDir();
    const proc = runServer(['migrate'], { SWITCHBOARD_DATA_DIR: dataDir });
    expect(await proc.exited).toBe(0);
    expect(proc.stdout()).toMatch(/with password: \S+/);
    expect(proc.stdout()).toContain(
      '"migrations":["20261122000000_plugins","20261122010000_clients","20261122020000_instances","20261201000000_connections","20261210000000_webhook_config_without_hook_id","20261215000000_instance_database","20261220000000_change_notifications"]',
    );
    const again = runServer(['migrate'], { SWITCHBOARD_DATA_DIR: dataDir });
    expect(await again.exited).toBe(0);
    expect(again.stdout()).toContain('database schema is up to date');
    expect(again.stdout()).not.toContain('with password');
    // Only Switchboard's OS user may enter (and, run as root, its database's user pass through).
    expect((await stat(dataDir)).mode & 0o777).toBe(process.getuid?.() === 0 ? 0o710 : 0o700);
    expect((await stat(join(dataDir, 'config.yaml'))).mode & 0o777).toBe(0o600);
  }, 60_000);

  it('when run with DATABASE_URL, then it uses that database and the data directory holding the configuration is still 0700', async () => {
    const db = await openTestDatabase('embedded');
    try {
      const dataDir = await tempDir();
      await chmod(dataDir, 0o755);
      const proc = runServer(['migrate'], {
        SWITCHBOARD_DATA_DIR: dataDir,
        DATABASE_URL: databaseUrl(db.connectionParams()),
      });
      expect(await proc.exited).toBe(0);
      expect(proc.stdout()).toContain('"database":"postgres","migrations":[],');
      expect(existsSync(join(dataDir, 'postgres'))).toBe(false);
      expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
      expect((await stat(join(dataDir, 'config.yaml'))).mode & 0o777).toBe(0o600);
    } finally {
      await db.close();
    }
  }, 60_000);

  it('when started on a fresh data directory, then the printed login works, docs are served and a restart keeps the state', async () => {
    const dataDir = await tempDir();
    const port = await freePort();
    const env = { SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_PORT: String(port) };
    const base = `http://127.0.0.1:${port}`;

    const first = runServer([], env);
    const [, password] = await first.waitFor(/with password: (\S+)/, 40_000);
    await first.waitFor(/"msg":"listening"/, 40_000);
    expect(first.stdout()).toContain(
      `is writing a new configuration to ${join(dataDir, 'config.yaml')}`,
    );
    const login = async () =>
      fetch(`${base}/_matrix/maubot/v1/auth/login`, {
        method: 'POST',
        body: JSON.stringify({ username: 'admin', password }),
      });
    const res = await login();
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    // A plugin stored in the on-disk embedded database must survive the restart too.
    const upload = await fetch(`${base}/_matrix/maubot/v1/plugins/upload`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/zip' },
      body: buildPlugin({ meta: { version: '1.0.0-beta' } }),
    });
    expect(upload.status).toBe(201);
    const docs = await fetch(`${base}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger-ui');
    const spec = await fetch(`${base}/openapi/provisioning.yaml`);
    expect(await spec.text()).toContain('openapi: 3.0.3');
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.stdout()).toContain('"msg":"stopped"');

    const second = runServer([], env);
    await second.waitFor(/"msg":"listening"/, 40_000);
    expect(second.stdout()).not.toContain('with password');
    expect(second.stdout()).toContain('database schema is up to date');
    const ping = await fetch(`${base}/_matrix/maubot/v1/auth/ping`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(ping.status).toBe(200);
    expect((await login()).status).toBe(200);
    const plugins = await fetch(`${base}/_matrix/maubot/v1/plugins`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(await plugins.json()).toEqual([
      { id: 'xyz.maubot.echo', version: '1.0.0b0', instances: [], loader: 'javascript' },
    ]);
    const reload = await fetch(`${base}/_matrix/maubot/v1/plugin/xyz.maubot.echo/reload`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(await reload.json()).toEqual({ success: true });
    // The database server is in a process group of its own (a Ctrl-C in a terminal reaches
    // only Switchboard), and Switchboard stops it on its way out.
    const database = await databaseServer(dataDir);
    expect(database.group).not.toBe(processGroup(second.child.pid!));
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
    expect(isRunning(database.pid)).toBe(false);
    expect(existsSync(pidFile(dataDir))).toBe(false);
  }, 90_000);

  it('when the server is killed outright, then its database server is left running and the next start stops it and runs its own', async () => {
    const dataDir = await tempDir();
    const port = await freePort();
    const env = { SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_PORT: String(port) };
    const first = runServer([], env);
    await first.waitFor(/"msg":"listening"/, 40_000);
    const orphan = await databaseServer(dataDir);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(isRunning(orphan.pid)).toBe(true);

    const second = runServer([], env);
    await second.waitFor(/"msg":"listening"/, 40_000);
    expect(second.stdout()).toContain(
      `"pid":${orphan.pid},"msg":"the embedded PostgreSQL server of an earlier Switchboard is still running (that one was killed); stopping it"`,
    );
    expect(isRunning(orphan.pid)).toBe(false);
    const own = await databaseServer(dataDir);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(isRunning(own.pid)).toBe(false);
  }, 90_000);

  it('when a second server starts on the same data directory, then it exits 1 with one message and the first keeps serving', async () => {
    const dataDir = await tempDir();
    const [port, otherPort] = [await freePort(), await freePort()];
    const first = runServer([], { SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_PORT: String(port) });
    await first.waitFor(/"msg":"listening"/, 40_000);
    const second = runServer([], {
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_PORT: String(otherPort),
    });
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toBe(
      `switchboard: Another Switchboard (switchboard pid ${first.child.pid} on ${hostname()}) ` +
        `is using the data directory ${dataDir}. Only one Switchboard may use it at a time: ` +
        `stop the other one first.\n`,
    );
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  }, 90_000);

  it('when a second server starts on the same DATABASE_URL (with another data directory), then it exits 1 with one message and the first keeps serving', async () => {
    const db = await openTestDatabase(process.env.TEST_DATABASE_URL ? 'postgres' : 'embedded');
    try {
      const url = databaseUrl(db.connectionParams());
      const { host, port: dbPort, database } = db.connectionParams();
      const [port, otherPort] = [await freePort(), await freePort()];
      const first = runServer([], {
        SWITCHBOARD_DATA_DIR: await tempDir(),
        SWITCHBOARD_PORT: String(port),
        DATABASE_URL: url,
      });
      await first.waitFor(/"msg":"listening"/, 40_000);
      const second = runServer([], {
        SWITCHBOARD_DATA_DIR: await tempDir(),
        SWITCHBOARD_PORT: String(otherPort),
        DATABASE_URL: url,
      });
      expect(await second.exited).toBe(1);
      expect(second.stderr()).toBe(
        `switchboard: Another Switchboard (switchboard pid ${first.child.pid} on ${hostname()}) ` +
          `is using the database "${database}" on ${host}:${dbPort}. Only one Switchboard may ` +
          `use it at a time: stop the other one first.\n`,
      );
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
    } finally {
      await db.close();
    }
  }, 90_000);

  it('when SIGTERM comes while log sockets, half-open and idle connections are open, then it exits 0 within 5 s', async () => {
    const dataDir = await tempDir();
    const port = await freePort();
    const secret = 'process-test-unshared-secret-0123456789';
    const proc = runServer([], {
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_PORT: String(port),
      SWITCHBOARD_UNSHARED_SECRET: secret,
    });
    await proc.waitFor(/"msg":"listening"/, 40_000);

    const subscribed = await rawUpgrade(port);
    await subscribed.write(frame(0x1, Buffer.from(signToken(secret, 'root'))));
    await waitFor(() => textMessages(subscribed.received()).length >= 2, { what: 'the history' });
    const unauthenticated = await rawUpgrade(port);
    // Sent a malformed frame: the server answers with a close the client never acknowledges.
    const protocolError = await rawUpgrade(port);
    await protocolError.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
    const otherPath = await rawUpgrade(port, '/_matrix/maubot/v1/plugins', { halfClose: true });
    // Headers that never end, and a finished request on a kept-alive connection.
    const partial = connect(port, '127.0.0.1');
    partial.on('error', () => undefined);
    partial.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const idle = connect(port, '127.0.0.1');
    idle.on('error', () => undefined);
    idle.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await new Promise((resolve) => idle.once('data', resolve));

    proc.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      proc.exited,
      new Promise((resolve) => (timer = setTimeout(() => resolve('still running'), 5000))),
    ]);
    clearTimeout(timer);
    if (outcome === 'still running') proc.child.kill('SIGKILL');
    expect(outcome).toBe(0);
    expect(proc.stdout()).toContain('"msg":"stopped"');
    await Promise.all([subscribed.closed, unauthenticated.closed, otherPath.closed]);
    expect(closeCode(subscribed.received())).toBe(1012);
    expect(closeCode(unauthenticated.received())).toBe(1012);
    expect(closeCode(protocolError.received())).toBe(1002);
    partial.destroy();
    idle.destroy();
  }, 60_000);
});
